import { describe, expect, it } from 'vitest';
import { CrmConnectionError, CrmRateLimitError } from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';

const clockAt = (iso: string) => ({ now: () => new Date(iso) });

describe('FakeCrmProvider', () => {
  it('creates with CRM ids and updates by external id, then by email', async () => {
    const crm = new FakeCrmProvider();
    const first = await crm.bulkSyncContacts([
      { externalId: 'a', email: 'a@example.com' },
      { externalId: 'b', email: 'b@example.com' },
    ]);
    expect(first.results.map((r) => [r.externalId, r.created, r.success])).toEqual([
      ['a', true, true],
      ['b', true, true],
    ]);
    expect(first.results[0]?.crmId).toMatch(/^003\d{12}$/);
    const second = await crm.syncContact({ externalId: 'a', email: 'a@example.com', title: 'CEO' });
    expect(second).toMatchObject({ created: false, crmId: first.results[0]?.crmId });
    const byEmail = await crm.syncContact({ externalId: 'other', email: 'B@example.com' });
    expect(byEmail).toMatchObject({ created: false, crmId: first.results[1]?.crmId });
    expect(crm.contacts()).toHaveLength(2);
    expect(await crm.getContact('a@example.com')).toMatchObject({ title: 'CEO' });
  });

  it('keeps strictly increasing modification times even when the clock stands still', async () => {
    const crm = new FakeCrmProvider({ clock: clockAt('2026-01-01T00:00:00Z') });
    const id = crm.crmCreateContact({ externalId: 'a', email: 'a@example.com' });
    const before = crm.contactById(id)?.lastModifiedAt?.getTime() ?? 0;
    crm.crmUpdateContact(id, { title: 'x' });
    expect(crm.contactById(id)?.lastModifiedAt?.getTime()).toBeGreaterThan(before);
  });

  it('counts API calls like Salesforce: 200 records per collection call, one bulk job above the threshold', async () => {
    const crm = new FakeCrmProvider({ bulkThreshold: 300 });
    const make = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({
        externalId: `${prefix}${i}`,
        email: `${prefix}${i}@example.com`,
      }));
    expect((await crm.bulkSyncContacts(make(201, 'r'))).apiCalls).toBe(2);
    const bulk = await crm.bulkSyncContacts(make(301, 'b'));
    expect(bulk).toMatchObject({ mode: 'bulk', apiCalls: 5 });
    expect(crm.apiUsage).toEqual({ used: 7, max: 15_000 });
    expect(crm.calls.map((c) => [c.method, c.records, c.mode])).toEqual([
      ['bulkSyncContacts', 201, 'rest'],
      ['bulkSyncContacts', 301, 'bulk'],
    ]);
  });

  it('lists changes after a cursor, each record once at its latest change, deletes included', async () => {
    const crm = new FakeCrmProvider({ pageSize: 2 });
    const a = crm.crmCreateContact({ externalId: 'a', email: 'a@example.com' });
    const b = crm.crmCreateContact({ externalId: 'b', email: 'b@example.com' });
    crm.crmUpdateContact(a, { title: 'x' });
    const pages = [];
    for await (const page of crm.listContactChanges(null)) pages.push(page);
    expect(pages.map((p) => [p.upserted.map((c) => c.externalId), p.deleted, p.cursor])).toEqual([
      [['b', 'a'], [], '3'],
    ]);
    crm.crmDeleteContact(b);
    crm.crmCreateContact({ externalId: 'c', email: 'c@example.com' });
    const next = [];
    for await (const page of crm.listContactChanges('3')) next.push(page);
    expect(next.map((p) => [p.upserted.map((c) => c.externalId), p.deleted, p.cursor])).toEqual([
      [['c'], [b], '5'],
    ]);
    const empty = [];
    for await (const page of crm.listContactChanges('5')) empty.push(page);
    expect(empty).toEqual([]);
  });

  it('re-delivers changes before the cursor when configured with a lookback', async () => {
    const crm = new FakeCrmProvider({ lookbackChanges: 1 });
    crm.crmCreateContact({ externalId: 'a', email: 'a@example.com' });
    crm.crmCreateContact({ externalId: 'b', email: 'b@example.com' });
    const pages = [];
    for await (const page of crm.listContactChanges('2')) pages.push(page);
    expect(pages[0]?.upserted.map((c) => c.externalId)).toEqual(['b']);
    expect(pages[0]?.cursor).toBe('2');
  });

  it('injects per-record failures a limited number of times', async () => {
    const crm = new FakeCrmProvider();
    crm.failRecord({ externalId: 'a', code: 'UNABLE_TO_LOCK_ROW', times: 1, fields: ['Email'] });
    const first = await crm.bulkSyncContacts([
      { externalId: 'a', email: 'a@example.com' },
      { externalId: 'b', email: 'b@example.com' },
    ]);
    expect(first).toMatchObject({ success: 1, failed: 1 });
    expect(first.results[0]?.error).toEqual({
      code: 'UNABLE_TO_LOCK_ROW',
      message: 'Injected failure (UNABLE_TO_LOCK_ROW)',
      fields: ['Email'],
    });
    const second = await crm.bulkSyncContacts([{ externalId: 'a', email: 'a@example.com' }]);
    expect(second.failed).toBe(0);
  });

  it('injects whole-call failures and enforces the daily API limit', async () => {
    const crm = new FakeCrmProvider({ dailyApiLimit: 2 });
    crm.failCall('getContact', new CrmConnectionError('reset'));
    await expect(crm.getContact('a@example.com')).rejects.toBeInstanceOf(CrmConnectionError);
    await crm.getContact('a@example.com');
    await crm.getContact('a@example.com');
    await expect(crm.getContact('a@example.com')).rejects.toBeInstanceOf(CrmRateLimitError);
    expect(crm.apiUsage).toEqual({ used: 2, max: 2 });
  });

  it('aborts a batch when the signal fires', async () => {
    const crm = new FakeCrmProvider();
    const controller = new AbortController();
    controller.abort();
    await expect(
      crm.bulkSyncContacts([{ externalId: 'a', email: 'a@example.com' }], { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(crm.contacts()).toHaveLength(0);
  });

  it('keeps campaigns, idempotent activities and list membership', async () => {
    const crm = new FakeCrmProvider();
    await crm.syncContact({ externalId: 'a', email: 'a@example.com' });
    await crm.syncContact({ externalId: 'b', email: 'b@example.com' });
    const campaign = await crm.syncCampaign({ externalId: 'c1', name: 'Launch', status: 'Planned' });
    expect(campaign).toMatchObject({ created: true, crmId: expect.stringMatching(/^701/) });
    const activity = {
      externalId: 'e1',
      contactExternalId: 'a',
      activityType: 'opened' as const,
      occurredAt: new Date(),
    };
    await crm.logEmailActivities([activity, activity]);
    expect(crm.activities()).toHaveLength(1);
    const list = await crm.syncListMembership({ externalId: 'l1', name: 'VIP', memberIds: ['a', 'b', 'zz'] });
    expect(list).toMatchObject({ added: 2, removed: 0 });
    expect(list.results.find((r) => !r.success)?.error?.code).toBe('INVALID_CROSS_REFERENCE_KEY');
    const shrink = await crm.syncListMembership({ externalId: 'l1', name: 'VIP', memberIds: ['b'] });
    expect(shrink).toMatchObject({ added: 0, removed: 1, unchanged: 1 });
    expect(crm.listMembers('l1')).toEqual(['b']);
  });

  it('supports leads and reports its features', async () => {
    const crm = new FakeCrmProvider();
    expect(crm.supportsFeature('incremental_pull')).toBe(true);
    expect(crm.supportsFeature('real_time_sync')).toBe(false);
    const lead = await crm.createLead({
      externalId: 'l',
      email: 'l@example.com',
      leadSource: 'Web',
      lastName: 'L',
    });
    const converted = await crm.convertLeadToContact(lead.crmId as string);
    expect(crm.contactById(converted.contactId)).toMatchObject({ externalId: 'l', lastName: 'L' });
    expect(await crm.getLead('l@example.com')).toBeNull();
    await expect(
      crm.mapCustomFields([{ hostField: 'x', crmField: 'Nope__c', fieldType: 'text' }]),
    ).rejects.toMatchObject({ code: 'DATA_CONVERSION', fields: ['Nope__c'] });
  });
});
