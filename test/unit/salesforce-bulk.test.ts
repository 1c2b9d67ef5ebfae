import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { csvCell, csvLines, parseBulkError } from '../../src/salesforce/bulk.js';
import type { SalesforceProviderOptions } from '../../src/salesforce/options.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';

const INSTANCE = 'https://acme.my.salesforce.com';
const V = '/services/data/v66.0';
const TOKEN = '00D000000000001!AQ4AQFakeAccessToken';
const JSON_HEADERS = {
  'Content-Type': 'application/json;charset=UTF-8',
  'Sforce-Limit-Info': 'api-usage=1/15000',
};
const CSV_HEADERS = { 'Content-Type': 'text/csv' };

function provider(options: Partial<SalesforceProviderOptions> = {}) {
  return new SalesforceProvider({
    instanceUrl: INSTANCE,
    accessToken: TOKEN,
    sleep: async () => {},
    clock: { now: () => new Date('2026-11-25T12:00:00.000Z') },
    ...options,
  });
}
const sf = () => nock(INSTANCE, { reqheaders: { authorization: `Bearer ${TOKEN}` } });

function contacts(n: number, offset = 0) {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `u-${i + offset}`,
    email: `user${i + offset}@example.com`,
    lastName: `User ${i + offset}`,
  }));
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('CSV for Bulk API 2.0', () => {
  it('quotes commas, quotes, newlines and carriage returns; keeps unicode; LF line endings', () => {
    expect(csvLines([['a,b', 'say "hi"', 'line1\nline2', 'r\rn', '山田 😀', ' pad', 'plain']])).toBe(
      '"a,b","say ""hi""","line1\nline2","r\rn",山田 😀," pad",plain\n',
    );
  });

  it('writes #N/A for explicit nulls and an empty cell for absent values', () => {
    expect([null, undefined, true, 3, '=SUM(A1)'].map(csvCell)).toEqual([
      '#N/A',
      '',
      'true',
      '3',
      '=SUM(A1)',
    ]);
  });

  it('parses sf__Error into code, message and fields', () => {
    expect(
      parseBulkError('REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --'),
    ).toEqual({
      code: 'REQUIRED_FIELD_MISSING',
      message: 'Required fields are missing: [LastName]',
      fields: ['LastName'],
    });
    expect(parseBulkError('INVALID_EMAIL_ADDRESS:Email: invalid email address: x')).toEqual({
      code: 'INVALID_EMAIL_ADDRESS',
      message: 'Email: invalid email address: x',
    });
  });
});

describe('bulkSyncContacts through sObject Collections', () => {
  it('chunks 450 records into 200/200/50 collection upserts and maps every result back', async () => {
    const bodies: Array<{ allOrNone: boolean; records: Array<Record<string, unknown>> }> = [];
    // One interceptor per chunk, recognised by its first record (reply functions cannot see the
    // body reliably under nock 15), each answering in request order.
    for (const [first, size] of [
      [0, 200],
      [200, 200],
      [400, 50],
    ] as const) {
      const reply = contacts(size, first).map((c) =>
        c.externalId === 'u-7'
          ? {
              success: false,
              errors: [
                {
                  statusCode: 'INVALID_EMAIL_ADDRESS',
                  message: 'Email: invalid email address',
                  fields: ['Email'],
                },
              ],
            }
          : {
              id: `003${c.externalId.replace('-', '').padStart(15, '0')}`,
              success: true,
              errors: [],
              created: true,
            },
      );
      sf()
        .patch(`${V}/composite/sobjects/Contact/MarkMail_ID__c`, (body) => {
          if (body.records[0].MarkMail_ID__c !== `u-${first}`) return false;
          bodies.push(body);
          return true;
        })
        .reply(200, reply, JSON_HEADERS);
    }
    const progress: number[] = [];
    const result = await provider().bulkSyncContacts(contacts(450), {
      mode: 'rest',
      onProgress: (p) => progress.push(p.done),
    });
    expect(bodies.map((b) => b.records.length).sort((a, b) => a - b)).toEqual([50, 200, 200]);
    expect(bodies[0]?.allOrNone).toBe(false);
    expect(bodies[0]?.records[0]).toEqual({
      attributes: { type: 'Contact' },
      Email: 'user0@example.com',
      LastName: 'User 0',
      MarkMail_ID__c: 'u-0',
    });
    expect(result).toMatchObject({ total: 450, success: 449, failed: 1, apiCalls: 3, mode: 'rest' });
    expect(result.results.map((r) => r.externalId)).toEqual(contacts(450).map((c) => c.externalId));
    expect(result.results[7]).toMatchObject({
      success: false,
      error: { code: 'INVALID_EMAIL_ADDRESS', fields: ['Email'] },
    });
    expect(progress.at(-1)).toBe(450);
  });

  it('fails invalid and duplicate records locally without failing the batch', async () => {
    sf()
      .patch(`${V}/composite/sobjects/Contact/MarkMail_ID__c`, (body) => body.records.length === 1)
      .reply(200, [{ id: '003000000000001AAA', success: true, errors: [], created: false }], JSON_HEADERS);
    const result = await provider().bulkSyncContacts(
      [
        { externalId: 'u-1', email: 'a@example.com', lastName: 'A' },
        { externalId: 'u-2', email: 'not-an-email', lastName: 'B' },
        { externalId: 'u-1', email: 'c@example.com', lastName: 'C' },
      ],
      { mode: 'auto' },
    );
    expect(result.results.map((r) => [r.externalId, r.success, r.error?.code])).toEqual([
      ['u-1', true, undefined],
      ['u-2', false, 'INVALID_DATA'],
      ['u-1', false, 'DUPLICATE_EXTERNAL_ID'],
    ]);
    expect(result.results[1]?.error?.fields).toEqual(['email']);
    expect(result.mode).toBe('rest');
  });

  it('re-sends only the records refused with UNABLE_TO_LOCK_ROW', async () => {
    const sizes: number[] = [];
    sf()
      .patch(`${V}/composite/sobjects/Contact/MarkMail_ID__c`, (body) => {
        sizes.push(body.records.length);
        return true;
      })
      .reply(
        200,
        [
          { id: '003000000000001AAA', success: true, errors: [], created: true },
          {
            success: false,
            errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access' }],
          },
        ],
        JSON_HEADERS,
      )
      .patch(`${V}/composite/sobjects/Contact/MarkMail_ID__c`, (body) => {
        sizes.push(body.records.length);
        return body.records[0].MarkMail_ID__c === 'u-1';
      })
      .reply(200, [{ id: '003000000000002AAA', success: true, errors: [], created: true }], JSON_HEADERS);
    const result = await provider().bulkSyncContacts(contacts(2), { mode: 'rest' });
    expect(sizes).toEqual([2, 1]);
    expect(result).toMatchObject({ success: 2, failed: 0, apiCalls: 2 });
  });
});

describe('bulkSyncContacts through Bulk API 2.0', () => {
  it('streams one CSV with the full header, polls, and maps successful/failed results to externalIds', async () => {
    let csv = '';
    const jobBody: unknown[] = [];
    const scope = sf()
      // Columns are checked against describe before the job (an unknown one fails a whole job).
      .get(`${V}/sobjects/Contact/describe`)
      .reply(
        200,
        {
          name: 'Contact',
          fields: [
            'Id',
            'MarkMail_ID__c',
            'Email',
            'FirstName',
            'LastName',
            'Phone',
            'Title',
            'HasOptedOutOfEmail',
            'Notes__c',
          ].map((name) => ({ name, label: name, type: 'string' })),
        },
        JSON_HEADERS,
      )
      .post(`${V}/jobs/ingest`, (body) => {
        jobBody.push(body);
        return true;
      })
      .reply(
        200,
        { id: '7505g000000001AAA', state: 'Open', object: 'Contact', operation: 'upsert' },
        JSON_HEADERS,
      )
      .put(`${V}/jobs/ingest/7505g000000001AAA/batches`, (body) => {
        csv = body;
        return true;
      })
      .matchHeader('content-type', 'text/csv')
      .reply(201)
      .patch(`${V}/jobs/ingest/7505g000000001AAA`, { state: 'UploadComplete' })
      .reply(200, { id: '7505g000000001AAA', state: 'UploadComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/ingest/7505g000000001AAA`)
      .reply(200, { id: '7505g000000001AAA', state: 'InProgress' }, JSON_HEADERS)
      .get(`${V}/jobs/ingest/7505g000000001AAA`)
      .reply(
        200,
        { id: '7505g000000001AAA', state: 'JobComplete', numberRecordsProcessed: 3, numberRecordsFailed: 1 },
        JSON_HEADERS,
      )
      .get(`${V}/jobs/ingest/7505g000000001AAA/successfulResults`)
      .reply(
        200,
        '"sf__Id","sf__Created",MarkMail_ID__c,Email,FirstName,LastName,Phone,Title,HasOptedOutOfEmail\n' +
          '003000000000001AAA,true,u-0,a@example.com,"O\'Hara, Scarlett",X,,,\n' +
          '003000000000003AAA,false,u-2,c@example.com,,Z,,,\n',
        CSV_HEADERS,
      )
      .get(`${V}/jobs/ingest/7505g000000001AAA/failedResults`)
      .reply(
        200,
        '"sf__Id","sf__Error",MarkMail_ID__c,Email,FirstName,LastName,Phone,Title,HasOptedOutOfEmail\n' +
          ',DUPLICATE_VALUE:duplicate value found: Email duplicates value on record with id: 003:Email --,u-1,b@example.com,,Y,,,\n',
        CSV_HEADERS,
      );
    const result = await provider({ bulkThreshold: 2 }).bulkSyncContacts(
      [
        { externalId: 'u-0', email: 'a@example.com', firstName: "O'Hara, Scarlett", lastName: 'X' },
        {
          externalId: 'u-1',
          email: 'b@example.com',
          lastName: 'Y',
          customFields: { Notes__c: 'line1\nline2 "q"' },
        },
        { externalId: 'u-2', email: 'c@example.com', lastName: 'Z', customFields: { Notes__c: null } },
      ],
      { mode: 'auto' },
    );
    scope.done();
    expect(jobBody).toEqual([
      {
        object: 'Contact',
        operation: 'upsert',
        externalIdFieldName: 'MarkMail_ID__c',
        contentType: 'CSV',
        columnDelimiter: 'COMMA',
        lineEnding: 'LF',
      },
    ]);
    // The header holds the full field set, so a later record's Notes__c is not dropped (jsforce
    // would take the first record's keys); null becomes #N/A, absent stays empty.
    expect(csv).toBe(
      'MarkMail_ID__c,Email,FirstName,LastName,Phone,Title,HasOptedOutOfEmail,Notes__c\n' +
        'u-0,a@example.com,"O\'Hara, Scarlett",X,,,,\n' +
        'u-1,b@example.com,,Y,,,,"line1\nline2 ""q"""\n' +
        'u-2,c@example.com,,Z,,,,#N/A\n',
    );
    expect(result.mode).toBe('bulk');
    // create, upload, close, 2 polls, successful + failed results (no unprocessed: all accounted
    // for); the describe is cached on the provider and not counted against the operation.
    expect(result.apiCalls).toBe(7);
    expect(result.results.map((r) => [r.externalId, r.success, r.crmId, r.created, r.error?.code])).toEqual([
      ['u-0', true, '003000000000001AAA', true, undefined],
      ['u-1', false, undefined, undefined, 'DUPLICATE_VALUE'],
      ['u-2', true, '003000000000003AAA', false, undefined],
    ]);
  });
});

describe('Bulk API 2.0 poll schedule', () => {
  const FIELDS = ['Id', 'MarkMail_ID__c', 'Email', 'LastName'];
  function job(scope: nock.Scope, id: string, polls: Array<Record<string, unknown>>, externalIds: string[]) {
    scope
      .post(`${V}/jobs/ingest`)
      .reply(200, { id, state: 'Open' }, JSON_HEADERS)
      .put(`${V}/jobs/ingest/${id}/batches`)
      .reply(201)
      .patch(`${V}/jobs/ingest/${id}`, { state: 'UploadComplete' })
      .reply(200, { id, state: 'UploadComplete' }, JSON_HEADERS);
    for (const poll of polls) scope.get(`${V}/jobs/ingest/${id}`).reply(200, { id, ...poll }, JSON_HEADERS);
    scope
      .get(`${V}/jobs/ingest/${id}/successfulResults`)
      .reply(
        200,
        `"sf__Id","sf__Created",MarkMail_ID__c\n${externalIds.map((x, i) => `003${id.slice(-3)}${i},true,${x}\n`).join('')}`,
        CSV_HEADERS,
      );
  }

  it("times a call's first poll from the pace of the same org's previous call", async () => {
    // Date.now() drives the pace: each sleep moves it forward by the wait asked for.
    let now = Date.parse('2026-11-25T12:00:00.000Z');
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => now);
    const waits: number[] = [];
    try {
      const scope = sf()
        .get(`${V}/sobjects/Contact/describe`)
        .reply(
          200,
          { name: 'Contact', fields: FIELDS.map((name) => ({ name, type: 'string' })) },
          JSON_HEADERS,
        );
      const done = { state: 'JobComplete', numberRecordsProcessed: 4, numberRecordsFailed: 0 };
      job(
        scope,
        '750A',
        [{ state: 'InProgress', numberRecordsProcessed: 0 }, done],
        ['u-0', 'u-1', 'u-2', 'u-3'],
      );
      job(scope, '750B', [done], ['u-4', 'u-5', 'u-6', 'u-7']);
      const sfp = provider({
        bulkThreshold: 2,
        sleep: async (ms: number) => {
          waits.push(ms);
          now += ms;
        },
      });
      const first = await sfp.bulkSyncContacts(contacts(4), { mode: 'bulk' });
      // No pace known yet: 250 ms, then doubled while the job reports no progress.
      expect(waits).toEqual([250, 500]);
      waits.length = 0;
      const second = await sfp.bulkSyncContacts(contacts(4, 4), { mode: 'bulk' });
      // 750 ms for 4 rows last time: the next 4-row job is first polled at 90% of that, and one
      // poll finds it complete (it would be 250, 500 from scratch).
      expect(waits).toEqual([675]);
      scope.done();
      expect([...first.results, ...second.results].every((r) => r.success)).toBe(true);
      expect(second.apiCalls).toBe(5);
    } finally {
      spy.mockRestore();
    }
  });
});
