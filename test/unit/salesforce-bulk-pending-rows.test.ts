import { describe, expect, it } from 'vitest';
import { PendingBulkRows } from '../../src/salesforce/bulk-pending-rows.js';

describe('PendingBulkRows (the rows of a Bulk job in flight, kept off the V8 heap)', () => {
  it('hands each row back once, by its exact key, with its index and external id', () => {
    const rows = new PendingBulkRows();
    rows.add('a@example.com', 0, 'A-1');
    rows.add('zoë@exämple.com', 1, 'zoë@exämple.com');
    rows.add('', 2, 'empty');
    expect(rows.size).toBe(3);
    expect(rows.has('A@example.com')).toBe(false);
    expect(rows.take('a@example.co')).toBeUndefined();
    expect(rows.take('a@example.com')).toEqual({ index: 0, externalId: 'A-1' });
    expect(rows.take('a@example.com')).toBeUndefined();
    expect(rows.has('a@example.com')).toBe(false);
    expect(rows.take('zoë@exämple.com')).toEqual({ index: 1, externalId: 'zoë@exämple.com' });
    expect(rows.size).toBe(1);
    expect([...rows.remaining()]).toEqual([{ key: '', index: 2, externalId: 'empty' }]);
    rows.clear();
    expect(rows.size).toBe(0);
    expect([...rows.remaining()]).toEqual([]);
  });

  it('agrees with a Map on 200,000 keys taken in another order, half of them missing from the results', () => {
    const rows = new PendingBulkRows();
    const model = new Map<string, { index: number; externalId: string }>();
    for (let i = 0; i < 200_000; i++) {
      const key = `k-${(i * 7919) % 1_000_003}-${'é'.repeat(i % 3)}`;
      const externalId = i % 5 === 0 ? `ext-${i}` : key;
      rows.add(key, i, externalId);
      model.set(key, { index: i, externalId });
    }
    expect(rows.size).toBe(200_000);
    const keys = [...model.keys()];
    for (let i = keys.length - 1; i >= 0; i -= 2) {
      const key = keys[i] as string;
      expect(rows.take(key)).toEqual(model.get(key));
      model.delete(key);
      // Results for keys never sent are ignored.
      expect(rows.take(`${key}x`)).toBeUndefined();
    }
    expect(rows.size).toBe(model.size);
    expect([...rows.remaining()]).toEqual([...model].map(([key, row]) => ({ key, ...row })));
  });
});
