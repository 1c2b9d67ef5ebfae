import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CrmAuthenticationError, type CrmError } from '../../src/core/errors.js';
import type { CrmContactInput } from '../../src/core/models.js';
import { HubSpotProvider, type HubSpotProviderOptions } from '../../src/hubspot/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { type HubSpotEmulator, startHubSpotEmulator } from '../../src/testing/index.js';

let hubspot: HubSpotEmulator;

beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 100_000, intervalMs: 10_000 } });
});
afterAll(() => hubspot.stop());
beforeEach(() => hubspot.reset());

// Shaped like nothing the redactor recognises: only registration can catch it.
const HOST_SECRET = 'hostOwnSecret-6Q2zX91kLm';
const UPSERT = /\/batch\/upsert$/;

function provider(extra: Partial<HubSpotProviderOptions> = {}) {
  return new HubSpotProvider({
    baseUrl: hubspot.baseUrl,
    accessToken: hubspot.accessToken,
    sleep: async () => {},
    ...extra,
  });
}

function contacts(n: number): CrmContactInput[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `h-${i}`,
    email: `user${i}@example.com`,
    lastName: `L${i}`,
  }));
}

describe('HubSpot: abort cancels what is in flight', () => {
  it('a stalled batch upsert is cancelled at the socket on abort, with an AbortError', async () => {
    const fault = hubspot.faults.add({ method: 'POST', path: UPSERT, delayMs: 60_000 });
    const controller = new AbortController();
    const run = provider()
      .bulkSyncContacts(contacts(3), { signal: controller.signal })
      .catch((error: unknown) => error);
    await vi.waitFor(() => expect(fault.hits).toBe(1), { timeout: 10_000, interval: 5 });
    controller.abort();
    expect(await run).toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(fault.disconnects).toBe(1), { timeout: 10_000, interval: 5 });
  });
});

describe('HubSpot: retries are counted', () => {
  it('a batch that succeeds after a 503 counts one retry in the result and in the push report', async () => {
    hubspot.faults.add({ method: 'POST', path: UPSERT, status: 503 });
    const result = await provider().bulkSyncContacts(contacts(3));
    expect(result).toMatchObject({ success: 3, failed: 0, retries: 1 });

    hubspot.faults.add({ method: 'POST', path: UPSERT, status: 429, headers: { 'retry-after': '0' } });
    const engine = new SyncEngine({
      provider: provider(),
      storage: new MemoryStorage(),
      integrationId: 'hs',
    });
    const report = await engine.pushContacts(contacts(5).map((c) => ({ ...c, lastName: `${c.lastName}-2` })));
    expect(report).toMatchObject({ failed: 0, retries: 1 });
  });

  it('a clean call counts no retries', async () => {
    expect(await provider().bulkSyncContacts(contacts(2))).toMatchObject({ retries: 0 });
  });
});

describe('HubSpot: host-registered secrets', () => {
  it("a secret the host's token source puts in its error never reaches the thrown error or the logs", async () => {
    const lines: string[] = [];
    const log = (message: string, data?: unknown) => lines.push(message + JSON.stringify(data ?? {}));
    const crm = new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      getAccessToken: async () => {
        const inner = new Error(`upstream said: bad client ${HOST_SECRET}`);
        throw new Error(`token refresh with secret ${HOST_SECRET} refused`, { cause: inner });
      },
      secrets: () => [HOST_SECRET],
      logger: { debug: log, info: log, warn: log, error: log },
      sleep: async () => {},
    });
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    const crmError = error as CrmError;
    expect(crmError).toMatchObject({ providerCode: 'TOKEN_SOURCE_FAILED', provider: 'hubspot' });
    const cause = crmError.cause as Error;
    for (const text of [
      crmError.message,
      JSON.stringify(crmError.toJSON()),
      inspect(crmError, { depth: 10 }),
      cause.message,
      String(cause.stack),
      (cause.cause as Error).message,
      ...lines,
    ]) {
      expect(text).not.toContain(HOST_SECRET);
    }
    expect(cause.message).toContain('[REDACTED]');
  });

  it('secrets are read each time, so a rotated value is caught too', async () => {
    let current = 'firstSecretValue-aa11';
    const crm = new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      getAccessToken: () => {
        throw new Error(`bad ${current}`);
      },
      secrets: () => [current],
    });
    current = 'rotatedSecretValue-bb22';
    const error = (await crm.getContact('a@example.com').catch((e: unknown) => e)) as CrmError;
    expect(JSON.stringify(error.toJSON())).not.toContain(current);
    expect((error.cause as Error).message).toBe('bad [REDACTED]');
  });

  it('refuses a `secrets` option that is not a function', () => {
    expect(() => provider({ secrets: ['plain'] as unknown as () => string[] })).toThrow(/secrets/);
  });
});

describe('HubSpot: writes whose answer never came', () => {
  it('a batch lost to a dropped connection leaves its records uncertain, not failed; the next run reads back and sends them', async () => {
    const storage = new MemoryStorage();
    const engine = new SyncEngine({ provider: provider({ maxRetries: 0 }), storage, integrationId: 'hs-u' });
    hubspot.faults.add({ method: 'POST', path: UPSERT, drop: true });
    const first = await engine.pushContacts(contacts(3));
    expect(first).toMatchObject({ failed: 3, uncertain: 3, needsAttention: 0 });
    expect(first.errorsByCode.CONNECTION).toMatchObject({ count: 3 });
    const rows = await storage.syncStatus.list({ integrationId: 'hs-u' });
    expect(rows.map((r) => r.status)).toEqual(['uncertain', 'uncertain', 'uncertain']);

    const next = await engine.pushContacts(contacts(3));
    expect(next).toMatchObject({ created: 3, uncertain: 0, verified: 0, failed: 0 });
    const after = await storage.syncStatus.list({ integrationId: 'hs-u' });
    expect(after.map((r) => r.status)).toEqual(['synced', 'synced', 'synced']);
  });

  it('an uncertain record the CRM already holds is verified by a batch read and not sent again', async () => {
    const storage = new MemoryStorage();
    const crm = provider();
    const engine = new SyncEngine({ provider: crm, storage, integrationId: 'hs-v' });
    // The write landed, but the host lost track (a run aborted after HubSpot processed it).
    await crm.bulkSyncContacts(contacts(2));
    await storage.syncStatus.upsertMany(
      contacts(2).map((c) => ({
        integrationId: 'hs-v',
        entityType: 'contact' as const,
        externalId: c.externalId,
        crmId: null,
        status: 'uncertain' as const,
        direction: 'to_crm' as const,
        contentHash: null,
        lastSyncedAt: null,
        lastError: 'ABORTED: The write was sent but its answer never came',
        state: { v: 1, fields: {} },
      })),
    );
    const upserts = hubspot.faults.add({ method: 'POST', path: UPSERT, status: 500, times: 10 });
    const report = await engine.pushContacts(contacts(2));
    expect(report).toMatchObject({ verified: 2, created: 0, updated: 0, failed: 0 });
    expect(upserts.hits).toBe(0);
    const rows = await storage.syncStatus.list({ integrationId: 'hs-v' });
    expect(rows.map((r) => [r.status, typeof r.crmId])).toEqual([
      ['synced', 'string'],
      ['synced', 'string'],
    ]);
  });
});
