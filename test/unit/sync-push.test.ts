import { describe, expect, it } from 'vitest';
import {
  CrmConnectionError,
  type CrmContactInput,
  CrmRateLimitError,
  CrmStorageError,
  getSyncReport,
  MemoryStorage,
  SyncEngine,
  type SyncEngineOptions,
} from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';
import { contact, manualClock } from './sync-fixtures.js';

const INTEGRATION = 'int-1';

function contacts(n: number): CrmContactInput[] {
  return Array.from({ length: n }, (_, i) => contact(i));
}

function setup(options: Partial<SyncEngineOptions> = {}) {
  const clock = manualClock();
  const storage = new MemoryStorage({ clock });
  const provider = new FakeCrmProvider({ clock });
  const engine = new SyncEngine({
    provider,
    storage,
    integrationId: INTEGRATION,
    conflictPolicy: 'crm_wins',
    fieldMappings: [],
    clock,
    ...options,
  });
  return { clock, storage, provider, engine };
}

async function statusRows(storage: MemoryStorage) {
  return storage.syncStatus.list({ integrationId: INTEGRATION, limit: 10_000 });
}

describe('SyncEngine.pushContacts', () => {
  it('creates contacts, then a second identical push spends zero API calls', async () => {
    const { storage, provider, engine } = setup();
    const first = await engine.pushContacts(contacts(50));
    expect(first).toMatchObject({
      created: 50,
      updated: 0,
      unchanged: 0,
      failed: 0,
      processed: 50,
      complete: true,
    });
    expect(first.apiCalls).toBe(1);
    expect(provider.contacts()).toHaveLength(50);

    const callsBefore = provider.calls.length;
    const second = await engine.pushContacts(contacts(50));
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 50, apiCalls: 0 });
    expect(provider.calls.length).toBe(callsBefore);
    expect(provider.apiUsage.used).toBe(1);
    expect(await statusRows(storage)).toHaveLength(50);
  });

  it('sends only the one record whose field changed, with one API call', async () => {
    const { provider, engine } = setup();
    await engine.pushContacts(contacts(20));
    const changed = contacts(20);
    changed[7] = contact(7, { title: 'CTO' });
    const report = await engine.pushContacts(changed);
    expect(report).toMatchObject({ updated: 1, unchanged: 19, created: 0, apiCalls: 1 });
    const last = provider.calls.at(-1);
    expect(last).toMatchObject({ method: 'bulkSyncContacts', records: 1, apiCalls: 1 });
    expect(provider.contacts().find((c) => c.externalId === 'h-7')?.title).toBe('CTO');
  });

  it('treats cosmetic differences (whitespace, key order, email case) as unchanged', async () => {
    const { engine } = setup();
    await engine.pushContacts([contact(1)]);
    const report = await engine.pushContacts([
      {
        lastName: 'Last1 ',
        firstName: ' First1',
        email: 'USER1@example.com',
        externalId: 'h-1',
        company: '',
      },
    ]);
    expect(report.unchanged).toBe(1);
    expect(report.apiCalls).toBe(0);
  });

  it('writes status rows with crmId, hash, direction and the merge base', async () => {
    const { storage, provider, engine } = setup();
    await engine.pushContacts([contact(1, { company: 'Acme' })]);
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'contact',
      externalId: 'h-1',
    });
    const crm = provider.contacts()[0];
    expect(row).toMatchObject({
      crmId: crm?.id,
      status: 'synced',
      direction: 'to_crm',
      lastError: null,
    });
    expect(row?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.state).toMatchObject({ v: 1, fields: { email: 'user1@example.com', company: 'Acme' } });
  });

  it('writes exactly one completed log entry per run with counts', async () => {
    const { storage, engine } = setup();
    const report = await engine.pushContacts(contacts(3), { syncType: 'scheduled' });
    const logs = await storage.syncLogs.list(INTEGRATION);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      id: report.logId,
      syncType: 'scheduled',
      entityType: 'contact',
      entityCount: 3,
      successCount: 3,
      errorCount: 0,
      errorDetails: null,
    });
    expect(logs[0]?.completedAt).toBeInstanceOf(Date);
  });

  it('dryRun reports what would happen and writes nothing anywhere', async () => {
    const { storage, provider, engine } = setup();
    await engine.pushContacts(contacts(2));
    const logsBefore = await storage.syncLogs.list(INTEGRATION);
    const callsBefore = provider.calls.length;
    const input = [...contacts(2), contact(2)];
    input[0] = contact(0, { title: 'Changed' });
    const report = await engine.pushContacts(input, { dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      created: 1,
      updated: 1,
      unchanged: 1,
      apiCalls: 0,
      logId: null,
    });
    expect(provider.calls.length).toBe(callsBefore);
    expect(await storage.syncLogs.list(INTEGRATION)).toEqual(logsBefore);
    expect(await statusRows(storage)).toHaveLength(2);
    // The lease was not taken either: an exclusive holder does not block a dry run.
    const lease = await storage.leases.acquire(engine.leaseKey, 60_000);
    expect(lease).not.toBeNull();
    await expect(engine.pushContacts(input, { dryRun: true })).resolves.toMatchObject({ updated: 1 });
  });

  it('reads an async source lazily, one batch at a time', async () => {
    const { provider, engine } = setup({ batchSize: 100 });
    let produced = 0;
    const producedAtCall: number[] = [];
    const original = provider.bulkSyncContacts.bind(provider);
    provider.bulkSyncContacts = (input, options) => {
      producedAtCall.push(produced);
      return original(input, options);
    };
    async function* source() {
      for (let i = 0; i < 350; i += 1) {
        produced += 1;
        yield contact(i);
      }
    }
    const report = await engine.pushContacts(source());
    expect(report.created).toBe(350);
    expect(provider.calls.filter((c) => c.method === 'bulkSyncContacts').map((c) => c.records)).toEqual([
      100, 100, 100, 50,
    ]);
    expect(producedAtCall).toEqual([100, 200, 300, 350]);
  });

  it('caps a provider call at maxRecordsPerCall (in whole batches) and writes status rows batchSize at a time', async () => {
    const { storage, provider, engine } = setup({ batchSize: 100, maxRecordsPerCall: 150 });
    const written: number[] = [];
    const upsertMany = storage.syncStatus.upsertMany.bind(storage.syncStatus);
    storage.syncStatus.upsertMany = async (rows) => {
      written.push(rows.length);
      return upsertMany(rows);
    };
    const report = await engine.pushContacts(contacts(350));
    expect(report).toMatchObject({ created: 350, failed: 0 });
    // batchSize first, then whole batches up to maxRecordsPerCall.
    expect(provider.calls.filter((c) => c.method === 'bulkSyncContacts').map((c) => c.records)).toEqual([
      100, 100, 150,
    ]);
    expect(Math.max(...written)).toBeLessThanOrEqual(100);
    expect(written.reduce((a, b) => a + b, 0)).toBe(350);
  });

  it('starts a new provider call before a batch that repeats a host id of the call in flight', async () => {
    const { storage, provider, engine } = setup({ batchSize: 2, maxRecordsPerCall: 10 });
    // Batches [h-0, h-1] [h-2, h-0'] [h-3]: the second repeats h-0 with a new title.
    const report = await engine.pushContacts([
      contact(0),
      contact(1),
      contact(2),
      contact(0, { title: 'Second' }),
      contact(3),
    ]);
    expect(report).toMatchObject({ created: 4, updated: 1, failed: 0 });
    expect(provider.calls.filter((c) => c.method === 'bulkSyncContacts').map((c) => c.records)).toEqual([
      2, 3,
    ]);
    expect(provider.contacts().find((c) => c.externalId === 'h-0')?.title).toBe('Second');
    const rows = await statusRows(storage);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.status === 'synced')).toBe(true);
    // The stored hash is the second version's: pushing it again sends nothing.
    const again = await engine.pushContacts([contact(0, { title: 'Second' })]);
    expect(again).toMatchObject({ unchanged: 1, apiCalls: 0 });
  });

  it('maps host fields through fieldMappings and leaves from_crm fields out of the push', async () => {
    const { provider, engine } = setup({
      hostIdField: 'id',
      fieldMappings: [
        { hostField: 'mail', crmField: 'email', fieldType: 'email' },
        { hostField: 'given', crmField: 'firstName', fieldType: 'text' },
        {
          hostField: 'stats.score',
          crmField: 'Score__c',
          fieldType: 'number',
          transform: (v) => Number(v) * 10,
        },
        { hostField: 'rating', crmField: 'Rating__c', fieldType: 'text', syncDirection: 'from_crm' },
      ],
    });
    await engine.pushContacts([
      { id: 42, mail: 'x@example.com', given: 'Ann', stats: { score: 4 }, rating: 'A' },
    ]);
    const [crm] = provider.contacts();
    expect(crm).toMatchObject({ externalId: '42', email: 'x@example.com', firstName: 'Ann' });
    expect(crm?.customFields).toEqual({ Score__c: 40 });
  });

  it('records invalid host records as DATA_CONVERSION failures without an API call, and sends the rest', async () => {
    const { storage, provider, engine } = setup();
    const report = await engine.pushContacts([
      contact(1),
      contact(2, { email: 'not-an-email' }),
      { email: 'a@b.co' },
    ]);
    expect(report).toMatchObject({ created: 1, failed: 2 });
    expect(report.errorsByCode.DATA_CONVERSION?.count).toBe(2);
    expect(report.errors.find((e) => e.externalId === 'h-2')?.fields).toContain('email');
    expect(provider.calls.filter((c) => c.method === 'bulkSyncContacts').map((c) => c.records)).toEqual([1]);
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'contact',
      externalId: 'h-2',
    });
    expect(row).toMatchObject({ status: 'failed' });
    expect(row?.lastError).toMatch(/^DATA_CONVERSION/);
    expect(row?.lastError).not.toContain('not-an-email');
  });

  it('groups rejected records by error code in the report and the log', async () => {
    const { storage, provider, engine } = setup();
    provider.failRecord({ externalId: 'h-1', code: 'DUPLICATE_VALUE' });
    provider.failRecord({ externalId: 'h-2', code: 'DUPLICATE_VALUE' });
    provider.failRecord({ externalId: 'h-3', code: 'UNABLE_TO_LOCK_ROW' });
    const report = await engine.pushContacts(contacts(5));
    expect(report).toMatchObject({ created: 2, failed: 3, needsAttention: 2 });
    expect(report.errorsByCode.DUPLICATE_VALUE).toMatchObject({ count: 2, retryable: false });
    expect(report.errorsByCode.DUPLICATE_VALUE?.externalIds.sort()).toEqual(['h-1', 'h-2']);
    expect(report.errorsByCode.UNABLE_TO_LOCK_ROW).toMatchObject({ count: 1, retryable: true });
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log).toMatchObject({ successCount: 2, errorCount: 3 });
    expect(log?.errorDetails).toMatchObject({
      errorsByCode: { DUPLICATE_VALUE: { count: 2 }, UNABLE_TO_LOCK_ROW: { count: 1 } },
    });
  });

  it('re-drives a transiently rejected record on a later run, after its backoff', async () => {
    const { storage, provider, engine, clock } = setup({ retryPolicy: { baseDelayMs: 60_000 } });
    provider.failRecord({ externalId: 'h-1', code: 'UNABLE_TO_LOCK_ROW', times: 1 });
    const first = await engine.pushContacts(contacts(3));
    expect(first).toMatchObject({ created: 2, failed: 1 });
    const key = { integrationId: INTEGRATION, entityType: 'contact' as const, externalId: 'h-1' };
    expect((await storage.syncStatus.get(key))?.state).toMatchObject({
      retry: {
        attempts: 1,
        code: 'UNABLE_TO_LOCK_ROW',
        exhausted: false,
        nextAttemptAt: '2026-01-01T00:01:00.000Z',
      },
    });

    const tooSoon = await engine.pushContacts(contacts(3));
    expect(tooSoon).toMatchObject({ deferred: 1, unchanged: 2, apiCalls: 0 });

    clock.advance(61_000);
    const retried = await engine.pushContacts(contacts(3));
    expect(retried).toMatchObject({ created: 1, unchanged: 2, failed: 0, apiCalls: 1 });
    const row = await storage.syncStatus.get(key);
    expect(row).toMatchObject({ status: 'synced', lastError: null });
    expect(row?.state).not.toHaveProperty('retry');
  });

  it('stops retrying after maxAttempts and marks the record as needing attention', async () => {
    const { storage, provider, engine, clock } = setup({
      retryPolicy: { maxAttempts: 2, baseDelayMs: 1_000 },
    });
    provider.failRecord({ externalId: 'h-0', code: 'UNABLE_TO_LOCK_ROW' });
    await engine.pushContacts(contacts(1));
    clock.advance(2_000);
    const second = await engine.pushContacts(contacts(1));
    expect(second.errors[0]).toMatchObject({ attempts: 2, needsAttention: true });
    clock.advance(10 * 86_400_000);
    const third = await engine.pushContacts(contacts(1));
    expect(third).toMatchObject({ apiCalls: 0, needsAttention: 1, failed: 0 });
    expect(third.errorsByCode.UNABLE_TO_LOCK_ROW?.externalIds).toEqual(['h-0']);
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'contact',
      externalId: 'h-0',
    });
    expect(row?.state).toMatchObject({ retry: { attempts: 2, exhausted: true, nextAttemptAt: null } });
  });

  it('does not resend a record rejected for its data until the host changes it', async () => {
    const { provider, engine } = setup();
    provider.failRecord({ externalId: 'h-0', code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', times: 1 });
    await engine.pushContacts([contact(0)]);
    const again = await engine.pushContacts([contact(0)]);
    expect(again).toMatchObject({ apiCalls: 0, needsAttention: 1 });
    const fixed = await engine.pushContacts([contact(0, { lastName: 'Fixed' })]);
    expect(fixed).toMatchObject({ created: 1, apiCalls: 1 });
  });

  it('abort completes the log with the reason and keeps finished batches', async () => {
    const { storage, provider, engine } = setup({ batchSize: 10 });
    const controller = new AbortController();
    const error = await engine
      .pushContacts(contacts(40), {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.processed >= 10) controller.abort(new Error('user cancelled'));
        },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(getSyncReport(error)).toMatchObject({ stopReason: 'aborted', complete: false });
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.completedAt).toBeInstanceOf(Date);
    expect(log?.errorDetails).toMatchObject({ stopReason: 'aborted' });
    const rows = await statusRows(storage);
    expect(rows.length).toBe(provider.contacts().length);
    expect(rows.every((r) => r.status === 'synced' && r.crmId !== null)).toBe(true);
    // The lease was released and the next run finishes the job without duplicates.
    const rerun = await engine.pushContacts(contacts(40));
    expect(rerun.created).toBe(40 - rows.length);
    expect(provider.contacts()).toHaveLength(40);
  });

  it('stops cleanly at the per-run API budget and continues on the next run', async () => {
    const { provider, engine } = setup({ batchSize: 200, apiBudget: { maxCallsPerRun: 2 } });
    const first = await engine.pushContacts(contacts(600));
    expect(first).toMatchObject({ created: 400, apiCalls: 2, complete: false, stopReason: 'api_budget' });
    expect(first.stopMessage).toMatch(/2 calls allowed per run/);
    const second = await engine.pushContacts(contacts(600));
    expect(second).toMatchObject({ created: 200, unchanged: 400, complete: true, stopReason: null });
    expect(provider.contacts()).toHaveLength(600);
  });

  it('stops before passing its share of the daily API limit', async () => {
    const clock = manualClock();
    const storage = new MemoryStorage({ clock });
    const provider = new FakeCrmProvider({ clock, dailyApiLimit: 1000, initialApiUsage: 499 });
    const engine = new SyncEngine({
      provider,
      storage,
      integrationId: INTEGRATION,
      clock,
      batchSize: 200,
      apiBudget: { maxShareOfDailyLimit: 0.5 },
    });
    const report = await engine.pushContacts(contacts(400));
    expect(report).toMatchObject({ created: 200, apiCalls: 1, stopReason: 'api_budget', complete: false });
    expect(report.stopMessage).toMatch(/500 of 1000 daily calls used/);
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.errorDetails).toMatchObject({ stopReason: 'api_budget' });
  });

  it('ends cleanly on a CRM rate limit, leaving unsent records for the next run', async () => {
    const { provider, engine } = setup({ batchSize: 5 });
    provider.failCall(
      'bulkSyncContacts',
      new CrmRateLimitError('TotalRequests Limit exceeded.', { providerCode: 'REQUEST_LIMIT_EXCEEDED' }),
    );
    const report = await engine.pushContacts(contacts(10));
    expect(report).toMatchObject({ stopReason: 'rate_limited', complete: false, created: 0 });
    const next = await engine.pushContacts(contacts(10));
    expect(next.created).toBe(10);
  });

  it('throws a whole-batch provider failure after completing the log and releasing the lease', async () => {
    const { storage, provider, engine } = setup();
    provider.failCall('bulkSyncContacts', new CrmConnectionError('socket hang up'));
    const error = await engine.pushContacts(contacts(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmConnectionError);
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.errorDetails).toMatchObject({ stopReason: 'error' });
    expect(await storage.leases.acquire(engine.leaseKey, 1_000)).not.toBeNull();
  });

  it("closes a killed run's open sync log as interrupted when its lease is taken over", async () => {
    const { clock, storage, engine } = setup({ leaseTtlMs: 60_000 });
    // A run that died: it holds the lease and left its log open.
    expect(await storage.leases.acquire(engine.leaseKey, 60_000)).not.toBeNull();
    const dead = await storage.syncLogs.start({
      integrationId: INTEGRATION,
      syncType: 'scheduled',
      entityType: 'contact',
    });
    clock.advance(61_000);
    const report = await engine.pushContacts(contacts(2));
    expect(report.created).toBe(2);
    const logs = await storage.syncLogs.list(INTEGRATION);
    expect(logs).toHaveLength(2);
    const closed = logs.find((l) => l.id === dead.id);
    expect(closed).toMatchObject({
      completedAt: expect.any(Date),
      errorDetails: { stopReason: 'interrupted' },
    });
    expect(logs.every((l) => l.completedAt !== null)).toBe(true);
  });

  it('counts the records of a batch that failed as a whole, by code, in the report and the sync log', async () => {
    const { storage, provider, engine } = setup({ batchSize: 5 });
    provider.failCall(
      'bulkSyncContacts',
      new CrmConnectionError('socket hang up', { providerCode: 'ECONNRESET' }),
    );
    const error = await engine.pushContacts(contacts(3)).catch((e: unknown) => e);
    const report = getSyncReport(error);
    expect(report).toMatchObject({ failed: 3, needsAttention: 0 });
    expect(report?.errorsByCode.ECONNRESET).toMatchObject({ count: 3, retryable: true });
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.errorCount).toBe(3);
    expect(log?.errorDetails).toMatchObject({ errorsByCode: { ECONNRESET: { count: 3 } } });
    // Not marked failed (nor synced) in storage: the answer never came, so they are uncertain
    // and the next run sends them again.
    expect((await statusRows(storage)).map((r) => r.status)).toEqual(['uncertain', 'uncertain', 'uncertain']);
    expect(report?.uncertain).toBe(3);
    const next = await engine.pushContacts(contacts(3));
    expect(next).toMatchObject({ created: 3, uncertain: 0 });
    expect((await statusRows(storage)).map((r) => r.status)).toEqual(['synced', 'synced', 'synced']);
  });

  it('surfaces a storage failure as CrmStorageError and keeps earlier batches consistent', async () => {
    const { storage, provider, engine } = setup({ batchSize: 10 });
    const upsertMany = storage.syncStatus.upsertMany.bind(storage.syncStatus);
    let writes = 0;
    storage.syncStatus.upsertMany = async (rows) => {
      writes += 1;
      if (writes === 2)
        throw new CrmStorageError('MemoryStorage: disk full', { details: { reason: 'driver' } });
      return upsertMany(rows);
    };
    const error = await engine.pushContacts(contacts(30)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(getSyncReport(error)).toMatchObject({ stopReason: 'error', created: 20 });
    storage.syncStatus.upsertMany = upsertMany;
    const rows = await statusRows(storage);
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === 'synced')).toBe(true);
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.errorDetails).toMatchObject({ stopReason: 'error' });
    // The batch whose status write failed is re-sent (an idempotent upsert), never duplicated.
    const rerun = await engine.pushContacts(contacts(30));
    expect(rerun).toMatchObject({ unchanged: 10, updated: 10, created: 10, failed: 0 });
    expect(provider.contacts()).toHaveLength(30);
  });

  it('fails fast with a clear CrmStorageError while another run holds the lease', async () => {
    const { storage, engine, provider } = setup();
    const other = await storage.leases.acquire(`sync:${INTEGRATION}`, 60_000);
    expect(other).not.toBeNull();
    const error = await engine.pushContacts(contacts(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(error).toMatchObject({
      retryable: true,
      details: { reason: 'lease_held', leaseKey: 'sync:int-1' },
    });
    expect((error as Error).message).toMatch(/Another sync run holds the lease/);
    expect(provider.calls).toHaveLength(0);
    expect(await storage.syncLogs.list(INTEGRATION)).toHaveLength(0);
  });

  it('lets only one of two concurrent runs of the same integration proceed', async () => {
    const { engine, provider } = setup();
    const results = await Promise.allSettled([
      engine.pushContacts(contacts(5)),
      engine.pushContacts(contacts(5)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ details: { reason: 'lease_held' } });
    expect(provider.contacts()).toHaveLength(5);
  });

  it('waits up to waitForLeaseMs for the lease', async () => {
    const storage = new MemoryStorage();
    const provider = new FakeCrmProvider();
    const engine = new SyncEngine({ provider, storage, integrationId: INTEGRATION, waitForLeaseMs: 2_000 });
    const other = await storage.leases.acquire(engine.leaseKey, 60_000);
    setTimeout(() => void storage.leases.release(other!), 150);
    const report = await engine.pushContacts(contacts(2));
    expect(report.created).toBe(2);
  });

  it('renews the lease while a long run is in flight', async () => {
    const storage = new MemoryStorage();
    const provider = new FakeCrmProvider();
    const engine = new SyncEngine({
      provider,
      storage,
      integrationId: INTEGRATION,
      leaseTtlMs: 90,
      batchSize: 1,
    });
    let renewals = 0;
    const renew = storage.leases.renew.bind(storage.leases);
    storage.leases.renew = async (lease, ttl) => {
      renewals += 1;
      return renew(lease, ttl);
    };
    async function* slow() {
      for (let i = 0; i < 4; i += 1) {
        await new Promise((r) => setTimeout(r, 60));
        yield contact(i);
      }
    }
    const report = await engine.pushContacts(slow());
    expect(report.created).toBe(4);
    expect(renewals).toBeGreaterThanOrEqual(3);
    // Released at the end.
    expect(await storage.leases.acquire(engine.leaseKey, 1_000)).not.toBeNull();
  });

  it('refuses unknown options and invalid policies', () => {
    const storage = new MemoryStorage();
    const provider = new FakeCrmProvider();
    expect(
      () =>
        new SyncEngine({
          provider,
          storage,
          integrationId: 'x',
          batchsize: 3,
        } as unknown as SyncEngineOptions),
    ).toThrow(/SyncEngine: unknown option 'batchsize'/);
    expect(
      () =>
        new SyncEngine({
          provider,
          storage,
          integrationId: 'x',
          conflictPolicy: 'last_write' as unknown as 'crm_wins',
        }),
    ).toThrow(/Unknown conflictPolicy/);
  });
});
