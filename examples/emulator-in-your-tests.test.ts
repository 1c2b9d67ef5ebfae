/**
 * Testing your own code with the Salesforce emulator: no org, no network, no mocks of jsforce.
 * `welcomeSubscriber` below stands for code in your app; the tests drive it against the emulator
 * and check what landed in the "org", how it copes with faults, and how many API calls it spent.
 *
 *   npx vitest run examples/
 *
 * (In this repository vitest.config.ts maps the package names to src/, since vitest does not read
 * tsconfig `paths`; the spec is part of `npm test`. In your app the file sits with your other
 * tests and imports the installed package.)
 */
import { type CrmContactInput, CrmRateLimitError } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { type SalesforceEmulator, startSalesforceEmulator } from '@markmail/crm/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// ── Your code ────────────────────────────────────────────────────────────────────────────────
/** Upserts a new subscriber as a Contact and logs the welcome email on it. */
async function welcomeSubscriber(crm: SalesforceProvider, subscriber: CrmContactInput): Promise<string> {
  const result = await crm.syncContact(subscriber);
  if (!result.success || !result.crmId) throw new Error(`Contact not synced: ${result.error?.code}`);
  await crm.logEmailActivity({
    externalId: `welcome-${subscriber.externalId}`,
    contactExternalId: subscriber.externalId,
    activityType: 'sent',
    occurredAt: new Date('2026-01-05T09:00:00Z'),
  });
  return result.crmId;
}

// ── Its tests ────────────────────────────────────────────────────────────────────────────────
describe('welcomeSubscriber against the Salesforce emulator', () => {
  let sf: SalesforceEmulator;
  let crm: SalesforceProvider;
  const ada = { externalId: 'sub-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' };

  beforeAll(async () => {
    // One emulator per file: starting is cheap, but reset() between tests is cheaper.
    sf = await startSalesforceEmulator();
  });
  afterEach(() => {
    sf.reset(); // records, faults, stats, API usage and the daily limit back to a fresh org
  });
  afterAll(() => sf.stop());

  function provider(): SalesforceProvider {
    // No retry delays in tests; everything else as in production.
    crm = new SalesforceProvider({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      retry: { initialDelayMs: 0, maxDelayMs: 0 },
    });
    return crm;
  }

  it('creates the contact and logs the welcome email as a Task on it', async () => {
    const id = await welcomeSubscriber(provider(), ada);

    const [contact] = sf.records('Contact');
    expect(contact).toMatchObject({ Id: id, Email: 'ada@example.com', MarkMail_ID__c: 'sub-1' });
    const tasks = sf.records('Task');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ WhoId: id, Status: 'Completed' });
  });

  it('is idempotent: a second call creates nothing new', async () => {
    const crm = provider();
    const first = await welcomeSubscriber(crm, ada);
    const second = await welcomeSubscriber(crm, ada);

    expect(second).toBe(first);
    expect(sf.records('Contact')).toHaveLength(1);
    expect(sf.records('Task')).toHaveLength(1);
  });

  it('rides out a Salesforce outage (503 twice, then success)', async () => {
    const fault = sf.faults.add({ method: 'PATCH', path: '/sobjects/Contact/', status: 503, times: 2 });

    await welcomeSubscriber(provider(), ada);

    expect(fault.hits).toBe(2);
    expect(sf.records('Contact')).toHaveLength(1);
  });

  it('survives a dropped connection on an idempotent upsert', async () => {
    const fault = sf.faults.add({ method: 'PATCH', path: '/sobjects/Contact/', drop: true });

    await expect(welcomeSubscriber(provider(), ada)).resolves.toMatch(/^003/);
    expect(fault.hits).toBe(1);
  });

  it('stops with a typed error when the org is out of API calls', async () => {
    sf.setDailyApiLimit(0);

    const error = await welcomeSubscriber(provider(), ada).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(sf.records('Contact')).toHaveLength(0);
  });

  it('spends a known number of API calls', async () => {
    await welcomeSubscriber(provider(), ada);

    // Counted by the emulator as Salesforce counts them (Sforce-Limit-Info), per route too.
    // Upsert the contact, look it up and check for an earlier Task (2 queries), insert the Task.
    expect(sf.stats.apiCalls).toBe(4);
    expect(sf.stats.byRoute['PATCH /services/data/:version/sobjects/:sobject/:field/:value']).toBe(1);
    expect(crm.apiUsage?.used).toBe(sf.apiUsage().used);
  });
});

describe('code that reads a populated org (sampleData: true)', () => {
  it('sees the accounts, contacts and opportunities a scratch org with sample data carries', async () => {
    // The sample data of a scratch org created with "hasSampleData": true; reset() seeds it again.
    const org = await startSalesforceEmulator({ sampleData: true });
    try {
      const accounts = org.records('Account');
      const open = org.records('Opportunity').filter((o) => o.IsClosed === false);
      expect(accounts.map((a) => a.Name)).toContain('Edge Communications');
      expect(open.every((o) => typeof o.ForecastCategoryName === 'string')).toBe(true);
      expect(org.records('Contact')).toHaveLength(20);
    } finally {
      await org.stop();
    }
  });
});
