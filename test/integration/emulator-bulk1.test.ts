import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  conn.bulk.pollInterval = 20;
});
afterAll(async () => {
  await sf.stop();
});
// No reset between tests: jsforce closes Bulk 1.0 jobs in the background after `load()` resolves,
// and a reset would drop a job it is still closing. Tests use their own records instead.
const accounts = (prefix: string) => sf.records('Account').filter((a) => String(a.Name).startsWith(prefix));

const ASYNC = '/services/async/62.0';
async function call(
  path: string,
  init: RequestInit = {},
  session = sf.accessToken,
): Promise<{ status: number; text: string; type: string }> {
  const response = await fetch(`${sf.instanceUrl}${ASYNC}${path}`, {
    ...init,
    headers: { 'X-SFDC-Session': session, 'Content-Type': 'application/xml; charset=utf-8', ...init.headers },
  });
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
async function waitForBatch(jobId: string, batchId: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const info = (await call(`/job/${jobId}/batch/${batchId}`)).text;
    if (!['Queued', 'InProgress'].includes(tag(info, 'state') ?? '')) return info;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('batch never finished');
}

describe('Bulk API 1.0 through jsforce (CSV batches)', () => {
  it('inserts, reporting a failed row as STATUS:message:fields and the rest as created', async () => {
    const results = await conn.bulk.load('Account', 'insert', [
      { Name: 'Ins One', NumberOfEmployees: 5 },
      { BillingState: 'CA' },
    ]);
    expect(results[0]).toMatchObject({ success: true, created: true, errors: [] });
    expect(results[1]).toEqual({
      id: null,
      success: false,
      created: false,
      errors: ['REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --'],
    });
    expect(accounts('Ins ').map((a) => [a.Name, a.NumberOfEmployees])).toEqual([['Ins One', 5]]);
    expect(sf.records('Account').filter((a) => a.BillingState === 'CA')).toHaveLength(0);
  });

  it('updates and deletes by Id, and upserts on an external id', async () => {
    const [inserted] = await conn.bulk.load('Account', 'insert', [{ Name: 'Upd Before' }]);
    const id = inserted?.id as string;
    expect((await conn.bulk.load('Account', 'update', [{ Id: id, Name: 'Upd After' }]))[0]).toMatchObject({
      id,
      success: true,
      created: false,
    });
    expect(accounts('Upd ').map((a) => a.Name)).toEqual(['Upd After']);
    sf.store.insert('Contact', [{ LastName: 'Old', MarkMail_ID__c: 'mm-1' }]);
    const upserted = await conn.bulk.load('Contact', 'upsert', { extIdField: 'MarkMail_ID__c' }, [
      { LastName: 'Renamed', MarkMail_ID__c: 'mm-1' },
      { LastName: 'New', MarkMail_ID__c: 'mm-2' },
    ]);
    expect(upserted.map((r) => [r.success, r.created])).toEqual([
      [true, false],
      [true, true],
    ]);
    expect((await conn.bulk.load('Account', 'delete', [{ Id: id }]))[0]).toMatchObject({ id, success: true });
    expect(accounts('Upd ')).toHaveLength(0);
  });

  it('refuses an empty batch with ClientInputError and a bad session with InvalidSessionId', async () => {
    await expect(conn.bulk.load('Account', 'update', [])).rejects.toMatchObject({ name: 'ClientInputError' });
    const stranger = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: 'invalid_token',
      version: '62.0',
    });
    await expect(stranger.bulk.load('Account', 'insert', [{ Name: 'X' }])).rejects.toMatchObject({
      name: 'InvalidSessionId',
    });
  });

  it('runs a query batch and streams its CSV result set', async () => {
    sf.store.insert('Account', [{ Name: 'Q A, "quoted"' }, { Name: 'Q B' }]);
    const stream = await conn.bulk.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Q %' ORDER BY Name");
    const records = await new Promise<Array<Record<string, string>>>((resolve, reject) => {
      const out: Array<Record<string, string>> = [];
      stream
        .on('record', (record: Record<string, string>) => out.push(record))
        .on('error', reject)
        .on('end', () => resolve(out));
    });
    expect(records.map((r) => r.Name)).toEqual(['Q A, "quoted"', 'Q B']);
  });
});

describe('Bulk API 1.0 wire format', () => {
  it('takes XML batches and answers XML results, job and batch info', async () => {
    const job = await call('/job', {
      method: 'POST',
      body: `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Contact</object><contentType>XML</contentType></jobInfo>`,
    });
    expect(job.status).toBe(201);
    expect(job.type).toContain('application/xml');
    expect(tag(job.text, 'state')).toBe('Open');
    const jobId = tag(job.text, 'id') as string;
    expect(jobId.startsWith('750')).toBe(true);
    const batch = await call(`/job/${jobId}/batch`, {
      method: 'POST',
      body: `<sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload"><sObject><LastName>Xml</LastName><Email>x@example.com</Email></sObject><sObject><FirstName>NoLast</FirstName></sObject></sObjects>`,
    });
    const batchId = tag(batch.text, 'id') as string;
    expect(tag(await waitForBatch(jobId, batchId), 'numberRecordsFailed')).toBe('1');
    const results = await call(`/job/${jobId}/batch/${batchId}/result`);
    expect(results.text).toContain('<success>true</success><created>true</created>');
    expect(results.text).toContain('<statusCode>REQUIRED_FIELD_MISSING</statusCode>');
    const closed = await call(`/job/${jobId}`, {
      method: 'POST',
      body: '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>',
    });
    expect([
      tag(closed.text, 'state'),
      tag(closed.text, 'numberBatchesCompleted'),
      tag(closed.text, 'numberRecordsProcessed'),
    ]).toEqual(['Closed', '1', '2']);
    const late = await call(`/job/${jobId}/batch`, { method: 'POST', body: '<sObjects/>' });
    expect([late.status, tag(late.text, 'exceptionCode')]).toEqual([400, 'InvalidJobState']);
  });

  it('speaks JSON when the job is created with JSON', async () => {
    const job = await call('/job', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ operation: 'insert', object: 'Account', contentType: 'JSON' }),
    });
    const { id } = JSON.parse(job.text) as { id: string };
    const batch = JSON.parse(
      (
        await call(`/job/${id}/batch`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify([{ Name: 'Json One' }]),
        })
      ).text,
    ) as { id: string };
    await waitForBatch(id, batch.id);
    const results = JSON.parse((await call(`/job/${id}/batch/${batch.id}/result`)).text) as Array<{
      success: boolean;
    }>;
    expect(results).toEqual([expect.objectContaining({ success: true, created: true, errors: [] })]);
  });

  it('fails a batch with an unknown column as a whole, and names unknown jobs and objects', async () => {
    const job = await call('/job', {
      method: 'POST',
      body: '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Account</object><contentType>CSV</contentType></jobInfo>',
    });
    const jobId = tag(job.text, 'id') as string;
    const batch = await call(`/job/${jobId}/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv' },
      body: 'Name,Nope\nA,b\n',
    });
    const info = await waitForBatch(jobId, tag(batch.text, 'id') as string);
    expect([tag(info, 'state'), tag(info, 'stateMessage')]).toEqual([
      'Failed',
      'InvalidBatch : Field name not found : Nope',
    ]);
    expect(sf.records('Account').filter((a) => a.Name === 'A')).toHaveLength(0);
    const unknown = await call('/job/750000000000000AAA');
    expect([unknown.status, tag(unknown.text, 'exceptionCode')]).toEqual([400, 'InvalidJob']);
    const badObject = await call('/job', {
      method: 'POST',
      body: '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Nope</object></jobInfo>',
    });
    expect(tag(badObject.text, 'exceptionMessage')).toBe('Unable to find object: Nope');
    const doctype = await call('/job', { method: 'POST', body: '<!DOCTYPE x [<!ENTITY a "b">]><jobInfo/>' });
    expect(tag(doctype.text, 'exceptionCode')).toBe('InvalidXML');
  });
});
