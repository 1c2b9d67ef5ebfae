/**
 * `npm run bench`: runs every benchmark script in this folder, one after another, each in its own
 * process so one's memory does not skew another's. Each script prints its own table, with figures
 * as ratios against a baseline measured in the same run.
 *
 * Run one: `npx tsx bench/<name>.ts`. Pick some: `npm run bench -- storage provider`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter(
    (name) => name.endsWith('.ts') && name !== 'run.ts' && !name.includes('.child.') && !name.startsWith('_'),
  )
  .filter((name) => wanted.length === 0 || wanted.some((w) => name.includes(w)))
  .sort();

let failed = 0;
for (const script of scripts) {
  console.log(`\n### ${script}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, script)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${script} exited with ${result.status ?? result.signal}`);
  }
}
if (failed > 0) process.exit(1);
