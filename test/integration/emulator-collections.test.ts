import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

const rolledBack = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

describe('sObject Collections', () => {
  it('creates records and reports per-record failures with statusCode', async () => {
    const results = await conn
      .sobject('Contact')
      .create([{ LastName: 'One' }, { FirstName: 'No last name' }]);
    expect(results[0]).toMatchObject({ success: true, errors: [] });
    expect(results[1]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [LastName]',
          fields: ['LastName'],
        },
      ],
    });
    expect(sf.records('Contact')).toHaveLength(1);
    expect(sf.stats.byRoute['POST /services/data/:version/composite/sobjects']).toBe(1);
  });

  it('rolls everything back with allOrNone', async () => {
    const results = await conn
      .sobject('Contact')
      .create([{ LastName: 'One' }, { LastName: 'Two', Email: 'bad' }], { allOrNone: true });
    expect(results[0]).toEqual({ success: false, errors: [rolledBack] });
    expect(results[1]?.errors[0]).toMatchObject({ statusCode: 'INVALID_EMAIL_ADDRESS' });
    expect(sf.records('Contact')).toHaveLength(0);
  });

  it('rolls back updates and deletes too', async () => {
    const [a, b] = sf.store.insert('Contact', [{ LastName: 'A' }, { LastName: 'B' }]);
    const updates = await conn.sobject('Contact').update(
      [
        { Id: a?.id as string, LastName: 'A2' },
        { Id: b?.id as string, LastName: null },
      ],
      { allOrNone: true },
    );
    expect(updates.map((r) => r.success)).toEqual([false, false]);
    expect(sf.records('Contact').map((r) => r.LastName)).toEqual(['A', 'B']);

    const deletes = await conn
      .sobject('Contact')
      .destroy([a?.id as string, '003000000000000AAA'], { allOrNone: true });
    expect(deletes[0]).toMatchObject({ success: false, errors: [rolledBack] });
    expect(sf.records('Contact')).toHaveLength(2);
  });

  it('rejects more than 200 records with EXCEEDED_ID_LIMIT', async () => {
    const records = Array.from({ length: 201 }, (_, i) => ({ LastName: `L${i}` }));
    await expect(conn.sobject('Contact').create(records)).rejects.toMatchObject({
      errorCode: 'EXCEEDED_ID_LIMIT',
      message: 'record limit reached. cannot submit more than 200 records into this call',
    });
    expect(sf.records('Contact')).toHaveLength(0);
  });

  it('upserts by external id with created flags, and allowRecursive chunks big batches', async () => {
    sf.store.insert('Contact', [{ LastName: 'Existing', MarkMail_ID__c: 'ext-0' }]);
    const records = Array.from({ length: 250 }, (_, i) => ({
      LastName: `U${i}`,
      MarkMail_ID__c: `ext-${i}`,
    }));
    const results = await conn.sobject('Contact').upsert(records, 'MarkMail_ID__c', { allowRecursive: true });
    expect(results).toHaveLength(250);
    expect(results[0]).toMatchObject({ success: true, created: false });
    expect(results[1]).toMatchObject({ success: true, created: true });
    expect(sf.records('Contact')).toHaveLength(250);
    expect(sf.stats.byRoute['PATCH /services/data/:version/composite/sobjects/:sobject/:field']).toBe(2);
  });

  it('updates and retrieves many records', async () => {
    const created = sf.store.insert('Contact', [{ LastName: 'A' }, { LastName: 'B' }]);
    const idList = created.map((r) => r.id as string);
    const updated = await conn.sobject('Contact').update(idList.map((Id) => ({ Id, Title: 'CTO' })));
    expect(updated.every((r) => r.success)).toBe(true);
    const retrieved = (await conn.sobject('Contact').retrieve(idList, { fields: ['Title'] })) as Array<{
      Title: string;
    }>;
    expect(retrieved.map((r) => r.Title)).toEqual(['CTO', 'CTO']);
  });

  it('sets a parent by its external id (REST nested object and Bulk-style dotted CSV column)', async () => {
    if (!sf.store.schema('Account')?.field('Ext__c')) {
      sf.addCustomField('Account', { name: 'Ext__c', type: 'string', externalId: true, unique: true });
    }
    const [account] = sf.store.insert('Account', [{ Name: 'Parent', Ext__c: 'acc-1' }]);
    const results = await conn.sobject('Contact').upsert(
      [
        { MarkMail_ID__c: 'c-1', LastName: 'Linked', Account: { Ext__c: 'ACC-1' } },
        { MarkMail_ID__c: 'c-2', LastName: 'Orphan', Account: { Ext__c: 'missing' } },
      ] as never,
      'MarkMail_ID__c',
    );
    expect(results[0]).toMatchObject({ success: true, created: true });
    expect(results[1]?.errors[0]).toMatchObject({
      statusCode: 'INVALID_FIELD',
      message: 'Foreign key external ID: missing not found for field Ext__c in entity Account',
    });
    expect(sf.records('Contact')[0]?.AccountId).toBe(account?.id);

    const csv = sf.store.upsert(
      'Contact',
      'MarkMail_ID__c',
      [{ MarkMail_ID__c: 'c-3', LastName: 'Csv', 'Account.Ext__c': 'acc-1' }],
      {
        valueFormat: 'csv',
      },
    );
    expect(csv[0]).toMatchObject({ success: true, created: true });
    expect(
      sf.store.findByExternalId('Contact', 'MarkMail_ID__c', 'c-3').map((id) => sf.store.get(id)?.AccountId),
    ).toEqual([account?.id]);
  });

  it('mixes object types in one create call', async () => {
    const results = await conn.request<Array<{ success: boolean; id: string }>>({
      method: 'POST',
      url: '/services/data/v62.0/composite/sobjects',
      body: JSON.stringify({
        allOrNone: false,
        records: [
          { attributes: { type: 'Account' }, Name: 'Acme' },
          { attributes: { type: 'Lead' }, LastName: 'Lead', Company: 'Acme' },
        ],
      }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(results.map((r) => r.id.slice(0, 3))).toEqual(['001', '00Q']);
  });
});

describe('composite', () => {
  const composite = (body: unknown) =>
    conn.request<{
      compositeResponse: Array<{ httpStatusCode: number; body: unknown; referenceId: string }>;
    }>({
      method: 'POST',
      url: '/services/data/v62.0/composite',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });

  it('runs dependent subrequests with @{ref.id} references as one API call', async () => {
    const before = sf.apiUsage().used;
    const result = await composite({
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'acc',
          body: { Name: 'Composite' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'con',
          body: { LastName: 'Ref', AccountId: '@{acc.id}' },
        },
        {
          method: 'GET',
          url: '/services/data/v62.0/sobjects/Contact/@{con.id}?fields=AccountId',
          referenceId: 'get',
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 201, 200]);
    const account = sf.records('Account')[0];
    expect((result.compositeResponse[2]?.body as { AccountId: string } | undefined)?.AccountId).toBe(
      account?.Id,
    );
    expect(sf.apiUsage().used - before).toBe(1);
  });

  it('rolls every subrequest back with allOrNone and reports PROCESSING_HALTED', async () => {
    const result = await composite({
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'acc',
          body: { Name: 'Undone' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'bad',
          body: { FirstName: 'NoLast' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Lead',
          referenceId: 'later',
          body: { LastName: 'L', Company: 'C' },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 400, 400]);
    expect(result.compositeResponse[0]?.body).toEqual([
      {
        errorCode: 'PROCESSING_HALTED',
        message: 'The transaction was rolled back since another operation in the same transaction failed.',
      },
    ]);
    expect(
      (result.compositeResponse[1]?.body as Array<{ errorCode: string }> | undefined)?.[0]?.errorCode,
    ).toBe('REQUIRED_FIELD_MISSING');
    expect(sf.records('Account')).toHaveLength(0);
    expect(sf.records('Lead')).toHaveLength(0);
  });

  it('runs independent batch subrequests', async () => {
    const result = await conn.request<{ hasErrors: boolean; results: Array<{ statusCode: number }> }>({
      method: 'POST',
      url: '/services/data/v62.0/composite/batch',
      body: JSON.stringify({
        batchRequests: [
          { method: 'POST', url: 'v62.0/sobjects/Account', richInput: { Name: 'Batch' } },
          { method: 'GET', url: 'v62.0/sobjects/Account/001000000000000AAA' },
        ],
      }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(result.hasErrors).toBe(true);
    expect(result.results.map((r) => r.statusCode)).toEqual([201, 404]);
  });
});
