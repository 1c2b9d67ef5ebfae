import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStorage, SyncEngine } from '../../src/index.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import {
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../src/testing/salesforce-emulator/index.js';

let sf: SalesforceEmulator;
beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf?.stop();
});
beforeEach(() => {
  sf.reset();
});

const provider = () =>
  new SalesforceProvider({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken, sleep: async () => {} });

/** Seeds a person the way an org with data protection holds them: Individual, Contact, Lead, Tasks, list membership. */
async function seedPerson(crm: SalesforceProvider, email: string) {
  const [created] = sf.store.insert('Individual', [{ FirstName: 'Ada', LastName: 'Lovelace' }]);
  const individual = created?.id as string;
  const synced = await crm.syncContact({
    externalId: 'sub-ada',
    email,
    firstName: 'Ada',
    lastName: 'Lovelace',
  });
  sf.store.update('Contact', [{ Id: synced.crmId, IndividualId: individual }]);
  await crm.createLead({
    externalId: 'lead-ada',
    email,
    lastName: 'Lovelace',
    company: 'Analytical',
    leadSource: 'Web',
  });
  await crm.logEmailActivity({
    externalId: 'act-1',
    contactExternalId: 'sub-ada',
    activityType: 'opened',
    occurredAt: new Date('2026-01-02T00:00:00Z'),
  });
  await crm.syncListMembership({ externalId: 'list-1', name: 'Newsletter', memberIds: ['sub-ada'] });
  return { individual, contactId: synced.crmId as string };
}

describe('SalesforceProvider privacy against the emulator', () => {
  it('exportContactData gathers Contact, Lead, Tasks, CampaignMembers and the Individual as plain JSON', async () => {
    const crm = provider();
    const { individual, contactId } = await seedPerson(crm, 'ada@example.com');
    const exported = await crm.exportContactData({ email: 'ada@example.com' });
    expect(exported.provider).toBe('salesforce');
    expect(Object.keys(exported.records).sort()).toEqual([
      'CampaignMember',
      'Contact',
      'Individual',
      'Lead',
      'Task',
    ]);
    expect(exported.records.Contact).toMatchObject([
      { Id: contactId, Email: 'ada@example.com', LastName: 'Lovelace' },
    ]);
    expect(exported.records.Lead).toMatchObject([{ Email: 'ada@example.com', Company: 'Analytical' }]);
    expect(exported.records.Task).toHaveLength(1);
    expect(exported.records.CampaignMember).toMatchObject([{ ContactId: contactId }]);
    expect(exported.records.Individual).toMatchObject([{ Id: individual, ShouldForget: false }]);
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
  });

  it('forgetContact deletes Contact, Lead, Tasks and CampaignMembers and flags the Individual', async () => {
    const crm = provider();
    const { individual } = await seedPerson(crm, 'ada@example.com');
    const other = await crm.syncContact({ externalId: 'sub-bob', email: 'bob@example.com', lastName: 'Bob' });
    const result = await crm.forgetContact({ email: 'ada@example.com', externalId: 'sub-ada' });
    expect(result).toEqual({
      provider: 'salesforce',
      outcome: 'erased',
      deleted: { Task: 1, CampaignMember: 1, Contact: 1, Lead: 1 },
      actions: ['individual_flagged'],
    });
    expect(sf.records('Contact').map((c) => c.Id)).toEqual([other.crmId]);
    expect(sf.records('Lead')).toHaveLength(0);
    expect(sf.records('Task')).toHaveLength(0);
    expect(sf.records('CampaignMember')).toHaveLength(0);
    const [flagged] = sf.records('Individual');
    expect(flagged).toMatchObject({
      Id: individual,
      ShouldForget: true,
      HasOptedOutProcessing: true,
      HasOptedOutProfiling: true,
      HasOptedOutSolicit: true,
      HasOptedOutTracking: true,
      FirstName: null,
    });
    expect(JSON.stringify(flagged)).not.toContain('Lovelace');
    expect(await crm.forgetContact({ email: 'ada@example.com' })).toMatchObject({ outcome: 'not_found' });
  });

  it('through the engine: the CRM, the status rows and the audit all agree', async () => {
    const crm = provider();
    const storage = new MemoryStorage();
    const { id } = await storage.integrations.create({
      userId: 'u1',
      provider: 'salesforce',
      orgId: sf.orgId,
      instanceUrl: sf.instanceUrl,
      credentials: 'ciphertext',
    });
    const engine = new SyncEngine({ provider: crm, storage, integrationId: id });
    await engine.pushContacts([{ externalId: 'sub-ada', email: 'ada@example.com', lastName: 'Lovelace' }]);
    const exported = await engine.exportContactData({ externalId: 'sub-ada' });
    expect(exported.crm?.records.Contact).toHaveLength(1);
    expect(exported.local.syncStatus).toHaveLength(1);
    const report = await engine.forgetContact({ externalId: 'sub-ada', email: 'ada@example.com' });
    expect(report.crm?.deleted.Contact).toBe(1);
    expect(report.local.statusRows).toBe(1);
    expect(sf.records('Contact')).toHaveLength(0);
    const again = await engine.pushContacts([
      { externalId: 'sub-ada', email: 'ada@example.com', lastName: 'Lovelace' },
    ]);
    expect(again.suppressed).toBe(1);
    expect(sf.records('Contact')).toHaveLength(0);
  });
});

describe('SalesforceProvider privacy on the wire', () => {
  const instanceUrl = 'https://privacy.my.salesforce.com';
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('in an org without data protection (no IndividualId field), erases Contact and Lead without the Individual step', async () => {
    const scope = nock(instanceUrl)
      .get(/\/query\?q=SELECT%20Id%2C%20IndividualId%20FROM%20Contact/)
      .reply(400, [
        { errorCode: 'INVALID_FIELD', message: "No such column 'IndividualId' on entity 'Contact'." },
      ])
      .get(/\/query\?q=SELECT%20Id%20FROM%20Contact/)
      .reply(200, { totalSize: 1, done: true, records: [{ Id: '003000000000001AAA' }] })
      .get(/\/query\?q=SELECT%20Id%20FROM%20Lead/)
      .reply(200, { totalSize: 0, done: true, records: [] })
      .get(/\/query\?q=SELECT%20Id%20FROM%20Task/)
      .reply(200, { totalSize: 0, done: true, records: [] })
      .get(/\/query\?q=SELECT%20Id%20FROM%20CampaignMember/)
      .reply(200, { totalSize: 0, done: true, records: [] })
      .delete(/\/composite\/sobjects\?ids=003000000000001AAA&allOrNone=false/)
      .reply(200, [{ id: '003000000000001AAA', success: true, errors: [] }]);
    const crm = new SalesforceProvider({
      instanceUrl,
      accessToken: '00D000000000001!token',
      sleep: async () => {},
    });
    const result = await crm.forgetContact({ email: 'ada@example.com' });
    expect(result).toEqual({
      provider: 'salesforce',
      outcome: 'erased',
      deleted: { Task: 0, CampaignMember: 0, Contact: 1, Lead: 0 },
      actions: [],
    });
    scope.done();
  });
});
