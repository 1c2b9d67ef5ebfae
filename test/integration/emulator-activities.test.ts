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

async function seed(): Promise<{ accountId: string; contactId: string; opportunityId: string }> {
  const [account] = sf.store.insert('Account', [{ Name: 'Acme' }]);
  const accountId = account?.id as string;
  const [contact] = sf.store.insert('Contact', [{ LastName: 'Lovelace', AccountId: accountId }]);
  const [opportunity] = sf.store.insert('Opportunity', [
    { Name: 'Deal', StageName: 'Prospecting', CloseDate: '2026-12-31', AccountId: accountId },
  ]);
  return { accountId, contactId: contact?.id as string, opportunityId: opportunity?.id as string };
}

describe('tasks: fields Salesforce derives', () => {
  it('closes a task only through its status and flags high priority', async () => {
    const created = await conn.sobject('Task').create({ Subject: 'Call', Priority: 'High' });
    const id = (created as { id: string }).id;
    expect(await conn.sobject('Task').retrieve(id)).toMatchObject({ IsClosed: false, IsHighPriority: true });
    await conn.sobject('Task').update({ Id: id, Status: 'Completed', Priority: 'Low' });
    expect(await conn.sobject('Task').retrieve(id)).toMatchObject({ IsClosed: true, IsHighPriority: false });
  });

  it('sets AccountId from an account WhatId', async () => {
    const { accountId } = await seed();
    const created = await conn.sobject('Task').create({ Subject: 'Call', WhatId: accountId });
    const task = await conn.sobject('Task').retrieve((created as { id: string }).id);
    expect(task.AccountId).toBe(accountId);
  });
});

describe('ActivityHistories and OpenActivities', () => {
  it('lists closed tasks under ActivityHistories and open ones under OpenActivities, through what and who', async () => {
    const { accountId, contactId, opportunityId } = await seed();
    await conn.sobject('Task').create([
      { Subject: 'Closed on account', WhatId: accountId, Status: 'Completed', Type: 'Call' },
      { Subject: 'Closed on opportunity', WhatId: opportunityId, Status: 'Completed' },
      { Subject: 'Closed with contact', WhoId: contactId, Status: 'Completed' },
      { Subject: 'Open on account', WhatId: accountId },
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: nested sub-query records are read loosely
    const result = await conn.query<Record<string, any>>(
      `SELECT Id, (SELECT Subject, IsTask, IsClosed, ActivityType, Owner.Username, What.Name FROM ActivityHistories), (SELECT Subject FROM OpenActivities) FROM Account WHERE Id = '${accountId}'`,
    );
    const account = result.records[0] ?? {};
    // biome-ignore lint/suspicious/noExplicitAny: nested sub-query records are read loosely
    const history = account.ActivityHistories.records as Array<Record<string, any>>;
    expect(history.map((r) => r.Subject).sort()).toEqual([
      'Closed on account',
      'Closed on opportunity',
      'Closed with contact',
    ]);
    const onAccount = history.find((r) => r.Subject === 'Closed on account');
    expect(onAccount).toMatchObject({
      IsTask: true,
      IsClosed: true,
      ActivityType: 'Call',
      What: { Name: 'Acme' },
    });
    expect(onAccount?.attributes.type).toBe('ActivityHistory');
    expect(onAccount?.Owner.Username).toBe(sf.username);
    expect(account.OpenActivities.records.map((r: { Subject: string }) => r.Subject)).toEqual([
      'Open on account',
    ]);
  });

  it('answers null for an account without closed activities', async () => {
    const { accountId } = await seed();
    const result = await conn.query<Record<string, unknown>>(
      `SELECT Id, (SELECT Id FROM ActivityHistories) FROM Account WHERE Id = '${accountId}'`,
    );
    expect(result.records[0]?.ActivityHistories).toBeNull();
  });

  it('refuses a direct query and describes the views without a key prefix', async () => {
    await expect(conn.query('SELECT Id FROM ActivityHistory')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
    });
    const describe = await conn.sobject('ActivityHistory').describe();
    expect(describe).toMatchObject({ keyPrefix: null, createable: false, deletable: false });
    const account = await conn.sobject('Account').describe();
    expect(account.childRelationships).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          childSObject: 'ActivityHistory',
          field: 'AccountId',
          relationshipName: 'ActivityHistories',
        }),
        expect.objectContaining({
          childSObject: 'OpenActivity',
          field: 'AccountId',
          relationshipName: 'OpenActivities',
        }),
      ]),
    );
    await expect(conn.sobject('ActivityHistory').create({ Subject: 'x' })).rejects.toMatchObject({
      errorCode: 'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
    });
  });
});
