import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';
import { RUNNING_FAILURE_MESSAGE } from '../../src/testing/salesforce-emulator/bulk/bulk-faults.js';

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

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sf.instanceUrl}/services/data/v62.0${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${sf.accessToken}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  });
}

async function runIngestJob(csv: string): Promise<{ info: Record<string, unknown>; id: string }> {
  const created = (await (
    await api('/jobs/ingest', {
      method: 'POST',
      body: JSON.stringify({ object: 'Contact', operation: 'upsert', externalIdFieldName: 'MarkMail_ID__c' }),
    })
  ).json()) as { id: string };
  const put = await api(`/jobs/ingest/${created.id}/batches`, {
    method: 'PUT',
    body: csv,
    headers: { 'Content-Type': 'text/csv' },
  });
  expect(put.status).toBe(201);
  await api(`/jobs/ingest/${created.id}`, {
    method: 'PATCH',
    body: JSON.stringify({ state: 'UploadComplete' }),
  });
  for (let i = 0; i < 500; i++) {
    const info = (await (await api(`/jobs/ingest/${created.id}`)).json()) as Record<string, unknown>;
    if (info.state === 'JobComplete' || info.state === 'Failed') return { info, id: created.id };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('job never finished');
}

async function results(id: string, kind: string): Promise<Array<Record<string, string>>> {
  const text = await (await api(`/jobs/ingest/${id}/${kind}`, { headers: { Accept: 'text/csv' } })).text();
  return parse(text, { columns: true }) as Array<Record<string, string>>;
}

const csv = (count: number) =>
  `MarkMail_ID__c,LastName,Email\n${Array.from({ length: count }, (_, i) => `h-${i},L${i},p${i}@example.com`).join('\n')}\n`;

describe('emulator fault controls: faults after the request was processed', () => {
  it('applies the write, then answers with the injected status', async () => {
    sf.faults.add({ method: 'POST', path: '/sobjects/Contact', status: 503, after: true });
    const response = await api('/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'Landed', Email: 'landed@example.com' }),
    });
    expect(response.status).toBe(503);
    // The client saw a failure, but the record exists: the write landed.
    expect(sf.records('Contact').map((r) => r.LastName)).toEqual(['Landed']);
  });

  it('applies the write, then drops the connection without an answer', async () => {
    sf.faults.add({ method: 'PATCH', path: '/sobjects/Contact/MarkMail_ID__c', drop: true, after: true });
    await expect(
      api('/sobjects/Contact/MarkMail_ID__c/h-1', {
        method: 'PATCH',
        body: JSON.stringify({ LastName: 'Dropped' }),
      }),
    ).rejects.toThrow();
    expect(sf.records('Contact').map((r) => r.MarkMail_ID__c)).toEqual(['h-1']);
  });

  it('does not apply an after-fault before processing (a before-fault writes nothing)', async () => {
    sf.faults.add({ method: 'POST', path: '/sobjects/Contact', status: 503 });
    const response = await api('/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'No' }),
    });
    expect(response.status).toBe(503);
    expect(sf.records('Contact')).toEqual([]);
  });
});

describe('emulator fault controls: per-record failures inside Bulk results', () => {
  it('fails only the matching rows, with their own error, and processes the rest', async () => {
    await sf.bulk.failRecords([
      {
        column: 'MarkMail_ID__c',
        value: 'h-2',
        statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'Nope',
      },
    ]);
    const { info, id } = await runIngestJob(csv(5));
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5, numberRecordsFailed: 1 });
    const failed = await results(id, 'failedResults');
    expect(failed).toEqual([
      expect.objectContaining({
        MarkMail_ID__c: 'h-2',
        sf__Error: 'FIELD_CUSTOM_VALIDATION_EXCEPTION:Nope: --',
      }),
    ]);
    expect((await results(id, 'successfulResults')).map((r) => r.MarkMail_ID__c).sort()).toEqual([
      'h-0',
      'h-1',
      'h-3',
      'h-4',
    ]);
    expect(sf.records('Contact').map((r) => r.MarkMail_ID__c)).not.toContain('h-2');
  });

  it('refuses a malformed fault spec', async () => {
    await expect(sf.bulk.failRecords([{ column: 'X' } as never])).rejects.toThrow(/HTTP 400/);
  });

  it('is cleared by reset()', async () => {
    await sf.bulk.failRecords([{ column: 'MarkMail_ID__c', value: 'h-0' }]);
    sf.reset();
    const { info } = await runIngestJob(csv(2));
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsFailed: 0 });
  });
});

describe('emulator fault controls: failing a running job', () => {
  it('fails the job after N rows: those are in the results, the rest are unprocessed', async () => {
    await sf.bulk.failNextJobWhileRunning({ afterRecords: 3 });
    const { info, id } = await runIngestJob(csv(8));
    expect(info).toMatchObject({
      state: 'Failed',
      errorMessage: RUNNING_FAILURE_MESSAGE,
      numberRecordsProcessed: 3,
    });
    expect((await results(id, 'successfulResults')).map((r) => r.MarkMail_ID__c)).toEqual([
      'h-0',
      'h-1',
      'h-2',
    ]);
    expect((await results(id, 'unprocessedrecords')).map((r) => r.MarkMail_ID__c)).toEqual([
      'h-3',
      'h-4',
      'h-5',
      'h-6',
      'h-7',
    ]);
    expect(sf.records('Contact')).toHaveLength(3);
    // Only the next job is affected.
    const second = await runIngestJob(csv(2));
    expect(second.info.state).toBe('JobComplete');
  });
});
