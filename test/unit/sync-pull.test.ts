import { describe, expect, it } from 'vitest';
import {
  type CrmSyncStatusRow,
  MemoryStorage,
  SyncEngine,
  type SyncEngineOptions,
  type SyncPullBatch,
} from '../../src/index.js';
import { FakeCrmProvider, type FakeCrmProviderOptions } from '../../src/testing/index.js';
import { contact, manualClock } from './sync-fixtures.js';

const INTEGRATION = 'int-1';
const STREAM = 'contacts:pull';

function setup(options: Partial<SyncEngineOptions> = {}, providerOptions: FakeCrmProviderOptions = {}) {
  const clock = manualClock();
  const storage = new MemoryStorage({ clock });
  const provider = new FakeCrmProvider({ clock, ...providerOptions });
  const engine = new SyncEngine({ provider, storage, integrationId: INTEGRATION, clock, ...options });
  const batches: SyncPullBatch[] = [];
  const apply = async (batch: SyncPullBatch) => {
    batches.push(structuredClone(batch));
  };
  return { clock, storage, provider, engine, batches, apply };
}

const rowOf = (storage: MemoryStorage, externalId: string) =>
  storage.syncStatus.get({ integrationId: INTEGRATION, entityType: 'contact', externalId });

function idOf(provider: FakeCrmProvider, externalId: string): string {
  const found = provider.contacts().find((c) => c.externalId === externalId);
  if (!found?.id) throw new Error(`no CRM contact ${externalId}`);
  return found.id;
}

describe('SyncEngine.pullContacts', () => {
  it('delivers CRM contacts new to the host and stores the cursor after apply', async () => {
    const { storage, provider, engine, batches, apply } = setup({}, { pageSize: 2 });
    for (let i = 0; i < 3; i += 1) provider.crmCreateContact(contact(i, { title: 'VP' }));
    const report = await engine.pullContacts({ apply });
    expect(report).toMatchObject({ created: 3, updated: 0, processed: 3, complete: true });
    expect(batches).toHaveLength(2);
    expect(batches[0]?.upserted[0]).toMatchObject({
      externalId: 'h-0',
      isNew: true,
      changes: { email: 'user0@example.com', firstName: 'First0', lastName: 'Last0', title: 'VP' },
      conflicts: [],
    });
    expect(await storage.cursors.get(INTEGRATION, STREAM)).toBe('3');
    expect(await rowOf(storage, 'h-1')).toMatchObject({ status: 'synced', direction: 'from_crm' });
    // A following push of the same data costs nothing: the pull recorded the agreed content.
    const push = await engine.pushContacts([0, 1, 2].map((i) => contact(i, { title: 'VP' })));
    expect(push).toMatchObject({ unchanged: 3, apiCalls: 0 });
  });

  it("suppresses the echo of the engine's own push", async () => {
    const { provider, engine, batches, apply } = setup();
    await engine.pushContacts([contact(1), contact(2)]);
    const report = await engine.pullContacts({ apply });
    expect(report).toMatchObject({ unchanged: 2, created: 0, updated: 0 });
    expect(batches).toHaveLength(0);
    expect(provider.calls.at(-1)?.method).toBe('listContactChanges');
  });

  it('delivers only the fields the CRM changed', async () => {
    const { provider, engine, batches, apply, storage } = setup();
    await engine.pushContacts([contact(1), contact(2)]);
    await engine.pullContacts({ apply });
    provider.crmUpdateContact(idOf(provider, 'h-2'), {
      title: 'CTO',
      company: 'Not pulled by default',
      customFields: { Ignored__c: 'x' },
    });
    const report = await engine.pullContacts({ apply });
    expect(report).toMatchObject({ updated: 1, unchanged: 0 });
    expect(batches).toHaveLength(1);
    expect(batches[0]?.upserted).toHaveLength(1);
    expect(batches[0]?.upserted[0]).toMatchObject({
      externalId: 'h-2',
      isNew: false,
      changes: { title: 'CTO' },
    });
    expect(Object.keys(batches[0]?.upserted[0]?.changes ?? {})).toEqual(['title']);
    expect((await rowOf(storage, 'h-2'))?.state).toMatchObject({ fields: { title: 'CTO' } });
    // The host now holds the CRM's value: pushing it back is a no-op.
    const push = await engine.pushContacts([contact(1), contact(2, { title: 'CTO' })]);
    expect(push).toMatchObject({ unchanged: 2, apiCalls: 0 });
  });

  it('does not advance the cursor when apply fails, and re-delivers next time', async () => {
    const { storage, provider, engine, batches, apply } = setup();
    await engine.pushContacts([contact(1)]);
    await engine.pullContacts({ apply });
    const cursor = await storage.cursors.get(INTEGRATION, STREAM);
    provider.crmUpdateContact(idOf(provider, 'h-1'), { phone: '555-0100' });
    const failing = async () => {
      throw new Error('host database down');
    };
    await expect(engine.pullContacts({ apply: failing })).rejects.toThrow('host database down');
    expect(await storage.cursors.get(INTEGRATION, STREAM)).toBe(cursor);
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log?.errorDetails).toMatchObject({ stopReason: 'error' });

    await engine.pullContacts({ apply });
    expect(batches.at(-1)?.upserted[0]).toMatchObject({ externalId: 'h-1', changes: { phone: '555-0100' } });
    expect(await storage.cursors.get(INTEGRATION, STREAM)).not.toBe(cursor);
  });

  it('re-delivers a batch whose status write crashed after apply (at least once, never lost)', async () => {
    const { storage, provider, engine, batches, apply } = setup();
    await engine.pushContacts([contact(1)]);
    await engine.pullContacts({ apply });
    provider.crmUpdateContact(idOf(provider, 'h-1'), { phone: '+1 555 0100' });
    const upsertMany = storage.syncStatus.upsertMany.bind(storage.syncStatus);
    storage.syncStatus.upsertMany = async () => {
      throw new Error('connection reset');
    };
    await expect(engine.pullContacts({ apply })).rejects.toThrow('connection reset');
    storage.syncStatus.upsertMany = upsertMany;
    expect(batches).toHaveLength(1);
    await engine.pullContacts({ apply });
    expect(batches).toHaveLength(2);
    expect(batches[1]).toEqual(batches[0]);
  });

  it('delivers deletions with the host id and keeps the deleted record from being re-created', async () => {
    const { storage, provider, engine, batches, apply } = setup();
    await engine.pushContacts([contact(1), contact(2)]);
    await engine.pullContacts({ apply });
    const crmId = idOf(provider, 'h-1');
    provider.crmDeleteContact(crmId);
    const report = await engine.pullContacts({ apply });
    expect(report.deleted).toBe(1);
    expect(batches.at(-1)?.deleted).toEqual([{ crmId, externalId: 'h-1' }]);
    expect(await rowOf(storage, 'h-1')).toMatchObject({ status: 'deleted' });
    const push = await engine.pushContacts([contact(1), contact(2)]);
    expect(push).toMatchObject({ apiCalls: 0, unchanged: 2 });
    expect(provider.contacts()).toHaveLength(1);
  });

  it('drops re-deliveries from an overlapping cursor (lookback) without losing equal-time changes', async () => {
    const { provider, engine, batches, apply } = setup({}, { lookbackChanges: 3, pageSize: 2 });
    await engine.pushContacts([contact(1), contact(2), contact(3)]);
    await engine.pullContacts({ apply });
    expect(batches).toHaveLength(0);
    provider.crmUpdateContact(idOf(provider, 'h-2'), { title: 'A' });
    provider.crmUpdateContact(idOf(provider, 'h-3'), { title: 'B' });
    const report = await engine.pullContacts({ apply });
    expect(report.updated).toBe(2);
    const delivered = batches.flatMap((b) => b.upserted.map((u) => [u.externalId, u.changes]));
    expect(delivered).toEqual([
      ['h-2', { title: 'A' }],
      ['h-3', { title: 'B' }],
    ]);
    // Pulling again re-reads the overlap and delivers nothing new.
    const again = await engine.pullContacts({ apply });
    expect(again.updated).toBe(0);
    expect(batches.flatMap((b) => b.upserted)).toHaveLength(2);
  });

  it('merges three ways with the host record: one-sided changes flow, two-sided ones follow the policy', async () => {
    const { provider, engine, batches, apply } = setup({ conflictPolicy: 'host_wins' });
    await engine.pushContacts([contact(1)]);
    await engine.pullContacts({ apply });
    provider.crmUpdateContact(idOf(provider, 'h-1'), { title: 'CRM title', firstName: 'Crm' });
    const host = contact(1, { title: 'Host title', phone: '555' });
    const report = await engine.pullContacts({ apply, getHostContacts: async () => [host] });
    expect(report.updated).toBe(1);
    const [pulled] = batches.at(-1)?.upserted ?? [];
    // firstName changed only in the CRM → applied; title changed on both → host wins → untouched;
    // phone changed only on the host → untouched (the next push sends it).
    expect(pulled?.changes).toEqual({ firstName: 'Crm' });
    const push = await engine.pushContacts([{ ...host, firstName: 'Crm' }]);
    expect(push).toMatchObject({ updated: 1, apiCalls: 1 });
    expect(provider.contacts()[0]).toMatchObject({ title: 'Host title', phone: '555', firstName: 'Crm' });
  });

  it.each([
    ['crm_wins', { title: 'CRM title' }],
    ['host_wins', {}],
    ['prefer_crm_unless_blank', { title: 'CRM title' }],
  ] as const)('conflict policy %s decides a field edited on both sides', async (policy, expected) => {
    const { provider, engine, batches, apply } = setup({ conflictPolicy: policy });
    await engine.pushContacts([contact(1, { title: 'Base' })]);
    provider.crmUpdateContact(idOf(provider, 'h-1'), { title: 'CRM title' });
    await engine.pullContacts({ apply, getHostContacts: async () => [contact(1, { title: 'Host title' })] });
    expect(batches.at(-1)?.upserted[0]?.changes ?? {}).toEqual(expected);
  });

  it('newest_wins uses modification times, and marks a conflict it cannot decide for review', async () => {
    const { storage, provider, engine, batches, apply, clock } = setup({ conflictPolicy: 'newest_wins' });
    await engine.pushContacts([contact(1, { title: 'Base' })]);
    clock.advance(60_000);
    provider.crmUpdateContact(idOf(provider, 'h-1'), { title: 'CRM title' });
    const later = {
      ...contact(1, { title: 'Host title' }),
      lastModifiedAt: new Date(clock.now().getTime() + 1_000),
    };
    const hostNewer = await engine.pullContacts({ apply, getHostContacts: async () => [later] });
    // The host's edit is newer: nothing for the host to change, the next push sends its value.
    expect(hostNewer).toMatchObject({ unchanged: 1, conflicts: 0 });
    expect(batches).toHaveLength(0);

    // Without a host timestamp the conflict stays open: status `conflict`, both values kept.
    provider.crmUpdateContact(idOf(provider, 'h-1'), { title: 'CRM title 2' });
    const report = await engine.pullContacts({
      apply,
      getHostContacts: async () => [contact(1, { title: 'Host title' })],
    });
    expect(report.conflicts).toBe(1);
    const row = (await rowOf(storage, 'h-1')) as CrmSyncStatusRow;
    expect(row.status).toBe('conflict');
    expect(row.state).toMatchObject({
      conflicts: [{ crmField: 'title', baseValue: 'Base', hostValue: 'Host title', crmValue: 'CRM title 2' }],
    });
    expect(batches.at(-1)?.upserted[0]?.conflicts).toHaveLength(1);

    // A scheduled push leaves the record alone until the host resolves it.
    const push = await engine.pushContacts([contact(1, { title: 'Host title' })]);
    expect(push).toMatchObject({ conflicts: 1, apiCalls: 0 });
    const resolved = await engine.pushContacts([contact(1, { title: 'Host title' })], {
      overrideConflicts: true,
    });
    expect(resolved).toMatchObject({ updated: 1 });
    expect(await rowOf(storage, 'h-1')).toMatchObject({ status: 'synced' });
    expect(provider.contacts()[0]?.title).toBe('Host title');
  });

  it('keeps a host opt-out when the CRM opts the contact back in', async () => {
    const { provider, engine, batches, apply } = setup({ conflictPolicy: 'crm_wins' });
    await engine.pushContacts([contact(1, { emailOptOut: true })]);
    provider.crmUpdateContact(idOf(provider, 'h-1'), { emailOptOut: false, title: 'New' });
    await engine.pullContacts({ apply, getHostContacts: async () => [contact(1, { emailOptOut: true })] });
    expect(batches.at(-1)?.upserted[0]?.changes).toEqual({ title: 'New' });
    // …while a CRM opt-out always reaches the host.
    await engine.pushContacts([contact(2)]);
    provider.crmUpdateContact(idOf(provider, 'h-2'), { emailOptOut: true });
    await engine.pullContacts({ apply });
    expect(batches.at(-1)?.upserted.find((u) => u.externalId === 'h-2')?.changes).toEqual({
      emailOptOut: true,
    });
  });

  it('ignores CRM edits to to_crm fields and always applies from_crm fields', async () => {
    const { provider, engine, batches, apply } = setup({
      conflictPolicy: 'host_wins',
      fieldMappings: [
        { hostField: 'title', crmField: 'title', fieldType: 'text', syncDirection: 'to_crm' },
        { hostField: 'company', crmField: 'company', fieldType: 'text', syncDirection: 'from_crm' },
      ],
    });
    await engine.pushContacts([contact(1, { title: 'T', company: 'Host Co' })]);
    provider.crmUpdateContact(idOf(provider, 'h-1'), { title: 'CRM T', company: 'CRM Co' });
    await engine.pullContacts({
      apply,
      getHostContacts: async () => [contact(1, { title: 'T2', company: 'Host Co 2' })],
    });
    expect(batches.at(-1)?.upserted[0]?.changes).toEqual({ company: 'CRM Co' });
  });

  it('links contacts new to the host through the ids apply returns', async () => {
    const { storage, provider, engine, apply } = setup();
    const crmId = provider.crmCreateContact({ externalId: 'crm-side', email: 'n@example.com' });
    await engine.pullContacts({
      apply: async (batch) => {
        await apply(batch);
        return { externalIds: { [crmId]: 'host-77' } };
      },
    });
    expect(await rowOf(storage, 'host-77')).toMatchObject({ crmId, status: 'synced' });
  });

  it('stops at the API budget after a page and resumes from the stored cursor', async () => {
    const { storage, provider, engine, batches, apply } = setup(
      { apiBudget: { maxCallsPerRun: 1 } },
      { pageSize: 2 },
    );
    for (let i = 0; i < 5; i += 1) provider.crmCreateContact(contact(i));
    const first = await engine.pullContacts({ apply });
    expect(first).toMatchObject({ created: 2, stopReason: 'api_budget', complete: false, apiCalls: 1 });
    expect(await storage.cursors.get(INTEGRATION, STREAM)).toBe('2');
    await engine.pullContacts({ apply });
    await engine.pullContacts({ apply });
    expect(batches.flatMap((b) => b.upserted.map((u) => u.externalId))).toEqual([
      'h-0',
      'h-1',
      'h-2',
      'h-3',
      'h-4',
    ]);
  });

  it('aborts between pages, keeping the cursor of the last applied page', async () => {
    const { storage, provider, engine } = setup({}, { pageSize: 1 });
    for (let i = 0; i < 3; i += 1) provider.crmCreateContact(contact(i));
    const controller = new AbortController();
    const error = await engine
      .pullContacts({
        signal: controller.signal,
        apply: async () => {
          controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(await storage.cursors.get(INTEGRATION, STREAM)).toBe('1');
  });

  it('reconcileContacts marks records missing from a complete CRM scan as deleted', async () => {
    const { storage, provider, engine, batches, apply } = setup({}, { pageSize: 2 });
    await engine.pushContacts([contact(1), contact(2), contact(3)]);
    const goneId = idOf(provider, 'h-2');
    provider.crmDeleteContact(goneId);
    const report = await engine.reconcileContacts({ apply });
    expect(report).toMatchObject({ deleted: 1, complete: true });
    expect(batches).toEqual([{ upserted: [], deleted: [{ crmId: goneId, externalId: 'h-2' }] }]);
    expect(await rowOf(storage, 'h-2')).toMatchObject({ status: 'deleted' });
    // Already known as deleted: a second reconcile finds nothing new. The pull cursor is untouched.
    expect(await engine.reconcileContacts({ apply })).toMatchObject({ deleted: 0 });
    expect(await storage.cursors.get(INTEGRATION, STREAM)).toBeNull();
  });

  it('reconcileContacts deletes nothing when the scan is cut short', async () => {
    const { storage, provider, engine, apply, batches } = setup(
      { apiBudget: { maxCallsPerRun: 2 } },
      { pageSize: 1 },
    );
    await engine.pushContacts([contact(1), contact(2), contact(3)]);
    provider.crmDeleteContact(idOf(provider, 'h-3'));
    const report = await engine.reconcileContacts({ apply });
    expect(report).toMatchObject({ deleted: 0, stopReason: 'api_budget', complete: false });
    expect(report.stopMessage).toMatch(/nothing was deleted/);
    expect(batches).toHaveLength(0);
    expect(await rowOf(storage, 'h-1')).toMatchObject({ status: 'synced' });
  });

  it('needs an apply function', async () => {
    const { engine } = setup();
    await expect(engine.pullContacts({} as never)).rejects.toThrow(/apply/);
  });
});
