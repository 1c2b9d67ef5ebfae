import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/index.js';
import { assertSupportedNode, isSupportedNode, NODE_FLOOR } from '../../src/internal/node-floor.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the Node.js floor', () => {
  it('accepts the floor and anything newer, refuses anything older', () => {
    expect(isSupportedNode(NODE_FLOOR)).toBe(true);
    expect(isSupportedNode('22.23.3')).toBe(true);
    expect(isSupportedNode('v24.0.0')).toBe(true);
    expect(isSupportedNode('22.18.9')).toBe(false);
    expect(isSupportedNode('22.12.0')).toBe(false);
    expect(isSupportedNode('20.20.2')).toBe(false);
    expect(isSupportedNode('18.99.99')).toBe(false);
  });

  it('tells a host on an old Node, in one line, which version it needs', () => {
    expect(() => assertSupportedNode('20.20.2')).toThrow(CrmConfigurationError);
    expect(() => assertSupportedNode('20.20.2')).toThrow(
      `@markmail/crm needs Node.js ${NODE_FLOOR} or newer; this process runs Node.js 20.20.2`,
    );
    expect(() => assertSupportedNode()).not.toThrow(); // the Node running this suite
  });

  it('is declared once: package.json engines and the README say the same version', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${NODE_FLOOR}`);
    const readme = read('README.md');
    expect(readme.split(NODE_FLOOR)).toHaveLength(2); // exactly one mention
    // No other Node.js version floor anywhere in the README.
    expect(readme.match(/Node(?:\.js)? (?:≥ |>= )?\d+\.\d+(?:\.\d+)?/g)).toEqual([`Node.js ${NODE_FLOOR}`]);
  });

  it('is checked first by every entry point in tsup.config.ts (new subpaths included)', () => {
    const entries = [...read('tsup.config.ts').matchAll(/'(src\/[^']+\.ts)'/g)].map((m) => m[1] as string);
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const entry of entries) expect(read(entry), entry).toMatch(/^\s*assertSupportedNode\(\);/m);
  });
});
