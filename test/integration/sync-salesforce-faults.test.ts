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

describe('a failed Bulk API 2.0 job strands nothing', () => {
  it('server-side failure before processing: the unprocessed rows are re-sent and all land', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(120);
    await sf.bulk.failNextJob();
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 120, failed: 0, needsAttention: 0, complete: true });
    await expectConverged(storage, contacts);
  });

  it('failure while running: processed rows keep their results, the rest are re-sent', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(120);
    await sf.bulk.failNextJobWhileRunning({ afterRecords: 45 });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 120, failed: 0, complete: true });
    await expectConverged(storage, contacts);
  });

  it('a row that fails every job it is in is pinned down; only it fails, with the job message', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(100);
    await sf.bulk.failRecords([
      { column: 'MarkMail_ID__c', value: 'h-37', scope: 'job', message: 'InvalidBatch : unreadable row' },
    ]);
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 99, failed: 1, complete: true });
    expect(report.errors).toEqual([
      expect.objectContaining({
        externalId: 'h-37',
        code: 'BULK_JOB_FAILED',
        message: 'InvalidBatch : unreadable row',
      }),
    ]);
    expect(report.errorsByCode.BULK_JOB_FAILED?.count).toBe(1);
    const landed = sf.records('Contact').map((r) => r.MarkMail_ID__c);
    expect(landed).toHaveLength(99);
    expect(landed).not.toContain('h-37');
    await expectConverged(
      storage,
      contacts.filter((c) => c.externalId !== 'h-37'),
    );
  });

  it('per-record failures inside results fail only those records, for their own reason', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(80);
    await sf.bulk.failRecords([
      {
        column: 'MarkMail_ID__c',
        value: 'h-3',
        statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'Rule',
      },
    ]);
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 79, failed: 1 });
    expect(report.errorsByCode.FIELD_CUSTOM_VALIDATION_EXCEPTION?.externalIds).toEqual(['h-3']);
    await expectConverged(
      storage,
      contacts.filter((c) => c.externalId !== 'h-3'),
    );
  });
});

describe('Retries are counted, not only logged', () => {
  it('a Collections call that succeeds on retry after a 503 counts in report.retries and the sync log', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(10);
    sf.faults.add({ method: 'PATCH', path: /\/composite\/sobjects\//, status: 503 });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 10, failed: 0, retries: 1, complete: true });
    await expectConverged(storage, contacts);
    const [log] = await storage.syncLogs.list('int-faults');
    expect(log?.errorCount).toBe(0);
    expect(log?.errorDetails).toMatchObject({ counts: { retries: 1 } });
  });

  it('a clean run reports no retries', async () => {
    const { engine } = setup();
    expect((await engine.pushContacts(hostContacts(5))).retries).toBe(0);
  });
});

describe('Bulk path through the refresh and retry layer', () => {
  it('one transient 503 on the upload does not end the run; the orphaned job is aborted', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(70);
    sf.faults.add({ method: 'PUT', path: /\/batches$/, status: 503 });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 70, failed: 0, complete: true });
    await expectConverged(storage, contacts);
    const jobs = (await (
      await fetch(`${sf.instanceUrl}/services/data/v62.0/jobs/ingest`, {
        headers: { Authorization: `Bearer ${sf.accessToken}` },
      })
    ).json()) as { records: Array<{ state: string }> };
    expect(jobs.records.map((j) => j.state).sort()).toEqual(['Aborted', 'JobComplete']);
  });

  it('a session that expires during the upload is refreshed and the upload re-sent', async () => {
    let refreshes = 0;
    const { engine, storage } = setup(
      {},
      {
        refreshAccessToken: async () => {
          refreshes += 1;
          return sf.accessToken;
        },
      },
    );
    const contacts = hostContacts(70);
    sf.faults.add({ method: 'PUT', path: /\/batches$/, status: 401 });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 70, failed: 0, complete: true });
    expect(refreshes).toBe(1);
    await expectConverged(storage, contacts);
  });

  it('a dropped connection on the upload is re-sent on a fresh job', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(70);
    sf.faults.add({ method: 'PUT', path: /\/batches$/, drop: true });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 70, failed: 0, complete: true });
    await expectConverged(storage, contacts);
  });
});

describe('a custom field missing from the org fails only the records that carry it', () => {
  it('Bulk: validated against describe before the job; the rest land; once the field exists the record goes through on its own', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(90, (i) => (i === 12 ? { customFields: { Loyalty_Tier__c: 'gold' } } : {}));
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 89, failed: 1, complete: true });
    expect(report.errors).toEqual([
      expect.objectContaining({ externalId: 'h-12', code: 'INVALID_FIELD', fields: ['Loyalty_Tier__c'] }),
    ]);
    expect(sf.records('Contact')).toHaveLength(89);

    // Still missing: tried again (a schema error is re-checked every run), nothing else is re-sent.
    const again = await engine.pushContacts(contacts);
    expect(again).toMatchObject({ created: 0, updated: 0, failed: 1, unchanged: 89 });

    // The admin creates the field: the next ordinary run sends the record, data unchanged.
    sf.addCustomField('Contact', {
      name: 'Loyalty_Tier__c',
      type: 'string',
      label: 'Loyalty tier',
      length: 20,
    });
    const fixed = await engine.pushContacts(contacts);
    expect(fixed).toMatchObject({ created: 1, failed: 0 });
    await expectConverged(storage, contacts);
    expect(sf.records('Contact').find((r) => r.MarkMail_ID__c === 'h-12')?.Loyalty_Tier__c).toBe('gold');
  });
});

describe('re-drive of failed records', () => {
  it('needsAttention records are re-sent by code (or all at once) after the cause is fixed', async () => {
    const { engine, storage } = setup({}, { bulkThreshold: 2000 });
    const contacts = hostContacts(10);
    sf.faults.add({
      method: 'PATCH',
      path: /composite\/sobjects\/Contact/,
      status: 200,
      body: contacts.map((_, i) =>
        i < 3
          ? {
              success: false,
              errors: [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Rule', fields: [] }],
            }
          : {
              success: false,
              errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'x', fields: [] }],
            },
      ),
    });
    const first = await engine.pushContacts(contacts);
    expect(first.failed).toBe(10);
    expect(first.needsAttention).toBe(10);
    // Not retried on their own: the same content would fail the same way.
    expect(await engine.pushContacts(contacts)).toMatchObject({ created: 0, failed: 0, needsAttention: 10 });
    // The rule is fixed: re-drive one code, then everything else.
    const byCode = await engine.pushContacts(contacts, {
      redrive: { codes: ['FIELD_CUSTOM_VALIDATION_EXCEPTION'] },
    });
    expect(byCode).toMatchObject({ created: 3, failed: 0 });
    const rest = await engine.pushContacts(contacts, { redrive: true });
    expect(rest).toMatchObject({ created: 7, failed: 0 });
    await expectConverged(storage, contacts);
  });
});

describe('literal #N/A in Bulk mode', () => {
  it('is not turned into null: the record goes through Collections and keeps its text', async () => {
    const { engine, storage } = setup();
    const contacts = hostContacts(60, (i) => (i === 5 ? { title: '#N/A' } : { title: 'CTO' }));
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ created: 60, failed: 0 });
    expect(sf.records('Contact').find((r) => r.MarkMail_ID__c === 'h-5')?.Title).toBe('#N/A');
    expect(sf.records('Contact').find((r) => r.MarkMail_ID__c === 'h-6')?.Title).toBe('CTO');
    await expectConverged(storage, contacts);
  });
});

describe('timeouts: a stalled call is cut, never reported synced on a guess', () => {
  it('a stalled read is cancelled after requestTimeoutMs and retried; slow calls warn', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    const { provider } = setup({}, { requestTimeoutMs: 300, slowCallWarningMs: 100, logger });
    sf.faults.add({ method: 'GET', path: /\/query/, delayMs: 2_000 });
    expect(await provider.getContact('nobody@example.com')).toBeNull();
    expect(warnings).toContain('Salesforce call was slow');
  });

  it('an upsert that landed but whose answer stalled is retried (keyed by external id) and converges', async () => {
    const { engine, storage } = setup({}, { requestTimeoutMs: 300 });
    const contacts = hostContacts(20);
    sf.faults.add({ method: 'PATCH', path: /composite\/sobjects\/Contact/, delayMs: 2_000, after: true });
    const report = await engine.pushContacts(contacts);
    expect(report).toMatchObject({ failed: 0, complete: true });
    await expectConverged(storage, contacts);
  });

  it('with retries off, the stalled write ends the run with TIMEOUT; nothing is marked synced; the next run converges', async () => {
    const { engine, storage } = setup({}, { requestTimeoutMs: 300, retry: false });
    const contacts = hostContacts(20);
    sf.faults.add({ method: 'PATCH', path: /composite\/sobjects\/Contact/, delayMs: 2_000, after: true });
    await expect(engine.pushContacts(contacts)).rejects.toMatchObject({
      name: 'CrmConnectionError',
      providerCode: 'TIMEOUT',
      retryable: true,
    });
    // The write landed in the CRM, but nobody saw it: no record is reported synced.
    const rows = await storage.syncStatus.list({ integrationId: 'int-faults' });
    expect(rows.filter((r) => r.status === 'synced')).toHaveLength(0);
    const second = await engine.pushContacts(contacts);
    expect(second).toMatchObject({ failed: 0 });
    await expectConverged(storage, contacts);
  });
});
