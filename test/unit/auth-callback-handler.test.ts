import { beforeEach, describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/core/errors.js';
import {
  beginOAuthAuthorization,
  createOAuthCallbackHandler,
} from '../../src/salesforce/auth/callback-handler.js';
import { decodeSalesforceCredentials } from '../../src/salesforce/auth/credentials.js';
import { SalesforceOAuth } from '../../src/salesforce/auth/oauth.js';
import {
  MemoryOAuthStateStore,
  type SalesforcePendingAuthorization,
  SealedOAuthStateStore,
} from '../../src/salesforce/auth/state-store.js';
import { REAUTHORIZATION_SETTING } from '../../src/salesforce/auth/tokens.js';
import { CredentialCipher } from '../../src/security/cipher.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  fakeFetch,
  json,
  LOGIN_URL,
  manualClock,
  ORG_ID,
  REDIRECT_URI,
  recordingLogger,
  refreshToken,
  tokenResponse,
} from './auth-helpers.js';

const cipher = new CredentialCipher({ keys: { k1: Buffer.alloc(32, 3) } });
const OTHER_ORG = '00D5g000009ZZZZEAA';

function setup(responses: Array<() => Response> = []) {
  const fake = fakeFetch(...responses);
  const oauth = new SalesforceOAuth({
    loginUrl: LOGIN_URL,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    fetch: fake.fetch,
  });
  const storage = new MemoryStorage();
  const stateStore = new MemoryOAuthStateStore();
  const logger = recordingLogger();
  return { fake, oauth, storage, stateStore, logger };
}

function seenSet() {
  const seen = new Set<string>();
  return async (nonce: string) => {
    if (seen.has(nonce)) return false;
    seen.add(nonce);
    return true;
  };
}

function callback(query: Record<string, string>): Request {
  const url = new URL(REDIRECT_URI);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return new Request(url);
}

describe('beginOAuthAuthorization + createOAuthCallbackHandler', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
  });

  it('completes the web-server flow and stores an encrypted integration', async () => {
    const body = tokenResponse({ refresh_token: refreshToken() });
    ctx.fake.push(() => json(200, body));
    const { url, state } = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'user-1',
      returnTo: '/settings/crm',
    });
    const challenge = new URL(url).searchParams.get('code_challenge');
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(url).searchParams.get('state')).toBe(state);
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
      logger: ctx.logger,
    });
    const response = await handler(callback({ code: 'aPrx.code', state }));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/settings/crm');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');

    // The verifier behind the challenge was sent in the exchange.
    const verifier = ctx.fake.requests[0]?.form.get('code_verifier') ?? '';
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);

    const [integration] = await ctx.storage.integrations.findByUser('user-1', 'salesforce');
    expect(integration).toMatchObject({ orgId: ORG_ID, instanceUrl: body.instance_url, syncEnabled: true });
    const row = JSON.stringify(integration);
    expect(row).not.toContain(String(body.access_token));
    expect(row).not.toContain(String(body.refresh_token));
    const tokens = decodeSalesforceCredentials(cipher.decrypt(integration?.credentials ?? ''));
    expect(tokens.refreshToken).toBe(body.refresh_token);
    const logs = ctx.logger.lines.join('\n');
    expect(logs).not.toContain(String(body.access_token));
    expect(logs).not.toContain(verifier);
  });

  it('keeps several orgs per user and updates the record when the same org is connected again', async () => {
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
    });
    const connect = async (orgId: string) => {
      ctx.fake.push(() =>
        json(200, tokenResponse({ id: `https://login.salesforce.com/id/${orgId}/0055g00000AbCdEAAZ` })),
      );
      const { state } = await beginOAuthAuthorization({
        oauth: ctx.oauth,
        stateStore: ctx.stateStore,
        userId: 'u1',
      });
      return handler(callback({ code: `code-${orgId}`, state }));
    };
    expect((await connect(ORG_ID)).status).toBe(200);
    expect((await connect(OTHER_ORG)).status).toBe(200);
    const [first] = await ctx.storage.integrations.findByUser('u1', 'salesforce');
    // Paused for re-authorisation: reconnecting the same org clears the marker and resumes sync.
    await ctx.storage.integrations.update(first?.id ?? '', {
      syncEnabled: false,
      settings: {
        keep: 1,
        [REAUTHORIZATION_SETTING]: { required: true, reason: 'refresh_token_rejected', at: 'x' },
      },
    });
    expect((await connect(ORG_ID)).status).toBe(200);
    const all = await ctx.storage.integrations.findByUser('u1', 'salesforce');
    expect(all.map((i) => i.orgId)).toEqual([ORG_ID, OTHER_ORG]);
    expect(all[0]?.id).toBe(first?.id);
    expect(all[0]?.syncEnabled).toBe(true);
    expect(all[0]?.settings).toEqual({ keep: 1 });
    expect(all[0]?.credentials).not.toBe(first?.credentials);
  });

  it('does not resume a sync the host paused itself', async () => {
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
    });
    for (let i = 0; i < 2; i++) {
      ctx.fake.push(() => json(200, tokenResponse()));
      const { state } = await beginOAuthAuthorization({
        oauth: ctx.oauth,
        stateStore: ctx.stateStore,
        userId: 'u1',
      });
      await handler(callback({ code: 'c', state }));
      const [record] = await ctx.storage.integrations.findByUser('u1');
      if (i === 0) await ctx.storage.integrations.update(record?.id ?? '', { syncEnabled: false });
      else expect(record?.syncEnabled).toBe(false);
    }
  });

  it('rejects an unknown, reused or expired state without calling Salesforce', async () => {
    const clock = manualClock();
    const stateStore = new MemoryOAuthStateStore({ clock });
    ctx.fake.push(() => json(200, tokenResponse()));
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore,
    });
    expect((await handler(callback({ code: 'c', state: 'forged' }))).status).toBe(400);

    const { state } = await beginOAuthAuthorization({ oauth: ctx.oauth, stateStore, userId: 'u1', clock });
    expect((await handler(callback({ code: 'c', state }))).status).toBe(200);
    expect((await handler(callback({ code: 'c', state }))).status).toBe(400); // single use

    const late = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore,
      userId: 'u1',
      ttlMs: 1000,
      clock,
    });
    clock.advance(1001);
    const response = await handler(callback({ code: 'code-XYZ-123', state: late.state }));
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('code-XYZ-123');
    expect(ctx.fake.requests).toHaveLength(1);
  });

  it('answers a denied consent with 400 and consumes the state', async () => {
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
    });
    const { state } = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'u1',
    });
    const response = await handler(
      callback({ error: 'access_denied', error_description: '<script>alert(1)</script>', state }),
    );
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toBe('Salesforce access was not granted.');
    expect(ctx.stateStore.size).toBe(0);
  });

  it('binds the callback to the signed-in user (login CSRF)', async () => {
    ctx.fake.push(() => json(200, tokenResponse()));
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
      resolveUser: (request) => request.headers.get('x-user'),
    });
    const { state } = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'victim',
    });
    const attacker = new Request(callback({ code: 'c', state }), { headers: { 'x-user': 'attacker' } });
    expect((await handler(attacker)).status).toBe(403);
    const nobody = await beginOAuthAuthorization({ oauth: ctx.oauth, stateStore: ctx.stateStore });
    expect((await handler(callback({ code: 'c', state: nobody.state }))).status).toBe(401);
    expect(ctx.fake.requests).toHaveLength(0);
    expect(await ctx.storage.integrations.list()).toEqual([]);
  });

  for (const kind of ['memory', 'sealed'] as const) {
    it(`a refused cross-user callback leaves the victim's state usable (${kind} store)`, async () => {
      ctx.fake.push(() => json(200, tokenResponse()));
      const stateStore =
        kind === 'memory' ? ctx.stateStore : new SealedOAuthStateStore({ cipher, seen: seenSet() });
      const handler = createOAuthCallbackHandler({
        oauth: ctx.oauth,
        storage: ctx.storage,
        cipher,
        stateStore,
        resolveUser: (request) => request.headers.get('x-user'),
      });
      const { state } = await beginOAuthAuthorization({ oauth: ctx.oauth, stateStore, userId: 'victim' });
      const as = (user: string | null) =>
        new Request(callback({ code: 'c', state }), { headers: user ? { 'x-user': user } : {} });
      expect((await handler(as('attacker'))).status).toBe(403);
      expect((await handler(as(null))).status).toBe(401);
      expect(ctx.fake.requests).toHaveLength(0);
      // The victim finishes their own login with the same state.
      expect((await handler(as('victim'))).status).toBe(200);
      expect(await ctx.storage.integrations.list()).toHaveLength(1);
      // Still single use.
      expect((await handler(as('victim'))).status).toBe(400);
    });
  }

  it('maps a refused code exchange (wrong verifier) to 400 and a storage failure to 500', async () => {
    ctx.fake.push(() => json(400, { error: 'invalid_grant', error_description: 'invalid code verifier' }));
    const errors: string[] = [];
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
      onError: (error) => {
        errors.push(`${error.code}:${error.providerCode}`);
        return new Response('nope', { status: error.code === 'AUTHENTICATION' ? 400 : 500 });
      },
    });
    const { state } = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'u1',
    });
    expect((await handler(callback({ code: 'c', state }))).status).toBe(400);
    expect(errors).toEqual(['AUTHENTICATION:invalid_grant']);

    const broken = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: {
        integrations: {
          ...ctx.storage.integrations,
          findByUser: async () => {
            throw new Error('db down');
          },
        },
      },
      cipher,
      stateStore: ctx.stateStore,
    });
    ctx.fake.push(() => json(200, tokenResponse()));
    const second = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'u1',
    });
    expect((await broken(callback({ code: 'c', state: second.state }))).status).toBe(500);
  });

  it('refuses non-GET requests, open redirects and unknown options', async () => {
    const handler = createOAuthCallbackHandler({
      oauth: ctx.oauth,
      storage: ctx.storage,
      cipher,
      stateStore: ctx.stateStore,
    });
    expect((await handler(new Request(REDIRECT_URI, { method: 'POST' }))).status).toBe(405);
    const { state } = await beginOAuthAuthorization({
      oauth: ctx.oauth,
      stateStore: ctx.stateStore,
      userId: 'u1',
    });
    const head = await handler(new Request(callback({ code: 'c', state }), { method: 'HEAD' }));
    expect(head.status).toBe(405);
    expect(ctx.stateStore.size).toBe(1); // a link scanner's HEAD did not consume the state
    for (const returnTo of ['https://evil.example', '//evil.example', '/\\evil.example']) {
      await expect(
        beginOAuthAuthorization({ oauth: ctx.oauth, stateStore: ctx.stateStore, returnTo }),
      ).rejects.toBeInstanceOf(CrmConfigurationError);
    }
    expect(() =>
      createOAuthCallbackHandler({
        oauth: ctx.oauth,
        storage: ctx.storage,
        cipher,
        stateStore: ctx.stateStore,
        redirect: '/x',
      } as never),
    ).toThrow(/unknown option/);
  });
});

describe('state stores', () => {
  const pending: SalesforcePendingAuthorization = {
    codeVerifier: 'v'.repeat(64),
    redirectUri: REDIRECT_URI,
    userId: 'u1',
    createdAt: 1,
  };

  it('MemoryOAuthStateStore: single use, expiring, bounded', async () => {
    const clock = manualClock();
    const store = new MemoryOAuthStateStore({ clock, maxEntries: 2 });
    const a = await store.save(pending, 1000);
    const b = await store.save(pending, 1000);
    const c = await store.save(pending, 1000);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.take(a)).toBeNull(); // evicted as the oldest
    expect(await store.take(b)).toEqual(pending);
    expect(await store.take(b)).toBeNull();
    clock.advance(1000);
    expect(await store.take(c)).toBeNull();
  });

  it('SealedOAuthStateStore: works across instances, hides the verifier, rejects tampering, expiry and replays', async () => {
    const clock = manualClock();
    const seen = new Set<string>();
    const options = {
      cipher,
      clock,
      seen: async (nonce: string) => {
        if (seen.has(nonce)) return false;
        seen.add(nonce);
        return true;
      },
    };
    const state = await new SealedOAuthStateStore(options).save(pending, 60_000);
    expect(state).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(state).not.toContain(pending.codeVerifier);
    expect(Buffer.from(state, 'base64url').toString()).not.toContain(pending.codeVerifier);
    const other = new SealedOAuthStateStore(options);
    const tampered = `${state.slice(0, -4)}${state.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(await other.take(tampered)).toBeNull();
    expect(await other.take(state)).toEqual(pending);
    expect(await other.take(state)).toBeNull(); // replay
    const late = await other.save(pending, 1000);
    clock.advance(1000);
    expect(await other.take(late)).toBeNull();
    // A stored credential ciphertext cannot be passed off as a state.
    const credential = Buffer.from(
      cipher.encrypt(JSON.stringify({ p: pending, e: Date.now() * 2, n: 'x' })),
    ).toString('base64url');
    expect(await other.take(credential)).toBeNull();
  });
});
