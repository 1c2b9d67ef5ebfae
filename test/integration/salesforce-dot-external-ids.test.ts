import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SalesforceProvider } from '../../src/salesforce/index.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// `.` and `..` are path segments a URL normaliser resolves away (`/MarkMail_ID__c/..` becomes
// `/Contact`), so they cannot travel in the upsert resource's path.
let sf: SalesforceEmulator;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

function provider() {
  return new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    sleep: async () => {},
  });
}

describe('syncContact with the external ids "." and ".."', () => {
  for (const externalId of ['.', '..']) {
    it(`creates, then updates, the contact whose external id is "${externalId}"`, async () => {
      const crm = provider();
      const first = await crm.syncContact({ externalId, email: 'dot@example.com', lastName: 'First' });
      expect(first).toMatchObject({ success: true, created: true, externalId });
      const second = await crm.syncContact({ externalId, email: 'dot@example.com', lastName: 'Second' });
      expect(second).toMatchObject({ success: true, created: false, crmId: first.crmId });
      const records = sf.records('Contact');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ MarkMail_ID__c: externalId, LastName: 'Second' });
    });
  }

  it('keeps "." and ".." apart from each other and from other ids', async () => {
    const crm = provider();
    for (const externalId of ['.', '..', 'x', '...']) {
      await crm.syncContact({
        externalId,
        email: `${externalId.length}${externalId === 'x' ? 'x' : ''}@example.com`,
        lastName: 'L',
      });
    }
    const ids = sf
      .records('Contact')
      .map((r) => r.MarkMail_ID__c)
      .sort();
    expect(ids).toEqual(['.', '..', '...', 'x']);
  });

  it('a refused "." record is a CrmApiError with Salesforce\'s code', async () => {
    const crm = provider();
    await expect(
      crm.syncContact({
        externalId: '.',
        email: 'dot@example.com',
        lastName: 'L',
        customFields: { No_Such__c: 1 },
      }),
    ).rejects.toMatchObject({ name: 'CrmApiError', providerCode: 'INVALID_FIELD' });
  });
});
