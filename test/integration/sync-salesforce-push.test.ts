import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactInput } from '../../src/core/models.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SyncEngine, type SyncEngineOptions } from '../../src/sync/engine.js';
import type { SyncProgress } from '../../src/sync/push.js';
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

function setup(options: Partial<SyncEngineOptions> = {}) {
  const provider = new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    sleep: async () => {},
  });
  const storage = new MemoryStorage();
  const engine = new SyncEngine({ provider, storage, integrationId: 'int-push', ...options });
  return { provider, storage, engine };
}

function* hostContacts(n: number, patch: Partial<CrmContactInput> = {}): Generator<CrmContactInput> {
  for (let i = 0; i < n; i += 1) {
    yield { externalId: `h-${i}`, email: `user${i}@example.com`, lastName: `Last${i}`, ...patch };
  }
}

const INGEST = 'POST /services/data/:version/jobs/ingest';
const COLLECTIONS = 'PATCH /services/data/:version/composite/sobjects/:sobject/:field';

describe('SyncEngine push through SalesforceProvider (emulator)', () => {
  it('sends a 5,000-record changed set through Bulk API 2.0 with default engine options', async () => {
    const { engine } = setup();
    const progress: SyncProgress[] = [];
    const report = await engine.pushContacts(hostContacts(5_000), { onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ created: 5_000, failed: 0 });
    expect(sf.stats.byRoute[INGEST]).toBeGreaterThanOrEqual(1);
    expect(sf.stats.byRoute[COLLECTIONS] ?? 0).toBe(0);
    expect(sf.records('Contact')).toHaveLength(5_000);
    // Bulk jobs cost a handful of calls, not 25 collection calls.
    expect(report.apiCalls).toBeLessThan(25);
    expect(progress.at(-1)).toMatchObject({ processed: 5_000, created: 5_000, sent: 5_000 });
  });

  it.each(['rest', 'bulk'] as const)(
    'clears a field the host emptied since the last sync (%s)',
    async (bulkMode) => {
      const { engine } = setup({ bulkMode });
      await engine.pushContacts(hostContacts(2, { phone: '+1 555 0100', title: 'CTO' }));
      expect(sf.records('Contact').map((r) => r.Phone)).toEqual(['+1 555 0100', '+1 555 0100']);
      const report = await engine.pushContacts(hostContacts(2, { phone: '  ', title: 'CTO' }));
      expect(report).toMatchObject({ updated: 2, failed: 0 });
      for (const record of sf.records('Contact')) {
        expect(record.Phone ?? null).toBeNull();
        expect(record.Title).toBe('CTO');
      }
    },
  );
});
