import { describe, expect, it } from 'vitest';
import {
  type CrmStorage,
  type CrmSyncStatusStore,
  MemoryStorage,
  SyncEngine,
  type SyncPullBatch,
  type SyncReport,
} from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';
import { contact, manualClock } from './sync-fixtures.js';

const INTEGRATION = 'int-1';

type ReadCalls = { get: number; getMany: number; getByCrmId: number; getManyByCrmId: number };

/**
 * A storage over `inner` that counts status reads. With `batchReads: false` it has no `getMany`
 * nor `getManyByCrmId`, like a host adapter that omits the optional batch reads.
 */
function instrumented(inner: MemoryStorage, batchReads: boolean): { storage: CrmStorage; calls: ReadCalls } {
  const calls: ReadCalls = { get: 0, getMany: 0, getByCrmId: 0, getManyByCrmId: 0 };
  const status = inner.syncStatus;
  const syncStatus: CrmSyncStatusStore = {
    upsertMany: (rows) => status.upsertMany(rows),
    get: (key) => {
      calls.get += 1;
      return status.get(key);
    },
    getByCrmId: (key) => {
      calls.getByCrmId += 1;
      return status.getByCrmId(key);
    },
    list: (options) => status.list(options),
  };
  if (batchReads) {
    syncStatus.getMany = (keys) => {
      calls.getMany += 1;
      return status.getMany(keys);
    };
    syncStatus.getManyByCrmId = (keys) => {
      calls.getManyByCrmId += 1;
      return status.getManyByCrmId(keys);
    };
  }
  const storage: CrmStorage = {
    integrations: inner.integrations,
    syncLogs: inner.syncLogs,
    syncStatus,
    cursors: inner.cursors,
    leases: inner.leases,
    close: () => inner.close(),
  };
  return { storage, calls };
}

function setup(batchReads: boolean) {
  const clock = manualClock();
  const inner = new MemoryStorage({ clock });
  const { storage, calls } = instrumented(inner, batchReads);
  const provider = new FakeCrmProvider({ clock, pageSize: 3 });
  const engine = new SyncEngine({ provider, storage, integrationId: INTEGRATION, clock, clientTag: 'me' });
  const batches: SyncPullBatch[] = [];
  const apply = async (batch: SyncPullBatch) => {
    batches.push(structuredClone(batch));
  };
  const reset = () => Object.assign(calls, { get: 0, getMany: 0, getByCrmId: 0, getManyByCrmId: 0 });
  return { clock, inner, storage, calls, reset, provider, engine, batches, apply };
}

function idOf(provider: FakeCrmProvider, externalId: string): string {
  const found = provider.contacts().find((c) => c.externalId === externalId);
  if (!found?.id) throw new Error(`no CRM contact ${externalId}`);
  return found.id;
}

const counts = (r: SyncReport) => ({
  processed: r.processed,
  created: r.created,
  updated: r.updated,
  unchanged: r.unchanged,
  deleted: r.deleted,
  conflicts: r.conflicts,
  failed: r.failed,
  apiCalls: r.apiCalls,
});

/** Push, CRM-side edits, pull and a real-time event; everything a host could observe. */
async function scenario(batchReads: boolean) {
  const ctx = setup(batchReads);
  const reports: SyncReport[] = [];
  reports.push(await ctx.engine.pushContacts([0, 1, 2, 3, 4].map((i) => contact(i))));
  ctx.clock.advance(1000);
  // Two unchanged, one changed, one new: the push reads existing rows.
  reports.push(
    await ctx.engine.pushContacts([contact(0), contact(1, { title: 'CTO' }), contact(2), contact(5)]),
  );
  // A host row not yet linked to a CRM id: the pull finds it by the host id the CRM record carries.
  await ctx.inner.syncStatus.upsertMany([
    {
      integrationId: INTEGRATION,
      entityType: 'contact',
      externalId: 'h-9',
      crmId: null,
      status: 'failed',
      direction: 'to_crm',
      contentHash: null,
      lastSyncedAt: null,
      lastError: 'timeout',
      state: null,
    },
  ]);
  ctx.clock.advance(1000);
  ctx.provider.crmUpdateContact(idOf(ctx.provider, 'h-2'), { title: 'CEO' });
  ctx.provider.crmDeleteContact(idOf(ctx.provider, 'h-3'));
  ctx.provider.crmCreateContact(contact(9));
  ctx.provider.crmCreateContact(contact(10));
  reports.push(await ctx.engine.pullContacts({ apply: ctx.apply }));
  ctx.clock.advance(1000);
  reports.push(
    await ctx.engine.handleChangeEvent(
      {
        entityType: 'contact',
        crmIds: [idOf(ctx.provider, 'h-0'), idOf(ctx.provider, 'h-4'), 'unknown-id'],
        kind: 'upsert',
        partial: true,
        fields: { title: 'Founder' },
        changedAt: ctx.clock.now(),
        origin: 'someone-else',
      },
      { apply: ctx.apply },
    ),
  );
  return {
    reports: reports.map(counts),
    batches: ctx.batches,
    rows: await ctx.inner.syncStatus.list({ integrationId: INTEGRATION, limit: 100 }),
    crm: ctx.provider.contacts(),
    calls: ctx.calls,
  };
}

describe('sync status reads', () => {
  it('a pull reads the status rows of each page with one getManyByCrmId call and no per-record reads', async () => {
    const ctx = setup(true);
    for (let i = 0; i < 7; i += 1) ctx.provider.crmCreateContact(contact(i));
    const report = await ctx.engine.pullContacts({ apply: ctx.apply });
    expect(report).toMatchObject({ processed: 7, created: 7 });
    expect(ctx.batches).toHaveLength(3);
    // The CRM records carry host ids not tracked yet: one getMany per page looks them up.
    expect(ctx.calls).toEqual({ getManyByCrmId: 3, getByCrmId: 0, getMany: 3, get: 0 });

    // A page mixing updates and deletions of known records still costs one read.
    ctx.reset();
    ctx.clock.advance(1000);
    ctx.provider.crmUpdateContact(idOf(ctx.provider, 'h-0'), { title: 'CTO' });
    ctx.provider.crmDeleteContact(idOf(ctx.provider, 'h-1'));
    ctx.provider.crmUpdateContact(idOf(ctx.provider, 'h-2'), { title: 'CFO' });
    const again = await ctx.engine.pullContacts({ apply: ctx.apply });
    expect(again).toMatchObject({ updated: 2, deleted: 1 });
    expect(ctx.calls).toEqual({ getManyByCrmId: 1, getByCrmId: 0, getMany: 0, get: 0 });
  });

  it('a real-time event naming several records reads their rows with one getManyByCrmId call', async () => {
    const ctx = setup(true);
    await ctx.engine.pushContacts([contact(1), contact(2)]);
    ctx.reset();
    ctx.clock.advance(1000);
    const report = await ctx.engine.handleChangeEvent(
      {
        entityType: 'contact',
        crmIds: [idOf(ctx.provider, 'h-1'), idOf(ctx.provider, 'h-2')],
        kind: 'upsert',
        partial: true,
        fields: { title: 'CTO' },
        changedAt: ctx.clock.now(),
        origin: 'someone-else',
      },
      { apply: ctx.apply },
    );
    expect(report).toMatchObject({ processed: 2, updated: 2 });
    expect(ctx.calls).toEqual({ getManyByCrmId: 1, getByCrmId: 0, getMany: 0, get: 0 });
  });

  it('push, pull and real-time events give the same results when the storage omits the batch reads', async () => {
    const batched = await scenario(true);
    const perRecord = await scenario(false);
    // Each run went through the path under test.
    expect(batched.calls.getByCrmId + batched.calls.get).toBe(0);
    expect(batched.calls.getManyByCrmId).toBeGreaterThan(0);
    expect(batched.calls.getMany).toBeGreaterThan(0);
    expect(perRecord.calls.getManyByCrmId + perRecord.calls.getMany).toBe(0);
    expect(perRecord.calls.getByCrmId).toBeGreaterThan(0);
    expect(perRecord.calls.get).toBeGreaterThan(0);

    expect(perRecord.reports).toEqual(batched.reports);
    expect(perRecord.batches).toEqual(batched.batches);
    expect(perRecord.rows).toEqual(batched.rows);
    expect(perRecord.crm).toEqual(batched.crm);
    // The scenario exercises what it claims: unchanged and updated pushes, the host-id lookup of
    // an unlinked row (h-9: updated, not created), a deletion, and an event naming an unknown record.
    expect(batched.reports[1]).toMatchObject({ unchanged: 2, updated: 1, created: 1 });
    expect(batched.reports[2]).toMatchObject({ deleted: 1, created: 1, updated: 2 });
    const pulled = batched.batches.flatMap((b) => b.upserted);
    expect(pulled.find((c) => c.externalId === 'h-9')).toMatchObject({ isNew: false });
    expect(pulled.find((c) => c.externalId === 'h-10')).toMatchObject({ isNew: true });
    expect(batched.rows.find((r) => r.externalId === 'h-9')).toMatchObject({
      crmId: expect.any(String),
      status: 'synced',
    });
  });
});
