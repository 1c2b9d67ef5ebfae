import { describe, expect, it } from 'vitest';
import { KeyHashSet } from '../../src/sync/key-set.js';
import { PendingPushes } from '../../src/sync/pending-pushes.js';

describe('PendingPushes (outcomes awaited, kept off the V8 heap)', () => {
  it('gives back every entry by position, across many buffer blocks', () => {
    const pending = new PendingPushes<{ id: string; n: number; text: string | null }>({ blockSize: 256 });
    const entries = Array.from({ length: 5_000 }, (_, i) => ({
      id: `h-${i}`,
      n: i,
      text: i % 3 === 0 ? null : `Zoë "${i}" 😀\n`,
    }));
    for (const [i, entry] of entries.entries()) expect(pending.add(entry)).toBe(i);
    expect(pending.size).toBe(5_000);
    for (const i of [0, 1, 2, 77, 2_500, 4_999]) expect(pending.get(i)).toEqual(entries[i]);
  });

  it('holds an entry larger than a block', () => {
    const pending = new PendingPushes<string>({ blockSize: 64 });
    pending.add('small');
    const big = 'x'.repeat(1_000);
    pending.add(big);
    pending.add('after');
    expect([pending.get(0), pending.get(1), pending.get(2)]).toEqual(['small', big, 'after']);
  });

  it('refuses a position it never gave out', () => {
    const pending = new PendingPushes<number>();
    pending.add(1);
    expect(() => pending.get(1)).toThrow(RangeError);
    expect(() => pending.get(-1)).toThrow(RangeError);
  });
});

describe('KeyHashSet', () => {
  it('knows the keys added (and only those) through growth', () => {
    const set = new KeyHashSet();
    for (let i = 0; i < 50_000; i++) set.add(`h-${i}`);
    set.add('h-1');
    expect(set.size).toBe(50_000);
    for (let i = 0; i < 50_000; i += 997) expect(set.has(`h-${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 50_000; i < 150_000; i++) if (set.has(`h-${i}`)) falsePositives++;
    expect(falsePositives).toBe(0);
    expect(set.has('')).toBe(false);
  });
});
