import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as vitest from 'vitest';
import type { CrmProvider } from '../../src/index.js';
import { runProviderConformance } from '../../src/testing/index.js';

// docs/provider-authors.md promises that its minimal provider passes the kit: run that very block.
const root = fileURLToPath(new URL('../../', import.meta.url));
const guide = readFileSync(join(root, 'docs/provider-authors.md'), 'utf8');
const block = [...guide.matchAll(/^```ts\n([\s\S]*?)^```/gm)]
  .map((match) => match[1] as string)
  .find((code) => code.includes('export class MyCrmProvider'));
if (!block) throw new Error('docs/provider-authors.md has no MyCrmProvider block');
const dir = join(root, '.tmp/provider-guide');
mkdirSync(dir, { recursive: true });
const file = join(dir, `my-crm-${process.pid}.ts`);
writeFileSync(file, block);
const { MyCrmProvider } = (await import(pathToFileURL(file).href)) as {
  MyCrmProvider: new () => CrmProvider;
};

runProviderConformance(() => new MyCrmProvider(), {
  runner: vitest,
  name: 'docs/provider-authors.md: the minimal provider',
});
