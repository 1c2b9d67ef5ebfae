import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;
let accountId: string;

beforeAll(async () => {
  sf = await startSalesforceEmulator({ clock: { now: () => new Date('2026-05-15T12:00:00Z') } });
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  accountId = sf.store.insert('Account', [{ Name: 'Acme' }])[0]?.id as string;
  const contacts = [];
  for (let i = 0; i < 2500; i++) {
    contacts.push({
      LastName: `Person ${String(i).padStart(4, '0')}`,
      Email: i % 2 === 0 ? `even${i}@example.com` : null,
      Birthdate: i < 10 ? '1990-01-15' : null,
      AccountId: i < 3 ? accountId : null,
      HasOptedOutOfEmail: i % 5 === 0,
      MarkMail_ID__c: `mm-${i}`,
    });
  }
  const results = sf.store.insert('Contact', contacts);
  expect(results.every((r) => r.success)).toBe(true);
});
afterAll(async () => {
  await sf.stop();
});

const ids = async (soql: string): Promise<string[]> => {
  const result = await conn.query<{ LastName: string }>(soql);
  return result.records.map((r) => r.LastName);
};

describe('SOQL evaluation', () => {
  it('pages with nextRecordsUrl at 2000 records and autoFetch walks every page', async () => {
    const first = await conn.query('SELECT Id FROM Contact');
    expect(first.totalSize).toBe(2500);
    expect(first.records).toHaveLength(2000);
    expect(first.done).toBe(false);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[a-zA-Z0-9]{12}-2000$/);
    const second = await conn.queryMore(first.nextRecordsUrl as string);
    expect(second.records).toHaveLength(500);
    expect(second.done).toBe(true);
    expect(second.nextRecordsUrl).toBeUndefined();

    const all = await conn.query('SELECT Id FROM Contact', { autoFetch: true, maxFetch: 5000 });
    expect(all.records).toHaveLength(2500);
  });

  it('honours Sforce-Query-Options batchSize', async () => {
    const response = await fetch(
      `${sf.instanceUrl}/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`,
      {
        headers: { Authorization: `Bearer ${sf.accessToken}`, 'Sforce-Query-Options': 'batchSize=300' },
      },
    );
    const body = (await response.json()) as { records: unknown[]; done: boolean };
    expect(body.records).toHaveLength(300);
    expect(body.done).toBe(false);
  });

  it('keeps at most 10 open cursors and releases the oldest', async () => {
    const firsts = [];
    for (let i = 0; i < 11; i++) firsts.push(await conn.query('SELECT Id FROM Contact'));
    await expect(conn.queryMore(firsts[0]?.nextRecordsUrl as string)).rejects.toMatchObject({
      errorCode: 'INVALID_QUERY_LOCATOR',
    });
    const newest = await conn.queryMore(firsts[10]?.nextRecordsUrl as string);
    expect(newest.records).toHaveLength(500);
  });

  it('answers INVALID_QUERY_LOCATOR for an unknown locator', async () => {
    await expect(conn.queryMore('01g000000000000-2000')).rejects.toMatchObject({
      errorCode: 'INVALID_QUERY_LOCATOR',
    });
  });

  it('evaluates comparisons, LIKE, IN, NOT IN, NULL, AND/OR/NOT with parentheses', async () => {
    expect(await ids("SELECT LastName FROM Contact WHERE LastName = 'person 0001'")).toEqual(['Person 0001']);
    expect(await ids("SELECT LastName FROM Contact WHERE LastName LIKE 'Person 000_'")).toHaveLength(10);
    expect(await ids("SELECT LastName FROM Contact WHERE MarkMail_ID__c IN ('mm-1','mm-2','nope')")).toEqual([
      'Person 0001',
      'Person 0002',
    ]);
    expect(
      await ids(
        "SELECT LastName FROM Contact WHERE LastName LIKE 'Person 000%' AND NOT (Email != null OR LastName IN ('Person 0003','Person 0005'))",
      ),
    ).toEqual(['Person 0001', 'Person 0007', 'Person 0009']);
    expect(
      await ids(
        "SELECT LastName FROM Contact WHERE (LastName < 'Person 0002' OR LastName > 'Person 2498') AND Email = null",
      ),
    ).toEqual(['Person 0001', 'Person 2499']);
    expect(
      await ids(
        "SELECT LastName FROM Contact WHERE LastName LIKE 'Person 000%' AND MarkMail_ID__c NOT IN ('mm-0','mm-1') AND HasOptedOutOfEmail = true",
      ),
    ).toEqual(['Person 0005']);
  });

  it('evaluates date and datetime literals', async () => {
    expect(await ids('SELECT LastName FROM Contact WHERE Birthdate = 1990-01-15 LIMIT 2')).toHaveLength(2);
    expect((await conn.query('SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY')).totalSize).toBe(2500);
    expect(
      (await conn.query('SELECT COUNT() FROM Contact WHERE CreatedDate > 2026-05-15T12:00:00Z')).totalSize,
    ).toBe(0);
    expect(
      (await conn.query('SELECT COUNT() FROM Contact WHERE CreatedDate >= 2026-05-15T12:00:00.000+0000'))
        .totalSize,
    ).toBe(2500);
    expect(
      (await conn.query('SELECT COUNT() FROM Contact WHERE CreatedDate = LAST_N_DAYS:3')).totalSize,
    ).toBe(2500);
    expect((await conn.query('SELECT COUNT() FROM Contact WHERE CreatedDate < THIS_MONTH')).totalSize).toBe(
      0,
    );
  });

  it('orders, limits and offsets', async () => {
    expect(await ids('SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2 OFFSET 1')).toEqual([
      'Person 2498',
      'Person 2497',
    ]);
    const nullsLast = await conn.query<{ Email: string | null }>(
      "SELECT Email FROM Contact WHERE LastName LIKE 'Person 000%' ORDER BY Email ASC NULLS LAST",
    );
    expect(nullsLast.records.at(-1)?.Email).toBeNull();
    expect(nullsLast.records[0]?.Email).toBe('even0@example.com');
  });

  it('counts with COUNT() and COUNT(field)', async () => {
    const count = await conn.query('SELECT COUNT() FROM Contact WHERE Email != null');
    expect(count).toMatchObject({ totalSize: 1250, done: true, records: [] });
    const aggregate = await conn.query<{ expr0: number }>('SELECT COUNT(Email) FROM Contact');
    expect(aggregate.records[0]?.expr0).toBe(1250);
  });

  it('evaluates semi-joins and anti-joins', async () => {
    const [campaign] = sf.store.insert('Campaign', [{ Name: 'List' }]);
    const members = sf.store
      .findByExternalId('Contact', 'MarkMail_ID__c', 'mm-7')
      .concat(sf.store.findByExternalId('Contact', 'MarkMail_ID__c', 'mm-8'));
    sf.store.insert(
      'CampaignMember',
      members.map((ContactId) => ({ CampaignId: campaign?.id, ContactId })),
    );
    const inList = `SELECT LastName FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = '${campaign?.id}')`;
    expect(await ids(inList)).toEqual(['Person 0007', 'Person 0008']);
    const notInList =
      "SELECT COUNT() FROM Contact WHERE Id NOT IN (SELECT ContactId FROM CampaignMember) AND LastName LIKE 'Person 000%'";
    expect((await conn.query(notInList)).totalSize).toBe(8);
  });

  it('groups with GROUP BY and aggregate functions', async () => {
    const result = await conn.query<{ HasOptedOutOfEmail: boolean; total: number; expr0: number }>(
      'SELECT HasOptedOutOfEmail, COUNT(Id) total, COUNT(Email) FROM Contact GROUP BY HasOptedOutOfEmail ORDER BY HasOptedOutOfEmail',
    );
    expect(result.records.map((r) => [r.HasOptedOutOfEmail, r.total, r.expr0])).toEqual([
      [false, 2000, 1000],
      [true, 500, 250],
    ]);
    expect(result.records[0]).toHaveProperty('attributes', { type: 'AggregateResult' });
  });

  it('returns parent relationships as nested records and child sub-queries', async () => {
    const result = await conn.query<{ Account: { Name: string } | null }>(
      "SELECT Id, Account.Name FROM Contact WHERE MarkMail_ID__c IN ('mm-0', 'mm-2000') ORDER BY LastName",
    );
    expect(result.records[0]?.Account).toEqual({
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${accountId}` },
      Name: 'Acme',
    });
    expect(result.records[1]?.Account).toBeNull();
    const accounts = await conn.query<{ Contacts: { totalSize: number } }>(
      'SELECT Name, (SELECT LastName FROM Contacts) FROM Account',
    );
    expect(accounts.records[0]?.Contacts.totalSize).toBe(3);
    expect((await conn.query("SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme'")).totalSize).toBe(3);
  });

  it('includes deleted rows only in queryAll', async () => {
    const [row] = sf.store.insert('Contact', [{ LastName: 'Recycled' }]);
    sf.store.delete([row?.id as string]);
    const live = await conn.query("SELECT Id FROM Contact WHERE LastName = 'Recycled'");
    expect(live.totalSize).toBe(0);
    const all = await conn.query<{ IsDeleted: boolean }>(
      "SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Recycled'",
      {
        scanAll: true,
      },
    );
    expect(all.records[0]?.IsDeleted).toBe(true);
  });

  it('reports MALFORMED_QUERY, INVALID_FIELD and INVALID_TYPE', async () => {
    await expect(conn.query('SELECT FROM Contact')).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    await expect(conn.query('SELECT Bogus__c FROM Contact')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(conn.query('SELECT Id FROM ScratchOrgInfo limit 1')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
  });

  it('answers the Organization query the sf CLI sends', async () => {
    const org = await conn.query<{ Name: string; IsSandbox: boolean; OrganizationType: string }>(
      'SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization',
    );
    expect(org.records[0]).toMatchObject({
      Name: 'MarkMail Emulator Org',
      IsSandbox: false,
      OrganizationType: 'Developer Edition',
    });
  });
});
