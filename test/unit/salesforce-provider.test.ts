import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmDataConversionError,
  CrmNotFoundError,
  CrmRateLimitError,
} from '../../src/core/errors.js';
import type { SalesforceProviderOptions } from '../../src/salesforce/options.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';

const INSTANCE = 'https://acme.my.salesforce.com';
const V = '/services/data/v66.0';
const TOKEN = '00D000000000001!AQ4AQFakeAccessToken';
const LIMIT = { 'Sforce-Limit-Info': 'api-usage=10/15000', 'Content-Type': 'application/json;charset=UTF-8' };

function provider(options: Partial<SalesforceProviderOptions> = {}) {
  const sleeps: number[] = [];
  const crm = new SalesforceProvider({
    instanceUrl: INSTANCE,
    accessToken: TOKEN,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    clock: { now: () => new Date('2026-11-25T12:00:00.000Z') },
    ...options,
  });
  return { crm, sleeps };
}

function sf() {
  return nock(INSTANCE, { reqheaders: { authorization: `Bearer ${TOKEN}` } });
}

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('SalesforceProvider construction', () => {
  it('rejects unknown options with CrmConfigurationError naming them', () => {
    expect(
      () => new SalesforceProvider({ instanceUrl: INSTANCE, accessToken: TOKEN, bulkTreshold: 5 } as never),
    ).toThrow(/SalesforceProvider: unknown option 'bulkTreshold'/);
  });

  it('needs a connection or instanceUrl + accessToken', () => {
    expect(() => new SalesforceProvider({})).toThrow(CrmConfigurationError);
    expect(() => new SalesforceProvider({ instanceUrl: INSTANCE })).toThrow(CrmConfigurationError);
  });

  it('refuses an instance URL with a path (Bulk API 2.0 would drop it) and strips a trailing slash', () => {
    expect(() => new SalesforceProvider({ instanceUrl: `${INSTANCE}/sf`, accessToken: TOKEN })).toThrow(
      /without a path/,
    );
    const crm = new SalesforceProvider({ instanceUrl: `${INSTANCE}/`, accessToken: TOKEN });
    expect(crm.connection.instanceUrl).toBe(INSTANCE);
  });

  it('pins API version 66.0 by default instead of jsforce 50.0', () => {
    expect(provider().crm.apiVersion).toBe('66.0');
    expect(provider({ apiVersion: '62.0' }).crm.connection.version).toBe('62.0');
  });

  it('does not put the access token into configuration errors', () => {
    const error = thrownBy(() => new SalesforceProvider({ instanceUrl: 'not a url', accessToken: TOKEN }));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    const json = JSON.stringify((error as CrmConfigurationError).toJSON());
    expect(json).toContain('instanceUrl');
    expect(json).not.toContain('FakeAccessToken');
    expect((error as Error).message).not.toContain('FakeAccessToken');
  });
});

describe('syncContact', () => {
  it('upserts on the external-id field with the value URL-encoded and reports created', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/a%20b%2Fc%3Fd%23e`, {
        Email: "o'brien@example.com",
        FirstName: 'Conan',
        LastName: "O'Brien",
        HasOptedOutOfEmail: false,
        Score__c: 7,
      })
      .matchHeader('content-type', 'application/json')
      .reply(201, { id: '003000000000001AAA', success: true, errors: [], created: true }, LIMIT);
    const { crm } = provider();
    const result = await crm.syncContact({
      externalId: 'a b/c?d#e',
      email: "o'brien@example.com",
      firstName: 'Conan',
      lastName: "O'Brien",
      emailOptOut: false,
      customFields: { Score__c: 7, hostOnly: 'x' },
    });
    scope.done();
    expect(result).toEqual({
      entityType: 'contact',
      externalId: 'a b/c?d#e',
      crmId: '003000000000001AAA',
      created: true,
      success: true,
      syncedAt: new Date('2026-11-25T12:00:00.000Z'),
    });
    expect(crm.apiUsage).toEqual({ used: 10, max: 15000 });
  });

  it('reports created: false when Salesforce answers 200 on an update', async () => {
    sf()
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/u-1`)
      .reply(200, { id: '003000000000001AAA', success: true, errors: [], created: false }, LIMIT);
    const result = await provider().crm.syncContact({
      externalId: 'u-1',
      email: 'a@example.com',
      lastName: 'A',
    });
    expect(result.created).toBe(false);
  });

  it('validates before any network call', async () => {
    // No interceptor: a request would fail with a nock error, not a CrmDataConversionError.
    await expect(
      provider().crm.syncContact({ externalId: 'u-1', email: 'not an email' }),
    ).rejects.toMatchObject({
      name: 'CrmDataConversionError',
      fields: ['email'],
    });
  });

  it('turns 300 Multiple Choices into a typed MULTIPLE_CHOICES error without retrying', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/dup`)
      .once()
      .reply(
        300,
        ['/services/data/v66.0/sobjects/Contact/003A', '/services/data/v66.0/sobjects/Contact/003B'],
        LIMIT,
      );
    const error = await provider()
      .crm.syncContact({ externalId: 'dup', email: 'a@example.com', lastName: 'A' })
      .catch((e: unknown) => e);
    scope.done();
    expect(error).toBeInstanceOf(CrmApiError);
    expect(error).toMatchObject({ providerCode: 'MULTIPLE_CHOICES', status: 300, retryable: false });
  });

  it('throws CrmApiError with providerCode and fields when Salesforce refuses the record', async () => {
    sf()
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/u-1`)
      .reply(
        400,
        [
          {
            message: 'Required fields are missing: [LastName]',
            errorCode: 'REQUIRED_FIELD_MISSING',
            fields: ['LastName'],
          },
        ],
        LIMIT,
      );
    const error = (await provider()
      .crm.syncContact({ externalId: 'u-1', email: 'a@example.com' })
      .catch((e: unknown) => e)) as CrmApiError;
    expect(error).toBeInstanceOf(CrmApiError);
    expect(error.providerCode).toBe('REQUIRED_FIELD_MISSING');
    expect(error.fields).toEqual(['LastName']);
    expect(error.status).toBe(400);
  });

  it('matches by Email through the collection upsert when externalIdField is null', async () => {
    const scope = sf()
      .patch(`${V}/composite/sobjects/Contact/Email`, {
        allOrNone: false,
        records: [{ attributes: { type: 'Contact' }, Email: 'ada@example.inc', LastName: 'Lovelace' }],
      })
      .reply(200, [{ id: '003000000000002AAA', success: true, errors: [], created: false }], LIMIT);
    const result = await provider({ externalIdField: null }).crm.syncContact({
      externalId: 'u-2',
      email: 'ada@example.inc',
      lastName: 'Lovelace',
    });
    scope.done();
    expect(result).toMatchObject({ crmId: '003000000000002AAA', created: false, success: true });
  });
});

describe('getContact', () => {
  it("escapes the SOQL literal for o'brien@example.com", async () => {
    const soql =
      'SELECT Id, Email, FirstName, LastName, Phone, Title, HasOptedOutOfEmail, SystemModstamp, MarkMail_ID__c FROM Contact' +
      " WHERE Email = 'o\\'brien@example.com' ORDER BY CreatedDate ASC, Id ASC LIMIT 1";
    const scope = sf()
      .get(`${V}/query`)
      .query({ q: soql })
      .reply(
        200,
        {
          totalSize: 1,
          done: true,
          records: [
            {
              attributes: { type: 'Contact', url: `${V}/sobjects/Contact/003000000000001AAA` },
              Id: '003000000000001AAA',
              Email: "o'brien@example.com",
              FirstName: null,
              LastName: "O'Brien",
              Phone: null,
              Title: null,
              HasOptedOutOfEmail: false,
              SystemModstamp: '2026-11-20T10:00:00.000+0000',
              MarkMail_ID__c: 'u-1',
            },
          ],
        },
        LIMIT,
      );
    const contact = await provider().crm.getContact("o'brien@example.com");
    scope.done();
    expect(contact).toMatchObject({
      id: '003000000000001AAA',
      externalId: 'u-1',
      email: "o'brien@example.com",
      lastName: "O'Brien",
      emailOptOut: false,
      lastModifiedAt: new Date('2026-11-20T10:00:00.000Z'),
    });
    expect(contact).not.toHaveProperty('firstName');
  });

  it('returns null when no contact has the address', async () => {
    sf().get(`${V}/query`).query(true).reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    expect(await provider().crm.getContact('nobody@example.com')).toBeNull();
  });
});

describe('updateContact and deleteContact', () => {
  it('PATCHes by id and needs an id', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Contact/003000000000001AAA`, {
        Email: 'a@example.com',
        Title: 'CTO',
        MarkMail_ID__c: 'u-1',
      })
      .reply(204);
    const { crm } = provider();
    const result = await crm.updateContact({
      id: '003000000000001AAA',
      externalId: 'u-1',
      email: 'a@example.com',
      title: 'CTO',
    });
    scope.done();
    expect(result).toMatchObject({ crmId: '003000000000001AAA', created: false, success: true });
    await expect(crm.updateContact({ externalId: 'u-1', email: 'a@example.com' })).rejects.toBeInstanceOf(
      CrmDataConversionError,
    );
  });

  it('DELETEs by id, maps NOT_FOUND, and treats ENTITY_IS_DELETED as done', async () => {
    const scope = sf()
      .delete(`${V}/sobjects/Contact/003000000000001AAA`)
      .reply(204)
      .delete(`${V}/sobjects/Contact/003000000000002AAA`)
      .reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], LIMIT)
      .delete(`${V}/sobjects/Contact/003000000000003AAA`)
      .reply(404, [{ errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted' }], LIMIT);
    const { crm } = provider();
    await crm.deleteContact('003000000000001AAA');
    await expect(crm.deleteContact('003000000000002AAA')).rejects.toBeInstanceOf(CrmNotFoundError);
    await crm.deleteContact('003000000000003AAA');
    scope.done();
    await expect(crm.deleteContact("x' or 1=1")).rejects.toBeInstanceOf(CrmDataConversionError);
  });
});

describe('retries (one layer: jsforce retry is off, the provider owns it)', () => {
  it('retries a 503 on an idempotent upsert with backoff, then succeeds: exactly 3 calls', async () => {
    const scope = sf()
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/u-1`)
      .times(2)
      .reply(503, [{ errorCode: 'SERVER_UNAVAILABLE', message: 'busy' }], LIMIT)
      .patch(`${V}/sobjects/Contact/MarkMail_ID__c/u-1`)
      .reply(200, { id: '003000000000001AAA', success: true, errors: [], created: false }, LIMIT);
    const { crm, sleeps } = provider({ retry: { maxRetries: 3, initialDelayMs: 100, maxDelayMs: 1000 } });
    await crm.syncContact({ externalId: 'u-1', email: 'a@example.com', lastName: 'A' });
    scope.done();
    expect(crm.apiCallCount).toBe(3);
    expect(sleeps).toHaveLength(2);
    // Equal jitter: [50, 100] then [100, 200].
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('gives up after maxRetries: 1 + 2 calls for a GET that keeps failing with 502', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .times(3)
      .reply(502, 'Bad Gateway', { 'Content-Type': 'text/plain' });
    const { crm } = provider({ retry: { maxRetries: 2, initialDelayMs: 1 } });
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    scope.done();
    expect(error).toMatchObject({ name: 'CrmApiError', status: 502, retryable: true });
    expect(crm.apiCallCount).toBe(3);
  });

  it('does not retry a non-idempotent create on 503 (one call)', async () => {
    const scope = sf()
      .post(`${V}/sobjects/Lead`)
      .once()
      .reply(503, [{ errorCode: 'SERVER_UNAVAILABLE', message: 'busy' }], LIMIT);
    const { crm } = provider({ leadExternalIdField: null });
    await expect(
      crm.createLead({ externalId: 'l-1', email: 'l@example.com', leadSource: 'Web' }),
    ).rejects.toMatchObject({ providerCode: 'SERVER_UNAVAILABLE' });
    scope.done();
    expect(crm.apiCallCount).toBe(1);
  });

  it('retries UNABLE_TO_LOCK_ROW even for a create, because the DML was rolled back', async () => {
    const scope = sf()
      .post(`${V}/sobjects/Lead`)
      .reply(
        400,
        [{ errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' }],
        LIMIT,
      )
      .post(`${V}/sobjects/Lead`)
      .reply(201, { id: '00Q000000000001AAA', success: true, errors: [] }, LIMIT);
    const { crm } = provider({ leadExternalIdField: null });
    const result = await crm.createLead({ externalId: 'l-1', email: 'l@example.com', leadSource: 'Web' });
    scope.done();
    expect(result).toMatchObject({ crmId: '00Q000000000001AAA', created: true });
    expect(crm.apiCallCount).toBe(2);
  });

  it('honours Retry-After on 429', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(429, [{ errorCode: 'TOO_MANY_REQUESTS', message: 'slow down' }], {
        ...LIMIT,
        'Retry-After': '2',
      })
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    const { crm, sleeps } = provider();
    await crm.getContact('a@example.com');
    expect(sleeps).toEqual([2000]);
  });

  it('retries a connection reset on idempotent calls (loopback server that drops the first socket)', async () => {
    nock.enableNetConnect('127.0.0.1');
    let hits = 0;
    const server = createServer((req, res) => {
      hits += 1;
      if (hits === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, LIMIT).end(JSON.stringify({ totalSize: 0, done: true, records: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { crm } = provider({ instanceUrl: `http://127.0.0.1:${port}` });
      expect(await crm.getContact('a@example.com')).toBeNull();
      expect(hits).toBe(2);
      expect(crm.apiCallCount).toBe(2);
    } finally {
      server.close();
    }
  });

  it('maps REQUEST_LIMIT_EXCEEDED (403) to CrmRateLimitError and does not retry it', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .once()
      .reply(403, [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }], LIMIT);
    const { crm } = provider();
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    scope.done();
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(error).toMatchObject({ status: 403, providerCode: 'REQUEST_LIMIT_EXCEEDED' });
  });

  it('stops before passing maxApiUsageRatio without sending the request', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, { 'Sforce-Limit-Info': 'api-usage=89/100' });
    const { crm } = provider({ maxApiUsageRatio: 0.9 });
    await crm.getContact('a@example.com');
    expect(crm.apiUsage).toEqual({ used: 89, max: 100 });
    // 90/100 is allowed…
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, { 'Sforce-Limit-Info': 'api-usage=90/100' });
    await crm.getContact('a@example.com');
    // …91/100 would pass 0.9: refused locally.
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(error).toMatchObject({ usage: { used: 90, max: 100 }, providerCode: 'MAX_API_USAGE_RATIO' });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('session refresh', () => {
  it('refreshes once on INVALID_SESSION_ID and retries with the new token', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    const fresh = nock(INSTANCE, { reqheaders: { authorization: 'Bearer NEW-TOKEN' } })
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    let refreshes = 0;
    const { crm } = provider({
      refreshAccessToken: async () => {
        refreshes += 1;
        return 'NEW-TOKEN';
      },
    });
    expect(await crm.getContact('a@example.com')).toBeNull();
    scope.done();
    fresh.done();
    expect(refreshes).toBe(1);
  });

  it('refreshes at most once per call: a second 401 surfaces as CrmAuthenticationError', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    nock(INSTANCE)
      .get(`${V}/query`)
      .query(true)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    let refreshes = 0;
    const { crm } = provider({
      refreshAccessToken: async () => {
        refreshes += 1;
        return 'NEW-TOKEN';
      },
    });
    const error = await crm.getContact('a@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(refreshes).toBe(1);
    expect(JSON.stringify((error as CrmAuthenticationError).toJSON())).not.toContain('NEW-TOKEN');
  });

  it('shares one refresh between concurrent calls', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .times(3)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    nock(INSTANCE, { reqheaders: { authorization: 'Bearer NEW-TOKEN' } })
      .get(`${V}/query`)
      .query(true)
      .times(3)
      .reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    let refreshes = 0;
    const { crm } = provider({
      refreshAccessToken: async () => {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 20));
        return 'NEW-TOKEN';
      },
    });
    await Promise.all([
      crm.getContact('a@example.com'),
      crm.getContact('b@example.com'),
      crm.getContact('c@example.com'),
    ]);
    expect(refreshes).toBe(1);
  });

  it('without a refresher, INVALID_SESSION_ID is a CrmAuthenticationError after one call', async () => {
    const scope = sf()
      .get(`${V}/query`)
      .query(true)
      .once()
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    const { crm } = provider();
    await expect(crm.getContact('a@example.com')).rejects.toMatchObject({
      name: 'CrmAuthenticationError',
      status: 401,
      providerCode: 'INVALID_SESSION_ID',
    });
    scope.done();
    expect(crm.apiCallCount).toBe(1);
  });

  it('refreshes with refreshToken + oauth and hands the rotated refresh token to onTokenRefresh', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    const login = nock('https://login.salesforce.com')
      .post('/services/oauth2/token', (body: Record<string, string>) => {
        return (
          body.grant_type === 'refresh_token' && body.refresh_token === 'RT-1' && body.client_id === 'cid'
        );
      })
      .reply(200, {
        access_token: 'NEW-TOKEN',
        refresh_token: 'RT-2',
        instance_url: INSTANCE,
        id: 'x',
        issued_at: '1',
      });
    nock(INSTANCE, { reqheaders: { authorization: 'Bearer NEW-TOKEN' } })
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    const seen: unknown[] = [];
    const { crm } = provider({
      refreshToken: 'RT-1',
      oauth: { clientId: 'cid', loginUrl: 'https://login.salesforce.com' },
      onTokenRefresh: (tokens) => {
        seen.push(tokens);
      },
    });
    await crm.getContact('a@example.com');
    login.done();
    expect(seen).toEqual([{ accessToken: 'NEW-TOKEN', refreshToken: 'RT-2', instanceUrl: INSTANCE }]);
  });

  it('hands onTokenRefresh complete SalesforceTokens even when the refresher reports no instance URL', async () => {
    sf()
      .get(`${V}/query`)
      .query(true)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], LIMIT);
    nock(INSTANCE, { reqheaders: { authorization: 'Bearer FROM-REFRESHER' } })
      .get(`${V}/query`)
      .query(true)
      .reply(200, { totalSize: 0, done: true, records: [] }, LIMIT);
    const seen: unknown[] = [];
    const { crm } = provider({
      refreshToken: 'RT-1',
      // A SalesforceOAuth-like refresher that neither rotates the refresh token nor moves the org.
      oauth: { refresh: async () => ({ accessToken: 'FROM-REFRESHER' }) },
      onTokenRefresh: (tokens) => {
        seen.push(tokens);
      },
    });
    await crm.getContact('a@example.com');
    expect(seen).toEqual([{ accessToken: 'FROM-REFRESHER', instanceUrl: INSTANCE }]);
  });
});

/** The error `fn` throws (`undefined` when it returns), so assertions run outside a catch block. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
