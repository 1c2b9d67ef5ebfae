import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// Behaviour a real org shows that jsforce's own integration suite (3.10.18) relies on.
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
  sf.addCustomField('Account', { name: 'Ext__c', type: 'string', externalId: true });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sf.instanceUrl}${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${sf.accessToken}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  });
}

describe('Bulk API 2.0 ingest edge cases', () => {
  it('inserts every row of an upsert keyed on Id when the CSV has no Id column (sf__Created=true)', async () => {
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Id',
      input: 'Name\nFirst\nSecond\n',
      ...poll,
    });
    expect(result.failedResults).toEqual([]);
    expect(result.successfulResults.map((r) => [r.sf__Created, (r as Record<string, unknown>).Name])).toEqual(
      [
        ['true', 'First'],
        ['true', 'Second'],
      ],
    );
    expect(
      sf
        .records('Account')
        .map((r) => r.Name)
        .sort(),
    ).toEqual(['First', 'Second']);
  });

  it('accepts an empty cell in a read-only column (nothing is written) but refuses a value there', async () => {
    const result = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: 'Name,JigsawCompanyId\nEmpty,\nFilled,123\n',
      ...poll,
    });
    expect(result.successfulResults.map((r) => (r as Record<string, unknown>).Name)).toEqual(['Empty']);
    expect(result.failedResults.map((r) => r.sf__Error)).toEqual([
      expect.stringMatching(
        /^INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create\/update fields: JigsawCompanyId/,
      ),
    ]);
  });

  it('still fails an upsert keyed on an external id whose column is missing', async () => {
    await expect(
      conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation: 'upsert',
        externalIdFieldName: 'Ext__c',
        input: 'Name\nFirst\n',
        ...poll,
      }),
    ).rejects.toThrow('Field name not found : Ext__c');
  });

  it('completes update and delete jobs with no rows at all, with empty results', async () => {
    for (const operation of ['update', 'delete'] as const) {
      const result = await conn.bulk2.loadAndWaitForResults({
        object: 'Account',
        operation,
        input: [],
        ...poll,
      });
      expect(result).toEqual({ successfulResults: [], failedResults: [], unprocessedRecords: [] });
    }
  });
});

describe('sObject Collections upsert with allOrNone', () => {
  it('reports created:true on rows that would have been inserted, the invalid one included (API >= 46)', async () => {
    const existing = sf.store.insert('Account', [{ Name: 'Old', Ext__c: 'old' }])[0]?.id;
    const records = [
      { Name: 'A', Ext__c: 'a' },
      { Name: 'B', Ext__c: 'b', OwnerId: 'INVALID_OWNER' },
      { Name: 'Renamed', Ext__c: 'old' },
    ];
    const results = await conn.sobject('Account').upsert(records, 'Ext__c', { allOrNone: true });
    expect(
      results.map((r) => [
        r.success,
        r.created,
        r.errors.map((e) => (e as unknown as { statusCode: string }).statusCode),
      ]),
    ).toEqual([
      [false, true, ['ALL_OR_NONE_OPERATION_ROLLED_BACK']],
      [false, true, ['MALFORMED_ID']],
      [false, false, ['ALL_OR_NONE_OPERATION_ROLLED_BACK']],
    ]);
    expect(sf.records('Account').map((r) => [r.Id, r.Name])).toEqual([[existing, 'Old']]);
  });
});

describe('query plans (GET /query?explain=)', () => {
  it('explains a SOQL query with a TableScan plan over the object', async () => {
    sf.store.insert('Account', [{ Name: 'One' }, { Name: 'Two' }, { Name: 'Three' }, { Name: 'Four' }]);
    const result = (await conn.query("SELECT Id FROM Account WHERE Name LIKE 'T%'").explain()) as {
      plans: Array<Record<string, unknown>>;
    };
    expect(result.plans).toEqual([
      {
        cardinality: 2,
        fields: [],
        leadingOperationType: 'TableScan',
        notes: [],
        relativeCost: 0.5,
        sobjectCardinality: 4,
        sobjectType: 'Account',
      },
    ]);
  });

  it('reports an Index plan when the filter compares Id or an external id', async () => {
    const id = sf.store.insert('Account', [{ Name: 'One' }])[0]?.id as string;
    const response = await raw(
      `/services/data/v62.0/query?explain=${encodeURIComponent(`SELECT Name FROM Account WHERE Id = '${id}'`)}`,
    );
    const body = (await response.json()) as {
      plans: Array<{ leadingOperationType: string; fields: string[] }>;
    };
    expect(body.plans[0]).toMatchObject({ leadingOperationType: 'Index', fields: ['Id'], cardinality: 1 });
  });

  it('answers a malformed explained query like the query itself, and an unknown id with MALFORMED_QUERY', async () => {
    const bad = await raw('/services/data/v62.0/query?explain=SELECT%20Nope%20FROM%20Account');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_FIELD');
    const unknown = await raw('/services/data/v62.0/query?explain=00B000000000000AAA');
    expect(((await unknown.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('MALFORMED_QUERY');
  });
});

describe('405 and the version resource list', () => {
  it('lists only the methods a path accepts in a 405', async () => {
    const response = await raw('/services/data/v62.0/composite/sobjects/Account', {
      method: 'PUT',
      body: '{}',
    });
    expect(response.status).toBe(405);
    const [error] = (await response.json()) as Array<{ message: string; errorCode: string }>;
    expect(error?.errorCode).toBe('METHOD_NOT_ALLOWED');
    expect(error?.message).toBe("HTTP Method 'PUT' not allowed. Allowed are GET,HEAD,POST");
  });

  it('advertises only resources that answer', async () => {
    const body = (await (await raw('/services/data/v62.0')).json()) as Record<string, string>;
    for (const [name, url] of Object.entries(body)) {
      const response = await raw(name === 'identity' ? url.replace(sf.instanceUrl, '') : url);
      expect([name, response.status]).not.toEqual([name, 404]);
    }
  });
});
