import * as vitest from 'vitest';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { runProviderConformance } from '../../src/testing/provider-conformance.js';
import {
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../src/testing/salesforce-emulator/index.js';

let sf: SalesforceEmulator;
vitest.beforeAll(async () => {
  sf = await startSalesforceEmulator();
  sf.addCustomField('Contact', { name: 'Nickname__c', type: 'string', length: 20 });
});
vitest.afterAll(async () => {
  await sf?.stop();
});

runProviderConformance(
  () =>
    new SalesforceProvider({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      sleep: async () => {},
    }),
  // The emulator's partner SOAP endpoint answers convertLead, so lead conversion runs here too.
  {
    runner: vitest,
    name: 'SalesforceProvider conformance (emulator)',
    capabilities: { leadConversion: true },
    // Salesforce echoes the value in STRING_TOO_LONG: `<label>: data value too large: <value> (max length=20)`.
    valueEchoingFailure: (contact) => {
      const value = `Erasable-${contact.externalId}`;
      return { contact: { ...contact, customFields: { Nickname__c: value } }, value, field: 'Nickname' };
    },
  },
);
