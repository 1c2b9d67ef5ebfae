import { HubSpotProvider } from '@markmail/crm/hubspot';
import { type HubSpotEmulator, runProviderConformance, startHubSpotEmulator } from '@markmail/crm/testing';
import * as vitest from 'vitest';

let hubspot: HubSpotEmulator;
vitest.beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 100_000, intervalMs: 10_000 } });
});
vitest.afterAll(async () => {
  await hubspot?.stop();
});

runProviderConformance(
  () =>
    new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      accessToken: hubspot.accessToken,
      sleep: async () => {},
    }),
  { runner: vitest, name: 'HubSpotProvider conformance (emulator)' },
);
