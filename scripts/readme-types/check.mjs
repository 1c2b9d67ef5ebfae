// Type-checks every ```ts block of README.md against the BUILT package (dist/ types, resolved
// through package.json `exports` as a host resolves them) under `strict`. Each block is its own
// module; names a block uses without defining (the host's db, storage, tokens…) are declared once
// in prelude.d.ts next to this file. Run after `npm run build` (check-package.sh does).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
// Inside the package, so `@markmail/crm/...` resolves to this package's own exports (dist/).
const work = join(root, '.tmp/readme-types');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [];
for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
  const line = readme.slice(0, match.index).split('\n').length + 1;
  blocks.push({ line, code: match[1] });
}
if (blocks.length === 0) throw new Error('README.md has no ```ts blocks');
for (const { line, code } of blocks) {
  // `export {}` makes a block without imports a module too (top-level await, no global leaks).
  writeFileSync(join(work, `readme-line-${line}.ts`), `${code}\nexport {};\n`);
}
cpSync(join(here, 'prelude.d.ts'), join(work, 'prelude.d.ts'));
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2024', 'DOM'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node', 'vitest/globals'],
    },
    include: ['*.ts'],
  }),
);
const tsc = join(root, 'node_modules/typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', work], { stdio: 'pipe', encoding: 'utf8' });
} catch (error) {
  // Error lines name readme-line-<N>.ts: N is the README line where the block starts.
  process.stderr.write(`${error.stdout}${error.stderr}`);
  console.error(
    'README TypeScript blocks do not compile against the built package (file name = README line)',
  );
  process.exit(1);
}
console.log(`README: ${blocks.length} TypeScript blocks compile against the built package (strict)`);
