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
  // The emulator has no SOAP endpoint, so lead conversion is covered by the nock tests instead.
  {
    runner: vitest,
    name: 'SalesforceProvider conformance (emulator)',
    capabilities: { leadConversion: false },
  },
);
