import { generateKeyPairSync } from 'node:crypto';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmAuthenticationError, isCrmError } from '../../src/core/errors.js';
import type { CrmLogger } from '../../src/core/logger.js';
import {
  beginOAuthAuthorization,
  createOAuthCallbackHandler,
} from '../../src/salesforce/auth/callback-handler.js';
import {
  decodeSalesforceCredentials,
  encodeSalesforceCredentials,
} from '../../src/salesforce/auth/credentials.js';
import { SalesforceOAuth, type SalesforceOAuthOptions } from '../../src/salesforce/auth/oauth.js';
import { MemoryOAuthStateStore } from '../../src/salesforce/auth/state-store.js';
import {
  getReauthorizationMarker,
  TokenManager,
  type TokenManagerOptions,
} from '../../src/salesforce/auth/tokens.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { CredentialCipher } from '../../src/security/cipher.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { CrmStorage } from '../../src/storage/types.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// Everything secret these tests see is collected here and, at the end, searched for in every log
// line, error message, stored row and HTTP response body the tests produced.
const secrets = new Set<string>();
const logLines: string[] = [];
const errorTexts: string[] = [];
const responseBodies: string[] = [];
const storages: CrmStorage[] = [];

const logger: CrmLogger = {
  debug: (m, d) => logLines.push(`debug ${m} ${JSON.stringify(d ?? {})}`),
  info: (m, d) => logLines.push(`info ${m} ${JSON.stringify(d ?? {})}`),
  warn: (m, d) => logLines.push(`warn ${m} ${JSON.stringify(d ?? {})}`),
  error: (m, d) => logLines.push(`error ${m} ${JSON.stringify(d ?? {})}`),
};

function remember(value: unknown): void {
  if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}

/** Await a promise expected to fail; keep the error's text for the final scan. */
async function failure(promise: Promise<unknown>): Promise<CrmAuthenticationError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  if (error instanceof Error) {
    errorTexts.push(error.message, error.stack ?? '');
    if (isCrmError(error)) errorTexts.push(JSON.stringify(error.toJSON()));
  }
  return error as CrmAuthenticationError;
}

/** fetch that records every secret crossing the wire. */
const recordingFetch = async (input: string, init: RequestInit): Promise<Response> => {
  if (typeof init.body === 'string') {
    const form = new URLSearchParams(init.body);
    for (const key of ['client_secret', 'code_verifier', 'refresh_token', 'assertion', 'code', 'token']) {
      remember(form.get(key));
    }
  }
  const auth = new Headers(init.headers).get('authorization');
  if (auth) remember(auth.replace(/^Bearer /, ''));
  const response = await fetch(input, init);
  const text = await response.clone().text();
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['access_token', 'refresh_token', 'device_code']) remember(body[key]);
  } catch {
    // not JSON (revoke answers with an empty body)
  }
  return response;
};

let now = Date.parse('2026-11-25T12:00:00Z');
const emulatorClock = { now: () => new Date(now) };
let sf: SalesforceEmulator;
let cipher: CredentialCipher;
const REDIRECT_URI = 'https://app.example.com/oauth/salesforce/callback';

function oauthClient(extra: Partial<SalesforceOAuthOptions> = {}): SalesforceOAuth {
  return new SalesforceOAuth({
    loginUrl: sf.loginUrl,
    clientId: sf.clientId,
    clientSecret: sf.clientSecret,
    redirectUri: REDIRECT_URI,
    fetch: recordingFetch,
    logger,
    ...extra,
  });
}

function newStorage(): MemoryStorage {
  const storage = new MemoryStorage();
  storages.push(storage);
  return storage;
}

/** A TokenManager over the integration stored in `storage`, with this file's cipher, logger and clock. */
function storedTokenManager(
  oauth: SalesforceOAuth,
  storage: NonNullable<TokenManagerOptions['storage']>,
  integrationId: string,
): TokenManager {
  return new TokenManager({ oauth, storage, cipher, integrationId, logger, clock: emulatorClock });
}

async function seedIntegration(
  storage: MemoryStorage,
  grant: { accessToken: string; refreshToken: string | undefined; issuedAt: number },
) {
  remember(grant.accessToken);
  remember(grant.refreshToken);
  const tokens = {
    accessToken: grant.accessToken,
    ...(grant.refreshToken ? { refreshToken: grant.refreshToken } : {}),
    issuedAt: new Date(grant.issuedAt),
  };
  return storage.integrations.create({
    userId: 'user-1',
    provider: 'salesforce',
    orgId: sf.orgId,
    instanceUrl: sf.instanceUrl,
    credentials: cipher.encrypt(
      encodeSalesforceCredentials({ ...tokens, instanceUrl: sf.instanceUrl, id: sf.identityUrl }),
    ),
  });
}

beforeAll(async () => {
  sf = await startSalesforceEmulator({
    clock: emulatorClock,
    refreshTokenRotation: true,
    refreshProcessingMs: 60,
    deviceCodeIntervalSeconds: 5,
  });
  const key = Buffer.alloc(32, 9);
  cipher = new CredentialCipher({ keys: { k1: key } });
  remember(sf.clientSecret);
  remember(sf.accessToken);
  remember(sf.refreshToken);
  remember(key.toString('base64'));
});

afterAll(async () => {
  await sf?.stop();
});

describe('web-server flow end to end', () => {
  it('connects an org through the callback handler, then syncs and refreshes through jsforce', async () => {
    const oauth = oauthClient();
    const storage = newStorage();
    const stateStore = new MemoryOAuthStateStore();
    const handler = createOAuthCallbackHandler({ oauth, storage, cipher, stateStore, logger });

    const connectOnce = async () => {
      const { url, codeVerifier } = await beginOAuthAuthorization({
        oauth,
        stateStore,
        userId: 'user-1',
        returnTo: '/settings/crm',
      });
      remember(codeVerifier);
      const redirect = await fetch(url, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const response = await handler(new Request(redirect.headers.get('location') as string));
      responseBodies.push(await response.clone().text());
      return response;
    };
    const response = await connectOnce();
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/settings/crm');
    const [integration] = await storage.integrations.findByUser('user-1', 'salesforce');
    expect(integration).toMatchObject({ orgId: sf.orgId, instanceUrl: sf.instanceUrl, syncEnabled: true });

    const tokens = new TokenManager({
      oauth,
      storage,
      cipher,
      integrationId: integration?.id as string,
      logger,
      clock: emulatorClock,
    });
    const conn = new Connection({ ...(await tokens.createConnectionOptions()), version: '62.0' });
    const first = await conn.query('SELECT Id FROM Contact');
    expect(first.done).toBe(true);

    // The session expires: jsforce gets a 401, refreshes through the manager, retries.
    const before = (await storage.integrations.get(integration?.id as string))?.credentials;
    sf.oauth.expireAccessToken();
    const tokenRequests = sf.stats.tokenRequests;
    const second = await conn.query('SELECT Id FROM Contact');
    expect(second.done).toBe(true);
    expect(sf.stats.tokenRequests - tokenRequests).toBe(1);
    const after = await storage.integrations.get(integration?.id as string);
    expect(after?.credentials).not.toBe(before);
    const previous = decodeSalesforceCredentials(cipher.decrypt(before as string));
    const rotated = decodeSalesforceCredentials(cipher.decrypt(after?.credentials as string));
    expect(rotated.refreshToken).toBeDefined();
    expect(rotated.refreshToken).not.toBe(previous.refreshToken);

    // Connecting the same org again updates the record instead of adding one.
    expect((await connectOnce()).status).toBe(302);
    const all = await storage.integrations.findByUser('user-1', 'salesforce');
    expect(all).toHaveLength(1);
    expect(all[0]?.id).toBe(integration?.id);
  });

  it('rejects a forged state without calling the token endpoint', async () => {
    const oauth = oauthClient();
    const storage = newStorage();
    const stateStore = new MemoryOAuthStateStore();
    const handler = createOAuthCallbackHandler({ oauth, storage, cipher, stateStore, logger });
    const { url } = await beginOAuthAuthorization({ oauth, stateStore, userId: 'user-1' });
    const redirect = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location') as string);
    remember(redirect.searchParams.get('code'));
    redirect.searchParams.set('state', 'forged-state-value');
    const before = sf.stats.tokenRequests;
    const response = await handler(new Request(redirect));
    responseBodies.push(await response.clone().text());
    expect(response.status).toBe(400);
    expect(sf.stats.tokenRequests).toBe(before);
    expect(await storage.integrations.list()).toEqual([]);
  });

  it('rejects a wrong PKCE verifier and a reused code', async () => {
    const oauth = oauthClient();
    const { url, codeVerifier } = oauth.authorizeUrl({ state: 'state-1' });
    remember(codeVerifier);
    const code = new URL(
      (await fetch(url, { redirect: 'manual' })).headers.get('location') as string,
    ).searchParams.get('code') as string;
    remember(code);
    const wrong = await failure(oauth.exchangeCode({ code, codeVerifier: `${'w'.repeat(60)}x` }));
    expect(wrong).toBeInstanceOf(CrmAuthenticationError);
    expect(wrong.providerCode).toBe('invalid_request');

    const { url: url2, codeVerifier: verifier2 } = oauth.authorizeUrl({ state: 'state-2' });
    remember(verifier2);
    const code2 = new URL(
      (await fetch(url2, { redirect: 'manual' })).headers.get('location') as string,
    ).searchParams.get('code') as string;
    const tokens = await oauth.exchangeCode({
      code: code2,
      codeVerifier: verifier2,
      state: 'state-2',
      expectedState: 'state-2',
    });
    expect(tokens).toMatchObject({ orgId: sf.orgId, userId: sf.userId, instanceUrl: sf.instanceUrl });
    const reused = await failure(oauth.exchangeCode({ code: code2, codeVerifier: verifier2 }));
    expect(reused.providerCode).toBe('invalid_grant');
  });
});

describe('device flow against the emulator', () => {
  const sleepAdvancingEmulator = async (ms: number) => {
    now += ms;
  };

  it('polls until the user approves, then reads userinfo with the token', async () => {
    const oauth = oauthClient({ clock: emulatorClock, sleep: sleepAdvancingEmulator });
    const start = await oauth.startDeviceFlow({ scope: 'api refresh_token' });
    expect(start.verificationUri).toBe(`${sf.instanceUrl}/setup/connect`);
    let pendingPolls = 0;
    const tokens = await oauth.pollDeviceFlow(start, {
      onPending: () => {
        pendingPolls++;
        if (pendingPolls === 2) sf.oauth.approveDevice(start.userCode);
      },
    });
    expect(pendingPolls).toBe(2);
    expect(tokens.refreshToken).toBeDefined();
    await expect(oauth.userinfo(tokens.accessToken, tokens.instanceUrl)).resolves.toEqual({
      orgId: sf.orgId,
      userId: sf.userId,
      username: sf.username,
      email: expect.any(String),
      name: expect.any(String),
    });
  });

  it('reports a denial as access_denied', async () => {
    const oauth = oauthClient({ clock: emulatorClock, sleep: sleepAdvancingEmulator });
    const start = await oauth.startDeviceFlow();
    sf.oauth.denyDevice(start.userCode);
    const error = await failure(oauth.pollDeviceFlow(start));
    expect(error.providerCode).toBe('access_denied');
  });

  it('reports an expired device code (expired on the server)', async () => {
    // Our clock stands still, so only the server can notice the expiry.
    const frozen = { now: () => new Date(now) };
    const frozenAt = now;
    const oauth = oauthClient({
      clock: { now: () => new Date(frozenAt) },
      sleep: async () => {
        now += 11 * 60 * 1000;
      },
    });
    const start = await oauth.startDeviceFlow();
    expect(frozen.now().getTime()).toBe(frozenAt);
    const error = await failure(oauth.pollDeviceFlow(start));
    expect(error.providerCode).toBe('expired_token');
  });

  it('polling faster than the interval is answered with slow_down and honoured', async () => {
    const sleeps: number[] = [];
    let approved = false;
    const oauth = oauthClient({
      clock: emulatorClock,
      // Sleep one second less than asked: the emulator answers slow_down, we back off by 5 s.
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms - 1000;
      },
    });
    const start = await oauth.startDeviceFlow();
    const tokens = await oauth.pollDeviceFlow(start, {
      onPending: () => {
        if (!approved) {
          approved = true;
          sf.oauth.approveDevice(start.userCode);
        }
      },
    });
    expect(tokens.orgId).toBe(sf.orgId);
    expect(sleeps[0]).toBe(5000);
    expect(sleeps).toContain(10_000);
  });
});

describe('JWT bearer against the emulator', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  beforeAll(() => {
    remember(privateKey);
    sf.oauth.registerJwtCertificate(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });

  it('logs in with an RS256 assertion (no refresh token)', async () => {
    const oauth = oauthClient({ clock: emulatorClock });
    const tokens = await oauth.jwtBearer({ username: sf.username, privateKey });
    expect(tokens).toMatchObject({ orgId: sf.orgId, userId: sf.userId });
    expect(tokens.refreshToken).toBeUndefined();
  });

  it('fails with invalid_grant when our clock is behind the server (expired assertion)', async () => {
    const skewed = oauthClient({ clock: { now: () => new Date(now - 10 * 60 * 1000) } });
    const error = await failure(skewed.jwtBearer({ username: sf.username, privateKey }));
    expect(error.providerCode).toBe('invalid_grant');
    // A few seconds of skew stay inside the 3-minute lifetime.
    const slightly = oauthClient({ clock: { now: () => new Date(now - 30_000) } });
    await expect(slightly.jwtBearer({ username: sf.username, privateKey })).resolves.toMatchObject({
      orgId: sf.orgId,
    });
  });

  it('rejects an assertion signed by an unregistered key and an unknown user', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    remember(other);
    const oauth = oauthClient({ clock: emulatorClock });
    expect((await failure(oauth.jwtBearer({ username: sf.username, privateKey: other }))).providerCode).toBe(
      'invalid_grant',
    );
    expect(
      (await failure(oauth.jwtBearer({ username: 'nobody@example.com', privateKey }))).providerCode,
    ).toBe('invalid_grant');
  });

  it('TokenManager re-authorises with JWT when the session expires', async () => {
    const oauth = oauthClient({ clock: emulatorClock });
    const initial = await oauth.jwtBearer({ username: sf.username, privateKey });
    const manager = new TokenManager({
      oauth,
      tokens: initial,
      logger,
      reauthorize: (signal) =>
        oauth.jwtBearer({ username: sf.username, privateKey, ...(signal ? { signal } : {}) }),
    });
    const conn = new Connection({ ...(await manager.createConnectionOptions()), version: '62.0' });
    sf.oauth.expireAccessToken(initial.accessToken);
    await expect(conn.query('SELECT Id FROM Contact')).resolves.toMatchObject({ done: true });
    expect(manager.refreshCount).toBe(1);
  });
});

describe('TokenManager against the emulator', () => {
  it('50 connections hitting an expired token cause exactly one refresh', async () => {
    const oauth = oauthClient();
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    const manager = storedTokenManager(oauth, storage, integration.id);
    const options = await manager.createConnectionOptions();
    sf.oauth.expireAccessToken(grant.accessToken);
    const before = sf.stats.tokenRequests;
    const connections = Array.from({ length: 50 }, () => new Connection({ ...options, version: '62.0' }));
    const results = await Promise.all(connections.map((conn) => conn.query('SELECT Id FROM Contact')));
    expect(results.every((r) => r.done)).toBe(true);
    expect(sf.stats.tokenRequests - before).toBe(1);
    expect(manager.refreshCount).toBe(1);
  });

  it('drives SalesforceProvider: an expired session is refreshed through the manager and persisted', async () => {
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    const manager = storedTokenManager(oauthClient(), storage, integration.id);
    const session = await manager.getSession();
    const provider = new SalesforceProvider({
      ...session,
      refreshAccessToken: () => manager.refresh(),
      logger,
    });
    expect(await provider.getContact('nobody@example.com')).toBeNull();
    sf.oauth.expireAccessToken(grant.accessToken);
    const before = sf.stats.tokenRequests;
    expect(await provider.getContact('nobody@example.com')).toBeNull();
    expect(sf.stats.tokenRequests - before).toBe(1);
    const stored = decodeSalesforceCredentials(
      cipher.decrypt((await storage.integrations.get(integration.id))?.credentials as string),
    );
    expect(stored.accessToken).not.toBe(grant.accessToken);
    remember(stored.accessToken);
    remember(stored.refreshToken);
  });

  it('two workers sharing storage refresh once; the other uses the winner’s token', async () => {
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    const workerA = storedTokenManager(oauthClient(), storage, integration.id);
    const workerB = storedTokenManager(oauthClient(), storage, integration.id);
    sf.oauth.expireAccessToken(grant.accessToken);
    const before = sf.stats.tokenRequests;
    const [a, b] = await Promise.all([
      workerA.refresh({ failedAccessToken: grant.accessToken }),
      workerB.refresh({ failedAccessToken: grant.accessToken }),
    ]);
    expect(sf.stats.tokenRequests - before).toBe(1);
    expect(b.accessToken).toBe(a.accessToken);
    // The stored (rotated) refresh token still works: the grant was not revoked by a reuse.
    await expect(workerB.refresh()).resolves.toMatchObject({ instanceUrl: sf.instanceUrl });
  });

  it('without a shared lease, Salesforce refuses the parallel refresh and the loser adopts the stored token', async () => {
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    const onlyIntegrations = { integrations: storage.integrations };
    const workerA = storedTokenManager(oauthClient(), onlyIntegrations, integration.id);
    const workerB = storedTokenManager(oauthClient(), onlyIntegrations, integration.id);
    const before = sf.stats.tokenRequests;
    const [a, b] = await Promise.all([workerA.refresh(), workerB.refresh()]);
    expect(b.accessToken).toBe(a.accessToken);
    // One refresh succeeded, the parallel one was refused, and nobody replayed the old token.
    expect(sf.stats.tokenRequests - before).toBe(2);
    const record = await storage.integrations.get(integration.id);
    expect(record?.syncEnabled).toBe(true);
    // The grant survived: the stored refresh token refreshes again.
    await expect(workerA.refresh()).resolves.toMatchObject({ instanceUrl: sf.instanceUrl });
  });

  it('a revoked refresh token marks the integration for re-authorisation instead of retrying', async () => {
    const oauth = oauthClient();
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    await oauth.revoke(grant.refreshToken as string);
    const manager = storedTokenManager(oauth, storage, integration.id);
    const before = sf.stats.tokenRequests;
    const error = await failure(manager.refresh());
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(error.providerCode).toBe('invalid_grant');
    await failure(manager.getAccessToken());
    expect(sf.stats.tokenRequests - before).toBe(1);
    const record = await storage.integrations.get(integration.id);
    expect(record?.syncEnabled).toBe(false);
    expect(record && getReauthorizationMarker(record)?.reason).toBe('refresh_token_rejected');
  });

  it('revoke() disconnects: the grant is dead at Salesforce and the integration is paused', async () => {
    const oauth = oauthClient();
    const storage = newStorage();
    const grant = sf.oauth.issueTokens();
    const integration = await seedIntegration(storage, grant);
    const manager = storedTokenManager(oauth, storage, integration.id);
    await manager.revoke();
    expect((await failure(oauth.refresh(grant.refreshToken as string))).providerCode).toBe('invalid_grant');
    expect((await failure(oauth.userinfo(grant.accessToken, sf.instanceUrl))).status).toBe(401);
    const record = await storage.integrations.get(integration.id);
    expect(record?.syncEnabled).toBe(false);
    expect(record && getReauthorizationMarker(record)?.reason).toBe('revoked');
    await failure(manager.getAccessToken());
    // Revoking again is not an error.
    await expect(manager.revoke()).resolves.toBeUndefined();
  });

  it('revoking an access token makes userinfo fail with CrmAuthenticationError', async () => {
    const oauth = oauthClient();
    const grant = sf.oauth.issueTokens();
    remember(grant.accessToken);
    remember(grant.refreshToken);
    await expect(oauth.userinfo(grant.accessToken, sf.instanceUrl)).resolves.toMatchObject({
      orgId: sf.orgId,
    });
    await oauth.revoke(grant.accessToken);
    const error = await failure(oauth.userinfo(grant.accessToken, sf.instanceUrl));
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(error.status).toBe(401);
  });
});

describe('no secret in plain text', () => {
  it('appears in any log line, error message, stored row or response body of the tests above', async () => {
    const rows: string[] = [];
    for (const storage of storages) rows.push(JSON.stringify(await storage.integrations.list()));
    // The scan must have material to work on, or it proves nothing.
    expect(secrets.size).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(20);
    expect(errorTexts.length).toBeGreaterThan(10);
    expect(rows.join('').length).toBeGreaterThan(1000);
    const haystacks: Array<[string, string[]]> = [
      ['log', logLines],
      ['error', errorTexts],
      ['row', rows],
      ['response', responseBodies],
    ];
    const leaks: string[] = [];
    for (const [kind, texts] of haystacks) {
      for (const text of texts) {
        for (const secret of secrets) {
          if (text.includes(secret)) leaks.push(`${kind}: …${secret.slice(0, 6)}…`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
