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

describe('versions and resources', () => {
  it('lists every API version from 31.0 to 68.0 without counting an API call', async () => {
    const response = await fetch(`${sf.instanceUrl}/services/data`);
    const versions = (await response.json()) as Array<{ version: string; url: string; label: string }>;
    expect(versions[0]).toEqual({ label: "Summer '14", url: '/services/data/v31.0', version: '31.0' });
    expect(versions.at(-1)).toEqual({ label: "Winter '27", url: '/services/data/v68.0', version: '68.0' });
    expect(versions).toHaveLength(38);
    expect(response.headers.get('sforce-limit-info')).toBeNull();
    expect(sf.stats.apiCalls).toBe(0);
  });

  it('treats the double-slash paths the sf CLI sends like single-slash ones', async () => {
    const response = await raw('//services/data/v50.0/sobjects/');
    expect(response.status).toBe(200);
  });

  it('answers 404 NOT_FOUND for an unsupported version', async () => {
    const response = await raw('/services/data/v30.0/sobjects');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
  });

  it('lists version resources with the query and sobjects URLs', async () => {
    const body = (await (await raw('/services/data/v62.0')).json()) as Record<string, string>;
    expect(body.sobjects).toBe('/services/data/v62.0/sobjects');
    expect(body.query).toBe('/services/data/v62.0/query');
  });
});

describe('records', () => {
  it('creates, retrieves, updates and deletes a contact through jsforce', async () => {
    const created = await conn
      .sobject('Contact')
      .create({ FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@example.com' });
    expect(created).toMatchObject({ success: true, errors: [] });
    const id = (created as { id: string }).id;
    expect(id).toMatch(/^003[a-zA-Z0-9]{15}$/);

    const record = (await conn.sobject('Contact').retrieve(id)) as Record<string, unknown>;
    expect(record.attributes).toEqual({
      type: 'Contact',
      url: `/services/data/v62.0/sobjects/Contact/${id}`,
    });
    expect(record.Name).toBe('Ada Lovelace');
    expect(record.IsDeleted).toBe(false);
    expect(record.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(record.OwnerId).toBe(sf.userId);

    await conn.sobject('Contact').update({ Id: id, LastName: 'King' });
    expect(sf.records('Contact')[0]).toMatchObject({ Name: 'Ada King', LastName: 'King' });

    await conn.sobject('Contact').destroy(id);
    expect(sf.records('Contact')).toHaveLength(0);
    expect(sf.records('Contact', { includeDeleted: true })[0]).toMatchObject({ Id: id, IsDeleted: true });
  });

  it('retrieves a 15-character id and honours ?fields=', async () => {
    const [result] = sf.store.insert('Account', [{ Name: 'Acme' }]);
    const response = await raw(
      `/services/data/v62.0/sobjects/Account/${result?.id?.slice(0, 15)}?fields=Name`,
    );
    expect(await response.json()).toEqual({
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${result?.id}` },
      Name: 'Acme',
    });
  });

  it('rejects a missing required field with REQUIRED_FIELD_MISSING and errorCode', async () => {
    const response = await raw('/services/data/v62.0/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ FirstName: 'No last name' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual([
      {
        message: 'Required fields are missing: [LastName]',
        errorCode: 'REQUIRED_FIELD_MISSING',
        fields: ['LastName'],
      },
    ]);
  });

  it('rejects a bad email, an overlong value, an unknown field and a read-only field', async () => {
    const attempt = async (body: Record<string, unknown>) => {
      const response = await raw('/services/data/v62.0/sobjects/Contact', {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      return ((await response.json()) as Array<{ errorCode: string; fields?: string[] }>)[0];
    };
    expect(await attempt({ LastName: 'L', Email: 'not-an-email' })).toMatchObject({
      errorCode: 'INVALID_EMAIL_ADDRESS',
      fields: ['Email'],
    });
    expect(await attempt({ LastName: 'L'.repeat(81) })).toMatchObject({
      errorCode: 'STRING_TOO_LONG',
      fields: ['LastName'],
    });
    expect(await attempt({ LastName: 'L', Nope__c: 1 })).toMatchObject({ errorCode: 'INVALID_FIELD' });
    expect(await attempt({ LastName: 'L', Name: 'Full' })).toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      fields: ['Name'],
    });
    expect(sf.records('Contact')).toHaveLength(0);
  });

  it('requires references to exist and to be of the right type', async () => {
    const [lead] = sf.store.insert('Lead', [{ LastName: 'L', Company: 'C' }]);
    const wrongType = await raw('/services/data/v62.0/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'L', AccountId: lead?.id }),
    });
    expect(((await wrongType.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
      'FIELD_INTEGRITY_EXCEPTION',
    );
    const missing = await raw('/services/data/v62.0/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'L', AccountId: '001000000000000AAA' }),
    });
    expect(((await missing.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
      'INVALID_CROSS_REFERENCE_KEY',
    );
  });

  it('answers ENTITY_IS_DELETED for a deleted record and NOT_FOUND for an unknown one', async () => {
    const [contact] = sf.store.insert('Contact', [{ LastName: 'Gone' }]);
    sf.store.delete([contact?.id as string]);
    const deleted = await raw(`/services/data/v62.0/sobjects/Contact/${contact?.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(404);
    expect(await deleted.json()).toEqual([
      { message: 'entity is deleted', errorCode: 'ENTITY_IS_DELETED', fields: [] },
    ]);
    const unknown = await raw('/services/data/v62.0/sobjects/Contact/003000000000000AAA');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('NOT_FOUND');
  });

  it('rejects a duplicate unique external id with DUPLICATE_VALUE', async () => {
    const [first] = sf.store.insert('Contact', [{ LastName: 'A', MarkMail_ID__c: 'mm-1' }]);
    const response = await raw('/services/data/v62.0/sobjects/Contact', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'B', MarkMail_ID__c: 'MM-1' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual([
      {
        message: `duplicate value found: MarkMail_ID__c duplicates value on record with id: ${first?.id}`,
        errorCode: 'DUPLICATE_VALUE',
        fields: [],
      },
    ]);
  });

  it('refuses a second membership of one contact in a campaign', async () => {
    const [campaign] = sf.store.insert('Campaign', [{ Name: 'Spring' }]);
    const [contact] = sf.store.insert('Contact', [{ LastName: 'Member' }]);
    const member = { CampaignId: campaign?.id, ContactId: contact?.id };
    expect(sf.store.insert('CampaignMember', [member])[0]?.success).toBe(true);
    expect(sf.store.insert('CampaignMember', [member])[0]?.errors[0]).toEqual({
      statusCode: 'DUPLICATE_VALUE',
      message: 'Already a campaign member.',
      fields: [],
    });
    expect(sf.records('CampaignMember')[0]).toMatchObject({ Status: 'Sent', HasResponded: false });
  });
});

describe('cascade deletes', () => {
  it('deleting an account deletes its contacts and their campaign memberships', async () => {
    const [account] = sf.store.insert('Account', [{ Name: 'Parent' }]);
    const [contact] = sf.store.insert('Contact', [{ LastName: 'Child', AccountId: account?.id }]);
    const [campaign] = sf.store.insert('Campaign', [{ Name: 'C' }]);
    sf.store.insert('CampaignMember', [{ CampaignId: campaign?.id, ContactId: contact?.id }]);
    await conn.sobject('Account').destroy(account?.id as string);
    expect(sf.records('Contact')).toHaveLength(0);
    expect(sf.records('CampaignMember')).toHaveLength(0);
    expect(sf.records('Campaign')).toHaveLength(1);
    const deleted = await conn.query('SELECT Id FROM Contact WHERE IsDeleted = true', { scanAll: true });
    expect(deleted.totalSize).toBe(1);
  });

  it('rolls cascaded deletes back with allOrNone', () => {
    const [account] = sf.store.insert('Account', [{ Name: 'Parent' }]);
    sf.store.insert('Contact', [{ LastName: 'Child', AccountId: account?.id }]);
    const results = sf.store.delete([account?.id as string, '001000000000000AAA'], { allOrNone: true });
    expect(results.map((r) => r.success)).toEqual([false, false]);
    expect(sf.records('Contact')).toHaveLength(1);
    expect(sf.records('Account')).toHaveLength(1);
  });
});

describe('upsert by external id', () => {
  it('answers 201 created:true, then 200 created:false (API >= 46)', async () => {
    const first = await conn
      .sobject('Contact')
      .upsert({ MarkMail_ID__c: 'sub-1', LastName: 'One' }, 'MarkMail_ID__c');
    expect(first).toMatchObject({ success: true, created: true });
    const second = await conn
      .sobject('Contact')
      .upsert({ MarkMail_ID__c: 'sub-1', LastName: 'Uno' }, 'MarkMail_ID__c');
    expect(second).toMatchObject({ success: true, created: false, id: (first as { id: string }).id });
    expect(sf.records('Contact')).toHaveLength(1);
    expect(sf.records('Contact')[0]?.LastName).toBe('Uno');
  });

  it('answers 204 for an update on API 45.0', async () => {
    sf.store.insert('Contact', [{ LastName: 'Old', MarkMail_ID__c: 'old-1' }]);
    const response = await raw('/services/data/v45.0/sobjects/Contact/MarkMail_ID__c/old-1', {
      method: 'PATCH',
      body: JSON.stringify({ LastName: 'Older' }),
    });
    expect(response.status).toBe(204);
  });

  it('URL-decodes the external id value', async () => {
    const response = await raw(
      `/services/data/v62.0/sobjects/Contact/MarkMail_ID__c/${encodeURIComponent('a b/c@x.com')}`,
      {
        method: 'PATCH',
        body: JSON.stringify({ LastName: 'Encoded' }),
      },
    );
    expect(response.status).toBe(201);
    expect(sf.records('Contact')[0]?.MarkMail_ID__c).toBe('a b/c@x.com');
  });

  it('answers 300 with the matching record URLs when a non-unique external id matches several records', async () => {
    sf.addCustomField('Contact', { name: 'Legacy_Key__c', type: 'string', externalId: true });
    const [a, b] = sf.store.insert('Contact', [
      { LastName: 'A', Legacy_Key__c: 'dup' },
      { LastName: 'B', Legacy_Key__c: 'dup' },
    ]);
    const response = await raw('/services/data/v62.0/sobjects/Contact/Legacy_Key__c/dup', {
      method: 'PATCH',
      body: JSON.stringify({ LastName: 'C' }),
    });
    expect(response.status).toBe(300);
    expect(await response.json()).toEqual([
      `/services/data/v62.0/sobjects/Contact/${a?.id}`,
      `/services/data/v62.0/sobjects/Contact/${b?.id}`,
    ]);
  });

  it('refuses to insert with updateOnly=true (API >= 61) and inserts through POST /sobjects/X/Id', async () => {
    const refused = await raw('/services/data/v62.0/sobjects/Contact/MarkMail_ID__c/new-1?updateOnly=true', {
      method: 'PATCH',
      body: JSON.stringify({ LastName: 'New' }),
    });
    expect(refused.status).toBe(404);
    const inserted = await raw('/services/data/v62.0/sobjects/Contact/Id', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'ById' }),
    });
    expect(inserted.status).toBe(201);
    expect(await inserted.json()).toMatchObject({ success: true, created: true });
    expect(sf.records('Contact').map((r) => r.LastName)).toEqual(['ById']);
  });

  it('answers 404 for a field that is not an external id', async () => {
    const response = await raw('/services/data/v62.0/sobjects/Contact/LastName/x', {
      method: 'PATCH',
      body: JSON.stringify({ FirstName: 'C' }),
    });
    expect(response.status).toBe(404);
  });
});

describe('describe and limits', () => {
  it('describes global objects with key prefixes', async () => {
    const global = await conn.describeGlobal();
    const prefixes = Object.fromEntries(global.sobjects.map((s) => [s.name, s.keyPrefix]));
    expect(prefixes).toMatchObject({
      Account: '001',
      Contact: '003',
      Lead: '00Q',
      Campaign: '701',
      CampaignMember: '00v',
      Task: '00T',
      User: '005',
      Organization: '00D',
    });
    expect(global.maxBatchSize).toBe(200);
  });

  it('describes Contact with the MarkMail external id and added custom fields', async () => {
    sf.addCustomField('Contact', { name: 'Score__c', type: 'double', precision: 5, scale: 2 });
    const describe = await conn.describe('Contact');
    const byName = Object.fromEntries(describe.fields.map((f) => [f.name, f]));
    expect(byName.MarkMail_ID__c).toMatchObject({
      externalId: true,
      unique: true,
      custom: true,
      type: 'string',
    });
    expect(byName.LastName).toMatchObject({ nillable: false, createable: true, length: 80 });
    expect(byName.AccountId).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account',
    });
    expect(byName.Score__c).toMatchObject({ type: 'double', precision: 5, scale: 2, custom: true });
    const account = await conn.describe('Account');
    expect(account.childRelationships.map((c) => c.relationshipName)).toContain('Contacts');
  });

  it('answers 304 to If-Modified-Since until the schema changes', async () => {
    const later = new Date(Date.now() + 60_000).toUTCString();
    const cached = await raw('/services/data/v62.0/sobjects/Contact/describe', {
      headers: { 'If-Modified-Since': later },
    });
    expect(cached.status).toBe(304);
    const old = new Date(0).toUTCString();
    expect(
      (await raw('/services/data/v62.0/sobjects', { headers: { 'If-Modified-Since': old } })).status,
    ).toBe(200);
  });

  it('reports limits and Sforce-Limit-Info usage', async () => {
    const limits = (await conn.limits()) as { DailyApiRequests: { Max: number; Remaining: number } };
    expect(limits.DailyApiRequests.Max).toBe(100_000);
    expect(limits.DailyApiRequests.Remaining).toBe(100_000 - sf.apiUsage().used);
    expect(conn.limitInfo).toEqual({ apiUsage: { used: sf.apiUsage().used, limit: 100_000 } });
  });
});

describe('query column metadata', () => {
  it('describes SELECT columns for `sf data query` (columns=true)', async () => {
    sf.store.insert('Contact', [{ LastName: 'Col' }]);
    const response = await raw(
      `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id, Email, Account.Name FROM Contact')}&columns=true`,
    );
    const body = (await response.json()) as {
      entityName: string;
      columnMetadata: Array<{ columnName: string; joinColumns: Array<{ columnName: string }> }>;
    };
    expect(body.entityName).toBe('Contact');
    expect(body.columnMetadata.map((c) => c.columnName)).toEqual(['Id', 'Email', 'Account']);
    expect(body.columnMetadata[2]?.joinColumns[0]?.columnName).toBe('Name');
  });
});

describe('replication', () => {
  it('lists updated and deleted ids within the window', async () => {
    let now = new Date('2026-03-01T10:00:30Z');
    const local = await startSalesforceEmulator({ clock: { now: () => now } });
    try {
      const c = new jsforce.Connection({
        instanceUrl: local.instanceUrl,
        accessToken: local.accessToken,
        version: '62.0',
      });
      const [kept, gone] = local.store.insert('Contact', [{ LastName: 'Kept' }, { LastName: 'Gone' }]);
      now = new Date('2026-03-01T10:05:00Z');
      local.store.delete([gone?.id as string]);
      now = new Date('2026-03-01T11:00:00Z');
      const updated = await c.sobject('Contact').updated('2026-03-01T09:00:00Z', '2026-03-01T10:30:00Z');
      expect(updated.ids).toEqual([kept?.id]);
      expect(updated.latestDateCovered).toBe('2026-03-01T10:30:00.000+0000');
      const deleted = await c.sobject('Contact').deleted('2026-03-01T09:00:00Z', '2026-03-01T10:30:00Z');
      expect(deleted.deletedRecords).toEqual([{ id: gone?.id, deletedDate: '2026-03-01T10:05:00.000+0000' }]);
      expect(deleted.earliestDateAvailable).toBe('2026-03-01T10:00:00.000+0000');
    } finally {
      await local.stop();
    }
  });
});
