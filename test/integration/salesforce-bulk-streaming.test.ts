import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactInput, CrmSyncResult } from '../../src/core/models.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

function provider(bulk: { maxJobRecords?: number } = {}) {
  return new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    bulk: { pollIntervalMs: 20, ...bulk },
  });
}

/** 3,000 contacts: #10 refused by Salesforce (no LastName), #20 refused locally, #1500 repeats #5. */
function* source(total = 3_000): Generator<CrmContactInput> {
  for (let i = 0; i < total; i++) {
    if (i === 10) yield { externalId: `s-${i}`, email: `s${i}@example.com` };
    else if (i === 20) yield { externalId: `s-${i}`, email: 'broken' };
    else if (i === 1500) yield { externalId: 's-5', email: 's5-again@example.com', lastName: 'Again' };
    else yield { externalId: `s-${i}`, email: `s${i}@example.com`, lastName: `Last ${i}` };
  }
}

describe('bulkSyncContacts streams per-record results (onResult, keepResults)', () => {
  it("keepResults 'failures': only failures kept, in input order; onResult sees every record once, with its index", async () => {
    const seen = new Map<number, CrmSyncResult>();
    const result = await provider().bulkSyncContacts(source(), {
      mode: 'bulk',
      keepResults: 'failures',
      onResult: (r, index) => {
        expect(seen.has(index)).toBe(false);
        seen.set(index, r);
      },
    });
    expect(result).toMatchObject({ mode: 'bulk', total: 3_000, failed: 3, success: 2_997 });
    expect(result.results.map((r) => [r.externalId, r.error?.code])).toEqual([
      ['s-10', 'REQUIRED_FIELD_MISSING'],
      ['s-20', 'INVALID_DATA'],
      ['s-5', 'DUPLICATE_EXTERNAL_ID'],
    ]);
    expect(seen.size).toBe(3_000);
    expect(seen.get(0)).toMatchObject({ externalId: 's-0', success: true, created: true });
    expect(seen.get(10)).toMatchObject({ success: false, error: { code: 'REQUIRED_FIELD_MISSING' } });
    expect(seen.get(2_999)).toMatchObject({ externalId: 's-2999', success: true });
    // One job: s-5 and its repeat would race inside it, so the repeat is refused.
    expect(seen.get(1_500)).toMatchObject({ externalId: 's-5', error: { code: 'DUPLICATE_EXTERNAL_ID' } });
  });

  it('a repeat in a later job is applied after the first (jobs run one after the other)', async () => {
    const result = await provider({ maxJobRecords: 1_000 }).bulkSyncContacts(source(), { mode: 'bulk' });
    expect(result).toMatchObject({ total: 3_000, failed: 2 });
    expect(result.results).toHaveLength(3_000);
    expect(result.results[1_500]).toMatchObject({ externalId: 's-5', success: true, created: false });
    expect(sf.records('Contact').find((r) => r.MarkMail_ID__c === 's-5')).toMatchObject({
      LastName: 'Again',
    });
    expect(sf.records('Contact')).toHaveLength(2_998 - 1);
  });

  it('maxJobRecords splits the input into jobs; each costs a handful of calls', async () => {
    const result = await provider({ maxJobRecords: 1_000 }).bulkSyncContacts(source(), {
      mode: 'bulk',
      keepResults: 'failures',
    });
    const jobs = sf.stats.byRoute['POST /services/data/:version/jobs/ingest'] ?? 0;
    expect(jobs).toBe(3);
    // describe + per job: create, upload, close, polls, results (failedResults when needed).
    expect(result.apiCalls).toBeLessThanOrEqual(1 + 3 * 8);
  });

  it('waits for a promise onResult returns before handing over more (backpressure)', async () => {
    let inFlight = 0;
    let most = 0;
    await provider().bulkSyncContacts(source(2_500), {
      mode: 'bulk',
      keepResults: 'failures',
      onResult: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
      },
    });
    expect(most).toBe(1);
  });

  it('the same options work through sObject Collections', async () => {
    const indexes: number[] = [];
    const result = await provider().bulkSyncContacts(source(300), {
      mode: 'rest',
      keepResults: 'failures',
      onResult: (_, index) => {
        indexes.push(index);
      },
    });
    expect(result).toMatchObject({ mode: 'rest', total: 300, failed: 2 });
    expect(result.results.map((r) => r.externalId)).toEqual(['s-10', 's-20']);
    expect(indexes.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('refuses an unknown keepResults value before any call', async () => {
    await expect(
      provider().bulkSyncContacts(source(1), { keepResults: 'some' as 'all' }),
    ).rejects.toMatchObject({ name: 'CrmDataConversionError' });
    expect(sf.stats.apiCalls).toBe(0);
  });
});
