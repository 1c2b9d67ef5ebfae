import { describe, expect, it } from 'vitest';
import { type CrmContactInput, MemoryStorage, SyncEngine, type SyncProgress } from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';

const INTEGRATION = 'int-1';

function contacts(n: number, patch: Partial<CrmContactInput> = {}): CrmContactInput[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `h-${i}`,
    email: `user${i}@example.com`,
    lastName: `Last${i}`,
    ...patch,
  }));
}

function setup(batchSize?: number) {
  const storage = new MemoryStorage();
  const provider = new FakeCrmProvider({ collectionSize: 50 });
  const engine = new SyncEngine({
    provider,
    storage,
    integrationId: INTEGRATION,
    ...(batchSize ? { batchSize } : {}),
  });
  return { storage, provider, engine };
}

const COUNTERS = ['processed', 'created', 'updated', 'unchanged', 'failed', 'apiCalls', 'sent'] as const;

describe('pushContacts progress', () => {
  it('fires only when something changed, never goes back, and moves inside a batch', async () => {
    const { engine } = setup(200);
    const seen: SyncProgress[] = [];
    await engine.pushContacts(contacts(400), { onProgress: (p) => seen.push(p) });
    for (let i = 1; i < seen.length; i += 1) {
      const [before, after] = [seen[i - 1] as SyncProgress, seen[i] as SyncProgress];
      for (const key of COUNTERS) expect(after[key] ?? 0).toBeGreaterThanOrEqual(before[key] ?? 0);
      expect(COUNTERS.some((key) => after[key] !== before[key])).toBe(true);
    }
    // 2 batches of 200 answered in collections of 50: progress inside each batch (`sent`), then
    // once with the batch's outcome (`created`) — no copies of the same numbers.
    expect(seen.map((p) => [p.sent, p.created])).toEqual([
      [50, 0],
      [100, 0],
      [150, 0],
      [200, 0],
      [200, 200],
      [250, 200],
      [300, 200],
      [350, 200],
      [400, 200],
      [400, 400],
    ]);
    expect(seen.at(-1)).toMatchObject({ processed: 400, created: 400, sent: 400 });
  });

  it('counts the API calls of the batch in flight (regression: apiCalls stayed 0 until a batch returned)', async () => {
    const { engine } = setup(200);
    const seen: SyncProgress[] = [];
    const report = await engine.pushContacts(contacts(400), { onProgress: (p) => seen.push(p) });
    // One collection call per 50 records sent.
    expect(seen.map((p) => [p.sent, p.apiCalls])).toEqual([
      [50, 1],
      [100, 2],
      [150, 3],
      [200, 4],
      [200, 4],
      [250, 5],
      [300, 6],
      [350, 7],
      [400, 8],
      [400, 8],
    ]);
    expect(report.apiCalls).toBe(8);
  });
});

describe('pushContacts clears', () => {
  it('sends an explicit clear for a standard field the host emptied since the last sync', async () => {
    const { engine, provider } = setup();
    await engine.pushContacts(contacts(1, { phone: '+1 555 0100', title: 'CTO' }));
    expect(provider.contacts()[0]).toMatchObject({ phone: '+1 555 0100', title: 'CTO' });
    const report = await engine.pushContacts(contacts(1, { phone: '', title: 'CTO' }));
    expect(report).toMatchObject({ updated: 1 });
    const stored = provider.contacts()[0];
    expect(stored?.phone).toBeUndefined();
    expect(stored?.title).toBe('CTO');
  });

  it('does not clear a field the host never had (a CRM user may have filled it)', async () => {
    const { engine, provider } = setup();
    await engine.pushContacts(contacts(1));
    const id = provider.contacts()[0]?.id as string;
    provider.crmUpdateContact(id, { title: 'Set in CRM' });
    await engine.pushContacts(contacts(1, { lastName: 'Changed' }));
    expect(provider.contacts()[0]).toMatchObject({ lastName: 'Changed', title: 'Set in CRM' });
  });
});

describe('pushContacts batching', () => {
  it('hands a 5,000-record changed set to the provider in one batch by default, so auto mode picks bulk', async () => {
    const { engine, provider } = setup();
    await engine.pushContacts(contacts(5_000));
    const bulkCalls = provider.calls.filter((c) => c.method === 'bulkSyncContacts');
    expect(bulkCalls).toHaveLength(1);
    expect(bulkCalls[0]).toMatchObject({ records: 5_000, mode: 'bulk' });
  });
});
