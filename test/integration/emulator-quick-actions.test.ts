import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;
const clock = { now: () => new Date('2026-03-04T10:00:00Z') };

beforeAll(async () => {
  sf = await startSalesforceEmulator({ clock });
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

function account(): string {
  return sf.store.insert('Account', [{ Name: 'Acme' }])[0]?.id as string;
}

describe('quick actions', () => {
  it('lists the global actions with their urls, globally and on an object', async () => {
    const global = await conn.quickActions();
    expect(global.map((a) => [a.name, a.type])).toEqual([
      ['LogACall', 'LogACall'],
      ['NewTask', 'Create'],
      ['NewContact', 'Create'],
      ['NewOpportunity', 'Create'],
      ['NewLead', 'Create'],
    ]);
    expect(global[0]?.urls.describe).toBe('/services/data/v62.0/quickActions/LogACall/describe');
    const onAccount = (await conn.sobject('Account').quickActions()) as Array<{
      urls: { quickAction: string };
    }>;
    expect(onAccount[0]?.urls.quickAction).toBe(
      '/services/data/v62.0/sobjects/Account/quickActions/LogACall',
    );
    const version = (await conn.request('/')) as Record<string, string>;
    expect(version.quickActions).toBe('/services/data/v62.0/quickActions');
  });

  it('describes Log a Call: a Task action whose layout lists its fields', async () => {
    const describe = await conn.quickAction('LogACall').describe();
    expect(describe).toMatchObject({
      name: 'LogACall',
      type: 'LogACall',
      targetSobjectType: 'Task',
      label: 'Log a Call',
    });
    const rows = (
      describe.layout as {
        layoutRows: Array<{ layoutItems: Array<{ layoutComponents: Array<{ value: string }> }> }>;
      }
    ).layoutRows;
    expect(rows.map((r) => r.layoutItems[0]?.layoutComponents[0]?.value)).toEqual([
      'Subject',
      'Description',
      'WhoId',
      'WhatId',
    ]);
  });

  it('gives default values, with the context record in its lookup', async () => {
    const action = conn.quickAction('LogACall');
    expect(await action.defaultValues()).toMatchObject({
      Subject: 'Call',
      Status: 'Completed',
      ActivityDate: '2026-03-04',
      Description: null,
      WhoId: null,
      WhatId: null,
    });
    const accountId = account();
    expect(await action.defaultValues(accountId)).toMatchObject({ WhatId: accountId, WhoId: null });
    const contactId = sf.store.insert('Contact', [{ LastName: 'Lovelace' }])[0]?.id as string;
    expect(await action.defaultValues(contactId)).toMatchObject({ WhoId: contactId, WhatId: null });
    expect(await conn.quickAction('NewContact').defaultValues(accountId)).toMatchObject({
      AccountId: accountId,
    });
  });

  it('logs a call on an account: a completed task, in its activity history', async () => {
    const accountId = account();
    const result = await conn
      .quickAction('LogACall')
      .execute(accountId, { Subject: 'Discovery call', Description: 'Went well' });
    expect(result).toMatchObject({ success: true, created: true, contextId: accountId, feedItemIds: [] });
    const task = await conn.sobject('Task').retrieve(result.id);
    expect(task).toMatchObject({
      Subject: 'Discovery call',
      WhatId: accountId,
      IsClosed: true,
      AccountId: accountId,
    });
    const history = await conn.query<{ ActivityHistories: { totalSize: number } | null }>(
      `SELECT (SELECT Id FROM ActivityHistories) FROM Account WHERE Id = '${accountId}'`,
    );
    expect(history.records[0]?.ActivityHistories?.totalSize).toBe(1);
  });

  it('validates the created record like any insert, and refuses unknown actions and contexts', async () => {
    await expect(
      conn.quickAction('NewContact').execute(account(), { FirstName: 'No last name' }),
    ).rejects.toMatchObject({
      errorCode: 'REQUIRED_FIELD_MISSING',
    });
    await expect(conn.quickAction('Nope').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    await expect(conn.quickAction('LogACall').defaultValues('001000000000000AAA')).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
    await expect(conn.request('/sobjects/Nope__c/quickActions')).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
});
