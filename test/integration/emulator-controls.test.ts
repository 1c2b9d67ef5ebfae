import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

const get = (path: string, token = sf.accessToken) =>
  fetch(`${sf.instanceUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });

describe('faults', () => {
  it('fails the next matching request with a Salesforce error body, then recovers', async () => {
    const fault = sf.faults.add({
      method: 'POST',
      path: '/sobjects/Contact',
      status: 400,
      body: [
        { message: 'unable to obtain exclusive access to this record', errorCode: 'UNABLE_TO_LOCK_ROW' },
      ],
    });
    await expect(conn.sobject('Contact').create({ LastName: 'Locked' })).rejects.toMatchObject({
      errorCode: 'UNABLE_TO_LOCK_ROW',
    });
    expect(fault.hits).toBe(1);
    expect(sf.records('Contact')).toHaveLength(0);
    await expect(conn.sobject('Contact').create({ LastName: 'Locked' })).resolves.toMatchObject({
      success: true,
    });
  });

  it('matches by RegExp and method and counts down times', async () => {
    sf.faults.add({ method: 'GET', path: /\/limits$/, status: 503, times: 2 });
    expect((await get('/services/data/v62.0/limits')).status).toBe(503);
    const second = await get('/services/data/v62.0/limits');
    expect(await second.json()).toEqual([
      { message: 'Server is unavailable.', errorCode: 'SERVER_UNAVAILABLE' },
    ]);
    expect((await get('/services/data/v62.0/limits')).status).toBe(200);
    expect(sf.faults.list()).toHaveLength(0);
  });

  it('lets jsforce retry a 503 on GET (its own retry layer)', async () => {
    sf.faults.add({ method: 'GET', path: '/limits', status: 503 });
    const before = sf.stats.requests;
    await expect(conn.limits()).resolves.toHaveProperty('DailyApiRequests');
    expect(sf.stats.requests - before).toBe(2);
  });

  it('answers 401 INVALID_SESSION_ID by default for status 401', async () => {
    sf.faults.add({ path: '/sobjects', status: 401 });
    const response = await get('/services/data/v62.0/sobjects');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);
  });

  it('drops the connection', async () => {
    sf.faults.add({ path: '/limits', drop: true });
    await expect(get('/services/data/v62.0/limits')).rejects.toThrow();
  });

  it('delays a request without failing it', async () => {
    sf.faults.add({ path: '/limits', delayMs: 120 });
    const started = Date.now();
    expect((await get('/services/data/v62.0/limits')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('clears faults', async () => {
    sf.faults.add({ path: '/limits', status: 500, times: 5 });
    sf.faults.clear();
    expect((await get('/services/data/v62.0/limits')).status).toBe(200);
  });

  it('rejects a non-positive times', () => {
    expect(() => sf.faults.add({ status: 500, times: 0 })).toThrow(RangeError);
  });
});

describe('stats, latency and reset', () => {
  it('counts requests, API calls and routes live', async () => {
    const stats = sf.stats;
    await conn.query('SELECT Id FROM Contact');
    await fetch(`${sf.instanceUrl}/services/data`);
    expect(stats).toMatchObject({ requests: 2, apiCalls: 1, tokenRequests: 0 });
    expect(stats.byRoute['GET /services/data/:version/query']).toBe(1);
    expect(stats.byRoute['GET /services/data']).toBe(1);
    sf.reset();
    expect(stats).toEqual({ requests: 0, apiCalls: 0, tokenRequests: 0, byRoute: {} });
  });

  it('adds latencyMs to each request', async () => {
    const slow = await startSalesforceEmulator({ latencyMs: 80 });
    try {
      const started = Date.now();
      await fetch(`${slow.instanceUrl}/services/data`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    } finally {
      await slow.stop();
    }
  });

  it('reset() clears records but keeps the seeded user and organization', async () => {
    sf.store.insert('Account', [{ Name: 'Temp' }]);
    sf.reset();
    expect(sf.records('Account')).toHaveLength(0);
    expect(sf.records('User')[0]?.Id).toBe(sf.userId);
    expect(sf.records('Organization')[0]?.Id).toBe(sf.orgId);
  });

  it('rejects unknown options', async () => {
    await expect(startSalesforceEmulator({ prot: 1 } as never)).rejects.toThrow(
      /startSalesforceEmulator: unknown option 'prot'/,
    );
  });
});

describe('daily API limit', () => {
  it('answers 403 REQUEST_LIMIT_EXCEEDED once the allowance is spent', async () => {
    const limited = await startSalesforceEmulator({ dailyApiLimit: 2 });
    try {
      const c = new jsforce.Connection({
        instanceUrl: limited.instanceUrl,
        accessToken: limited.accessToken,
        version: '62.0',
      });
      await c.query('SELECT Id FROM Contact');
      await c.query('SELECT Id FROM Contact');
      expect(c.limitInfo).toEqual({ apiUsage: { used: 2, limit: 2 } });
      await expect(c.query('SELECT Id FROM Contact')).rejects.toMatchObject({
        errorCode: 'REQUEST_LIMIT_EXCEEDED',
        message: 'TotalRequests Limit exceeded.',
      });
      const response = await fetch(`${limited.instanceUrl}/services/data/v62.0/limits`, {
        headers: { Authorization: `Bearer ${limited.accessToken}` },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('sforce-limit-info')).toBe('api-usage=2/2');
      limited.setDailyApiLimit(10);
      await expect(c.query('SELECT Id FROM Contact')).resolves.toMatchObject({ totalSize: 0 });
    } finally {
      await limited.stop();
    }
  });

  it('reset() restores the dailyApiLimit option after setDailyApiLimit', async () => {
    const limited = await startSalesforceEmulator({ dailyApiLimit: 7 });
    try {
      limited.setDailyApiLimit(0);
      expect(limited.apiUsage()).toEqual({ used: 0, max: 0 });
      limited.reset();
      expect(limited.apiUsage()).toEqual({ used: 0, max: 7 });
    } finally {
      await limited.stop();
    }
    sf.setDailyApiLimit(3);
    sf.reset();
    expect(sf.apiUsage()).toEqual({ used: 0, max: 100_000 });
  });
});

describe('sessions', () => {
  it('answers 401 INVALID_SESSION_ID for an unknown token', async () => {
    const response = await get('/services/data/v62.0/limits', 'nope');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);
  });

  it('expires a token on demand and jsforce refreshes it through the token endpoint', async () => {
    const { accessToken, refreshToken } = sf.oauth.issueTokens();
    const c = new jsforce.Connection({
      oauth2: { clientId: sf.clientId, clientSecret: sf.clientSecret, loginUrl: sf.loginUrl },
      instanceUrl: sf.instanceUrl,
      accessToken,
      refreshToken: refreshToken as string,
      version: '62.0',
    });
    const refreshed: string[] = [];
    c.on('refresh', (token: string) => refreshed.push(token));
    sf.oauth.expireAccessToken(accessToken);
    await expect(c.query('SELECT Id FROM Contact')).resolves.toMatchObject({ done: true });
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).not.toBe(accessToken);
    expect(sf.stats.tokenRequests).toBe(1);
  });

  it('expires tokens after accessTokenTtlMs on the injected clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const timed = await startSalesforceEmulator({
      accessTokenTtlMs: 60_000,
      clock: { now: () => new Date(now) },
    });
    try {
      const call = () =>
        fetch(`${timed.instanceUrl}/services/data/v62.0/limits`, {
          headers: { Authorization: `Bearer ${timed.accessToken}` },
        });
      expect((await call()).status).toBe(200);
      now += 60_001;
      expect((await call()).status).toBe(401);
    } finally {
      await timed.stop();
    }
  });
});
