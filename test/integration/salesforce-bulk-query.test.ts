import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactChangeBatch } from '../../src/core/provider.js';
import { SalesforceProvider, type SalesforceProviderOptions } from '../../src/salesforce/index.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
// The org's clock runs ahead on demand, so a change can be stamped seconds after the last read.
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

beforeAll(async () => {
  sf = await startSalesforceEmulator({ clock });
});
afterAll(async () => {
  await sf?.stop();
});
beforeEach(() => {
  sf.reset();
});

const logged: Array<{ message: string; meta: unknown }> = [];
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => {
    logged.push({ message, meta });
  },
  error: () => undefined,
};

function provider(options: Partial<SalesforceProviderOptions> = {}): SalesforceProvider {
  logged.length = 0;
  return new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    logger,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

/** Contacts with awkward values: commas, quotes, line breaks, `#N/A` as text, nulls, opt-outs. */
function seed(count: number): string[] {
  const results = sf.store.insert(
    'Contact',
    Array.from({ length: count }, (_, i) => ({
      LastName: i % 5 === 0 ? `O'Brien, "Jr"\nline ${i}` : `Last ${i}`,
      FirstName: i % 4 === 0 ? null : `First ${i}`,
      Email: `p${i}@example.com`,
      Title: i % 6 === 0 ? '#N/A' : null,
      Phone: i % 3 === 0 ? '+1 555 0100' : null,
      HasOptedOutOfEmail: i % 2 === 0,
      MarkMail_ID__c: i % 7 === 0 ? null : `h-${i}`,
    })),
  );
  return results.map((r) => String(r.id));
}

async function read(crm: SalesforceProvider, cursor: string | null = null) {
  const batches: CrmContactChangeBatch[] = [];
  const before = { ...sf.stats.byRoute };
  const calls = sf.stats.apiCalls;
  for await (const batch of crm.listContactChanges(cursor)) batches.push(batch);
  const routes: Record<string, number> = {};
  for (const [route, n] of Object.entries(sf.stats.byRoute)) {
    const delta = n - (before[route] ?? 0);
    if (delta > 0) routes[route] = delta;
  }
  return { batches, routes, calls: sf.stats.apiCalls - calls };
}

const JOBS = 'POST /services/data/:version/jobs/query';
const RESULTS = 'GET /services/data/:version/jobs/query/:jobId/results';
const QUERY_ALL = 'GET /services/data/:version/queryAll';

function ids(batches: CrmContactChangeBatch[]): string[] {
  return batches.flatMap((b) => [...b.upserted.map((c) => c.id as string), ...b.deleted]);
}

async function queryJobs(): Promise<Array<{ id: string; state: string }>> {
  const response = await fetch(`${sf.instanceUrl}/services/data/v66.0/jobs/query`, {
    headers: { Authorization: `Bearer ${sf.accessToken}` },
  });
  return ((await response.json()) as { records: Array<{ id: string; state: string }> }).records;
}

describe('routing: small reads through REST, large ones through a Bulk API 2.0 query job', () => {
  it('an initial read at or under bulkQueryThreshold counts, then reads REST pages; above it, one query job', async () => {
    seed(30);
    const small = await read(provider({ bulkQueryThreshold: 30 }));
    expect(small.routes).toEqual({ [QUERY_ALL]: 2 }); // COUNT() + one page
    expect(ids(small.batches)).toHaveLength(30);

    const large = await read(provider({ bulkQueryThreshold: 29, bulkQueryPageSize: 8 }));
    expect(large.routes[JOBS]).toBe(1);
    expect(large.routes[RESULTS]).toBe(4); // 8 + 8 + 8 + 6
    expect(large.routes[QUERY_ALL]).toBe(1); // the COUNT() only
    expect(ids(large.batches)).toEqual(ids(small.batches));
  });

  it('a read from a cursor uses its first REST page when the change set is small, and drops it for a job when not', async () => {
    const created = seed(40);
    const crm = provider({ bulkQueryThreshold: 10, changeLookbackMs: 0 });
    // The cursor lands on a second holding one change (its second is re-read from the cursor).
    offsetMs += 60_000;
    sf.store.update('Contact', [{ Id: created[39] as string, Title: 'marker' }]);
    const initial = await read(crm);
    expect(initial.routes[JOBS]).toBe(1);
    const cursor = initial.batches.at(-1)?.cursor as string;
    const titles = (batches: CrmContactChangeBatch[]) =>
      batches.flatMap((b) => b.upserted.map((c) => c.title));

    offsetMs += 60_000;
    sf.store.update(
      'Contact',
      created.slice(0, 3).map((Id) => ({ Id, Title: 'small change' })),
    );
    const small = await read(crm, cursor);
    expect(small.routes).toEqual({ [QUERY_ALL]: 1 }); // its first page was all of it
    expect(titles(small.batches)).toEqual(['marker', ...Array(3).fill('small change')]);

    offsetMs += 60_000;
    sf.store.update(
      'Contact',
      created.slice(10, 30).map((Id) => ({ Id, Title: 'big change' })),
    );
    const large = await read(crm, small.batches.at(-1)?.cursor as string);
    expect(large.routes[QUERY_ALL]).toBe(1); // the dropped first page
    expect(large.routes[JOBS]).toBe(1);
    expect(titles(large.batches)).toEqual([
      ...Array(3).fill('small change'),
      ...Array(20).fill('big change'),
    ]);
  });

  it('bulkQueryThreshold: null never creates a job', async () => {
    seed(25);
    const { routes, batches } = await read(provider({ bulkQueryThreshold: null }));
    expect(routes).toEqual({ [QUERY_ALL]: 1 });
    expect(ids(batches)).toHaveLength(25);
  });

  it('rejects an invalid threshold or page size', () => {
    expect(() => provider({ bulkQueryThreshold: -1 })).toThrow(/bulkQueryThreshold/);
    expect(() => provider({ bulkQueryPageSize: 0 })).toThrow(/bulkQueryPageSize/);
  });
});

describe('the Bulk path delivers exactly what the REST path delivers', () => {
  it('same contacts, deletions, order and cursors: nulls, booleans, quotes, commas, line breaks, #N/A text', async () => {
    const created = seed(45);
    sf.store.delete([created[3] as string, created[20] as string]);
    const rest = await read(provider({ bulkQueryThreshold: null }));
    const bulk = await read(provider({ bulkQueryThreshold: 0, bulkQueryPageSize: 7 }));
    expect(bulk.routes[JOBS]).toBe(1);
    expect(rest.routes[JOBS]).toBeUndefined();
    const flat = (batches: CrmContactChangeBatch[]) => ({
      upserted: batches.flatMap((b) => b.upserted),
      deleted: batches.flatMap((b) => b.deleted),
      cursor: batches.at(-1)?.cursor,
    });
    expect(flat(bulk.batches)).toEqual(flat(rest.batches));
    const byId = new Map(flat(bulk.batches).upserted.map((c) => [c.id, c]));
    expect(byId.get(created[0])).toMatchObject({
      lastName: 'O\'Brien, "Jr"\nline 0',
      title: '#N/A', // text, not a null marker: #N/A is a null only when uploading
      phone: '+1 555 0100',
      emailOptOut: true,
      externalId: created[0], // no host id: the Salesforce Id stands in
    });
    expect(byId.get(created[0])).not.toHaveProperty('firstName'); // null → absent
    expect(byId.get(created[1])).toMatchObject({ emailOptOut: false, externalId: 'h-1' });
    expect(flat(bulk.batches).deleted).toEqual([created[3], created[20]]);
    // Every record once, in (SystemModstamp, Id) order.
    expect(new Set(ids(bulk.batches)).size).toBe(45);
  });

  it('contacts matched by Email (externalIdField: null) read the same on both paths', async () => {
    seed(12);
    const rest = await read(provider({ bulkQueryThreshold: null, externalIdField: null }));
    const bulk = await read(provider({ bulkQueryThreshold: 0, externalIdField: null }));
    expect(bulk.routes[JOBS]).toBe(1);
    const contacts = bulk.batches.flatMap((b) => b.upserted);
    expect(contacts).toEqual(rest.batches.flatMap((b) => b.upserted));
    expect(contacts.every((c) => c.externalId === c.id)).toBe(true);
  });

  it('typed custom field mappings (number, boolean, datetime, date, multipicklist) read the same on both paths', async () => {
    sf.addCustomField('Contact', { name: 'Score__c', type: 'double' });
    sf.addCustomField('Contact', { name: 'Vip__c', type: 'boolean' });
    sf.addCustomField('Contact', { name: 'Seen_At__c', type: 'datetime' });
    sf.addCustomField('Contact', { name: 'Born__c', type: 'date' });
    sf.addCustomField('Contact', { name: 'Topics__c', type: 'multipicklist' });
    sf.store.insert('Contact', [
      {
        LastName: 'A',
        Email: 'a@example.com',
        Score__c: 12.5,
        Vip__c: true,
        Seen_At__c: '2026-03-01T10:20:30.000Z',
        Born__c: '1990-05-17',
        Topics__c: 'news;offers',
      },
      { LastName: 'B', Email: 'b@example.com' },
    ]);
    const fieldMappings = [
      { hostField: 'customFields.score', crmField: 'Score__c', fieldType: 'number' as const },
      { hostField: 'customFields.vip', crmField: 'Vip__c', fieldType: 'boolean' as const },
      { hostField: 'customFields.seenAt', crmField: 'Seen_At__c', fieldType: 'datetime' as const },
      { hostField: 'customFields.born', crmField: 'Born__c', fieldType: 'date' as const },
      { hostField: 'tags', crmField: 'Topics__c', fieldType: 'multipicklist' as const },
    ];
    const rest = await read(provider({ bulkQueryThreshold: null, fieldMappings }));
    const bulk = await read(provider({ bulkQueryThreshold: 0, fieldMappings }));
    expect(bulk.routes[JOBS]).toBe(1);
    const contacts = bulk.batches.flatMap((b) => b.upserted);
    expect(contacts).toEqual(rest.batches.flatMap((b) => b.upserted));
    expect(contacts[0]).toMatchObject({
      tags: ['news', 'offers'],
      customFields: { score: 12.5, vip: true, born: '1990-05-17' },
    });
    expect(Date.parse(String(contacts[0]?.customFields.seenAt))).toBe(Date.parse('2026-03-01T10:20:30.000Z'));
    expect(contacts[1]?.customFields).toEqual({ vip: false });
  });
});

describe('Bulk query faults', () => {
  it('a job that ends Failed delivered nothing: the read falls back to REST, every record once, and says so', async () => {
    seed(25);
    await sf.bulk.failNextJob({
      jobType: 'V2Query',
      errorMessage: 'QUERY_TIMEOUT : Your query request was running for too long.',
    });
    const { batches, routes } = await read(provider({ bulkQueryThreshold: 10 }));
    expect(routes[JOBS]).toBe(1);
    expect(routes[RESULTS]).toBeUndefined();
    expect(ids(batches)).toHaveLength(25);
    expect(new Set(ids(batches)).size).toBe(25);
    expect(logged).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/bulk query job failed/),
        meta: expect.objectContaining({ errorMessage: expect.stringContaining('QUERY_TIMEOUT') }),
      }),
    ]);
  });

  for (const [name, fault] of [
    ['a 503', { status: 503 }],
    ['a 502', { status: 502 }],
    ['a dropped socket', { drop: true }],
    ['a response lost after the server answered', { drop: true, after: true }],
  ] as const) {
    it(`${name} on a results page mid-read is retried from the same locator: nothing missing, nothing twice`, async () => {
      seed(50);
      const crm = provider({ bulkQueryThreshold: 0, bulkQueryPageSize: 8 });
      const iterator = crm.listContactChanges(null);
      const seen: string[] = [];
      const first = await iterator.next();
      seen.push(...ids([first.value as CrmContactChangeBatch]));
      const injected = sf.faults.add({ method: 'GET', path: /\/jobs\/query\/[^/]+\/results$/, ...fault });
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        seen.push(...ids([next.value]));
      }
      expect(injected.hits).toBe(1);
      expect(seen).toHaveLength(50);
      expect(new Set(seen).size).toBe(50);
      expect(seen).toEqual(ids((await read(provider({ bulkQueryThreshold: null }))).batches));
    });
  }

  it('a non-transient error on a results page is not retried: a typed error, and the job is deleted', async () => {
    seed(30);
    const crm = provider({ bulkQueryThreshold: 0, bulkQueryPageSize: 8 });
    const iterator = crm.listContactChanges(null);
    await iterator.next();
    sf.faults.add({ method: 'GET', path: /\/results$/, status: 500, times: 5 });
    await expect(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          // drain
        }
      })(),
    ).rejects.toMatchObject({ name: 'CrmApiError', providerCode: 'UNKNOWN_EXCEPTION', status: 500 });
    sf.faults.clear();
    expect(await queryJobs()).toEqual([]);
  });

  it('a session that expires mid-paging is refreshed once and the page read again', async () => {
    seed(40);
    let refreshes = 0;
    const session = sf.oauth.issueTokens().accessToken;
    const crm = provider({
      accessToken: session,
      bulkQueryThreshold: 0,
      bulkQueryPageSize: 8,
      refreshAccessToken: async () => {
        refreshes += 1;
        return sf.oauth.issueTokens().accessToken;
      },
    });
    const iterator = crm.listContactChanges(null);
    const seen = ids([(await iterator.next()).value as CrmContactChangeBatch]);
    sf.oauth.expireAccessToken(session);
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      seen.push(...ids([next.value]));
    expect(refreshes).toBe(1);
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });

  it('an abort while the job runs aborts the job on Salesforce', async () => {
    seed(20);
    await sf.bulk.setProcessingDelay(60_000);
    const controller = new AbortController();
    const crm = provider({ bulkQueryThreshold: 0 });
    const reading = (async () => {
      for await (const _ of crm.listContactChanges(null, { signal: controller.signal })) {
        // nothing is delivered before the job completes
      }
    })();
    for (let i = 0; i < 200 && (await queryJobs()).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect((await queryJobs()).map((j) => j.state)).toEqual(['Aborted']);
  });

  it('an abort mid-paging stops the read and deletes the finished job (its results will never be read)', async () => {
    seed(40);
    const controller = new AbortController();
    const crm = provider({ bulkQueryThreshold: 0, bulkQueryPageSize: 8 });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const batch of crm.listContactChanges(null, { signal: controller.signal })) {
          seen.push(...ids([batch]));
          controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(8);
    expect(await queryJobs()).toEqual([]);
  });

  it('a consumer that stops early (break) leaves no job behind either', async () => {
    seed(30);
    const crm = provider({ bulkQueryThreshold: 0, bulkQueryPageSize: 8 });
    for await (const _ of crm.listContactChanges(null)) break;
    expect(await queryJobs()).toEqual([]);
  });

  it('a job that never finishes fails with JOB_POLLING_TIMEOUT after bulk.pollTimeoutMs and is aborted', async () => {
    seed(20);
    await sf.bulk.setProcessingDelay(60_000);
    const crm = provider({ bulkQueryThreshold: 0, bulk: { pollTimeoutMs: 100, pollIntervalMs: 20 } });
    await expect(read(crm)).rejects.toMatchObject({
      name: 'CrmApiError',
      providerCode: 'JOB_POLLING_TIMEOUT',
      retryable: true,
    });
    expect((await queryJobs()).map((j) => j.state)).toEqual(['Aborted']);
  });
});
