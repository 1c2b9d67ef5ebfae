import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactInput } from '../../src/core/models.js';
import { SalesforceProvider, type SalesforceProviderOptions } from '../../src/salesforce/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SyncEngine, type SyncEngineOptions } from '../../src/sync/engine.js';
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

function setup(
  options: Partial<SyncEngineOptions> = {},
  providerOptions: Partial<SalesforceProviderOptions> = {},
) {
  const provider = new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    sleep: async () => {},
    bulkThreshold: 50,
    bulk: { pollIntervalMs: 10 },
    ...providerOptions,
  });
  const storage = new MemoryStorage();
  const engine = new SyncEngine({ provider, storage, integrationId: 'int-faults', ...options });
  return { provider, storage, engine };
}

function hostContacts(
  n: number,
  patch: (i: number) => Partial<CrmContactInput> = () => ({}),
): CrmContactInput[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `h-${i}`,
    email: `user${i}@example.com`,
    lastName: `Last${i}`,
    ...patch(i),
  }));
}

/** Every host contact is in the CRM exactly once with the host's values, and storage agrees. */
async function expectConverged(storage: MemoryStorage, contacts: CrmContactInput[]): Promise<void> {
  const records = sf.records('Contact');
  const byHostId = new Map<string, Record<string, unknown>[]>();
  for (const r of records)
    byHostId.set(String(r.MarkMail_ID__c), [...(byHostId.get(String(r.MarkMail_ID__c)) ?? []), r]);
  expect(records).toHaveLength(contacts.length);
  for (const c of contacts) {
    const found = byHostId.get(c.externalId) ?? [];
    expect(found).toHaveLength(1);
    expect(found[0]?.LastName).toBe(c.lastName);
    const row = await storage.syncStatus.get({
      integrationId: 'int-faults',
      entityType: 'contact',
      externalId: c.externalId,
    });
    expect(row).toMatchObject({ status: 'synced', crmId: found[0]?.Id });
  }
}

describe('REQUEST_LIMIT_EXCEEDED answered with HTTP 403', () => {
  it('on a Bulk results read is a CrmRateLimitError and stops the run cleanly as rate_limited', async () => {
    const { engine, storage } = setup();
    sf.faults.add({ method: 'GET', path: /successfulResults/, status: 403 });
    const contacts = hostContacts(60);
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ complete: false, stopReason: 'rate_limited', needsAttention: 0 });
    expect(report.stopMessage).toContain('REQUEST_LIMIT_EXCEEDED');
    // Nothing is reported synced on a guess; the clean re-run converges without duplicates.
    const rerun = await engine.pushContacts(contacts);
    expect(rerun).toMatchObject({ complete: true, failed: 0 });
    await expectConverged(storage, contacts);
  });

  it('surfaces as CrmRateLimitError from the provider call itself', async () => {
    const { provider } = setup();
    sf.faults.add({ method: 'GET', path: /failedResults|successfulResults/, status: 403, times: 2 });
    await expect(provider.bulkSyncContacts(hostContacts(60), { mode: 'bulk' })).rejects.toMatchObject({
      name: 'CrmRateLimitError',
      providerCode: 'REQUEST_LIMIT_EXCEEDED',
      status: 403,
    });
  });
});

describe('API-usage guard recovery', () => {
  it('a long-lived provider resumes on its own once the org has calls again (limit raised or window rolled)', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    const { provider } = setup({}, { maxApiUsageRatio: 0.5, clock: { now: () => new Date(now) } });
    sf.setDailyApiLimit(20);
    // Spend calls until the guard refuses.
    let refused: unknown;
    for (let i = 0; i < 20 && !refused; i++) {
      await provider.getContact(`x${i}@example.com`).catch((error: unknown) => {
        refused = error;
      });
    }
    expect(refused).toMatchObject({ name: 'CrmRateLimitError', providerCode: 'MAX_API_USAGE_RATIO' });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    const sent = sf.stats.apiCalls;
    // Still refused, without a request, until the re-check is due.
    await expect(provider.getContact('y@example.com')).rejects.toMatchObject({
      providerCode: 'MAX_API_USAGE_RATIO',
    });
    expect(sf.stats.apiCalls).toBe(sent);
    // Due, but the org is still over: one probe (GET /limits), still refused.
    now += 5 * 60_000;
    await expect(provider.getContact('y@example.com')).rejects.toMatchObject({
      providerCode: 'MAX_API_USAGE_RATIO',
    });
    expect(sf.stats.apiCalls).toBe(sent + 1);
    // The admin raises the limit: after the next re-check interval the same instance works again.
    sf.setDailyApiLimit(10_000);
    now += 5 * 60_000;
    await expect(provider.getContact('y@example.com')).resolves.toBeNull();
    expect(provider.apiUsage?.max).toBe(10_000);
  });
});
