import { Connection } from 'jsforce';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmApiError, CrmAuthenticationError, CrmStorageError } from '../../src/core/errors.js';
import {
  decodeSalesforceCredentials,
  encodeSalesforceCredentials,
} from '../../src/salesforce/auth/credentials.js';
import type { SalesforceTokenSet, SalesforceTokens } from '../../src/salesforce/auth/token-set.js';
import { getReauthorizationMarker, TokenManager } from '../../src/salesforce/auth/tokens.js';
import { CredentialCipher } from '../../src/security/cipher.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  accessToken,
  INSTANCE_URL,
  manualClock,
  ORG_ID,
  recordingLogger,
  refreshToken,
  USER_ID,
} from './auth-helpers.js';

const cipher = new CredentialCipher({ keys: { k1: Buffer.alloc(32, 7) } });
const HOUR = 3_600_000;

/** A fake `SalesforceOAuth.refresh` that rotates refresh tokens and counts calls. */
function fakeOAuth(
  options: {
    rotate?: boolean;
    delayMs?: number;
    instanceUrl?: string;
    fail?: (refreshToken: string, call: number) => Error | undefined;
    clock?: { now(): Date };
  } = {},
) {
  const calls: string[] = [];
  const issued: SalesforceTokenSet[] = [];
  return {
    calls,
    issued,
    async refresh(rt: string): Promise<SalesforceTokenSet> {
      calls.push(rt);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const failure = options.fail?.(rt, calls.length);
      if (failure) throw failure;
      const tokens: SalesforceTokenSet = {
        accessToken: accessToken(),
        instanceUrl: options.instanceUrl ?? INSTANCE_URL,
        id: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
        issuedAt: options.clock?.now() ?? new Date(),
        orgId: ORG_ID,
        userId: USER_ID,
      };
      if (options.rotate) tokens.refreshToken = refreshToken();
      issued.push(tokens);
      return tokens;
    },
  };
}

function invalidGrant(description = 'expired access/refresh token'): CrmAuthenticationError {
  return new CrmAuthenticationError(`Salesforce token refresh failed: invalid_grant (${description})`, {
    provider: 'salesforce',
    providerCode: 'invalid_grant',
    status: 400,
  });
}

async function seed(storage: MemoryStorage, tokens: SalesforceTokens) {
  return storage.integrations.create({
    userId: 'user-1',
    provider: 'salesforce',
    orgId: ORG_ID,
    instanceUrl: tokens.instanceUrl,
    credentials: cipher.encrypt(encodeSalesforceCredentials(tokens)),
  });
}

async function storedTokens(storage: MemoryStorage, id: string): Promise<SalesforceTokens> {
  const record = await storage.integrations.get(id);
  return decodeSalesforceCredentials(cipher.decrypt(record?.credentials ?? ''));
}

describe('TokenManager (in memory)', () => {
  it('shares one refresh among 50 concurrent callers of an expired token', async () => {
    const clock = manualClock();
    const oauth = fakeOAuth({ delayMs: 20, clock });
    const manager = new TokenManager({
      oauth,
      clock,
      tokens: {
        accessToken: accessToken(),
        refreshToken: refreshToken(),
        instanceUrl: INSTANCE_URL,
        issuedAt: new Date(clock.now().getTime() - 3 * HOUR),
      },
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => manager.getAccessToken()));
    expect(oauth.calls).toHaveLength(1);
    expect(new Set(results)).toEqual(new Set([oauth.issued[0]?.accessToken]));
    expect(manager.refreshCount).toBe(1);
  });

  it('does not refresh a young token, and refreshes once it is older than maxTokenAgeMs', async () => {
    const clock = manualClock();
    const oauth = fakeOAuth({ clock });
    const initial = accessToken();
    const manager = new TokenManager({
      oauth,
      clock,
      maxTokenAgeMs: HOUR,
      tokens: { accessToken: initial, refreshToken: 'rt', instanceUrl: INSTANCE_URL, issuedAt: clock.now() },
    });
    expect(await manager.getAccessToken()).toBe(initial);
    clock.advance(HOUR);
    expect(await manager.getAccessToken()).toBe(oauth.issued[0]?.accessToken);
    expect(oauth.calls).toEqual(['rt']);
  });

  it('returns the newer token instead of refreshing when the failed token was already replaced', async () => {
    const oauth = fakeOAuth();
    const manager = new TokenManager({
      oauth,
      tokens: { accessToken: 'old', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    const first = await manager.refresh({ failedAccessToken: 'old' });
    const second = await manager.refresh({ failedAccessToken: 'old' });
    expect(second.accessToken).toBe(first.accessToken);
    expect(oauth.calls).toHaveLength(1);
  });

  it('uses a rotated refresh token for the next refresh and keeps the old one when none is sent', async () => {
    const rotating = fakeOAuth({ rotate: true });
    const manager = new TokenManager({
      oauth: rotating,
      tokens: { accessToken: 'a0', refreshToken: 'rt-0', instanceUrl: INSTANCE_URL },
    });
    await manager.refresh();
    await manager.refresh();
    expect(rotating.calls).toEqual(['rt-0', rotating.issued[0]?.refreshToken]);

    const plain = fakeOAuth();
    const keeping = new TokenManager({
      oauth: plain,
      tokens: { accessToken: 'a0', refreshToken: 'rt-0', instanceUrl: INSTANCE_URL },
    });
    await keeping.refresh();
    await keeping.refresh();
    expect(plain.calls).toEqual(['rt-0', 'rt-0']);
  });

  it('stops a refresh loop with a budget (regression: jsforce refreshes forever on persistent 401)', async () => {
    const oauth = fakeOAuth();
    const manager = new TokenManager({
      oauth,
      refreshBudget: { maxRefreshes: 3, windowMs: 60_000 },
      tokens: { accessToken: 'a0', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    for (let i = 0; i < 3; i++) await manager.refresh();
    const error = await manager.refresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect((error as CrmAuthenticationError).providerCode).toBe('refresh_budget_exhausted');
    expect(oauth.calls).toHaveLength(3);
  });

  it('does not replay a refresh token another client is refreshing (no storage to wait on)', async () => {
    const oauth = fakeOAuth({ fail: () => invalidGrant('token request is already being processed') });
    const manager = new TokenManager({
      oauth,
      tokens: { accessToken: 'a0', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    const error = (await manager.refresh().catch((e: unknown) => e)) as CrmAuthenticationError;
    expect(error.providerCode).toBe('refresh_in_progress');
    expect(error.retryable).toBe(true);
    expect(manager.reauthorizationRequired).toBe(false);
    expect(oauth.calls).toEqual(['rt']);
  });

  it('re-authorises through `reauthorize` when there is no refresh token (JWT bearer)', async () => {
    const oauth = fakeOAuth();
    let reauthorized = 0;
    const manager = new TokenManager({
      oauth,
      tokens: { accessToken: 'a0', instanceUrl: INSTANCE_URL },
      reauthorize: async () => {
        reauthorized++;
        return { accessToken: 'jwt-token-2', instanceUrl: INSTANCE_URL };
      },
    });
    expect((await manager.refresh()).accessToken).toBe('jwt-token-2');
    expect(reauthorized).toBe(1);
    expect(oauth.calls).toHaveLength(0);
  });

  it('revoke() needs an oauth client that can revoke', async () => {
    const manager = new TokenManager({
      oauth: fakeOAuth(),
      tokens: { accessToken: 'a0', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    await expect(manager.revoke()).rejects.toThrow(/revoke/);
    const revoked: string[] = [];
    const withRevoke = new TokenManager({
      oauth: { ...fakeOAuth(), revoke: async (token: string) => void revoked.push(token) },
      tokens: { accessToken: 'a0', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    await withRevoke.revoke();
    expect(revoked).toEqual(['rt']);
    expect(withRevoke.reauthorizationRequired).toBe(true);
  });

  it('rejects unknown options and missing tokens', () => {
    const oauth = fakeOAuth();
    expect(() => new TokenManager({ oauth })).toThrow(/tokens or an integrationId/);
    expect(() => new TokenManager({ oauth, integrationId: 'x' })).toThrow(/storage and cipher/);
    expect(
      () =>
        new TokenManager({
          oauth,
          tokens: { accessToken: 'a', instanceUrl: INSTANCE_URL },
          budget: 1,
        } as never),
    ).toThrow(/unknown option/);
  });
});

describe('TokenManager with storage', () => {
  let storage: MemoryStorage;
  beforeEach(() => {
    storage = new MemoryStorage();
  });

  it('refreshes once for 50 callers and persists the rotated pair encrypted', async () => {
    const clock = manualClock();
    const oauth = fakeOAuth({ rotate: true, delayMs: 10, clock });
    const original = {
      accessToken: accessToken(),
      refreshToken: refreshToken(),
      instanceUrl: INSTANCE_URL,
      issuedAt: new Date(clock.now().getTime() - 3 * HOUR),
    };
    const integration = await seed(storage, original);
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id, clock });
    const results = await Promise.all(Array.from({ length: 50 }, () => manager.getAccessToken()));
    const fresh = oauth.issued[0];
    expect(oauth.calls).toEqual([original.refreshToken]);
    expect(new Set(results)).toEqual(new Set([fresh?.accessToken]));
    const stored = await storedTokens(storage, integration.id);
    expect(stored.accessToken).toBe(fresh?.accessToken);
    expect(stored.refreshToken).toBe(fresh?.refreshToken);
    const row = JSON.stringify(await storage.integrations.get(integration.id));
    for (const secret of [
      original.accessToken,
      original.refreshToken,
      fresh?.accessToken,
      fresh?.refreshToken,
    ]) {
      expect(row).not.toContain(String(secret));
    }
  });

  it('two workers never refresh the same old token: the second adopts the first one’s result', async () => {
    const oauth = fakeOAuth({ rotate: true, delayMs: 30 });
    const original = { accessToken: accessToken(), refreshToken: refreshToken(), instanceUrl: INSTANCE_URL };
    const integration = await seed(storage, original);
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5)));
    const workerA = new TokenManager({ oauth, storage, cipher, integrationId: integration.id, sleep });
    const workerB = new TokenManager({ oauth, storage, cipher, integrationId: integration.id, sleep });
    const [a, b] = await Promise.all([
      workerA.refresh({ failedAccessToken: original.accessToken }),
      workerB.refresh({ failedAccessToken: original.accessToken }),
    ]);
    expect(oauth.calls).toEqual([original.refreshToken]);
    expect(a.accessToken).toBe(b.accessToken);
    expect((await storedTokens(storage, integration.id)).refreshToken).toBe(oauth.issued[0]?.refreshToken);
  });

  it('without leases, the compare-and-swap loser re-reads and uses the winner’s token', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const calls: string[] = [];
    const oauthFor = (worker: string, wait?: Promise<void>) => ({
      async refresh(rt: string): Promise<SalesforceTokenSet> {
        calls.push(`${worker}:${rt}`);
        if (wait) await wait; // worker B's answer arrives after worker A persisted
        return {
          accessToken: `token-from-${worker}-${'x'.repeat(10)}`,
          refreshToken: `refresh-from-${worker}`,
          instanceUrl: INSTANCE_URL,
          id: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
          issuedAt: new Date(),
          orgId: ORG_ID,
          userId: USER_ID,
        };
      },
    });
    const original = { accessToken: 'a-old', refreshToken: 'rt-old', instanceUrl: INSTANCE_URL };
    const integration = await seed(storage, original);
    const onlyIntegrations = { integrations: storage.integrations };
    const logger = recordingLogger();
    const workerA = new TokenManager({
      oauth: oauthFor('A'),
      storage: onlyIntegrations,
      cipher,
      integrationId: integration.id,
    });
    const workerB = new TokenManager({
      oauth: oauthFor('B', gate),
      storage: onlyIntegrations,
      cipher,
      integrationId: integration.id,
      logger,
    });
    const b = workerB.refresh();
    await new Promise((r) => setTimeout(r, 5)); // B has read the old credentials and is refreshing
    const a = await workerA.refresh();
    release();
    const bResult = await b;
    expect(calls).toEqual(['B:rt-old', 'A:rt-old']);
    expect(a.accessToken).toBe('token-from-A-xxxxxxxxxx');
    expect(bResult.accessToken).toBe(a.accessToken);
    expect((await storedTokens(storage, integration.id)).refreshToken).toBe('refresh-from-A');
    expect(logger.lines.some((l) => l.includes('lost a compare-and-swap'))).toBe(true);
  });

  it('adopts a token another process already stored instead of refreshing', async () => {
    const oauth = fakeOAuth();
    const integration = await seed(storage, {
      accessToken: 'a-old',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    expect(await manager.getAccessToken()).toBe('a-old');
    await storage.integrations.update(integration.id, {
      credentials: cipher.encrypt(
        encodeSalesforceCredentials({
          accessToken: 'a-new',
          refreshToken: 'rt-2',
          instanceUrl: INSTANCE_URL,
        }),
      ),
    });
    expect((await manager.refresh({ failedAccessToken: 'a-old' })).accessToken).toBe('a-new');
    expect(oauth.calls).toHaveLength(0);
  });

  it('applies and persists a changed instance URL', async () => {
    const oauth = fakeOAuth({ instanceUrl: 'https://acme-moved.my.salesforce.com' });
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const seen: string[] = [];
    const manager = new TokenManager({
      oauth,
      storage,
      cipher,
      integrationId: integration.id,
      onTokens: ({ instanceUrl }) => seen.push(instanceUrl),
    });
    const connection = { accessToken: 'a0', instanceUrl: INSTANCE_URL };
    const token = await new Promise<string | undefined>((resolve, reject) =>
      manager.refreshFn(connection, (error, value) => (error ? reject(error) : resolve(value))),
    );
    expect(token).toBe(oauth.issued[0]?.accessToken);
    expect(connection.instanceUrl).toBe('https://acme-moved.my.salesforce.com');
    expect((await storage.integrations.get(integration.id))?.instanceUrl).toBe(
      'https://acme-moved.my.salesforce.com',
    );
    expect(seen).toEqual(['https://acme-moved.my.salesforce.com']);
  });

  it('marks the integration for re-authorisation on a revoked refresh token and stops calling Salesforce', async () => {
    const oauth = fakeOAuth({ fail: () => invalidGrant() });
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    const error = (await manager.refresh().catch((e: unknown) => e)) as CrmAuthenticationError;
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(error.providerCode).toBe('invalid_grant');
    expect(manager.reauthorizationRequired).toBe(true);
    const record = await storage.integrations.get(integration.id);
    expect(record?.syncEnabled).toBe(false);
    expect(record && getReauthorizationMarker(record)).toMatchObject({
      required: true,
      reason: 'refresh_token_rejected',
      providerCode: 'invalid_grant',
    });
    await expect(manager.getAccessToken()).rejects.toBeInstanceOf(CrmAuthenticationError);
    await expect(manager.refresh()).rejects.toBeInstanceOf(CrmAuthenticationError);
    expect(oauth.calls).toHaveLength(1);
    // A fresh manager (another process) fails fast too, from the stored marker.
    const other = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    await expect(other.getAccessToken()).rejects.toBeInstanceOf(CrmAuthenticationError);
    expect(oauth.calls).toHaveLength(1);
  });

  it('recovers once the org was connected again', async () => {
    const oauth = fakeOAuth({ fail: (_rt, call) => (call === 1 ? invalidGrant() : undefined) });
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    await expect(manager.refresh()).rejects.toBeInstanceOf(CrmAuthenticationError);
    await storage.integrations.update(integration.id, {
      credentials: cipher.encrypt(
        encodeSalesforceCredentials({
          accessToken: 'a-reconnected',
          refreshToken: 'rt2',
          instanceUrl: INSTANCE_URL,
        }),
      ),
      settings: {},
      syncEnabled: true,
    });
    expect(await manager.getAccessToken()).toBe('a-reconnected');
    expect(manager.reauthorizationRequired).toBe(false);
  });

  it('marks the integration when there is no refresh token and no way to re-authorise', async () => {
    const oauth = fakeOAuth();
    const integration = await seed(storage, { accessToken: 'a0', instanceUrl: INSTANCE_URL });
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    await expect(manager.refresh()).rejects.toMatchObject({ providerCode: 'no_refresh_token' });
    const record = await storage.integrations.get(integration.id);
    expect(record?.syncEnabled).toBe(false);
    expect(record && getReauthorizationMarker(record)?.reason).toBe('no_refresh_token');
  });

  it('keeps the integration enabled on transient failures', async () => {
    const oauth = fakeOAuth({
      fail: () =>
        new CrmApiError('Salesforce token refresh failed: HTTP_503', { status: 503, retryable: true }),
    });
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    await expect(manager.refresh()).rejects.toBeInstanceOf(CrmApiError);
    expect((await storage.integrations.get(integration.id))?.syncEnabled).toBe(true);
    expect(manager.reauthorizationRequired).toBe(false);
  });

  it('waits out "Token request is already being processed" and retries', async () => {
    const oauth = fakeOAuth({
      fail: (_rt, call) =>
        call === 1 ? invalidGrant('token request is already being processed') : undefined,
    });
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const sleeps: number[] = [];
    const manager = new TokenManager({
      oauth,
      storage,
      cipher,
      integrationId: integration.id,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const session = await manager.refresh();
    expect(session.accessToken).toBe(oauth.issued[0]?.accessToken);
    expect(oauth.calls).toEqual(['rt', 'rt']);
    // It waited for another worker's result to appear in storage before trying again itself.
    expect(sleeps).toEqual([250, 500, 1000, 2000]);
    expect((await storage.integrations.get(integration.id))?.syncEnabled).toBe(true);
  });

  it('adopts the parallel refresher’s stored token instead of replaying the old refresh token', async () => {
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const oauth = fakeOAuth({ fail: () => invalidGrant('token request is already being processed') });
    const manager = new TokenManager({
      oauth,
      storage,
      cipher,
      integrationId: integration.id,
      sleep: async (ms) => {
        if (ms === 500) {
          // Meanwhile the other worker persisted its rotated pair.
          await storage.integrations.update(integration.id, {
            credentials: cipher.encrypt(
              encodeSalesforceCredentials({
                accessToken: 'a-other',
                refreshToken: 'rt-other',
                instanceUrl: INSTANCE_URL,
              }),
            ),
          });
        }
      },
    });
    expect((await manager.refresh()).accessToken).toBe('a-other');
    expect(oauth.calls).toEqual(['rt']);
  });

  it('reports a broken storage write as CrmStorageError', async () => {
    const oauth = fakeOAuth();
    const integration = await seed(storage, {
      accessToken: 'a0',
      refreshToken: 'rt',
      instanceUrl: INSTANCE_URL,
    });
    const failing = {
      integrations: {
        ...storage.integrations,
        get: (id: string) => storage.integrations.get(id),
        update: async () => {
          throw new CrmStorageError('disk full');
        },
      },
    };
    const manager = new TokenManager({ oauth, storage: failing, cipher, integrationId: integration.id });
    await expect(manager.refresh()).rejects.toBeInstanceOf(CrmStorageError);
  });

  it('logs nothing secret', async () => {
    const logger = recordingLogger();
    const oauth = fakeOAuth({ rotate: true, instanceUrl: 'https://acme-moved.my.salesforce.com' });
    const original = { accessToken: accessToken(), refreshToken: refreshToken(), instanceUrl: INSTANCE_URL };
    const integration = await seed(storage, original);
    const manager = new TokenManager({ oauth, storage, cipher, integrationId: integration.id, logger });
    await manager.refresh();
    const failing = new TokenManager({
      oauth: fakeOAuth({ fail: () => invalidGrant() }),
      storage,
      cipher,
      integrationId: integration.id,
      logger,
    });
    await failing.refresh().catch(() => undefined);
    expect(logger.lines.length).toBeGreaterThan(2);
    const all = logger.lines.join('\n');
    for (const secret of [
      original.accessToken,
      original.refreshToken,
      oauth.issued[0]?.accessToken,
      oauth.issued[0]?.refreshToken,
    ]) {
      expect(all).not.toContain(String(secret));
    }
  });
});

describe('TokenManager with jsforce', () => {
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('plugs into Connection as refreshFn: a 401 refreshes once and the request is retried with the new token', async () => {
    nock.disableNetConnect();
    const oauth = fakeOAuth();
    const manager = new TokenManager({
      oauth,
      tokens: { accessToken: 'expired-token', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    const conn = new Connection({ ...(await manager.createConnectionOptions()), version: '62.0' });
    const scope = nock(INSTANCE_URL)
      .get('/services/data/v62.0/sobjects/Contact/003000000000001AAA')
      .matchHeader('authorization', 'Bearer expired-token')
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }])
      .get('/services/data/v62.0/sobjects/Contact/003000000000001AAA')
      .matchHeader(
        'authorization',
        (value: string | null) => value === `Bearer ${oauth.issued[0]?.accessToken}`,
      )
      .reply(200, { Id: '003000000000001AAA', attributes: { type: 'Contact' } });
    const record = await conn.sobject('Contact').retrieve('003000000000001AAA');
    expect(record.Id).toBe('003000000000001AAA');
    expect(oauth.calls).toEqual(['rt']);
    scope.done();
  });

  it('ends a persistent-401 loop after the refresh budget', async () => {
    nock.disableNetConnect();
    const oauth = fakeOAuth();
    const manager = new TokenManager({
      oauth,
      refreshBudget: { maxRefreshes: 2 },
      tokens: { accessToken: 'expired-token', refreshToken: 'rt', instanceUrl: INSTANCE_URL },
    });
    const conn = new Connection({ ...(await manager.createConnectionOptions()), version: '62.0' });
    nock(INSTANCE_URL)
      .get('/services/data/v62.0/limits')
      .times(10)
      .reply(401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }]);
    await expect(conn.request('/services/data/v62.0/limits')).rejects.toThrow(/refresh budget exhausted/);
    expect(oauth.calls).toHaveLength(2);
  });
});
