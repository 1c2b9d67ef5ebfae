import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const section = readme.slice(
  readme.indexOf('## Testing with the emulator'),
  readme.indexOf('## Writing your own'),
);

describe('README "Testing with the emulator"', () => {
  it('lists every emulator option', () => {
    const source = read('src/testing/salesforce-emulator/options.ts');
    const keys =
      source.slice(source.indexOf('const KNOWN_KEYS'), source.indexOf(']);')).match(/'(\w+)'/g) ?? [];
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(section, `option ${key}`).toContain(`\`${key.slice(1, -1)}\``);
  });

  it('lists every handle of the running emulator', () => {
    const source = read('src/testing/salesforce-emulator/emulator.ts');
    const body = source.slice(source.indexOf('export interface SalesforceEmulator {'));
    const members = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}(?:readonly )?(\w+)[(:?]/gm)].map(
      (m) => m[1],
    );
    expect(members.length).toBeGreaterThan(10);
    for (const member of members) expect(section, `handle ${member}`).toMatch(new RegExp(`\`${member}[\`(]`));
  });
});
