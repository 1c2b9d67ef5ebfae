import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrmContactInput, MemoryStorage, SyncEngine, type SyncPullBatch } from '../../src/index.js';
import { SalesforceProvider } from '../../src/salesforce/index.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// One fixed second for every write until a test moves it: equal SystemModstamps across query pages.
let now = new Date('2026-03-01T12:00:00.000Z').getTime();
const clock = { now: () => new Date(now) };
let emulator: SalesforceEmulator;

beforeAll(async () => {
  emulator = await startSalesforceEmulator({ clock });
});

afterAll(async () => {
  await emulator?.stop();
});

const contact = (i: number, patch: Partial<CrmContactInput> = {}): CrmContactInput => ({
  externalId: `h-${i}`,
  email: `user${i}@example.com`,
  lastName: `Last${i}`,
  ...patch,
});

describe('SyncEngine.pullContacts against the Salesforce emulator', () => {
  it('loses nothing at cursor edges (equal timestamps across pages), suppresses echoes and delivers later edits once', async () => {
    const provider = new SalesforceProvider({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
    });
    const storage = new MemoryStorage();
    const engine = new SyncEngine({ provider, storage, integrationId: 'pull-int', fieldMappings: [] });
    const batches: SyncPullBatch[] = [];
    const apply = async (batch: SyncPullBatch) => {
      batches.push(batch);
    };

    // 2,500 contacts created CRM-side within the same second: the query needs two pages.
    const created = await provider.bulkSyncContacts(
      Array.from({ length: 2_500 }, (_, i) => contact(i)),
      { mode: 'rest' },
    );
    expect(created.failed).toBe(0);
    const first = await engine.pullContacts({ apply });
    expect(batches.length).toBeGreaterThanOrEqual(2);
    const delivered = batches.flatMap((b) => b.upserted.map((u) => u.externalId));
    expect(delivered).toHaveLength(2_500);
    expect(new Set(delivered).size).toBe(2_500);
    expect(first).toMatchObject({ created: 2_500, complete: true });
    expect(await storage.cursors.get('pull-int', 'contacts:pull')).not.toBeNull();

    // Nothing changed: nothing delivered.
    batches.length = 0;
    expect(await engine.pullContacts({ apply })).toMatchObject({ created: 0, updated: 0 });
    expect(batches).toHaveLength(0);

    // The engine's own push comes back from Salesforce as an echo and is suppressed.
    now += 5_000;
    const pushed = await engine.pushContacts([contact(7, { title: 'Pushed by host' })]);
    expect(pushed).toMatchObject({ updated: 1 });
    expect(await engine.pullContacts({ apply })).toMatchObject({ updated: 0, unchanged: 1 });
    expect(batches).toHaveLength(0);

    // Two CRM-side edits in one second arrive once each, with only the changed field.
    now += 5_000;
    const ids = new Map(emulator.records('Contact').map((r) => [String(r.MarkMail_ID__c), String(r.Id)]));
    await provider.updateContact({ ...contact(10, { title: 'CRM edit' }), id: ids.get('h-10') as string });
    await provider.updateContact({
      ...contact(2_400, { firstName: 'Ada' }),
      id: ids.get('h-2400') as string,
    });
    const edits = await engine.pullContacts({ apply });
    expect(edits).toMatchObject({ updated: 2 });
    const changes = batches.flatMap((b) => b.upserted.map((u) => [u.externalId, u.changes]));
    expect(changes).toEqual([
      ['h-10', { title: 'CRM edit' }],
      ['h-2400', { firstName: 'Ada' }],
    ]);
  }, 120_000);
});
