import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CrmContactInput } from '../../src/core/models.js';
import { SalesforceProvider, type SalesforceProviderOptions } from '../../src/salesforce/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { getSyncReport, SyncEngine, type SyncEngineOptions } from '../../src/sync/engine.js';
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

const INTEGRATION = 'int-uncertain';
const UPSERT = /composite\/sobjects\/Contact/;

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
  const engine = new SyncEngine({ provider, storage, integrationId: INTEGRATION, ...options });
  return { provider, storage, engine };
}

function contact(lastName: string, externalId = 'h-1'): CrmContactInput {
  return { externalId, email: `${externalId}@example.com`, lastName };
}

function statusOf(storage: MemoryStorage, externalId = 'h-1') {
  return storage.syncStatus.get({ integrationId: INTEGRATION, entityType: 'contact', externalId });
}

function crmLastName(externalId = 'h-1'): unknown {
  return sf.records('Contact').find((r) => r.MarkMail_ID__c === externalId)?.LastName;
}

/** Runs `push` and aborts it once the faulted request has reached the emulator. */
async function abortWhenHit(
  fault: { hits: number },
  push: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  const controller = new AbortController();
  const run = push(controller.signal).then(
    () => {
      throw new Error('the run was expected to be aborted');
    },
    (error: unknown) => error,
  );
  await vi.waitFor(() => expect(fault.hits).toBe(1), { timeout: 10_000, interval: 5 });
  controller.abort();
  return run;
}

describe('abort cancels what is in flight', () => {
  it('a stalled upsert is cancelled at the socket on abort, with an AbortError, long before the stall ends', async () => {
    const { engine, storage } = setup();
    const fault = sf.faults.add({ method: 'PATCH', path: UPSERT, delayMs: 60_000 });
    const error = await abortWhenHit(fault, (signal) => engine.pushContacts([contact('V1')], { signal }));
    expect(error).toMatchObject({ name: 'AbortError' });
    // The emulator sees the client close the connection (well before the 60 s stall would end).
    await vi.waitFor(() => expect(fault.disconnects).toBe(1), { timeout: 10_000, interval: 5 });
    // Its answer never came: the record is uncertain, not synced and not failed.
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });
    expect(getSyncReport(error)).toMatchObject({ stopReason: 'aborted', uncertain: 1, created: 0 });
  });

  it('a provider call aborted while stalled is cancelled too (no engine involved)', async () => {
    const { provider } = setup();
    const fault = sf.faults.add({ method: 'GET', path: /\/query/, delayMs: 60_000 });
    const error = await abortWhenHit(fault, (signal) =>
      provider.getContact('nobody@example.com', { signal }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(fault.disconnects).toBe(1), { timeout: 10_000, interval: 5 });
  });

  it('an aborted Bulk run cancels its in-flight request and leaves its records uncertain; the next run converges', async () => {
    const { engine, storage } = setup();
    const contacts = Array.from({ length: 60 }, (_, i) => contact(`V${i}`, `h-${i}`));
    const fault = sf.faults.add({ method: 'GET', path: /\/jobs\/ingest\/[^/]+$/, delayMs: 60_000 });
    const error = await abortWhenHit(fault, (signal) => engine.pushContacts(contacts, { signal }));
    expect(error).toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(fault.disconnects).toBe(1), { timeout: 10_000, interval: 5 });
    const rows = await storage.syncStatus.list({ integrationId: INTEGRATION, limit: 1000 });
    expect(rows.map((r) => r.status)).toEqual(Array(60).fill('uncertain'));
    const second = await engine.pushContacts(contacts);
    expect(second).toMatchObject({ failed: 0, uncertain: 0, complete: true });
    expect(sf.records('Contact')).toHaveLength(60);
    for (const c of contacts) {
      expect(crmLastName(c.externalId)).toBe(c.lastName);
      expect(await statusOf(storage, c.externalId)).toMatchObject({ status: 'synced' });
    }
  });
});

describe('records whose write may or may not have landed are uncertain, never synced on a guess', () => {
  it('a write processed but unanswered when the run was aborted is read back and found landed: synced without re-sending', async () => {
    const { engine, storage } = setup();
    const fault = sf.faults.add({ method: 'PATCH', path: UPSERT, delayMs: 60_000, after: true });
    await abortWhenHit(fault, (signal) => engine.pushContacts([contact('V1')], { signal }));
    expect(crmLastName()).toBe('V1');
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain', crmId: null });

    const second = await engine.pushContacts([contact('V1')]);
    expect(second).toMatchObject({ verified: 1, uncertain: 0, created: 0, updated: 0, failed: 0 });
    const id = sf.records('Contact')[0]?.Id;
    expect(await statusOf(storage)).toMatchObject({ status: 'synced', crmId: id, lastError: null });
    // Nothing more to do now.
    expect(await engine.pushContacts([contact('V1')])).toMatchObject({ unchanged: 1, verified: 0 });
  });

  it('delay after processing + abort + a second run with newer values: the newer values win and status agrees', async () => {
    const { engine, storage } = setup();
    await engine.pushContacts([contact('V0')]);
    const fault = sf.faults.add({ method: 'PATCH', path: UPSERT, delayMs: 60_000, after: true });
    await abortWhenHit(fault, (signal) => engine.pushContacts([contact('V1')], { signal }));
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });

    const second = await engine.pushContacts([contact('V2')]);
    // The read-back found V1: that write has landed and cannot land again, so V2 is final.
    expect(second).toMatchObject({ updated: 1, uncertain: 0, failed: 0 });
    expect(crmLastName()).toBe('V2');
    expect(await statusOf(storage)).toMatchObject({ status: 'synced' });
  });

  it('the issue scenario: an aborted run’s write lands after a newer run — status never says synced while the CRM holds the older values', async () => {
    let now = Date.parse('2026-12-06T04:00:00Z');
    const { engine, storage } = setup({ clock: { now: () => new Date(now) } });
    await engine.pushContacts([contact('V0')]);

    // The server receives run 1's write, then applies it 2 s later, whether the client waits or not.
    const fault = sf.faults.add({ method: 'PATCH', path: UPSERT, delayMs: 2_000, received: true });
    await abortWhenHit(fault, (signal) => engine.pushContacts([contact('V1')], { signal }));
    expect(crmLastName()).toBe('V0');

    // Run 2 sends newer values; Salesforce confirms them, but run 1's write may still land.
    const second = await engine.pushContacts([contact('V2')]);
    expect(second).toMatchObject({ updated: 1, uncertain: 1, verified: 0 });
    expect(crmLastName()).toBe('V2');
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });

    // It lands: the CRM now holds the older values. Status must not claim V2 is synced.
    await vi.waitFor(() => expect(crmLastName()).toBe('V1'), { timeout: 10_000, interval: 20 });
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });

    // Run 3 reads back, sees the late write landed, re-sends V2 and only then calls it synced.
    const third = await engine.pushContacts([contact('V2')]);
    expect(third).toMatchObject({ updated: 1, uncertain: 0, failed: 0 });
    expect(crmLastName()).toBe('V2');
    expect(await statusOf(storage)).toMatchObject({ status: 'synced' });

    // Later runs leave it alone.
    now += 60 * 60_000;
    expect(await engine.pushContacts([contact('V2')])).toMatchObject({ unchanged: 1 });
  });

  it('an uncertain write that never lands is settled once it no longer can (uncertainSettleMs): the current version is re-sent', async () => {
    let now = Date.parse('2026-12-06T04:00:00Z');
    const { engine, storage } = setup(
      { clock: { now: () => new Date(now) }, uncertainSettleMs: 60_000 },
      { retry: false },
    );
    await engine.pushContacts([contact('V0')]);
    // Dropped before processing: the write never lands, but the client cannot know that.
    sf.faults.add({ method: 'PATCH', path: UPSERT, drop: true });
    await expect(engine.pushContacts([contact('V1')])).rejects.toMatchObject({ name: 'CrmConnectionError' });
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });

    // Within the window a newer version is confirmed, but V1 could still land: still uncertain.
    const second = await engine.pushContacts([contact('V2')]);
    expect(second).toMatchObject({ updated: 1, uncertain: 1 });
    expect(await statusOf(storage)).toMatchObject({ status: 'uncertain' });

    // After the window nothing can land; the read-back finds V2 and settles it without a write.
    now += 61_000;
    const third = await engine.pushContacts([contact('V2')]);
    expect(third).toMatchObject({ verified: 1, updated: 0, uncertain: 0 });
    expect(await statusOf(storage)).toMatchObject({ status: 'synced' });
    expect(crmLastName()).toBe('V2');
  });

  it('a record changed in the CRM while uncertain is not called synced: the host version is re-sent', async () => {
    const { engine, storage, provider } = setup();
    const fault = sf.faults.add({ method: 'PATCH', path: UPSERT, delayMs: 60_000, after: true });
    await abortWhenHit(fault, (signal) => engine.pushContacts([contact('V1')], { signal }));
    // A Salesforce user edits the record before the next run.
    const id = String(sf.records('Contact')[0]?.Id);
    await provider.updateContact({ ...contact('Edited in Salesforce'), id });
    const second = await engine.pushContacts([contact('V1')]);
    expect(second).toMatchObject({ verified: 0, updated: 1 });
    expect(crmLastName()).toBe('V1');
    expect(await statusOf(storage)).toMatchObject({ status: 'synced' });
  });
});

describe('SalesforceProvider.abortOrphanedJobs', () => {
  it('aborts an open ingest job, skips one already over or unknown, and refuses a malformed id', async () => {
    const { provider } = setup();
    const base = `${sf.instanceUrl}/services/data/v66.0/jobs/ingest`;
    const headers = { authorization: `Bearer ${sf.accessToken}`, 'content-type': 'application/json' };
    const open = (await (
      await fetch(base, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          object: 'Contact',
          operation: 'insert',
          contentType: 'CSV',
          lineEnding: 'LF',
        }),
      })
    ).json()) as { id: string };
    const done = (await (
      await fetch(base, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          object: 'Contact',
          operation: 'insert',
          contentType: 'CSV',
          lineEnding: 'LF',
        }),
      })
    ).json()) as { id: string };
    await fetch(`${base}/${done.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ state: 'Aborted' }),
    });

    const aborted = await provider.abortOrphanedJobs([open.id, done.id, '750000000000000AAA']);
    expect(aborted).toEqual([open.id]);
    const state = (await (await fetch(`${base}/${open.id}`, { headers })).json()) as { state: string };
    expect(state.state).toBe('Aborted');
    await expect(provider.abortOrphanedJobs(['not an id'])).rejects.toMatchObject({
      code: 'DATA_CONVERSION',
    });
  });
});
