import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator({ sampleData: true });
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

describe('standard objects described as a real org describes them', () => {
  it('gives Account its standard fields, with Salesforce-maintained ones read-only', async () => {
    const describe = await conn.sobject('Account').describe();
    const field = (name: string) => describe.fields.find((f) => f.name === name);
    expect(field('ParentId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Parent',
    });
    expect(field('Fax')).toMatchObject({ type: 'phone', createable: true });
    expect(field('Sic')).toMatchObject({ type: 'string', length: 20 });
    expect(field('Rating')?.picklistValues?.map((p) => p.value)).toEqual(['Hot', 'Warm', 'Cold']);
    expect(field('LastActivityDate')).toMatchObject({ type: 'date', createable: false, updateable: false });
    expect(describe.childRelationships.map((r) => r.relationshipName)).toEqual(
      expect.arrayContaining(['ChildAccounts', 'Contacts', 'Opportunities', 'Tasks']),
    );
  });

  it('describes Opportunity, OpportunityContactRole and Individual (privacy flags)', async () => {
    const global = await conn.describeGlobal();
    const names = global.sobjects.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['Opportunity', 'OpportunityContactRole', 'Individual']));
    const individual = await conn.sobject('Individual').describe();
    expect(individual.keyPrefix).toBe('0PK');
    expect(individual.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'ShouldForget',
        'HasOptedOutProcessing',
        'HasOptedOutSolicit',
        'HasOptedOutTracking',
      ]),
    );
    const contact = await conn.sobject('Contact').describe();
    expect(contact.fields.find((f) => f.name === 'IndividualId')?.referenceTo).toEqual(['Individual']);
  });

  it('derives IsClosed, IsWon, forecast category, probability and expected revenue from the stage', async () => {
    const account = await conn.sobject('Account').create({ Name: 'Buyer' });
    const created = await conn.sobject('Opportunity').create({
      Name: 'Deal',
      AccountId: account.id,
      StageName: 'Negotiation/Review',
      Amount: 1000,
      CloseDate: '2026-05-20',
    });
    const open = await conn.sobject('Opportunity').retrieve(created.id as string);
    expect(open).toMatchObject({
      IsClosed: false,
      IsWon: false,
      Probability: 90,
      ExpectedRevenue: 900,
      ForecastCategoryName: 'Pipeline',
      FiscalYear: 2026,
      FiscalQuarter: 2,
    });
    await conn
      .sobject('Opportunity')
      .update({ Id: created.id as string, StageName: 'Closed Won', Probability: 100 });
    expect(await conn.sobject('Opportunity').retrieve(created.id as string)).toMatchObject({
      IsClosed: true,
      IsWon: true,
      ForecastCategoryName: 'Closed',
      ExpectedRevenue: 1000,
    });
    const missing = await conn
      .sobject('Opportunity')
      .create({ Name: 'No stage' })
      .catch((e: unknown) => e);
    expect((missing as { errorCode?: string }).errorCode).toBe('REQUIRED_FIELD_MISSING');
  });

  it('links contact roles to opportunities and deletes them with the opportunity', async () => {
    const [account] = sf.store.insert('Account', [{ Name: 'A' }]);
    const [contact] = sf.store.insert('Contact', [{ LastName: 'C', AccountId: account?.id }]);
    const [opp] = sf.store.insert('Opportunity', [
      { Name: 'O', AccountId: account?.id, StageName: 'Prospecting', CloseDate: '2026-01-01' },
    ]);
    sf.store.insert('OpportunityContactRole', [
      { OpportunityId: opp?.id, ContactId: contact?.id, Role: 'Decision Maker', IsPrimary: true },
    ]);
    const result = await conn.query<{
      Name: string;
      OpportunityContactRoles: { records: Array<{ Role: string; Contact: { LastName: string } }> };
    }>(
      `SELECT Name, (SELECT Role, Contact.LastName FROM OpportunityContactRoles) FROM Opportunity WHERE Id = '${opp?.id}'`,
    );
    expect(
      result.records[0]?.OpportunityContactRoles.records.map((r) => [r.Role, r.Contact.LastName]),
    ).toEqual([['Decision Maker', 'C']]);
    await conn.sobject('Opportunity').destroy(opp?.id as string);
    expect(sf.records('OpportunityContactRole')).toHaveLength(0);
  });
});

describe('scratch-org sample data (sampleData: true)', () => {
  it('carries the accounts, contacts, opportunities, leads and campaigns of a scratch org, again after reset()', async () => {
    const counts = async () =>
      Promise.all(
        ['Account', 'Contact', 'Opportunity', 'Lead', 'Campaign'].map(
          async (o) => (await conn.query(`SELECT COUNT() FROM ${o}`)).totalSize,
        ),
      );
    expect(await counts()).toEqual([12, 20, 31, 18, 4]);
    await conn.sobject('Account').create({ Name: 'Extra' });
    sf.reset();
    expect(await counts()).toEqual([12, 20, 31, 18, 4]);
  });

  it('relates them: parent accounts, contacts and opportunities per account, owners', async () => {
    const uk = await conn.query<{ Parent: { Name: string } }>(
      "SELECT Parent.Name FROM Account WHERE Name = 'United Oil & Gas, UK'",
    );
    expect(uk.records[0]?.Parent.Name).toBe('United Oil & Gas Corp.');
    const edge = await conn.query<{ Contacts: { totalSize: number }; Opportunities: { totalSize: number } }>(
      "SELECT Name, (SELECT Id FROM Contacts), (SELECT Id FROM Opportunities) FROM Account WHERE Name = 'Edge Communications'",
    );
    expect([edge.records[0]?.Contacts.totalSize, edge.records[0]?.Opportunities.totalSize]).toEqual([2, 4]);
    const owners = await conn.query<{ Owner: { Name: string } }>(
      'SELECT Owner.Name, CloseDate FROM Opportunity ORDER BY CloseDate DESC LIMIT 3',
    );
    expect(owners.records.map((r) => r.Owner.Name)).toEqual([
      'Emulator Admin',
      'Emulator Admin',
      'Emulator Admin',
    ]);
  });

  it('is off by default', async () => {
    const plain = await startSalesforceEmulator();
    try {
      expect(plain.records('Account')).toHaveLength(0);
    } finally {
      await plain.stop();
    }
  });
});

describe('compound address fields', () => {
  it('describes MailingAddress as a read-only address compound that its components name', async () => {
    const describe = await conn.sobject('Contact').describe();
    const field = (name: string) => describe.fields.find((f) => f.name === name);
    expect(field('MailingAddress')).toMatchObject({
      type: 'address',
      soapType: 'urn:address',
      createable: false,
      updateable: false,
      filterable: false,
      sortable: false,
      compoundFieldName: null,
    });
    expect(field('MailingCity')?.compoundFieldName).toBe('MailingAddress');
    const account = await conn.sobject('Account').describe();
    expect(account.fields.filter((f) => f.type === 'address').map((f) => f.name)).toEqual([
      'BillingAddress',
      'ShippingAddress',
    ]);
  });

  it('selects the compound as an object of its components, null when all are empty', async () => {
    const full = await conn.sobject('Contact').create({
      LastName: 'Addressed',
      Email: 'addressed@example.org',
      MailingStreet: '1 Main St',
      MailingCity: 'Springfield',
      MailingPostalCode: '12345',
      MailingLatitude: 37.5,
    });
    const empty = await conn.sobject('Contact').create({ LastName: 'Nowhere' });
    const rows = await conn.query<{ Id: string; MailingAddress: unknown }>(
      `SELECT Id, MailingAddress FROM Contact WHERE Id IN ('${String(full.id)}', '${String(empty.id)}') ORDER BY LastName`,
    );
    expect(rows.records.map((r) => r.MailingAddress)).toEqual([
      {
        city: 'Springfield',
        country: null,
        geocodeAccuracy: null,
        latitude: 37.5,
        longitude: null,
        postalCode: '12345',
        state: null,
        street: '1 Main St',
      },
      null,
    ]);
    const record = await conn.sobject('Contact').retrieve(String(full.id));
    expect(record.MailingAddress).toMatchObject({ city: 'Springfield' });
  });

  it('refuses the compound in WHERE and in writes', async () => {
    await expect(conn.query("SELECT Id FROM Contact WHERE MailingAddress = 'x'")).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining('can not be filtered'),
    });
    await expect(conn.query('SELECT Id FROM Account ORDER BY BillingAddress')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    const result = await conn
      .sobject('Contact')
      .create({ LastName: 'X', MailingAddress: { city: 'Nope' } } as never)
      .catch((error: unknown) => error);
    expect(result).toMatchObject({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE' });
  });
});
