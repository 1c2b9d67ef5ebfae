import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CrmApiError, CrmDataConversionError, CrmRateLimitError, isCrmError } from '../../src/core/errors.js';
import type { CrmContactInput } from '../../src/core/models.js';
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

function provider(options: Partial<ConstructorParameters<typeof SalesforceProvider>[0]> = {}) {
  return new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    sleep: async () => {},
    ...options,
  });
}

describe('contacts against the emulator', () => {
  it('creates, then updates, reports created correctly and reads back by email', async () => {
    const crm = provider();
    const first = await crm.syncContact({
      externalId: 'u-1',
      email: "o'brien@example.com",
      lastName: "O'Brien",
    });
    expect(first).toMatchObject({ success: true, created: true });
    expect(first.crmId).toMatch(/^003/);
    const second = await crm.syncContact({
      externalId: 'u-1',
      email: "o'brien@example.com",
      lastName: "O'Brien",
      title: 'Host',
    });
    expect(second).toMatchObject({ success: true, created: false, crmId: first.crmId });
    const contact = await crm.getContact("o'brien@example.com");
    expect(contact).toMatchObject({ id: first.crmId, externalId: 'u-1', title: 'Host', lastName: "O'Brien" });
    expect(sf.records('Contact')).toHaveLength(1);
    expect(crm.apiUsage?.max).toBeGreaterThan(0);
  });

  it('round-trips tricky data: quotes, commas, newlines, emoji, CJK, an 80-character email', async () => {
    const crm = provider();
    const email = `${'a'.repeat(60)}@${'b'.repeat(7)}.example.com`;
    expect(email).toHaveLength(80);
    await crm.syncContact({
      externalId: 'weird/id?#1',
      email,
      firstName: '山田 😀',
      lastName: 'Doe, "Jr."\nSecond line',
    });
    const contact = await crm.getContact(email);
    expect(contact).toMatchObject({
      externalId: 'weird/id?#1',
      firstName: '山田 😀',
      lastName: 'Doe, "Jr."\nSecond line',
    });
  });

  it('rejects invalid emails locally without calling Salesforce', async () => {
    const crm = provider();
    const before = sf.stats.requests;
    await expect(
      crm.syncContact({ externalId: 'u-1', email: 'not@valid@example.com' }),
    ).rejects.toBeInstanceOf(CrmDataConversionError);
    expect(sf.stats.requests).toBe(before);
  });

  it('reports Salesforce refusals as CrmApiError with providerCode and fields', async () => {
    const crm = provider();
    const error = await crm
      .syncContact({ externalId: 'u-1', email: 'a@example.com' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmApiError);
    expect(error).toMatchObject({ providerCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] });
  });

  it('updates by id and deletes (a second delete still succeeds)', async () => {
    const crm = provider();
    const { crmId } = await crm.syncContact({ externalId: 'u-1', email: 'a@example.com', lastName: 'A' });
    await crm.updateContact({ id: crmId, externalId: 'u-1', email: 'a@example.com', lastName: 'B' });
    expect(sf.records('Contact')[0]).toMatchObject({ LastName: 'B' });
    await crm.deleteContact(crmId as string);
    expect(sf.records('Contact')).toHaveLength(0);
    await crm.deleteContact(crmId as string);
  });
});

function generate(n: number, offset = 0): CrmContactInput[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `g-${i + offset}`,
    email: `g${i + offset}@example.com`,
    firstName: i % 3 === 0 ? 'Zoë, "Z"' : `F${i}`,
    lastName: `L${i + offset}`,
  }));
}

describe('contacts matched by Email (externalIdField null) against the emulator', () => {
  it('syncContact upserts on Email (an idLookup field): creates, then updates the same contact', async () => {
    const crm = provider({ externalIdField: null });
    const first = await crm.syncContact({
      externalId: 'host-1',
      email: 'ada@example.com',
      lastName: 'Lovelace',
    });
    expect(first).toMatchObject({ success: true, created: true });
    const second = await crm.syncContact({
      externalId: 'host-1',
      email: 'Ada@Example.com',
      lastName: 'Lovelace',
      title: 'Analyst',
    });
    expect(second).toMatchObject({ success: true, created: false, crmId: first.crmId });
    expect(sf.records('Contact')).toEqual([expect.objectContaining({ Id: first.crmId, Title: 'Analyst' })]);
  });

  it('describes idLookup on Id, Email and Name fields only', async () => {
    const idLookup = async (sobject: string) => {
      const response = await fetch(`${sf.instanceUrl}/services/data/v62.0/sobjects/${sobject}/describe`, {
        headers: { Authorization: `Bearer ${sf.accessToken}` },
      });
      const body = (await response.json()) as { fields: Array<{ name: string; idLookup: boolean }> };
      return body.fields.filter((f) => f.idLookup).map((f) => f.name);
    };
    expect(await idLookup('Contact')).toEqual(expect.arrayContaining(['Id', 'Email']));
    expect(await idLookup('Contact')).not.toContain('LastName');
    expect(await idLookup('Account')).toEqual(expect.arrayContaining(['Id', 'Name']));
  });
});

describe('bulkSyncContacts against the emulator', () => {
  it('rest mode: 450 records in 3 collection calls, partial failures reported per record', async () => {
    const crm = provider();
    const input: CrmContactInput[] = generate(450);
    input[10] = { externalId: 'g-10', email: 'g10@example.com' }; // no LastName: Salesforce refuses
    input[20] = { externalId: 'g-20', email: 'bad email', lastName: 'X' }; // refused locally
    const result = await crm.bulkSyncContacts(input, { mode: 'rest' });
    expect(result).toMatchObject({ total: 450, success: 448, failed: 2, mode: 'rest', apiCalls: 3 });
    expect(result.results[10]).toMatchObject({ success: false, error: { code: 'REQUIRED_FIELD_MISSING' } });
    expect(result.results[20]).toMatchObject({ success: false, error: { code: 'INVALID_DATA' } });
    expect(sf.records('Contact')).toHaveLength(448);
  });

  it('bulk mode: a record refused locally fails with its reason, one that needs trimming is trimmed, the rest land', async () => {
    const crm = provider();
    const input: CrmContactInput[] = generate(30);
    input[3] = { externalId: 'g-3', email: 'bad email', lastName: 'X' };
    // Not in the schema's output form: goes through the schema (valid input skips it).
    input[4] = { externalId: 'g-4', email: 'g4@example.com', lastName: '  Padded  ', tags: [] };
    input[5] = { externalId: 'g-5', email: ' g5@example.com ', lastName: 'L5' };
    const result = await crm.bulkSyncContacts(input, { mode: 'bulk' });
    expect(result).toMatchObject({ total: 30, success: 29, failed: 1, mode: 'bulk' });
    expect(result.results[3]).toMatchObject({ success: false, error: { code: 'INVALID_DATA' } });
    expect(result.results[3]?.error?.message).toContain('email');
    const stored = sf.records('Contact');
    expect(stored).toHaveLength(29);
    expect(stored.find((r) => r.MarkMail_ID__c === 'g-4')).toMatchObject({ LastName: 'Padded' });
    expect(stored.find((r) => r.MarkMail_ID__c === 'g-5')).toMatchObject({ Email: 'g5@example.com' });
  });

  it('works from an AsyncIterable', async () => {
    const crm = provider();
    async function* source() {
      yield* generate(5);
    }
    const result = await crm.bulkSyncContacts(source());
    expect(result).toMatchObject({ total: 5, success: 5, mode: 'rest' });
  });
});

describe('listContactChanges against the emulator', () => {
  it('pages past 2,000 records without skipping, resumes from the cursor and reports deletions', async () => {
    const crm = provider();
    await crm.bulkSyncContacts(generate(2300), { mode: 'rest' });
    const seen = new Set<string>();
    let cursor: string | null = null;
    let batches = 0;
    for await (const batch of crm.listContactChanges(null)) {
      batches += 1;
      for (const c of batch.upserted) seen.add(c.externalId);
      cursor = batch.cursor;
    }
    expect(seen.size).toBe(2300);
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(cursor).not.toBeNull();

    // Nothing new: resuming re-delivers only what the lookback window covers, unchanged (the feed
    // is at least once; consumers drop re-deliveries by id and lastModifiedAt).
    const stamps = new Map<string, number>();
    for await (const batch of crm.listContactChanges(null)) {
      for (const c of batch.upserted) stamps.set(c.id as string, c.lastModifiedAt?.getTime() ?? 0);
    }
    for await (const batch of crm.listContactChanges(cursor)) {
      for (const c of batch.upserted) expect(c.lastModifiedAt?.getTime()).toBe(stamps.get(c.id as string));
    }

    const changed = await crm.syncContact({
      externalId: 'g-5',
      email: 'g5@example.com',
      lastName: 'Changed',
    });
    const victim = await crm.getContact('g6@example.com');
    await crm.deleteContact(victim?.id as string);
    const after: { upserted: string[]; deleted: string[] } = { upserted: [], deleted: [] };
    for await (const batch of crm.listContactChanges(cursor)) {
      after.upserted.push(...batch.upserted.map((c) => c.externalId));
      after.deleted.push(...batch.deleted);
    }
    expect(after.upserted).toContain('g-5');
    expect(after.upserted.filter((id) => id === 'g-5')).toHaveLength(1);
    expect(after.deleted).toEqual([victim?.id]);
    expect(changed.created).toBe(false);
  });

  it('rejects a cursor it did not produce', async () => {
    const iterator = provider().listContactChanges('{"nope":1}')[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(CrmDataConversionError);
  });
});

describe('faults against the emulator', () => {
  it('retries an injected 503 on a read, then succeeds', async () => {
    const crm = provider();
    sf.faults.add({ method: 'GET', path: /\/query/, times: 2, status: 503 });
    expect(await crm.getContact('nobody@example.com')).toBeNull();
    expect(crm.apiCallCount).toBe(3);
  });

  it('retries a dropped connection on an upsert', async () => {
    const crm = provider();
    sf.faults.add({ method: 'PATCH', path: /MarkMail_ID__c/, times: 1, drop: true });
    const result = await crm.syncContact({ externalId: 'u-1', email: 'a@example.com', lastName: 'A' });
    expect(result.success).toBe(true);
    expect(sf.records('Contact')).toHaveLength(1);
  });

  it('surfaces the daily limit as CrmRateLimitError', async () => {
    const crm = provider({ maxApiUsageRatio: null });
    sf.setDailyApiLimit(1); // reset() in beforeEach restores the limit
    await crm.getContact('a@example.com').catch(() => undefined);
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(error).toMatchObject({ status: 403, providerCode: 'REQUEST_LIMIT_EXCEEDED' });
  });

  it('refreshes an expired session once and retries', async () => {
    let refreshes = 0;
    const crm = provider({
      accessToken: 'expired-token',
      refreshAccessToken: async () => {
        refreshes += 1;
        return sf.accessToken;
      },
    });
    expect(await crm.getContact('a@example.com')).toBeNull();
    expect(refreshes).toBe(1);
  });
});

describe('leads, campaigns, activities and lists against the emulator', () => {
  it('creates a lead idempotently on its external id and finds it by email', async () => {
    const crm = provider();
    const first = await crm.createLead({
      externalId: 'form-1',
      email: 'lead@example.com',
      leadSource: 'Web',
    });
    const again = await crm.createLead({
      externalId: 'form-1',
      email: 'lead@example.com',
      leadSource: 'Web',
    });
    expect(first).toMatchObject({ entityType: 'lead', success: true, created: true });
    expect(again).toMatchObject({ created: false, crmId: first.crmId });
    expect(sf.records('Lead')).toHaveLength(1);
    expect(sf.records('Lead')[0]).toMatchObject({ LastName: '[not provided]', Company: '[not provided]' });
    const lead = await crm.getLead('lead@example.com');
    expect(lead).toMatchObject({
      id: first.crmId,
      externalId: 'form-1',
      leadSource: 'Web',
      email: 'lead@example.com',
    });
    expect(await crm.getLead('none@example.com')).toBeNull();
  });

  it('converts a lead into a contact and an account over SOAP; a second conversion is a typed error', async () => {
    const crm = provider();
    const lead = await crm.createLead({
      externalId: 'form-conv',
      email: 'convert.me@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      company: 'Navy',
      leadSource: 'Web',
    });
    expect(lead.crmId).toMatch(/^00Q/);
    const leadId = lead.crmId as string;

    const conversion = await crm.convertLeadToContact(leadId);
    expect(conversion).toMatchObject({ leadId, contactId: expect.stringMatching(/^003/) });
    expect(conversion.accountId).toMatch(/^001/);
    expect(conversion.opportunityId).toBeUndefined();
    const [contact] = sf.records('Contact');
    expect(sf.records('Contact')).toHaveLength(1);
    expect(contact).toMatchObject({
      Id: conversion.contactId,
      Email: 'convert.me@example.com',
      LastName: 'Hopper',
      AccountId: conversion.accountId,
    });
    expect(sf.records('Account')).toEqual([
      expect.objectContaining({ Id: conversion.accountId, Name: 'Navy' }),
    ]);
    expect(sf.records('Lead')[0]).toMatchObject({
      Id: leadId,
      IsConverted: true,
      ConvertedContactId: conversion.contactId,
      ConvertedAccountId: conversion.accountId,
    });

    const again = await crm.convertLeadToContact(leadId).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CrmApiError);
    expect(again).toMatchObject({ providerCode: 'CANNOT_UPDATE_CONVERTED_LEAD', retryable: false });
    expect(sf.records('Contact')).toHaveLength(1);
  });

  it('upserts a campaign on its external id, mapping host status to Salesforce Status', async () => {
    const crm = provider();
    const created = await crm.syncCampaign({
      externalId: 'c-1',
      name: 'Spring Launch',
      status: 'draft',
      type: 'Email',
    });
    const updated = await crm.syncCampaign({
      externalId: 'c-1',
      name: 'Spring Launch',
      status: 'sent',
      startDate: '2026-03-01',
      emailStats: { sent: 1200 },
    });
    expect(created.created).toBe(true);
    expect(updated).toMatchObject({ created: false, crmId: created.crmId });
    expect(sf.records('Campaign')[0]).toMatchObject({
      Status: 'Completed',
      StartDate: '2026-03-01',
      NumberSent: 1200,
    });
  });

  it('logs email activities as Tasks without duplicates when the same activity arrives twice', async () => {
    const crm = provider();
    const contact = await crm.syncContact({ externalId: 'u-1', email: 'a@example.com', lastName: 'A' });
    const campaign = await crm.syncCampaign({ externalId: 'c-1', name: 'Spring Launch', status: 'sent' });
    const activity = {
      externalId: 'act-1',
      contactExternalId: 'u-1',
      campaignExternalId: 'c-1',
      activityType: 'opened' as const,
      occurredAt: '2026-03-02T10:00:00Z',
    };
    const first = await crm.logEmailActivity(activity);
    const second = await crm.logEmailActivity(activity);
    expect(first).toMatchObject({ success: true, created: true });
    expect(second).toMatchObject({ success: true, created: false, crmId: first.crmId });
    const tasks = sf.records('Task');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      Subject: 'Email opened: Spring Launch [mm:act-1]',
      TaskSubtype: 'Email',
      Status: 'Completed',
      WhoId: contact.crmId,
      WhatId: campaign.crmId,
      ActivityDate: '2026-03-02',
    });

    const batch = await crm.logEmailActivities([
      { ...activity, externalId: 'act-2', activityType: 'clicked' },
      { ...activity, externalId: 'act-3', contactExternalId: 'missing' },
      activity,
    ]);
    expect(batch.results.map((r) => [r.externalId, r.success, r.created, r.error?.code])).toEqual([
      ['act-2', true, true, undefined],
      ['act-3', false, undefined, 'CONTACT_NOT_FOUND'],
      ['act-1', true, false, undefined],
    ]);
    expect(sf.records('Task')).toHaveLength(2);
  });

  it('makes campaign membership equal the list: adds missing, removes absent, creates the campaign', async () => {
    const crm = provider();
    await crm.bulkSyncContacts(generate(5), { mode: 'rest' });
    const first = await crm.syncListMembership({
      externalId: 'list-1',
      name: 'Newsletter',
      memberIds: ['g-0', 'g-1', 'g-2'],
    });
    expect(first).toMatchObject({ added: 3, removed: 0, unchanged: 0, results: [] });
    expect(sf.records('Campaign')).toEqual([
      expect.objectContaining({ Name: 'Newsletter', MarkMail_Campaign_ID__c: 'list-1' }),
    ]);
    const second = await crm.syncListMembership({
      externalId: 'list-1',
      name: 'Newsletter',
      memberIds: ['g-1', 'g-2', 'g-3', 'nobody'],
    });
    expect(second).toMatchObject({ listId: first.listId, added: 1, removed: 1, unchanged: 2 });
    expect(second.results).toEqual([
      expect.objectContaining({ entityType: 'list_member', externalId: 'nobody', success: false }),
    ]);
    const members = sf.records('CampaignMember').map((m) => m.ContactId);
    expect(members).toHaveLength(3);
  });

  it('describes Contact fields and validates a mapping before accepting it', async () => {
    sf.addCustomField('Contact', { name: 'Score__c', type: 'double', label: 'Score', precision: 18 });
    const crm = provider();
    const fields = await crm.getCustomFields();
    const byName = new Map(fields.map((f) => [f.name, f]));
    expect(byName.get('Email')).toMatchObject({ fieldType: 'email', updateable: true });
    expect(byName.get('LastName')).toMatchObject({ fieldType: 'text', required: true });
    expect(byName.get('Score__c')).toMatchObject({ fieldType: 'number', required: false });
    expect(byName.get('LeadSource')?.options).toContain('Web');

    await expect(
      crm.mapCustomFields([
        { hostField: 'score', crmField: 'Nope__c', fieldType: 'number' },
        { hostField: 'score', crmField: 'Score__c', fieldType: 'boolean' },
      ]),
    ).rejects.toMatchObject({
      name: 'CrmDataConversionError',
      fields: ['mapping.0.crmField', 'mapping.1.fieldType'],
    });

    await crm.mapCustomFields([{ hostField: 'score', crmField: 'Score__c', fieldType: 'number' }]);
    await crm.syncContact({
      externalId: 'u-1',
      email: 'a@example.com',
      lastName: 'A',
      customFields: { score: 42 },
    });
    expect(sf.records('Contact')[0]).toMatchObject({ Score__c: 42 });
    expect(await crm.getContact('a@example.com')).toMatchObject({ customFields: { score: 42 } });
  });
});

describe('Bulk API 2.0 against the emulator', () => {
  it('syncs 25,000 contacts from an AsyncIterable in one job, with tricky data and per-record failures', async () => {
    // Real timers: the job-status polls back off (250 ms doubling to 2 s) instead of spinning.
    const crm = new SalesforceProvider({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
    const total = 25_000;
    async function* source(): AsyncGenerator<CrmContactInput> {
      for (let i = 0; i < total; i++) {
        if (i === 100)
          yield { externalId: `bulk-${i}`, email: `bulk${i}@example.com` }; // Salesforce refuses: no LastName
        else if (i === 200)
          yield { externalId: `bulk-${i}`, email: 'broken' }; // refused locally
        else
          yield {
            externalId: `bulk-${i}`,
            email: `bulk${i}@example.com`,
            firstName: i % 2 ? '山田, "Taro"' : 'Zoë\nNew line 😀',
            lastName: `Last ${i}`,
            ...(i % 1000 === 0 ? { customFields: { Description: null } } : {}),
          };
      }
    }
    const progress: number[] = [];
    const result = await crm.bulkSyncContacts(source(), {
      expectedCount: total,
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toMatchObject({ mode: 'bulk', total, success: total - 2, failed: 2 });
    // create + upload + close + a few polls + successful + failed results.
    expect(result.apiCalls).toBeLessThanOrEqual(12);
    expect(result.results[100]).toMatchObject({
      externalId: 'bulk-100',
      error: { code: 'REQUIRED_FIELD_MISSING' },
    });
    expect(result.results[200]).toMatchObject({ externalId: 'bulk-200', error: { code: 'INVALID_DATA' } });
    expect(result.results[24_999]).toMatchObject({ externalId: 'bulk-24999', success: true, created: true });
    expect(result.results.every((r, i) => r.externalId === `bulk-${i}`)).toBe(true);
    expect(progress.at(-1)).toBe(total);
    const stored = sf.records('Contact');
    expect(stored).toHaveLength(total - 2);
    const sample = stored.find((r) => r.MarkMail_ID__c === 'bulk-1');
    expect(sample).toMatchObject({ FirstName: '山田, "Taro"', LastName: 'Last 1' });
    expect(stored.find((r) => r.MarkMail_ID__c === 'bulk-2')).toMatchObject({
      FirstName: 'Zoë\nNew line 😀',
    });

    // A second run updates in place: nothing is created twice.
    const again = await crm.bulkSyncContacts(
      Array.from({ length: 3000 }, (_, i) => ({
        externalId: `bulk-${i + 300}`,
        email: `bulk${i + 300}@example.com`,
        lastName: 'Again',
      })),
    );
    expect(again).toMatchObject({ mode: 'bulk', success: 3000 });
    expect(again.results.every((r) => r.created === false)).toBe(true);
    expect(sf.records('Contact')).toHaveLength(total - 2);
  }, 180_000);

  it('with externalIdField null, upserts on Email (an idLookup field) and updates the existing contact', async () => {
    const crm = new SalesforceProvider({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      externalIdField: null,
      sleep: async () => {},
    });
    // Salesforce lets upsert match on idLookup fields of standard objects; Email is one.
    const describe = await fetch(`${sf.instanceUrl}/services/data/v62.0/sobjects/Contact/describe`, {
      headers: { Authorization: `Bearer ${sf.accessToken}` },
    }).then((r) => r.json() as Promise<{ fields: Array<{ name: string }> }>);
    expect(describe.fields.find((f) => f.name === 'Email')).toMatchObject({
      idLookup: true,
      externalId: false,
    });
    sf.store.insert('Contact', [{ LastName: 'Existing', Email: 'Mixed.Case@example.com' }]);
    const [existing] = sf.records('Contact');
    const report = await crm.bulkSyncContacts(
      [
        { externalId: 'host-1', email: 'mixed.case@example.com', lastName: 'Renamed' },
        { externalId: 'host-2', email: 'new@example.com', lastName: 'New' },
      ],
      { mode: 'bulk' },
    );
    expect(report.results.map((r) => ({ success: r.success, created: r.created }))).toEqual([
      { success: true, created: false },
      { success: true, created: true },
    ]);
    expect(report.results[0]?.crmId).toBe(existing?.Id);
    expect(sf.records('Contact')).toHaveLength(2);
    expect(sf.records('Contact').find((c) => c.Id === existing?.Id)).toMatchObject({ LastName: 'Renamed' });
  });

  it('re-sends the upload once, in a new job, after a connection reset', async () => {
    const crm = provider();
    sf.faults.add({ method: 'PUT', path: /\/batches$/, times: 1, drop: true });
    const result = await crm.bulkSyncContacts(generate(50), { mode: 'bulk' });
    expect(result).toMatchObject({ mode: 'bulk', success: 50, failed: 0 });
    expect(sf.records('Contact')).toHaveLength(50);
    expect(sf.stats.byRoute['POST /services/data/:version/jobs/ingest']).toBe(2);
  });

  it('aborts the job and throws when the upload fails', async () => {
    const crm = provider();
    sf.faults.add({ method: 'PUT', path: /\/batches$/, times: 1, status: 500 });
    const error = await crm.bulkSyncContacts(generate(50), { mode: 'bulk' }).catch((e: unknown) => e);
    // The emulator answers 500 while the CSV is still streaming, so the client sees either the
    // 500 or the reset that follows it; both are errors of the CrmError tree.
    expect(isCrmError(error)).toBe(true);
    expect(sf.records('Contact')).toHaveLength(0);
    // The streamed upload is not replayed; the job is aborted (PATCH state=Aborted), never closed.
    expect(sf.stats.byRoute.fault).toBe(1);
    expect(sf.stats.byRoute['PATCH /services/data/:version/jobs/ingest/:jobId']).toBe(1);
  });
});
