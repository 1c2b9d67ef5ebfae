import { Connection } from 'jsforce';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceProviderOptions } from '../../src/salesforce/options.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';

const INSTANCE = 'https://acme.my.salesforce.com';
const V = '/services/data/v66.0';
const TOKEN = '00D000000000001!AQ4AQFakeAccessToken';
const JSON_HEADERS = {
  'Content-Type': 'application/json;charset=UTF-8',
  'Sforce-Limit-Info': 'api-usage=5/15000',
};
const NOW = new Date('2026-11-25T12:00:00.000Z');

function provider(options: Partial<SalesforceProviderOptions> = {}) {
  return new SalesforceProvider({
    instanceUrl: INSTANCE,
    accessToken: TOKEN,
    sleep: async () => {},
    clock: { now: () => NOW },
    ...options,
  });
}
const sf = () => nock(INSTANCE, { reqheaders: { authorization: `Bearer ${TOKEN}` } });
const query = (soql: string) => ({ q: soql });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('a passed-in jsforce Connection', () => {
  it("gets jsforce's own retry switched off: a failing GET is sent once with retry: false", async () => {
    const connection = new Connection({ instanceUrl: INSTANCE, accessToken: TOKEN, version: '66.0' });
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .times(6)
      .reply(503, 'unavailable', { 'Content-Type': 'text/plain' });
    const crm = new SalesforceProvider({ connection, retry: false });
    await expect(crm.getContact('a@example.com')).rejects.toMatchObject({ status: 503 });
    // jsforce alone would have sent 6 (1 + 5 retries, 15 s of backoff).
    expect(scope.pendingMocks()).toHaveLength(1);
    expect(crm.apiCallCount).toBe(1);
  });

  it('keeps a recent version and upgrades jsforce’s 50.0 default', () => {
    expect(new SalesforceProvider({ connection: new Connection({ instanceUrl: INSTANCE }) }).apiVersion).toBe(
      '66.0',
    );
    const pinned = new Connection({ instanceUrl: INSTANCE, version: '64.0' });
    expect(new SalesforceProvider({ connection: pinned }).apiVersion).toBe('64.0');
  });
});

describe('listContactChanges', () => {
  const fields =
    'Id, Email, FirstName, LastName, Phone, Title, HasOptedOutOfEmail, SystemModstamp, MarkMail_ID__c, IsDeleted';
  const row = (id: string, ts: string, extra: Record<string, unknown> = {}) => ({
    attributes: { type: 'Contact' },
    Id: id,
    Email: `${id}@example.com`,
    LastName: id,
    SystemModstamp: ts,
    MarkMail_ID__c: `h-${id}`,
    IsDeleted: false,
    ...extra,
  });

  it('Bulk route, wire shapes: a queryAll job with the same SOQL, results paged by Sforce-Locator and maxRecords', async () => {
    const soql = `SELECT ${fields} FROM Contact ORDER BY SystemModstamp ASC, Id ASC`;
    const header = `"${fields.split(', ').join('","')}"\n`;
    const csvRow = (id: string, ts: string, deleted = 'false') =>
      `"${id}","${id}@example.com","","${id}","","#N/A","true","${ts}","","${deleted}"\n`;
    const scope = sf()
      .get(`${V}/queryAll`)
      .query(query('SELECT COUNT() FROM Contact'))
      .reply(200, { totalSize: 3, done: true, records: [] }, JSON_HEADERS)
      .post(`${V}/jobs/query`, {
        operation: 'queryAll',
        query: soql,
        contentType: 'CSV',
        columnDelimiter: 'COMMA',
        lineEnding: 'LF',
      })
      .reply(200, { id: '750000000000001', state: 'UploadComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/query/750000000000001`)
      .reply(200, { id: '750000000000001', state: 'JobComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/query/750000000000001/results`)
      .query({ maxRecords: '2' })
      .matchHeader('accept', 'text/csv')
      .reply(
        200,
        header +
          csvRow('003000000000001', '2026-11-20T10:00:00.000Z') +
          csvRow('003000000000002', '2026-11-20T10:00:00.000Z'),
        { 'Content-Type': 'text/csv', 'Sforce-Locator': 'MjAwMA', 'Sforce-NumberOfRecords': '2' },
      )
      .get(`${V}/jobs/query/750000000000001/results`)
      .query({ maxRecords: '2', locator: 'MjAwMA' })
      .reply(200, header + csvRow('003000000000003', '2026-11-20T10:00:01.000Z', 'true'), {
        'Content-Type': 'text/csv',
        'Sforce-Locator': 'null',
        'Sforce-NumberOfRecords': '1',
      });
    const batches = [];
    for await (const batch of provider({ bulkQueryThreshold: 2, bulkQueryPageSize: 2 }).listContactChanges(
      null,
    )) {
      batches.push(batch);
    }
    scope.done();
    expect(batches[0]?.upserted).toEqual([
      expect.objectContaining({
        id: '003000000000001',
        externalId: '003000000000001',
        title: '#N/A',
        emailOptOut: true,
      }),
      expect.objectContaining({ id: '003000000000002' }),
    ]);
    expect(batches[0]?.upserted[0]).not.toHaveProperty('firstName');
    expect(batches[1]).toEqual({
      upserted: [],
      deleted: ['003000000000003'],
      cursor: JSON.stringify({ v: 1, ts: '2026-11-20T10:00:01.000Z', id: '003000000000003' }),
    });
  });

  it('Bulk route: a results page without Sforce-Locator is a typed error (never an endless loop), and the job is deleted', async () => {
    const scope = sf()
      .get(`${V}/queryAll`)
      .query(true)
      .reply(200, { totalSize: 50_000, done: true, records: [] }, JSON_HEADERS)
      .post(`${V}/jobs/query`)
      .reply(200, { id: '750000000000002', state: 'UploadComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/query/750000000000002`)
      .reply(200, { id: '750000000000002', state: 'JobComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/query/750000000000002/results`)
      .query(true)
      .reply(200, '"Id"\n"003000000000001"\n', { 'Content-Type': 'text/csv' })
      .delete(`${V}/jobs/query/750000000000002`)
      .reply(204);
    const read = async () => {
      for await (const _ of provider().listContactChanges(null)) {
        // nothing arrives
      }
    };
    await expect(read()).rejects.toMatchObject({
      name: 'CrmApiError',
      providerCode: 'BULK_QUERY_NO_LOCATOR',
    });
    scope.done();
  });

  it('reads queryAll ordered by SystemModstamp, Id and follows nextRecordsUrl itself', async () => {
    const scope = sf()
      // An initial read counts first: at or under bulkQueryThreshold it stays on REST.
      .get(`${V}/queryAll`)
      .query(query('SELECT COUNT() FROM Contact'))
      .reply(200, { totalSize: 3, done: true, records: [] }, JSON_HEADERS)
      .get(`${V}/queryAll`)
      .query(query(`SELECT ${fields} FROM Contact ORDER BY SystemModstamp ASC, Id ASC`))
      .reply(
        200,
        {
          totalSize: 3,
          done: false,
          nextRecordsUrl: `${V}/query/01gD0000002HU6KIAW-2000`,
          records: [
            row('003000000000001', '2026-11-20T10:00:00.000+0000'),
            row('003000000000002', '2026-11-20T10:00:00.000+0000'),
          ],
        },
        JSON_HEADERS,
      )
      .get(`${V}/query/01gD0000002HU6KIAW-2000`)
      .reply(
        200,
        {
          totalSize: 3,
          done: true,
          records: [row('003000000000003', '2026-11-20T10:00:01.000+0000', { IsDeleted: true })],
        },
        JSON_HEADERS,
      );
    const batches = [];
    for await (const batch of provider().listContactChanges(null)) batches.push(batch);
    scope.done();
    expect(batches).toHaveLength(2);
    expect(batches[0]?.upserted.map((c) => c.externalId)).toEqual(['h-003000000000001', 'h-003000000000002']);
    expect(JSON.parse(batches[0]?.cursor ?? '')).toEqual({
      v: 1,
      ts: '2026-11-20T10:00:00.000Z',
      id: '003000000000002',
    });
    expect(batches[1]).toMatchObject({ upserted: [], deleted: ['003000000000003'] });
  });

  it("Bulk route: each contact carries its own row's SystemModstamp, and a row without one is refused even after valid rows", async () => {
    const header = `"${fields.split(', ').join('","')}"\n`;
    const csvRow = (id: string, ts: string) =>
      `"${id}","${id}@example.com","","${id}","","","false","${ts}","",false\n`;
    const bulkRead = (body: string) =>
      sf()
        .get(`${V}/queryAll`)
        .query(true)
        .reply(200, { totalSize: 4, done: true, records: [] }, JSON_HEADERS)
        .post(`${V}/jobs/query`)
        .reply(200, { id: '750000000000009', state: 'UploadComplete' }, JSON_HEADERS)
        .get(`${V}/jobs/query/750000000000009`)
        .reply(200, { id: '750000000000009', state: 'JobComplete' }, JSON_HEADERS)
        .get(`${V}/jobs/query/750000000000009/results`)
        .query(true)
        .reply(200, header + body, { 'Content-Type': 'text/csv', 'Sforce-Locator': 'null' });
    const stamps = ['2026-11-20T10:00:00.000Z', '2026-11-20T10:00:00.000Z', '2026-11-20T10:00:02.000Z'];
    bulkRead(stamps.map((ts, i) => csvRow(`00300000000000${i + 1}`, ts)).join(''));
    const read = [];
    for await (const batch of provider({ bulkQueryThreshold: 1 }).listContactChanges(null))
      read.push(...batch.upserted);
    expect(read.map((c) => c.lastModifiedAt?.toISOString())).toEqual(stamps);

    bulkRead(csvRow('003000000000001', stamps[0] as string) + csvRow('003000000000002', ''));
    const reading = async () => {
      for await (const _ of provider({ bulkQueryThreshold: 1 }).listContactChanges(null)) {
        // drain
      }
    };
    await expect(reading()).rejects.toThrow('Invalid SystemModstamp on Contact 003000000000002');
    bulkRead(csvRow('003000000000003', ''));
    await expect(reading()).rejects.toThrow('Invalid SystemModstamp on Contact 003000000000003');
  });

  it('regression: resumes changeLookbackMs (10 min) before the cursor and re-delivers the window, so a same-second or late commit is never skipped', async () => {
    const cursor = JSON.stringify({ v: 1, ts: '2026-11-20T10:00:00.500Z', id: '003000000000002' });
    sf()
      .get(`${V}/queryAll`)
      .query(
        query(
          `SELECT ${fields} FROM Contact WHERE SystemModstamp >= 2026-11-20T09:50:00Z ORDER BY SystemModstamp ASC, Id ASC`,
        ),
      )
      .reply(
        200,
        {
          totalSize: 4,
          done: true,
          records: [
            row('003000000000009', '2026-11-20T10:00:00.000+0000'),
            row('003000000000001', '2026-11-20T10:00:00.500+0000'),
            row('003000000000002', '2026-11-20T10:00:00.500+0000'),
            row('003000000000003', '2026-11-20T10:00:00.500+0000'),
          ],
        },
        JSON_HEADERS,
      );
    const ids: string[] = [];
    let next = '';
    for await (const batch of provider().listContactChanges(cursor)) {
      ids.push(...batch.upserted.map((c) => c.id ?? ''));
      next = batch.cursor;
    }
    // At least once: ...001 (lower Id, same second as the cursor) and ...009 (earlier stamp) may
    // have committed after the cursor was taken, so they come again; the cursor never moves back.
    expect(ids).toEqual(['003000000000009', '003000000000001', '003000000000002', '003000000000003']);
    expect(JSON.parse(next)).toEqual({ v: 1, ts: '2026-11-20T10:00:00.500Z', id: '003000000000003' });
  });
});

describe('leads', () => {
  it('upserts a lead on the lead external-id field with [not provided] placeholders', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Lead/MarkMail_ID__c/form-1`, {
        Email: 'lead@example.com',
        LeadSource: 'Web',
        LastName: '[not provided]',
        Company: '[not provided]',
      })
      .reply(201, { id: '00Q000000000001AAA', success: true, errors: [], created: true }, JSON_HEADERS);
    const result = await provider().createLead({
      externalId: 'form-1',
      email: 'lead@example.com',
      leadSource: 'Web',
    });
    scope.done();
    expect(result).toMatchObject({ entityType: 'lead', crmId: '00Q000000000001AAA', created: true });
  });

  it('POSTs when leadExternalIdField is null', async () => {
    const scope = sf()
      .post(`${V}/sobjects/Lead`, {
        Email: 'lead@example.com',
        FirstName: 'Ada',
        LastName: 'Lovelace',
        Company: 'Analytical',
        LeadSource: 'Web',
      })
      .reply(201, { id: '00Q000000000001AAA', success: true, errors: [] }, JSON_HEADERS);
    await provider({ leadExternalIdField: null }).createLead({
      externalId: 'form-1',
      email: 'lead@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: 'Analytical',
      leadSource: 'Web',
    });
    scope.done();
  });

  it('getLead queries the newest lead with the address', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(
        query(
          'SELECT Id, Email, FirstName, LastName, Company, Phone, Title, Website, LeadSource, Status, Description, MarkMail_ID__c' +
            " FROM Lead WHERE Email = 'lead\\'s@example.com' ORDER BY CreatedDate DESC, Id DESC LIMIT 1",
        ),
      )
      .reply(
        200,
        {
          totalSize: 1,
          done: true,
          records: [
            {
              Id: '00Q000000000001AAA',
              Email: "lead's@example.com",
              LastName: 'X',
              Company: 'Y',
              LeadSource: 'Web',
              MarkMail_ID__c: 'form-1',
            },
          ],
        },
        JSON_HEADERS,
      );
    expect(await provider().getLead("lead's@example.com")).toMatchObject({
      id: '00Q000000000001AAA',
      externalId: 'form-1',
    });
    scope.done();
  });

  it('converts through SOAP convertLead with the converted status from LeadStatus', async () => {
    let envelope = '';
    const scope = sf()
      .get(`${V}/query`)
      .query(
        query('SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true ORDER BY SortOrder ASC LIMIT 1'),
      )
      .reply(200, { totalSize: 1, done: true, records: [{ MasterLabel: 'Qualified' }] }, JSON_HEADERS);
    const soap = nock(INSTANCE)
      .post('/services/Soap/u/66.0', (body) => {
        envelope = String(body);
        return true;
      })
      .matchHeader('soapaction', '""')
      .reply(
        200,
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><convertLeadResponse><result><accountId>001000000000001AAA</accountId><contactId>003000000000001AAA</contactId><leadId>00Q000000000001AAA</leadId><opportunityId xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/><success>true</success></result></convertLeadResponse></soapenv:Body></soapenv:Envelope>',
        { 'Content-Type': 'text/xml; charset=utf-8' },
      );
    const conversion = await provider().convertLeadToContact('00Q000000000001AAA');
    scope.done();
    soap.done();
    expect(envelope).toContain('<sessionId>');
    expect(envelope).toContain('<leadId>00Q000000000001AAA</leadId>');
    expect(envelope).toContain('<convertedStatus>Qualified</convertedStatus>');
    expect(envelope).toContain('<doNotCreateOpportunity>true</doNotCreateOpportunity>');
    expect(conversion).toEqual({
      leadId: '00Q000000000001AAA',
      contactId: '003000000000001AAA',
      accountId: '001000000000001AAA',
    });
  });
});

describe('campaigns', () => {
  it('upserts on campaignExternalIdField with mapped Status and date-only dates', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Campaign/MarkMail_Campaign_ID__c/c-1`, {
        Name: 'Spring',
        Status: 'In Progress',
        Type: 'Email',
        StartDate: '2026-03-01',
        NumberSent: 10,
      })
      .reply(200, { id: '701000000000001AAA', success: true, errors: [], created: false }, JSON_HEADERS);
    const result = await provider().syncCampaign({
      externalId: 'c-1',
      name: 'Spring',
      status: 'sending',
      type: 'Email',
      startDate: '2026-03-01T09:00:00Z',
      emailStats: { sent: 10 },
    });
    scope.done();
    expect(result).toMatchObject({ entityType: 'campaign', crmId: '701000000000001AAA', created: false });
  });
});

describe('email activity', () => {
  const activity = {
    externalId: 'act-1',
    contactExternalId: 'u-1',
    campaignExternalId: 'c-1',
    activityType: 'clicked' as const,
    occurredAt: '2026-03-02T23:30:00Z',
  };

  it('upserts Tasks on activityExternalIdField when one is configured', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(
        query(
          "SELECT Id, MarkMail_ID__c FROM Contact WHERE MarkMail_ID__c IN ('u-1') ORDER BY CreatedDate ASC",
        ),
      )
      .reply(
        200,
        { totalSize: 1, done: true, records: [{ Id: '003000000000001AAA', MarkMail_ID__c: 'u-1' }] },
        JSON_HEADERS,
      )
      .get(`${V}/query`)
      .query(
        query(
          "SELECT Id, Name, MarkMail_Campaign_ID__c FROM Campaign WHERE MarkMail_Campaign_ID__c IN ('c-1')",
        ),
      )
      .reply(
        200,
        {
          totalSize: 1,
          done: true,
          records: [{ Id: '701000000000001AAA', Name: 'Spring', MarkMail_Campaign_ID__c: 'c-1' }],
        },
        JSON_HEADERS,
      )
      .patch(`${V}/composite/sobjects/Task/Activity_ID__c`, {
        allOrNone: false,
        records: [
          {
            attributes: { type: 'Task' },
            Subject: 'Email clicked: Spring [mm:act-1]',
            TaskSubtype: 'Email',
            Type: 'Email',
            Status: 'Completed',
            Priority: 'Normal',
            WhoId: '003000000000001AAA',
            ActivityDate: '2026-03-02',
            Description: 'MarkMail email clicked at 2026-03-02T23:30:00.000Z',
            WhatId: '701000000000001AAA',
            Activity_ID__c: 'act-1',
          },
        ],
      })
      .reply(200, [{ id: '00T000000000001AAA', success: true, errors: [], created: true }], JSON_HEADERS);
    const result = await provider({ activityExternalIdField: 'Activity_ID__c' }).logEmailActivity(activity);
    scope.done();
    expect(result).toMatchObject({
      entityType: 'email_activity',
      crmId: '00T000000000001AAA',
      created: true,
    });
  });

  it('in marker mode, looks the [mm:…] marker up and skips what exists', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .reply(
        200,
        { totalSize: 1, done: true, records: [{ Id: '003000000000001AAA', MarkMail_ID__c: 'u-1' }] },
        JSON_HEADERS,
      )
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, JSON_HEADERS)
      .get(`${V}/query`)
      .query(
        query("SELECT Id, Subject FROM Task WHERE TaskSubtype = 'Email' AND (Subject LIKE '%[mm:act-1]')"),
      )
      .reply(
        200,
        {
          totalSize: 1,
          done: true,
          records: [{ Id: '00T000000000001AAA', Subject: 'Email clicked: c-1 [mm:act-1]' }],
        },
        JSON_HEADERS,
      );
    const result = await provider().logEmailActivity(activity);
    scope.done();
    expect(result).toMatchObject({ success: true, created: false, crmId: '00T000000000001AAA' });
  });
});

describe('list membership', () => {
  it('upserts the Campaign, diffs CampaignMember rows, adds and removes in collections', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Campaign/MarkMail_Campaign_ID__c/list-1`, { Name: 'Newsletter' })
      .reply(200, { id: '701000000000001AAA', success: true, errors: [], created: false }, JSON_HEADERS)
      .get(`${V}/query`)
      .query(
        query(
          "SELECT Id, MarkMail_ID__c FROM Contact WHERE MarkMail_ID__c IN ('u-1', 'u-2') ORDER BY CreatedDate ASC",
        ),
      )
      .reply(
        200,
        {
          totalSize: 2,
          done: true,
          records: [
            { Id: '003000000000001AAA', MarkMail_ID__c: 'u-1' },
            { Id: '003000000000002AAA', MarkMail_ID__c: 'u-2' },
          ],
        },
        JSON_HEADERS,
      )
      .get(`${V}/query`)
      .query(
        query(
          "SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = '701000000000001AAA' AND ContactId != null",
        ),
      )
      .reply(
        200,
        {
          totalSize: 2,
          done: true,
          records: [
            { Id: '00v000000000001AAA', ContactId: '003000000000001AAA' },
            { Id: '00v000000000009AAA', ContactId: '003000000000009AAA' },
          ],
        },
        JSON_HEADERS,
      )
      .post(`${V}/composite/sobjects`, {
        allOrNone: false,
        records: [
          {
            attributes: { type: 'CampaignMember' },
            CampaignId: '701000000000001AAA',
            ContactId: '003000000000002AAA',
          },
        ],
      })
      .reply(200, [{ id: '00v000000000002AAA', success: true, errors: [] }], JSON_HEADERS)
      .delete(`${V}/composite/sobjects`)
      .query({ ids: '00v000000000009AAA', allOrNone: 'false' })
      .reply(200, [{ id: '00v000000000009AAA', success: true, errors: [] }], JSON_HEADERS);
    const result = await provider().syncListMembership({
      externalId: 'list-1',
      name: 'Newsletter',
      memberIds: ['u-1', 'u-2'],
    });
    scope.done();
    expect(result).toEqual({ listId: '701000000000001AAA', added: 1, removed: 1, unchanged: 1, results: [] });
  });
});

describe('custom fields', () => {
  it('maps describe types, options and required', async () => {
    const scope = sf()
      .get(`${V}/sobjects/Contact/describe`)
      .once()
      .reply(
        200,
        {
          name: 'Contact',
          fields: [
            {
              name: 'LastName',
              label: 'Last Name',
              type: 'string',
              createable: true,
              updateable: true,
              nillable: false,
              defaultedOnCreate: false,
            },
            {
              name: 'Score__c',
              label: 'Score',
              type: 'double',
              createable: true,
              updateable: true,
              nillable: true,
            },
            {
              name: 'Interests__c',
              label: 'Interests',
              type: 'multipicklist',
              createable: true,
              updateable: true,
              nillable: true,
              picklistValues: [
                { value: 'a', active: true },
                { value: 'old', active: false },
              ],
            },
            {
              name: 'MailingAddress',
              label: 'Mailing Address',
              type: 'address',
              createable: false,
              updateable: false,
              nillable: true,
            },
          ],
        },
        JSON_HEADERS,
      );
    const crm = provider();
    const fields = await crm.getCustomFields();
    expect(fields).toEqual([
      { name: 'LastName', label: 'Last Name', fieldType: 'text', required: true, updateable: true },
      { name: 'Score__c', label: 'Score', fieldType: 'number', required: false, updateable: true },
      {
        name: 'Interests__c',
        label: 'Interests',
        fieldType: 'multipicklist',
        required: false,
        updateable: true,
        options: ['a'],
      },
    ]);
    // Describe is cached: mapCustomFields does not call it again.
    await crm.mapCustomFields([
      { hostField: 'tags', crmField: 'Interests__c', fieldType: 'multipicklist', syncDirection: 'to_crm' },
    ]);
    scope.done();
    expect(crm.fieldMappings).toHaveLength(1);
  });
});

describe('abort', () => {
  it('aborts the bulk job in flight when the signal fires', async () => {
    const controller = new AbortController();
    let aborted = false;
    sf()
      .get(`${V}/sobjects/Contact/describe`)
      .reply(
        200,
        {
          name: 'Contact',
          fields: ['Id', 'MarkMail_ID__c', 'Email', 'LastName'].map((name) => ({
            name,
            label: name,
            type: 'string',
          })),
        },
        JSON_HEADERS,
      )
      .post(`${V}/jobs/ingest`)
      .reply(200, { id: '750000000000001AAA', state: 'Open' }, JSON_HEADERS)
      .put(`${V}/jobs/ingest/750000000000001AAA/batches`)
      .reply(201)
      .patch(`${V}/jobs/ingest/750000000000001AAA`, { state: 'UploadComplete' })
      .reply(200, { id: '750000000000001AAA', state: 'UploadComplete' }, JSON_HEADERS)
      .get(`${V}/jobs/ingest/750000000000001AAA`)
      .reply(
        200,
        () => {
          controller.abort(new Error('user cancelled'));
          return { id: '750000000000001AAA', state: 'InProgress' };
        },
        JSON_HEADERS,
      )
      .patch(`${V}/jobs/ingest/750000000000001AAA`, (body) => {
        aborted = body.state === 'Aborted';
        return aborted;
      })
      .reply(200, { id: '750000000000001AAA', state: 'Aborted' }, JSON_HEADERS);
    const crm = new SalesforceProvider({
      instanceUrl: INSTANCE,
      accessToken: TOKEN,
      sleep: (_ms, signal) =>
        signal?.aborted
          ? Promise.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
          : Promise.resolve(),
    });
    const error = await crm
      .bulkSyncContacts([{ externalId: 'u-1', email: 'a@example.com', lastName: 'A' }], {
        mode: 'bulk',
        signal: controller.signal,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(aborted).toBe(true);
  });
});
