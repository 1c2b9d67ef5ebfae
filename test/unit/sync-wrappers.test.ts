import { describe, expect, it } from 'vitest';
import { CrmDataConversionError, MemoryStorage, SyncEngine } from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';

const INTEGRATION = 'int-1';

async function setup() {
  const storage = new MemoryStorage();
  const provider = new FakeCrmProvider();
  const engine = new SyncEngine({ provider, storage, integrationId: INTEGRATION });
  await engine.pushContacts([
    { externalId: 'a', email: 'a@example.com' },
    { externalId: 'b', email: 'b@example.com' },
  ]);
  return { storage, provider, engine };
}

describe('SyncEngine wrappers record status and logs like a push', () => {
  it('syncCampaign sends a campaign once and skips it while unchanged', async () => {
    const { storage, provider, engine } = await setup();
    const campaign = { externalId: 'c1', name: 'Launch', status: 'Planned' };
    const first = await engine.syncCampaign(campaign);
    expect(first).toMatchObject({ entityType: 'campaign', created: 1, apiCalls: 1 });
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'campaign',
      externalId: 'c1',
    });
    expect(row).toMatchObject({ status: 'synced', crmId: provider.campaigns()[0]?.id });
    expect(await engine.syncCampaign(campaign)).toMatchObject({ unchanged: 1, apiCalls: 0 });
    expect(await engine.syncCampaign({ ...campaign, status: 'Completed' })).toMatchObject({ updated: 1 });
    const logs = await storage.syncLogs.list(INTEGRATION);
    expect(logs.filter((l) => l.entityType === 'campaign')).toHaveLength(3);
  });

  it('syncCampaign validates before any call', async () => {
    const { provider, engine } = await setup();
    const calls = provider.calls.length;
    await expect(
      engine.syncCampaign({ externalId: 'c', name: '', status: 'Planned' }),
    ).rejects.toBeInstanceOf(CrmDataConversionError);
    expect(provider.calls.length).toBe(calls);
  });

  it('logEmailActivities logs each activity once and records per-activity failures', async () => {
    const { storage, provider, engine } = await setup();
    const at = new Date('2026-01-01T00:00:00Z');
    const activities = [
      { externalId: 'e1', contactExternalId: 'a', activityType: 'sent' as const, occurredAt: at },
      { externalId: 'e2', contactExternalId: 'b', activityType: 'opened' as const, occurredAt: at },
      { externalId: 'e3', contactExternalId: 'unknown', activityType: 'clicked' as const, occurredAt: at },
    ];
    const first = await engine.logEmailActivities(activities);
    expect(first).toMatchObject({ created: 2, failed: 1, apiCalls: 1 });
    expect(first.errorsByCode.INVALID_CROSS_REFERENCE_KEY?.externalIds).toEqual(['e3']);
    const second = await engine.logEmailActivities(activities);
    // Logged ones are skipped; the failed one is tried again.
    expect(second).toMatchObject({ unchanged: 2, failed: 1 });
    expect(provider.calls.at(-1)).toMatchObject({ method: 'logEmailActivities', records: 1 });
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'email_activity',
      externalId: 'e3',
    });
    expect(row).toMatchObject({ status: 'failed' });
    expect(row?.lastError).toMatch(/^INVALID_CROSS_REFERENCE_KEY/);
    const [log] = await storage.syncLogs.list(INTEGRATION);
    expect(log).toMatchObject({ entityType: 'email_activity', errorCount: 1, successCount: 2 });
  });

  it('syncListMembership syncs membership, skips an unchanged list and reports member failures', async () => {
    const { storage, provider, engine } = await setup();
    const list = { externalId: 'l1', name: 'VIP', memberIds: ['b', 'a'] };
    expect(await engine.syncListMembership(list)).toMatchObject({ updated: 1, failed: 0 });
    expect(provider.listMembers('l1')).toEqual(['a', 'b']);
    expect(await engine.syncListMembership({ ...list, memberIds: ['a', 'b'] })).toMatchObject({
      unchanged: 1,
      apiCalls: 0,
    });
    const bad = await engine.syncListMembership({ ...list, memberIds: ['a', 'ghost'] });
    expect(bad).toMatchObject({ failed: 1 });
    expect(bad.errors[0]).toMatchObject({ externalId: 'ghost', code: 'INVALID_CROSS_REFERENCE_KEY' });
    const row = await storage.syncStatus.get({
      integrationId: INTEGRATION,
      entityType: 'list',
      externalId: 'l1',
    });
    expect(row).toMatchObject({ status: 'failed', contentHash: null });
    expect(provider.listMembers('l1')).toEqual(['a']);
  });

  it('wrappers hold the integration lease too', async () => {
    const { storage, engine } = await setup();
    await storage.leases.acquire(engine.leaseKey, 60_000);
    await expect(
      engine.syncCampaign({ externalId: 'c', name: 'X', status: 'Planned' }),
    ).rejects.toMatchObject({
      details: { reason: 'lease_held' },
    });
  });
});
