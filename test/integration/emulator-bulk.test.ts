import { parse } from 'csv-parse/sync';
import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;
const poll = { pollInterval: 20, pollTimeout: 20_000 };

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sf.instanceUrl}/services/data/v62.0${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${sf.accessToken}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  });
}

async function createJob(body: Record<string, unknown>): Promise<{ id: string; state: string }> {
  const response = await raw('/jobs/ingest', { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; state: string };
}

async function waitForState(id: string, states: string[]): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500; i++) {
    const info = (await (await raw(`/jobs/ingest/${id}`)).json()) as Record<string, unknown>;
    if (states.includes(info.state as string)) return info;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`job ${id} never reached ${states.join('/')}`);
}

function collect(stream: NodeJS.EventEmitter): Promise<Array<Record<string, string>>> {
  return new Promise((resolve, reject) => {
    const records: Array<Record<string, string>> = [];
    stream.on('record', (record: Record<string, string>) => records.push(record));
    stream.on('end', () => resolve(records));
    stream.on('error', reject);
  });
}

const tricky = [
  { LastName: 'Comma, Jr.', FirstName: 'Ann', Email: 'ann@example.com', MarkMail_ID__c: 'mm-1' },
  { LastName: 'Say "hi"', FirstName: 'Bo', Email: 'bo@example.com', MarkMail_ID__c: 'mm-2' },
  { LastName: 'Multi\nLine\r\nName', FirstName: 'Cy', Email: 'cy@example.com', MarkMail_ID__c: 'mm-3' },
  { LastName: 'Emoji 🎉✉️', FirstName: '山田', Email: 'yamada@example.jp', MarkMail_ID__c: 'mm-4' },
  { LastName: '김민준', FirstName: '  padded  ', Email: 'kim@example.kr', MarkMail_ID__c: 'mm-5' },
];

describe('ingest jobs through jsforce bulk2.loadAndWaitForResults', () => {
  it('inserts records with commas, quotes, newlines, emoji and CJK text byte for byte', async () => {
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: tricky,
      ...poll,
    });
    expect(result.failedResults).toEqual([]);
    expect(result.unprocessedRecords).toEqual([]);
    expect(result.successfulResults).toHaveLength(5);
    for (const [i, row] of result.successfulResults.entries()) {
      expect(row.sf__Id).toMatch(/^003[a-zA-Z0-9]{15}$/);
      expect(row.sf__Created).toBe('true');
      expect((row as unknown as Record<string, string>).LastName).toBe(tricky[i]?.LastName);
    }
    const stored = sf.records('Contact');
    expect(stored.map((r) => [r.LastName, r.FirstName, r.Email])).toEqual(
      tricky.map((r) => [r.LastName, r.FirstName, r.Email]),
    );
  });

  it('upserts by MarkMail_ID__c: creates, then updates, and reports per-record failures', async () => {
    await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'MarkMail_ID__c',
      input: tricky.slice(0, 2),
      ...poll,
    });
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'MarkMail_ID__c',
      input: [
        { MarkMail_ID__c: 'mm-1', LastName: 'Updated', Email: 'ann@example.com' },
        { MarkMail_ID__c: 'mm-9', LastName: 'New', Email: 'new@example.com' },
        { MarkMail_ID__c: 'mm-10', LastName: 'Bad', Email: 'not-an-email' },
        { MarkMail_ID__c: 'mm-11', LastName: null, Email: 'nolast@example.com' },
      ],
      ...poll,
    });
    const created = Object.fromEntries(
      result.successfulResults.map((r) => [
        (r as unknown as Record<string, string>).MarkMail_ID__c,
        r.sf__Created,
      ]),
    );
    expect(created).toEqual({ 'mm-1': 'false', 'mm-9': 'true' });
    const errors = Object.fromEntries(
      result.failedResults.map((r) => [(r as unknown as Record<string, string>).MarkMail_ID__c, r.sf__Error]),
    );
    expect(errors['mm-10']).toBe('INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --');
    expect(errors['mm-11']).toBe(
      'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --',
    );
    expect(result.failedResults.every((r) => r.sf__Id === '')).toBe(true);
    const names = sf.records('Contact').map((r) => r.LastName);
    expect(names).toEqual(['Updated', 'Say "hi"', 'New']);
  });

  it('reports numberRecordsProcessed and numberRecordsFailed on the job', async () => {
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert' });
    await job.open();
    await job.uploadData([
      { LastName: 'Ok', Email: 'ok@example.com' },
      { LastName: '', Email: 'missing@example.com' },
      { LastName: 'Fine', Email: 'fine@example.com' },
    ]);
    await job.close();
    await job.poll(20, 20_000);
    const info = await job.check();
    expect(info).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 3,
      numberRecordsFailed: 1,
      jobType: 'V2Ingest',
      operation: 'insert',
      object: 'Contact',
    });
  });

  it('deletes by Id and fails unknown or malformed ids per record', async () => {
    const [a, b] = sf.store.insert('Contact', [{ LastName: 'A' }, { LastName: 'B' }]);
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'delete',
      input: [{ Id: a?.id as string }, { Id: b?.id as string }, { Id: 'not-an-id' }],
      ...poll,
    });
    expect(result.successfulResults.map((r) => r.sf__Id)).toEqual([a?.id, b?.id]);
    expect(result.failedResults).toHaveLength(1);
    expect(result.failedResults[0]?.sf__Error).toMatch(/^MALFORMED_ID:/);
    expect(result.failedResults[0]?.sf__Id).toBe('not-an-id');
    expect(sf.records('Contact')).toEqual([]);
    expect(sf.records('Contact', { includeDeleted: true })).toHaveLength(2);
  });

  it('hard-deletes for good and sets parents through Account.<external id> columns', async () => {
    if (!sf.store.schema('Account')?.field('Ext__c')) {
      sf.addCustomField('Account', { name: 'Ext__c', type: 'string', externalId: true, unique: true });
    }
    const [account] = sf.store.insert('Account', [{ Name: 'Parent', Ext__c: 'acc-1' }]);
    const inserted = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: 'LastName,Account.Ext__c\nChild,acc-1\nOrphan,acc-404\n',
      ...poll,
    });
    expect(inserted.successfulResults).toHaveLength(1);
    expect(inserted.failedResults[0]?.sf__Error).toBe(
      'INVALID_FIELD:Foreign key external ID: acc-404 not found for field Ext__c in entity Account:AccountId --',
    );
    const [child] = sf.records('Contact');
    expect(child?.AccountId).toBe(account?.id);

    const removed = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'hardDelete',
      input: [{ Id: child?.Id as string }],
      ...poll,
    });
    expect(removed.successfulResults.map((r) => r.sf__Id)).toEqual([child?.Id]);
    expect(sf.records('Contact', { includeDeleted: true })).toEqual([]);
  });

  it('rejects with the job errorMessage when bulk.failNextJob() is set, writing nothing', async () => {
    await sf.bulk.failNextJob({ errorMessage: 'InvalidBatch : injected for the test' });
    await expect(
      conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input: tricky, ...poll }),
    ).rejects.toThrow('Ingest job failed to complete due to: InvalidBatch : injected for the test');
    expect(sf.records('Contact')).toEqual([]);
    // The next job is healthy again.
    const ok = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: [{ LastName: 'After' }],
      ...poll,
    });
    expect(ok.successfulResults).toHaveLength(1);
  });
});

describe('CSV rules', () => {
  it('leaves empty cells unchanged, sets #N/A to null and accepts CRLF when the job says so', async () => {
    const [existing] = sf.store.insert('Contact', [
      { LastName: 'Keep', FirstName: 'First', Title: 'CTO', Email: 'k@example.com' },
    ]);
    const job = await createJob({ object: 'Contact', operation: 'update', lineEnding: 'CRLF' });
    const csv = `Id,FirstName,Title,Email\r\n${existing?.id},,#N/A,"new@example.com"\r\n`;
    const put = await raw(`/jobs/ingest/${job.id}/batches`, {
      method: 'PUT',
      body: csv,
      headers: { 'Content-Type': 'text/csv' },
    });
    expect(put.status).toBe(201);
    expect(await put.text()).toBe('');
    await raw(`/jobs/ingest/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'UploadComplete' }),
    });
    await waitForState(job.id, ['JobComplete']);
    const [row] = sf.records('Contact');
    expect(row).toMatchObject({
      FirstName: 'First',
      Title: null,
      Email: 'new@example.com',
      LastName: 'Keep',
    });
    const results = await (await raw(`/jobs/ingest/${job.id}/successfulResults`)).text();
    expect(results).toBe(
      `sf__Id,sf__Created,Id,FirstName,Title,Email\r\n${existing?.id},false,${existing?.id},,#N/A,new@example.com\r\n`,
    );
  });

  it('fails the job when the data uses CRLF but the job declares LF', async () => {
    const job = await createJob({ object: 'Contact', operation: 'insert' });
    await raw(`/jobs/ingest/${job.id}/batches`, {
      method: 'PUT',
      body: 'LastName\r\nA\r\n',
      headers: { 'Content-Type': 'text/csv' },
    });
    await raw(`/jobs/ingest/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'UploadComplete' }),
    });
    const info = await waitForState(job.id, ['Failed', 'JobComplete']);
    expect(info).toMatchObject({
      state: 'Failed',
      errorMessage: 'ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF',
    });
    const unprocessed = await (await raw(`/jobs/ingest/${job.id}/unprocessedrecords`)).text();
    expect(unprocessed).toBe('LastName\r\nA\r\n');
  });

  it('fails the job for an unknown column and reads other delimiters', async () => {
    const bad = await createJob({ object: 'Contact', operation: 'insert' });
    await raw(`/jobs/ingest/${bad.id}/batches`, { method: 'PUT', body: 'LastName,Nope__c\nA,b\n' });
    await raw(`/jobs/ingest/${bad.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'UploadComplete' }),
    });
    expect(await waitForState(bad.id, ['Failed', 'JobComplete'])).toMatchObject({
      state: 'Failed',
      errorMessage: 'InvalidBatch : Field name not found : Nope__c',
    });

    const piped = await createJob({ object: 'Contact', operation: 'insert', columnDelimiter: 'PIPE' });
    await raw(`/jobs/ingest/${piped.id}/batches`, { method: 'PUT', body: 'LastName|Title\n"A|B"|x,y\n' });
    await raw(`/jobs/ingest/${piped.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'UploadComplete' }),
    });
    expect(await waitForState(piped.id, ['Failed', 'JobComplete'])).toMatchObject({ state: 'JobComplete' });
    expect(sf.records('Contact').map((r) => [r.LastName, r.Title])).toEqual([['A|B', 'x,y']]);
  });
});

describe('ingest job lifecycle and errors', () => {
  it('creates an Open job with contentUrl, lists it, refuses a second upload and aborts it', async () => {
    const job = await createJob({
      object: 'contact',
      operation: 'upsert',
      externalIdFieldName: 'markmail_id__c',
    });
    expect(job).toMatchObject({
      state: 'Open',
      object: 'Contact',
      externalIdFieldName: 'MarkMail_ID__c',
      contentUrl: `services/data/v62.0/jobs/ingest/${job.id}/batches`,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
    });
    expect(job.id).toMatch(/^750/);
    const list = (await (await raw('/jobs/ingest')).json()) as {
      done: boolean;
      records: Array<{ id: string }>;
    };
    expect(list.done).toBe(true);
    expect(list.records.map((r) => r.id)).toEqual([job.id]);

    const csv = 'MarkMail_ID__c,LastName\nx-1,One\n';
    expect((await raw(`/jobs/ingest/${job.id}/batches`, { method: 'PUT', body: csv })).status).toBe(201);
    const second = await raw(`/jobs/ingest/${job.id}/batches`, { method: 'PUT', body: csv });
    expect(second.status).toBe(400);
    expect(((await second.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('BULK_API_ERROR');

    const aborted = await raw(`/jobs/ingest/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'Aborted' }),
    });
    expect(((await aborted.json()) as { state: string }).state).toBe('Aborted');
    expect(await (await raw(`/jobs/ingest/${job.id}/unprocessedrecords`)).text()).toBe(csv);
    expect(sf.records('Contact')).toEqual([]);
    const close = await raw(`/jobs/ingest/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'UploadComplete' }),
    });
    expect(close.status).toBe(409);

    expect((await raw(`/jobs/ingest/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await raw(`/jobs/ingest/${job.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
  });

  it('aborts through jsforce job.abort()', async () => {
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert' });
    await job.open();
    await job.abort();
    expect((await job.check()).state).toBe('Aborted');
    await expect(job.poll(20, 2000)).rejects.toThrow('Job has been aborted');
  });

  it('answers INVALIDJOB for unknown objects and bad upsert keys, JSON_PARSER_ERROR for bad enums', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ object: 'Nope', operation: 'insert' }, 'INVALIDJOB', 'InvalidJob : Unable to find object: Nope'],
      [
        { object: 'Contact', operation: 'upsert', externalIdFieldName: 'LastName' },
        'INVALIDJOB',
        'InvalidJob : Field name provided, LastName is not an External ID or indexed field for Contact',
      ],
      [
        { object: 'Contact', operation: 'upsert' },
        'INVALIDJOB',
        expect.stringContaining('External ID') as never,
      ],
      [
        { object: 'Contact', operation: 'merge' },
        'JSON_PARSER_ERROR',
        expect.stringContaining('merge') as never,
      ],
      [
        { object: 'Contact', operation: 'insert', lineEnding: 'CR' },
        'JSON_PARSER_ERROR',
        expect.stringContaining('CR') as never,
      ],
    ];
    for (const [body, errorCode, message] of cases) {
      const response = await raw('/jobs/ingest', { method: 'POST', body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual([{ errorCode, message }]);
    }
    expect(sf.stats.apiCalls).toBe(cases.length);
  });

  it('validates the bulk test controls and resets them with the emulator', async () => {
    await expect(sf.bulk.setQueryPageSize(0)).rejects.toThrow('HTTP 400');
    await expect(sf.bulk.failNextJob({ jobType: 'V2Bogus' as 'V2Ingest' })).rejects.toThrow(
      'failNextJob.jobType must be V2Ingest or V2Query',
    );
    const anonymous = await fetch(`${sf.instanceUrl}/__emulator/bulk2`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);

    await sf.bulk.failNextJob();
    sf.reset();
    const ok = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: [{ LastName: 'Unaffected' }],
      ...poll,
    });
    expect(ok.successfulResults).toHaveLength(1);
  });

  it('requires a valid session like every API resource', async () => {
    const response = await fetch(`${sf.instanceUrl}/services/data/v62.0/jobs/ingest`, {
      headers: { Authorization: 'Bearer nope' },
    });
    expect(response.status).toBe(401);
  });
});

describe('query jobs', () => {
  beforeEach(() => {
    sf.store.insert(
      'Contact',
      Array.from({ length: 250 }, (_, i) => ({
        LastName: `Last, "${i}"`,
        Email: `c${i}@example.com`,
        MarkMail_ID__c: `q-${String(i).padStart(3, '0')}`,
      })),
    );
  });

  it('answers a one-page result to jsforce bulk2.query with Sforce-Locator "null"', async () => {
    const stream = await conn.bulk2.query(
      'SELECT Id, LastName, MarkMail_ID__c FROM Contact ORDER BY MarkMail_ID__c',
      poll,
    );
    const records = await collect(stream);
    expect(records).toHaveLength(250);
    expect(records[0]).toMatchObject({ LastName: 'Last, "0"', MarkMail_ID__c: 'q-000' });
    expect(records[249]?.MarkMail_ID__c).toBe('q-249');
  });

  it('splits results into pages chained by Sforce-Locator until the literal "null"', async () => {
    await sf.bulk.setQueryPageSize(100);
    const created = await raw('/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ query: 'SELECT MarkMail_ID__c, LastName FROM Contact ORDER BY MarkMail_ID__c' }),
    });
    const { id } = (await created.json()) as { id: string };
    await conn.bulk2.job('query', { id }).poll(20, 20_000);
    const rows: string[][] = [];
    const counts: string[] = [];
    let locator = '';
    for (let page = 0; page < 10 && locator !== 'null'; page++) {
      const response = await raw(`/jobs/query/${id}/results${locator ? `?locator=${locator}` : ''}`, {
        headers: { Accept: 'text/csv' },
      });
      locator = response.headers.get('sforce-locator') ?? '';
      counts.push(response.headers.get('sforce-numberofrecords') ?? '');
      const [header, ...data] = parse(await response.text()) as string[][];
      expect(header).toEqual(['MarkMail_ID__c', 'LastName']);
      rows.push(...data);
    }
    expect(locator).toBe('null');
    expect(counts).toEqual(['100', '100', '50']);
    expect(rows).toHaveLength(250);
    expect(rows[249]).toEqual(['q-249', 'Last, "249"']);
  });

  it('pages with locator and maxRecords and reports the record count headers', async () => {
    const created = await raw('/jobs/query', {
      method: 'POST',
      body: JSON.stringify({
        operation: 'query',
        query: "SELECT Id, Email FROM Contact WHERE Email LIKE 'c1%'",
      }),
    });
    const job = (await created.json()) as { id: string; state: string; operation: string };
    expect(job).toMatchObject({ state: 'UploadComplete', operation: 'query', object: 'Contact' });
    let info: Record<string, unknown> = {};
    for (let i = 0; i < 100 && info.state !== 'JobComplete'; i++) {
      info = (await (await raw(`/jobs/query/${job.id}`)).json()) as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 111, jobType: 'V2Query' });

    const first = await raw(`/jobs/query/${job.id}/results?maxRecords=100`);
    expect(first.headers.get('sforce-numberofrecords')).toBe('100');
    const locator = first.headers.get('sforce-locator');
    expect(locator).toBeTruthy();
    expect(locator).not.toBe('null');
    const text = await first.text();
    expect(text.split('\n')[0]).toBe('"Id","Email"');
    const second = await raw(`/jobs/query/${job.id}/results?maxRecords=100&locator=${locator}`);
    expect(second.headers.get('sforce-locator')).toBe('null');
    expect(second.headers.get('sforce-numberofrecords')).toBe('11');
  });

  it('compresses results pages with gzip for a client that accepts it, as Salesforce always does', async () => {
    const { request } = await import('node:http');
    const { gunzipSync } = await import('node:zlib');
    const created = await raw('/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ query: 'SELECT Id, Email FROM Contact ORDER BY Email LIMIT 20' }),
    });
    const { id } = (await created.json()) as { id: string };
    await conn.bulk2.job('query', { id }).poll(20, 20_000);
    const get = (acceptEncoding?: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const req = request(`${sf.instanceUrl}/services/data/v62.0/jobs/query/${id}/results?maxRecords=15`, {
          headers: {
            Authorization: `Bearer ${sf.accessToken}`,
            ...(acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding }),
          },
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    const zipped = await get('gzip, deflate, br');
    expect(zipped.headers).toMatchObject({ 'content-encoding': 'gzip', 'sforce-numberofrecords': '15' });
    const plain = await get();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect(plain.body.toString().split('\n')).toHaveLength(17); // header, 15 rows, trailing newline
    expect((await get('gzip;q=0')).headers['content-encoding']).toBeUndefined();
  });

  it('answers MALFORMED_QUERY on create and fails a query job on demand', async () => {
    const bad = await raw('/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ query: 'SELEKT Id FROM' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('MALFORMED_QUERY');

    await sf.bulk.failNextJob({ jobType: 'V2Query' });
    await expect(conn.bulk2.query('SELECT Id FROM Contact', poll)).rejects.toThrow(
      'Query job failed to complete',
    );
  });

  it('aborts a query job and refuses its results', async () => {
    await sf.bulk.setProcessingDelay(10_000);
    const created = await raw('/jobs/query', {
      method: 'POST',
      body: JSON.stringify({ operation: 'queryAll', query: 'SELECT Id FROM Contact' }),
    });
    const { id } = (await created.json()) as { id: string };
    const early = await raw(`/jobs/query/${id}/results`);
    expect(early.status).toBe(412);
    expect(((await early.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('JOB_NOT_COMPLETE');
    const aborted = await raw(`/jobs/query/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ state: 'Aborted' }),
    });
    expect(((await aborted.json()) as { state: string }).state).toBe('Aborted');
    const results = await raw(`/jobs/query/${id}/results`);
    expect(results.status).toBe(412);
    expect((await raw(`/jobs/query/${id}`, { method: 'DELETE' })).status).toBe(204);
  });
});
