import { describe, expect, it } from 'vitest';
import { contentHash, stableEqual, stableStringify } from '../../src/sync/content-hash.js';

describe('stableStringify', () => {
  it('sorts object keys at every depth, so key order never changes the output (regression: key sort removed)', () => {
    expect(stableStringify({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(stableStringify({ z: { y: 1, x: 2 }, a: 0 })).toBe(stableStringify({ a: 0, z: { x: 2, y: 1 } }));
  });

  it('keeps array order (arrays are sequences, not sets)', () => {
    expect(stableStringify([2, 1])).toBe('[2,1]');
    expect(stableEqual([1, 2], [2, 1])).toBe(false);
  });

  it('drops undefined and function properties, and turns dates, non-finite numbers and bigints into JSON', () => {
    expect(stableStringify({ a: undefined, f: () => 1, d: new Date('2026-01-02T03:04:05.000Z') })).toBe(
      '{"d":"2026-01-02T03:04:05.000Z"}',
    );
    expect(stableStringify({ n: Number.NaN, i: Number.POSITIVE_INFINITY, b: 10n })).toBe(
      '{"b":"10","i":null,"n":null}',
    );
    expect(stableStringify(new Date('invalid'))).toBe('null');
    expect(stableStringify(undefined)).toBe('null');
    expect(stableStringify([undefined, Symbol('s')])).toBe('[null,null]');
    expect(stableStringify('text')).toBe('"text"');
  });
});

describe('contentHash', () => {
  it('is the SHA-256 hex of the stable form: equal content, equal hash; any change, another hash', () => {
    const a = contentHash({ email: 'ada@example.com', tags: ['x'], firstName: 'Ada' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash({ firstName: 'Ada', tags: ['x'], email: 'ada@example.com' })).toBe(a);
    expect(contentHash({ firstName: 'Ada', tags: ['y'], email: 'ada@example.com' })).not.toBe(a);
    // sha256('null')
    expect(contentHash(null)).toBe('74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b');
  });
});
