// Imports every public subpath of the installed tarball from a consumer project, as ESM
// (`import`) or CommonJS (`require`), and fails when an expected public name is missing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [projectDir, kind] = process.argv.slice(2);
const expected = JSON.parse(readFileSync(new URL('./public-names.json', import.meta.url), 'utf8'));
const pkg = JSON.parse(readFileSync(join(projectDir, 'node_modules/@markmail/crm/package.json'), 'utf8'));
const require = createRequire(join(projectDir, 'index.js'));

let failed = 0;
for (const [subpath, names] of Object.entries(expected)) {
  const key = subpath === '@markmail/crm' ? '.' : `./${subpath.slice('@markmail/crm/'.length)}`;
  if (!pkg.exports[key]) {
    console.log(`${kind}: ${subpath} not exported yet (skipped)`);
    continue;
  }
  let mod;
  if (kind === 'esm') {
    const resolved = import.meta.resolve(subpath, pathToFileURL(join(projectDir, 'index.js')).href);
    mod = await import(resolved);
  } else {
    mod = require(subpath);
  }
  const missing = names.filter((name) => mod[name] === undefined);
  if (missing.length > 0) {
    failed += missing.length;
    console.error(`${kind}: ${subpath} is missing ${missing.join(', ')}`);
  } else {
    console.log(`${kind}: ${subpath} exports ${names.length} checked names`);
  }
}
if (failed > 0) process.exit(1);
