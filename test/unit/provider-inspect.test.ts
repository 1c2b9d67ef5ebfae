import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HubSpotProvider } from '../../src/hubspot/provider.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';

// Opaque values that match no token shape, so only the custom views can keep them out.
const ACCESS = 'opaque-access-value-7f3a9c1e';
const REFRESH = 'opaque-refresh-value-2b8d4e6f';

function salesforce() {
  return new SalesforceProvider({
    instanceUrl: 'https://acme.my.salesforce.com',
    accessToken: ACCESS,
    refreshToken: REFRESH,
    refreshAccessToken: async () => ({ accessToken: 'next' }),
  });
}

describe('printing a provider never shows its tokens', () => {
  it('console.log / util.inspect of a SalesforceProvider masks the access and refresh tokens', () => {
    const crm = salesforce();
    const printed = inspect(crm, { depth: 10 });
    expect(printed).not.toContain(ACCESS);
    expect(printed).not.toContain(REFRESH);
    expect(printed).toContain('SalesforceProvider');
    expect(printed).toContain('[REDACTED]');
    expect(printed).toContain('https://acme.my.salesforce.com');
  });

  it('the jsforce Connection reachable as provider.connection is masked too', () => {
    const crm = salesforce();
    crm.connection.refreshToken = REFRESH;
    const printed = inspect(crm.connection, { depth: 10 });
    expect(printed).not.toContain(ACCESS);
    expect(printed).not.toContain(REFRESH);
    expect(JSON.stringify(crm.connection)).not.toContain(ACCESS);
    // The connection still works as a connection.
    expect(crm.connection.accessToken).toBe(ACCESS);
  });

  it('JSON.stringify of a SalesforceProvider holds no token', () => {
    const json = JSON.stringify({ provider: salesforce() });
    expect(json).not.toContain(ACCESS);
    expect(json).not.toContain(REFRESH);
    expect(JSON.parse(json).provider).toMatchObject({ name: 'salesforce', accessToken: '[REDACTED]' });
  });

  it('a HubSpotProvider prints and serialises without its token', () => {
    const crm = new HubSpotProvider({ accessToken: ACCESS });
    expect(inspect(crm, { depth: 10 })).not.toContain(ACCESS);
    expect(inspect(crm, { depth: 10 })).toContain('HubSpotProvider');
    expect(JSON.stringify(crm)).not.toContain(ACCESS);
    expect(JSON.parse(JSON.stringify(crm))).toMatchObject({ name: 'hubspot', accessToken: '[REDACTED]' });
  });
});
