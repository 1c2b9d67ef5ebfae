import { inspect } from 'node:util';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmAuthenticationError, type CrmError } from '../../src/core/errors.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';

const INSTANCE = 'https://acme.my.salesforce.com';
const V = '/services/data/v66.0';
const LIMIT = { 'Sforce-Limit-Info': 'api-usage=10/15000', 'Content-Type': 'application/json;charset=UTF-8' };
// Shaped like nothing the redactor recognises: only registration can catch it.
const HOST_SECRET = 'hostOwnSecret-6Q2zX91kLm';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

function expired() {
  nock(INSTANCE)
    .get(`${V}/query`)
    .query(true)
    .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
}

describe('host-registered secrets', () => {
  it("a client secret the host's refresher puts in its error never reaches the thrown error", async () => {
    expired();
    const lines: string[] = [];
    const log = (message: string, data?: unknown) => lines.push(message + JSON.stringify(data ?? {}));
    const crm = new SalesforceProvider({
      instanceUrl: INSTANCE,
      accessToken: '00D000000000001!AQ4AQFakeAccessToken',
      refreshAccessToken: async () => {
        const inner = new Error(`upstream said: bad client ${HOST_SECRET}`);
        throw new Error(`refresh with secret ${HOST_SECRET} refused`, { cause: inner });
      },
      secrets: () => [HOST_SECRET],
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    const crmError = error as CrmError;
    expect(crmError.providerCode).toBe('REFRESH_FAILED');
    const cause = crmError.cause as Error;
    for (const text of [
      crmError.message,
      JSON.stringify(crmError.toJSON()),
      inspect(crmError, { depth: 10 }),
      cause.message,
      String(cause.stack),
      (cause.cause as Error).message,
      ...lines,
    ]) {
      expect(text).not.toContain(HOST_SECRET);
    }
    expect(cause.message).toContain('[REDACTED]');
  });

  it('secrets are read each time, so a rotated value is caught too', async () => {
    expired();
    let current = 'firstSecretValue-aa11';
    const crm = new SalesforceProvider({
      instanceUrl: INSTANCE,
      accessToken: '00D000000000001!AQ4AQFakeAccessToken',
      refreshAccessToken: async () => {
        throw new Error(`bad ${current}`);
      },
      secrets: () => [current],
    });
    current = 'rotatedSecretValue-bb22';
    const error = (await crm.getContact('a@example.com').catch((e: unknown) => e)) as CrmError;
    expect(JSON.stringify(error.toJSON())).not.toContain(current);
    expect((error.cause as Error).message).toBe('bad [REDACTED]');
  });

  it('refuses a `secrets` option that is not a function', () => {
    expect(
      () =>
        new SalesforceProvider({
          instanceUrl: INSTANCE,
          accessToken: 'x',
          secrets: ['plain'] as unknown as () => string[],
        }),
    ).toThrow(/secrets/);
  });
});
