// ESM host: `import` every subpath (see runtime-scenario.cjs). Copied into the smoke project.
import { run } from './runtime-scenario.cjs';

await run({ kind: 'esm', projectDir: process.cwd(), load: (specifier) => import(specifier) });
