import { describe, expect, it } from 'vitest';
import { applyBulkResultOptions, type CrmBulkSyncResult, type CrmSyncResult } from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';

function result(outcomes: boolean[]): CrmBulkSyncResult {
  const results = outcomes.map(
    (success, i): CrmSyncResult => ({
      entityType: 'contact',
      externalId: `h-${i}`,
      success,
      syncedAt: new Date(0),
      ...(success ? {} : { error: { code: 'X', message: 'no' } }),
    }),
  );
  return { total: results.length, success: 3, failed: 1, results, apiCalls: 1, mode: 'rest' };
}

describe('applyBulkResultOptions', () => {
  it('hands every result to onResult in input order, awaiting each, and keeps failures only when asked', async () => {
    const order: string[] = [];
    const out = await applyBulkResultOptions(result([true, false, true, true]), {
      keepResults: 'failures',
      onResult: async (r, index) => {
        order.push(`${index}:${r.externalId}`);
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    expect(order).toEqual(['0:h-0', '1:h-1', '2:h-2', '3:h-3']);
    expect(out).toMatchObject({ total: 4, success: 3, failed: 1 });
    expect(out.results.map((r) => r.externalId)).toEqual(['h-1']);
  });

  it('leaves the result as it is without options', async () => {
    const input = result([true, false]);
    expect(await applyBulkResultOptions(input)).toBe(input);
  });

  it('FakeCrmProvider honours onResult and keepResults', async () => {
    const crm = new FakeCrmProvider();
    const seen: number[] = [];
    const out = await crm.bulkSyncContacts(
      [
        { externalId: 'a', email: 'a@example.com' },
        { externalId: 'b', email: 'not-an-email' },
      ],
      { keepResults: 'failures', onResult: (_, index) => void seen.push(index) },
    );
    expect(seen).toEqual([0, 1]);
    expect(out).toMatchObject({ total: 2, success: 1, failed: 1 });
    expect(out.results.map((r) => r.externalId)).toEqual(['b']);
  });
});
