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

function seedLead(values: Record<string, unknown> = {}): string {
  const [result] = sf.store.insert('Lead', [
    {
      FirstName: 'Grace',
      LastName: 'Hopper',
      Company: 'Navy & Co <Research>',
      Email: 'grace@example.com',
      Title: 'Rear Admiral',
      City: 'Arlington',
      ...values,
    },
  ]);
  if (!result?.success) throw new Error(JSON.stringify(result?.errors));
  return result.id as string;
}

async function soapPost(
  xml: string,
  path = '/services/Soap/u/62.0',
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${sf.instanceUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml', SOAPAction: '""' },
    body: xml,
  });
  return { status: response.status, text: await response.text() };
}

describe('SOAP convertLead through jsforce conn.soap.convertLead', () => {
  it('creates an Account and a Contact from the lead and marks the lead converted', async () => {
    const leadId = seedLead();
    const result = await conn.soap.convertLead({
      leadId,
      convertedStatus: 'Closed - Converted',
      doNotCreateOpportunity: true,
    });
    expect(result).toMatchObject({ leadId, success: true, errors: [], opportunityId: null });
    expect(result.accountId).toMatch(/^001[a-zA-Z0-9]{15}$/);
    expect(result.contactId).toMatch(/^003[a-zA-Z0-9]{15}$/);

    const [account] = sf.records('Account');
    expect(account).toMatchObject({
      Id: result.accountId,
      Name: 'Navy & Co <Research>',
      BillingCity: 'Arlington',
    });
    const [contact] = sf.records('Contact');
    expect(contact).toMatchObject({
      Id: result.contactId,
      AccountId: result.accountId,
      FirstName: 'Grace',
      LastName: 'Hopper',
      Email: 'grace@example.com',
      Title: 'Rear Admiral',
      MailingCity: 'Arlington',
    });
    const lead = sf.records('Lead')[0];
    expect(lead).toMatchObject({
      IsConverted: true,
      Status: 'Closed - Converted',
      ConvertedAccountId: result.accountId,
      ConvertedContactId: result.contactId,
    });
    expect(lead?.ConvertedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // SOAP calls count against the daily API limit like REST calls.
    expect(sf.apiUsage().used).toBe(1);
  });

  it('merges into a given account and contact, and converts several leads in one call', async () => {
    const [account] = sf.store.insert('Account', [{ Name: 'Existing' }]);
    const [contact] = sf.store.insert('Contact', [{ LastName: 'Known', AccountId: account?.id }]);
    const first = seedLead({ LastName: 'One', Email: 'one@example.com' });
    const second = seedLead({ LastName: 'Two', Email: 'two@example.com' });
    const results = await conn.soap.convertLead([
      {
        leadId: first,
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
        accountId: account?.id as string,
        contactId: contact?.id as string,
      },
      {
        leadId: second,
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
        accountId: account?.id as string,
      },
    ]);
    expect(results.map((r) => [r.success, r.accountId, r.contactId === contact?.id])).toEqual([
      [true, account?.id, true],
      [true, account?.id, false],
    ]);
    expect(sf.records('Account')).toHaveLength(1);
    expect(sf.records('Contact').map((c) => c.LastName)).toEqual(['Known', 'Two']);
  });

  it('reports already converted, unknown and wrong-status leads as result errors', async () => {
    const leadId = seedLead();
    await conn.soap.convertLead({
      leadId,
      convertedStatus: 'Closed - Converted',
      doNotCreateOpportunity: true,
    });
    const [again, unknown, badStatus] = await conn.soap.convertLead([
      { leadId, convertedStatus: 'Closed - Converted', doNotCreateOpportunity: true },
      { leadId: '00Q8d000000zzzzAAA', convertedStatus: 'Closed - Converted', doNotCreateOpportunity: true },
      {
        leadId: seedLead({ Email: 'x@example.com' }),
        convertedStatus: 'Working',
        doNotCreateOpportunity: true,
      },
    ]);
    expect(again).toMatchObject({
      success: false,
      accountId: null,
      contactId: null,
      errors: [{ statusCode: 'CANNOT_UPDATE_CONVERTED_LEAD', message: 'cannot reference converted lead' }],
    });
    expect(unknown?.errors[0]?.statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
    expect(badStatus?.errors[0]).toMatchObject({
      statusCode: 'INVALID_STATUS',
      message: 'invalid convertedStatus: Working',
    });
    // Nothing was created for the failed conversions.
    expect(sf.records('Contact')).toHaveLength(1);
    expect(sf.records('Account')).toHaveLength(1);
  });

  it('answers a SOAP fault for a malformed lead id', async () => {
    await expect(
      conn.soap.convertLead({
        leadId: 'not an id',
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
      }),
    ).rejects.toMatchObject({
      errorCode: 'sf:MALFORMED_ID',
      message: 'MALFORMED_ID: Invalid leadId: not an id',
    });
  });

  it('answers sf:INVALID_SESSION_ID (HTTP 500) for a bad SessionHeader, which jsforce treats as expired', async () => {
    const stale = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: '00D!stale',
      version: '62.0',
    });
    await expect(
      stale.soap.convertLead({
        leadId: seedLead(),
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
      }),
    ).rejects.toMatchObject({ errorCode: 'sf:INVALID_SESSION_ID' });
    expect(sf.records('Contact')).toEqual([]);
  });
  it('answers sf:REQUEST_LIMIT_EXCEEDED once the daily API limit is spent', async () => {
    const leadId = seedLead();
    sf.setDailyApiLimit(0); // reset() in beforeEach restores the limit
    await expect(
      conn.soap.convertLead({
        leadId,
        convertedStatus: 'Closed - Converted',
        doNotCreateOpportunity: true,
      }),
    ).rejects.toMatchObject({ errorCode: 'sf:REQUEST_LIMIT_EXCEEDED' });
    expect(sf.records('Lead')[0]?.IsConverted).not.toBe(true);
  });
});

describe('SOAP envelope handling', () => {
  const envelope = (session: string, body: string) =>
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soapenv:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>${session}</sessionId></SessionHeader></soapenv:Header>` +
    `<soapenv:Body xmlns="urn:partner.soap.sforce.com">${body}</soapenv:Body></soapenv:Envelope>`;

  it('refuses a DOCTYPE (no entity expansion) with a client fault', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY big "boom">]>${envelope(sf.accessToken, '<convertLead/>')}`;
    const { status, text } = await soapPost(xml);
    expect(status).toBe(500);
    expect(text).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(text).toContain('DOCTYPE is not allowed');
    expect(sf.apiUsage().used).toBe(0);
  });

  it('answers a fault for operations it does not emulate and for malformed XML', async () => {
    const other = await soapPost(envelope(sf.accessToken, '<getServerTimestamp/>'));
    expect(other.status).toBe(500);
    expect(other.text).toContain(
      'No operation available for request {urn:partner.soap.sforce.com}getServerTimestamp',
    );
    const broken = await soapPost('<soapenv:Envelope><soapenv:Body><convertLead>');
    expect(broken.status).toBe(500);
    expect(broken.text).toContain('<faultcode>soapenv:Client</faultcode>');
  });

  it('serves the serverUrl form with the org id, with a LimitInfoHeader', async () => {
    const leadId = seedLead();
    const { status, text } = await soapPost(
      envelope(
        sf.accessToken,
        `<convertLead><leadConverts><leadId>${leadId.slice(0, 15)}</leadId><convertedStatus>Closed - Converted</convertedStatus><doNotCreateOpportunity>true</doNotCreateOpportunity></leadConverts></convertLead>`,
      ),
      `/services/Soap/u/62.0/${sf.orgId.slice(0, 15)}`,
    );
    expect(status).toBe(200);
    expect(text).toContain('<limitInfo><current>1</current>');
    expect(text).toContain(`<leadId>${leadId}</leadId>`);
    expect(text).toContain('<success>true</success>');
  });

  it('refuses versions outside 31.0–68.0', async () => {
    const { status, text } = await soapPost(
      envelope(sf.accessToken, '<convertLead/>'),
      '/services/Soap/u/20.0',
    );
    expect(status).toBe(500);
    expect(text).toContain('sf:UNSUPPORTED_API_VERSION');
  });
});

describe('SOAP undelete and describeTabs through jsforce', () => {
  it('restores deleted records from the recycle bin and reports the others per id', async () => {
    const created = await conn.sobject('Contact').create([{ LastName: 'Gone 1' }, { LastName: 'Gone 2' }]);
    const ids = created.map((r) => r.id as string);
    await conn.sobject('Contact').destroy(ids);
    const live = sf.store.insert('Contact', [{ LastName: 'Alive' }])[0]?.id as string;
    const results = await conn.soap.undelete([...ids, 'not an id', live]);
    expect(results.map((r) => [r.success, r.errors.map((e) => e.statusCode)])).toEqual([
      [true, []],
      [true, []],
      [false, ['MALFORMED_ID']],
      [false, ['UNDELETE_FAILED']],
    ]);
    expect(results[0]?.id).toBe(ids[0]);
    expect(
      sf
        .records('Contact')
        .map((c) => c.LastName)
        .sort(),
    ).toEqual(['Alive', 'Gone 1', 'Gone 2']);
  });

  it('refuses to undelete a record whose unique value was taken meanwhile', async () => {
    const [first] = sf.store.insert('Contact', [{ LastName: 'A', MarkMail_ID__c: 'mm-9' }]);
    sf.store.delete([first?.id as string]);
    sf.store.insert('Contact', [{ LastName: 'B', MarkMail_ID__c: 'mm-9' }]);
    const [result] = await conn.soap.undelete([first?.id as string]);
    expect([result?.success, result?.errors[0]?.statusCode]).toEqual([false, 'DUPLICATE_VALUE']);
  });

  it('describes the apps and their tabs', async () => {
    const apps = await conn.soap.describeTabs();
    expect(apps.map((a) => [a.label, a.selected])).toEqual([
      ['Sales', true],
      ['Marketing', false],
    ]);
    const account = apps[0]?.tabs.find((t) => t.sobjectName === 'Account');
    expect(account).toMatchObject({
      name: 'standard-Account',
      label: 'Accounts',
      custom: false,
      url: `${sf.instanceUrl}/001/o`,
    });
  });
});

describe('convertLead creates an Opportunity', () => {
  it('creates "<Company>-" at Prospecting with the contact as primary role, unless doNotCreateOpportunity', async () => {
    const leadId = seedLead({ Company: 'Acme', LeadSource: 'Web' });
    const result = await conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    const opportunity = sf.records('Opportunity').find((o) => o.Id === result.opportunityId);
    expect(opportunity).toMatchObject({
      Name: 'Acme-',
      StageName: 'Prospecting',
      AccountId: result.accountId,
      LeadSource: 'Web',
      IsClosed: false,
    });
    expect(sf.records('OpportunityContactRole')).toEqual([
      expect.objectContaining({
        OpportunityId: result.opportunityId,
        ContactId: result.contactId,
        IsPrimary: true,
      }),
    ]);
    expect(sf.records('Lead').find((l) => l.Id === leadId)?.ConvertedOpportunityId).toBe(
      result.opportunityId,
    );
    const second = await conn.soap.convertLead({
      leadId: seedLead({ Email: 'other@example.com' }),
      convertedStatus: 'Closed - Converted',
      doNotCreateOpportunity: true,
    });
    expect(second.opportunityId ?? null).toBeNull();
    expect(sf.records('Opportunity')).toHaveLength(1);
  });
});

describe('Metadata API readMetadata', () => {
  it('reads Lead.Status with its converted status, and LeadConvertSettings', async () => {
    const conn37 = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      version: '37.0',
    });
    const status = (await conn37.metadata.read('CustomField', 'Lead.Status')) as unknown as {
      fullName: string;
      type: string;
      picklist: { picklistValues: Array<{ fullName: string; converted?: unknown; default: unknown }> };
    };
    expect([status.fullName, status.type]).toEqual(['Lead.Status', 'Picklist']);
    const converted = status.picklist.picklistValues
      .filter((pv) => String(pv.converted) === 'true')
      .map((pv) => pv.fullName);
    expect(converted).toEqual(['Closed - Converted']);
    const settings = (await conn.metadata.read(
      'LeadConvertSettings',
      'LeadConvertSettings',
    )) as unknown as Record<string, unknown>;
    expect(settings).toMatchObject({
      fullName: 'LeadConvertSettings',
      opportunityCreationOptions: 'VisibleOptional',
    });
  });

  it('answers an empty record for an unknown field and refuses a bad session', async () => {
    const missing = (await conn.metadata.read('CustomField', 'Lead.Nope__c')) as unknown as
      | { fullName?: string }
      | undefined;
    expect(missing?.fullName).toBeUndefined();
    const stranger = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: 'nope',
      version: '62.0',
    });
    await expect(stranger.metadata.read('CustomField', 'Lead.Status')).rejects.toThrow(/INVALID_SESSION_ID/);
  });
});

describe('SOAP merge through jsforce', () => {
  it('merges up to two records into the master: fields updated, children moved, losers deleted', async () => {
    const [master, loser1, loser2] = sf.store
      .insert('Account', [{ Name: 'Master' }, { Name: 'Dup 1' }, { Name: 'Dup 2' }])
      .map((r) => r.id as string);
    const [contact] = sf.store.insert('Contact', [{ LastName: 'Moved', AccountId: loser1 }]);
    const result = await conn.soap.merge({
      // Object.assign: jsforce's `sObject` type has no index signature for field values.
      masterRecord: Object.assign(
        { type: 'Account', Id: master },
        { Name: 'Merged Master', NumberOfEmployees: 12 },
      ),
      recordToMergeIds: [loser1 as string, loser2 as string],
    });
    expect(result).toMatchObject({ success: true, id: master, mergedRecordIds: [loser1, loser2] });
    expect(result.updatedRelatedIds).toEqual([contact?.id]);
    expect(sf.store.get(master as string)).toMatchObject({ Name: 'Merged Master', NumberOfEmployees: 12 });
    // The contact followed the master instead of being cascade-deleted with its old account.
    expect(sf.store.get(contact?.id as string)).toMatchObject({ AccountId: master, IsDeleted: false });
    expect(sf.store.get(loser1 as string)).toBeUndefined();
    const bin = await conn.query<{ Id: string; MasterRecordId: string }>(
      `SELECT Id, MasterRecordId FROM Account WHERE IsDeleted = true`,
      { scanAll: true },
    );
    expect(bin.records.map((r) => r.MasterRecordId)).toEqual([master, master]);
  });

  it('fails a request as a whole (bad id, other type, itself, too many) and changes nothing', async () => {
    const [master, other] = sf.store
      .insert('Lead', [
        { LastName: 'M', Company: 'C' },
        { LastName: 'O', Company: 'C' },
      ])
      .map((r) => r.id as string);
    const contact = sf.store.insert('Contact', [{ LastName: 'Not a lead' }])[0]?.id as string;
    const attempt = (ids: string[]) =>
      conn.soap.merge({
        masterRecord: Object.assign({ type: 'Lead', Id: master }, { LastName: 'Changed' }),
        recordToMergeIds: ids,
      });
    for (const ids of [[contact], [master], [other as string, other as string, other as string]]) {
      const result = await attempt(ids as string[]);
      expect(result.success).toBe(false);
      expect(result.errors[0]?.statusCode).toMatch(/INVALID_/);
    }
    expect(sf.store.get(master as string)).toMatchObject({ LastName: 'M' });
    expect(sf.store.get(other as string)).toMatchObject({ IsDeleted: false });
  });
});

describe('Metadata API listMetadata', () => {
  it('lists every object for CustomObject, custom fields for CustomField, nothing for other types', async () => {
    sf.addCustomField('Contact', { name: 'Listed__c', type: 'string' });
    const objects = await conn.metadata.list({ type: 'CustomObject' });
    expect(objects.map((o) => o.fullName)).toEqual(expect.arrayContaining(['Account', 'Contact', 'Lead']));
    expect(objects.find((o) => o.fullName === 'Account')).toMatchObject({
      type: 'CustomObject',
      fileName: 'objects/Account.object',
      manageableState: 'unmanaged',
    });
    const fields = await conn.metadata.list([{ type: 'CustomField' }, { type: 'ApexClass' }]);
    expect(fields.map((f) => f.fullName)).toContain('Contact.Listed__c');
    expect(fields.every((f) => f.type === 'CustomField')).toBe(true);
  });

  it('refreshes an expired session through refreshFn and then lists', async () => {
    let refreshed = false;
    const expired = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: 'expired',
      version: '62.0',
      refreshFn: (_c, callback) => {
        refreshed = true;
        callback(null, sf.accessToken);
      },
    });
    const objects = await expired.metadata.list({ type: 'CustomObject' });
    expect(refreshed).toBe(true);
    expect(objects.length).toBeGreaterThan(0);
  });
});
