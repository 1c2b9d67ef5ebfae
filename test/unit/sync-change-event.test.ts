import { describe, expect, it } from 'vitest';
import {
  type CrmChangeEvent,
  MemoryStorage,
  SyncEngine,
  type SyncEngineOptions,
  type SyncPullBatch,
} from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';
import { contact, manualClock } from './sync-fixtures.js';

const INTEGRATION = 'int-1';
const TAG = 'markmail-sync';

function setup(options: Partial<SyncEngineOptions> = {}) {
  const clock = manualClock();
  const storage = new MemoryStorage({ clock });
  const provider = new FakeCrmProvider({ clock });
  const engine = new SyncEngine({
    provider,
    storage,
    integrationId: INTEGRATION,
    clock,
    clientTag: TAG,
    ...options,
  });
  const batches: SyncPullBatch[] = [];
  const apply = async (batch: SyncPullBatch) => {
    batches.push(structuredClone(batch));
  };
  return { clock, storage, provider, engine, batches, apply };
}

/** Push contact 1 so the engine knows it; returns its CRM id. */
async function synced(ctx: ReturnType<typeof setup>, i = 1): Promise<string> {
  const report = await ctx.engine.pushContacts([contact(i)]);
  expect(report.created).toBe(1);
  const found = ctx.provider.contacts().find((c) => c.externalId === `h-${i}`);
  if (!found?.id) throw new Error('not pushed');
  return found.id;
}

function update(
  crmId: string,
  at: string,
  fields: CrmChangeEvent['fields'],
  origin?: string,
): CrmChangeEvent {
  return {
    entityType: 'contact',
    crmIds: [crmId],
    kind: 'upsert',
    partial: true,
    fields,
    changedAt: new Date(at),
    origin,
  };
}

const rowOf = (storage: MemoryStorage, externalId: string) =>
  storage.syncStatus.get({ integrationId: INTEGRATION, entityType: 'contact', externalId });

describe('SyncEngine.handleChangeEvent', () => {
  it('applies a partial update from another client: only the changed fields, with status and a webhook log', async () => {
    const ctx = setup();
    const id = await synced(ctx);
    const report = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T01:00:00.000Z', { title: 'CTO' }, 'someone-else'),
      { apply: ctx.apply },
    );
    expect(report).toMatchObject({ processed: 1, updated: 1, unchanged: 0, direction: 'pull' });
    expect(ctx.batches).toHaveLength(1);
    expect(ctx.batches[0]?.upserted[0]).toMatchObject({
      crmId: id,
      externalId: 'h-1',
      isNew: false,
      changes: { title: 'CTO' },
    });
    // Only the carried field: the others are not touched, not cleared.
    expect(Object.keys(ctx.batches[0]?.upserted[0]?.changes ?? {})).toEqual(['title']);
    const row = await rowOf(ctx.storage, 'h-1');
    expect(row).toMatchObject({ status: 'synced', direction: 'from_crm' });
    expect(row?.state).toMatchObject({
      fields: { title: 'CTO', firstName: 'First1' },
      crmModifiedAt: '2026-01-01T01:00:00.000Z',
    });
    const logs = await ctx.storage.syncLogs.list(INTEGRATION);
    expect(logs.map((l) => l.syncType)).toContain('webhook');
    // The host now holds what the CRM holds: pushing it costs nothing.
    expect(await ctx.engine.pushContacts([contact(1, { title: 'CTO' })])).toMatchObject({
      unchanged: 1,
      apiCalls: 0,
    });
  });

  it('drops a duplicated delivery without calling apply', async () => {
    const ctx = setup();
    const id = await synced(ctx);
    const event = update(id, '2026-01-01T01:00:00.000Z', { title: 'CTO' });
    await ctx.engine.handleChangeEvent(event, { apply: ctx.apply });
    const again = await ctx.engine.handleChangeEvent(event, { apply: ctx.apply });
    expect(again).toMatchObject({ processed: 1, unchanged: 1, updated: 0 });
    expect(ctx.batches).toHaveLength(1);
  });

  it('never applies an older state over a newer one, but applies an older change of another field', async () => {
    const ctx = setup();
    const id = await synced(ctx);
    await ctx.engine.handleChangeEvent(update(id, '2026-01-01T02:00:00.000Z', { title: 'CEO' }), {
      apply: ctx.apply,
    });
    const stale = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T01:00:00.000Z', { title: 'Intern' }),
      {
        apply: ctx.apply,
      },
    );
    expect(stale).toMatchObject({ unchanged: 1, updated: 0 });
    // Delivered late, but nothing newer changed the phone: it still applies.
    const late = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T01:30:00.000Z', { phone: '+1 555 0100' }),
      {
        apply: ctx.apply,
      },
    );
    expect(late).toMatchObject({ updated: 1 });
    expect(ctx.batches.map((b) => b.upserted[0]?.changes)).toEqual([
      { title: 'CEO' },
      { phone: '+1 555 0100' },
    ]);
    expect((await rowOf(ctx.storage, 'h-1'))?.state).toMatchObject({
      fields: { title: 'CEO', phone: '+1 555 0100' },
    });
    // A complete state older than what was applied is dropped as a whole.
    const oldSnapshot = await ctx.engine.handleChangeEvent(
      {
        ...update(id, '2026-01-01T01:45:00.000Z', { email: 'user1@example.com', title: 'Intern' }),
        partial: false,
      },
      { apply: ctx.apply },
    );
    expect(oldSnapshot).toMatchObject({ unchanged: 1 });
    expect(ctx.batches).toHaveLength(2);
  });

  it("recognises the engine's own writes by origin tag: not applied, but their time counts", async () => {
    const ctx = setup();
    const id = await synced(ctx);
    const echo = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T03:00:00.000Z', { title: 'Echo' }, TAG),
      {
        apply: ctx.apply,
      },
    );
    expect(echo).toMatchObject({ processed: 1, unchanged: 1, updated: 0 });
    expect(ctx.batches).toHaveLength(0);
    expect((await rowOf(ctx.storage, 'h-1'))?.state).toMatchObject({
      crmModifiedAt: '2026-01-01T03:00:00.000Z',
    });
    // An older foreign change of the same field arriving after the echo does not regress the host.
    const older = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T02:00:00.000Z', { title: 'Old' }, 'other'),
      {
        apply: ctx.apply,
      },
    );
    expect(older).toMatchObject({ unchanged: 1 });
    expect(ctx.batches).toHaveLength(0);
  });

  it('creates a contact new to the host from a complete event and tracks the host id apply returns', async () => {
    const ctx = setup();
    const event: CrmChangeEvent = {
      entityType: 'contact',
      crmIds: ['003NEW'],
      kind: 'upsert',
      partial: false,
      fields: { email: 'new@example.com', firstName: 'Nia', lastName: 'New', phone: null, title: null },
      changedAt: new Date('2026-01-01T01:00:00.000Z'),
    };
    const report = await ctx.engine.handleChangeEvent(event, {
      apply: async (batch) => {
        ctx.batches.push(batch);
        return { externalIds: { '003NEW': 'host-77' } };
      },
    });
    expect(report).toMatchObject({ created: 1 });
    expect(ctx.batches[0]?.upserted[0]).toMatchObject({
      isNew: true,
      externalId: null,
      changes: { email: 'new@example.com', firstName: 'Nia', lastName: 'New' },
      contact: { id: '003NEW', email: 'new@example.com' },
    });
    expect(await rowOf(ctx.storage, 'host-77')).toMatchObject({ crmId: '003NEW', status: 'synced' });
  });

  it('delivers deletions once and ignores a delete older than a restore', async () => {
    const ctx = setup();
    const id = await synced(ctx);
    const del = (at: string): CrmChangeEvent => ({
      entityType: 'contact',
      crmIds: [id],
      kind: 'delete',
      partial: false,
      fields: {},
      changedAt: new Date(at),
    });
    expect(
      await ctx.engine.handleChangeEvent(del('2026-01-01T01:00:00.000Z'), { apply: ctx.apply }),
    ).toMatchObject({
      deleted: 1,
    });
    expect(ctx.batches[0]?.deleted).toEqual([{ crmId: id, externalId: 'h-1' }]);
    expect(await rowOf(ctx.storage, 'h-1')).toMatchObject({ status: 'deleted' });
    expect(
      await ctx.engine.handleChangeEvent(del('2026-01-01T01:00:00.000Z'), { apply: ctx.apply }),
    ).toMatchObject({
      deleted: 0,
      unchanged: 1,
    });
    const restore: CrmChangeEvent = {
      entityType: 'contact',
      crmIds: [id],
      kind: 'undelete',
      partial: false,
      fields: { email: 'user1@example.com', firstName: 'First1', lastName: 'Last1' },
      changedAt: new Date('2026-01-01T02:00:00.000Z'),
    };
    expect(await ctx.engine.handleChangeEvent(restore, { apply: ctx.apply })).toMatchObject({ created: 1 });
    expect(await rowOf(ctx.storage, 'h-1')).toMatchObject({ status: 'synced' });
    expect(
      await ctx.engine.handleChangeEvent(del('2026-01-01T01:30:00.000Z'), { apply: ctx.apply }),
    ).toMatchObject({
      deleted: 0,
      unchanged: 1,
    });
    expect(await rowOf(ctx.storage, 'h-1')).toMatchObject({ status: 'synced' });
  });

  it('merges against the host record: a field changed on both sides follows the conflict policy', async () => {
    const ctx = setup({ conflictPolicy: 'host_wins' });
    const id = await synced(ctx);
    const report = await ctx.engine.handleChangeEvent(
      update(id, '2026-01-01T01:00:00.000Z', { firstName: 'CrmName', title: 'CTO' }),
      {
        apply: ctx.apply,
        getHostContacts: async () => [contact(1, { firstName: 'HostName' })],
      },
    );
    expect(report).toMatchObject({ updated: 1, conflicts: 0 });
    expect(ctx.batches[0]?.upserted[0]?.changes).toEqual({ title: 'CTO' });
  });

  it('re-reads through an incremental pull for resync events and partial updates of unknown records', async () => {
    const ctx = setup();
    const crmId = ctx.provider.crmCreateContact(contact(5, { title: 'Made in CRM' }));
    const gap: CrmChangeEvent = {
      entityType: 'contact',
      crmIds: [],
      kind: 'resync',
      partial: false,
      fields: {},
      changedAt: new Date('2026-01-01T01:00:00.000Z'),
    };
    const report = await ctx.engine.handleChangeEvent(gap, { apply: ctx.apply });
    expect(report).toMatchObject({ created: 1 });
    expect(ctx.batches[0]?.upserted[0]).toMatchObject({
      crmId,
      isNew: true,
      changes: { title: 'Made in CRM' },
    });
    expect(ctx.provider.calls.some((c) => c.method === 'listContactChanges')).toBe(true);

    const other = ctx.provider.crmCreateContact(contact(6));
    const unknown = await ctx.engine.handleChangeEvent(
      update(other, '2026-01-01T02:00:00.000Z', { title: 'X' }),
      {
        apply: ctx.apply,
      },
    );
    expect(unknown.processed).toBeGreaterThanOrEqual(1);
    expect(ctx.batches.flatMap((b) => b.upserted.map((u) => u.crmId))).toContain(other);
  });

  it('counts lead events without applying them, and refuses malformed events', async () => {
    const ctx = setup();
    const lead = await ctx.engine.handleChangeEvent(
      { ...update('00Q1', '2026-01-01T01:00:00.000Z', { title: 'x' }), entityType: 'lead' },
      { apply: ctx.apply },
    );
    expect(lead).toMatchObject({ processed: 1, unchanged: 1 });
    expect(ctx.batches).toHaveLength(0);
    await expect(
      ctx.engine.handleChangeEvent({ ...update('003', 'nope', {}) }, { apply: ctx.apply }),
    ).rejects.toMatchObject({
      name: 'CrmDataConversionError',
      fields: ['changedAt'],
      details: { reason: 'invalid_change_event' },
    });
    await expect(
      ctx.engine.handleChangeEvent(update('003', '2026-01-01T00:00:00Z', {}), {} as never),
    ).rejects.toThrow(/apply/);
  });

  it('a later pull does not bring back a CRM state older than an applied event', async () => {
    const ctx = setup();
    const id = await synced(ctx);
    ctx.provider.crmUpdateContact(id, { title: 'Old' });
    await ctx.engine.handleChangeEvent(update(id, '2026-01-01T01:00:00.000Z', { title: 'New' }), {
      apply: ctx.apply,
    });
    const pull = await ctx.engine.pullContacts({ apply: ctx.apply });
    expect(pull).toMatchObject({ updated: 0 });
    expect(ctx.batches.flatMap((b) => b.upserted.map((u) => u.changes))).toEqual([{ title: 'New' }]);
  });
});
