import { createHash, createPublicKey, verify } from 'node:crypto';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmConnectionError,
} from '../../src/core/errors.js';
import {
  defaultJwtAudience,
  SalesforceLoginUrls,
  salesforceMyDomainLoginUrl,
} from '../../src/salesforce/auth/login-urls.js';
import { SalesforceOAuth } from '../../src/salesforce/auth/oauth.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  fakeFetch,
  INSTANCE_URL,
  json,
  LOGIN_URL,
  manualClock,
  ORG_ID,
  REDIRECT_URI,
  recordingLogger,
  refreshToken,
  rsaKeyPair,
  tokenResponse,
  USER_ID,
} from './auth-helpers.js';

function client(fetch: ReturnType<typeof fakeFetch>['fetch'], extra: Record<string, unknown> = {}) {
  return new SalesforceOAuth({
    loginUrl: LOGIN_URL,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    fetch,
    ...extra,
  });
}

describe('SalesforceOAuth configuration', () => {
  it('defaults to the production login host and accepts sandbox and My Domain hosts', () => {
    expect(new SalesforceOAuth({ clientId: CLIENT_ID }).loginUrl).toBe('https://login.salesforce.com');
    expect(new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: SalesforceLoginUrls.sandbox }).loginUrl).toBe(
      'https://test.salesforce.com',
    );
    expect(salesforceMyDomainLoginUrl('Acme')).toBe('https://acme.my.salesforce.com');
    expect(salesforceMyDomainLoginUrl('acme', { sandbox: 'uat' })).toBe(
      'https://acme--uat.sandbox.my.salesforce.com',
    );
    expect(() => salesforceMyDomainLoginUrl('acme.evil.com/')).toThrow(CrmConfigurationError);
    // Trailing slash and path are dropped: tokens are requested at the origin.
    expect(
      new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: 'https://acme.my.salesforce.com/' }).loginUrl,
    ).toBe('https://acme.my.salesforce.com');
  });

  it('refuses plain http except on loopback, unknown options and a missing client id', () => {
    expect(
      () => new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: 'http://login.salesforce.com' }),
    ).toThrow(CrmConfigurationError);
    expect(new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: 'http://127.0.0.1:4567' }).loginUrl).toBe(
      'http://127.0.0.1:4567',
    );
    expect(
      () =>
        new SalesforceOAuth({ clientId: CLIENT_ID, clientSecert: 'x' } as unknown as { clientId: string }),
    ).toThrow(/SalesforceOAuth: unknown option 'clientSecert'/);
    expect(() => new SalesforceOAuth({ clientId: '' })).toThrow(CrmConfigurationError);
  });

  it('derives the JWT audience Salesforce expects from the login URL', () => {
    expect(defaultJwtAudience('https://login.salesforce.com')).toBe('https://login.salesforce.com');
    expect(defaultJwtAudience('https://acme.my.salesforce.com')).toBe('https://login.salesforce.com');
    expect(defaultJwtAudience('https://test.salesforce.com')).toBe('https://test.salesforce.com');
    expect(defaultJwtAudience('https://acme--uat.sandbox.my.salesforce.com')).toBe(
      'https://test.salesforce.com',
    );
    expect(defaultJwtAudience('http://127.0.0.1:4567')).toBe('http://127.0.0.1:4567');
  });

  it('never shows the client secret in JSON or inspect output', () => {
    const oauth = client(fakeFetch().fetch);
    expect(JSON.stringify(oauth)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(oauth.toJSON())).toContain('[REDACTED]');
  });
});

describe('web-server flow with PKCE', () => {
  it('builds an authorize URL with an S256 challenge of the returned verifier', () => {
    const oauth = client(fakeFetch().fetch);
    const { url, codeVerifier, state } = oauth.authorizeUrl({
      state: 'st-123',
      scope: 'api refresh_token id',
    });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe(`${LOGIN_URL}/services/oauth2/authorize`);
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'api refresh_token id',
      state: 'st-123',
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(state).toBe('st-123');
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(url).not.toContain(codeVerifier);
    expect(url).not.toContain(CLIENT_SECRET);
    // A fresh verifier every time.
    expect(oauth.authorizeUrl({ state: 'st-123' }).codeVerifier).not.toBe(codeVerifier);
  });

  it('requires a state and a redirect URI', () => {
    const oauth = new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: LOGIN_URL });
    expect(() => oauth.authorizeUrl({ state: 'x' })).toThrow(/redirectUri/);
    expect(() => oauth.authorizeUrl({ state: '', redirectUri: REDIRECT_URI })).toThrow(/state/);
  });

  it('exchanges the code with the verifier and resolves to a verified token set', async () => {
    const body = tokenResponse({ refresh_token: refreshToken(), issued_at: '1764072000000' });
    const fake = fakeFetch(() => json(200, body));
    const tokens = await client(fake.fetch).exchangeCode({
      code: 'aPrxAbCdEf==',
      codeVerifier: 'v'.repeat(50),
      state: 's1',
      expectedState: 's1',
    });
    expect(tokens).toMatchObject({
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      instanceUrl: INSTANCE_URL,
      id: body.id,
      orgId: ORG_ID,
      userId: USER_ID,
      scope: 'api refresh_token',
    });
    expect(tokens.issuedAt.toISOString()).toBe(new Date(1764072000000).toISOString());
    const [request] = fake.requests;
    expect(request?.url).toBe(`${LOGIN_URL}/services/oauth2/token`);
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'aPrxAbCdEf==',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(50),
    });
  });

  it('rejects a mismatched state before any request', async () => {
    const fake = fakeFetch();
    const error = await client(fake.fetch)
      .exchangeCode({ code: 'c', codeVerifier: 'v'.repeat(43), state: 'attacker', expectedState: 'mine' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect((error as CrmAuthenticationError).providerCode).toBe('state_mismatch');
    expect(fake.requests).toHaveLength(0);
    // Only one of the two given is a mismatch too.
    await expect(
      client(fake.fetch).exchangeCode({ code: 'c', codeVerifier: 'v', expectedState: 'mine' }),
    ).rejects.toThrow(/state/);
  });

  it('rejects a token response whose signature does not verify (tampered identity URL)', async () => {
    const body = tokenResponse();
    body.id = `https://login.salesforce.com/id/00D000000000001AAA/${USER_ID}`;
    const fake = fakeFetch(() => json(200, body));
    const error = await client(fake.fetch)
      .exchangeCode({ code: 'c', codeVerifier: 'v'.repeat(43) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect((error as CrmAuthenticationError).providerCode).toBe('invalid_signature');
  });

  it('skips signature checks without a client secret and can require a signature', async () => {
    const unsigned = tokenResponse({}, null);
    const noSecret = new SalesforceOAuth({
      clientId: CLIENT_ID,
      loginUrl: LOGIN_URL,
      redirectUri: REDIRECT_URI,
      fetch: fakeFetch(() => json(200, unsigned)).fetch,
    });
    await expect(noSecret.exchangeCode({ code: 'c', codeVerifier: 'v'.repeat(43) })).resolves.toMatchObject({
      orgId: ORG_ID,
    });
    const strict = client(fakeFetch(() => json(200, tokenResponse({}, null))).fetch, {
      requireSignature: true,
    });
    await expect(strict.exchangeCode({ code: 'c', codeVerifier: 'v'.repeat(43) })).rejects.toMatchObject({
      providerCode: 'invalid_signature',
    });
  });

  it('maps OAuth error bodies to CrmAuthenticationError with providerCode, without secrets', async () => {
    const fake = fakeFetch(() =>
      json(400, { error: 'invalid_grant', error_description: 'invalid authorization code' }),
    );
    const error = (await client(fake.fetch)
      .exchangeCode({ code: 'secret-code', codeVerifier: 'v'.repeat(43) })
      .catch((e: unknown) => e)) as CrmAuthenticationError;
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(error.providerCode).toBe('invalid_grant');
    expect(error.status).toBe(400);
    expect(error.message).toContain('invalid authorization code');
    expect(JSON.stringify(error.toJSON())).not.toContain(CLIENT_SECRET);
  });

  it('maps 5xx to a retryable CrmApiError and network failures to CrmConnectionError', async () => {
    const down = fakeFetch(() => new Response('<html>maintenance</html>', { status: 503 }));
    await expect(client(down.fetch).refresh('rt')).rejects.toSatisfy(
      (e: unknown) => e instanceof CrmApiError && e.retryable && e.status === 503,
    );
    const offline = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    await expect(client(offline.fetch).refresh('rt')).rejects.toBeInstanceOf(CrmConnectionError);
  });

  it('times out a hanging request', async () => {
    const hanging = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const oauth = new SalesforceOAuth({
      clientId: CLIENT_ID,
      loginUrl: LOGIN_URL,
      fetch: hanging,
      timeoutMs: 30,
    });
    await expect(oauth.refresh('rt')).rejects.toThrow(/timed out after 30 ms/);
  });

  it('aborts with an AbortError when the caller signal fires', async () => {
    const controller = new AbortController();
    const hanging = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const oauth = new SalesforceOAuth({ clientId: CLIENT_ID, loginUrl: LOGIN_URL, fetch: hanging });
    const pending = oauth.refresh('rt', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('device flow', () => {
  const startBody = {
    device_code: 'M0RFOkRFVklDRS1DT0RF',
    user_code: 'WXYZ-1234',
    verification_uri: `${LOGIN_URL}/setup/connect`,
    interval: 5,
  };

  it('starts with response_type=device_code and polls with grant_type=device, honouring pending and slow_down', async () => {
    const clock = manualClock();
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
    };
    const fake = fakeFetch(
      () => json(200, startBody),
      () => json(400, { error: 'authorization_pending', error_description: 'authorization pending' }),
      () => json(400, { error: 'slow_down', error_description: 'polling too fast' }),
      () => json(200, tokenResponse({ refresh_token: refreshToken() })),
    );
    const oauth = client(fake.fetch, { clock, sleep });
    const start = await oauth.startDeviceFlow({ scope: 'api refresh_token' });
    expect(start).toMatchObject({
      userCode: 'WXYZ-1234',
      verificationUri: startBody.verification_uri,
      interval: 5,
    });
    expect(start.expiresAt.getTime() - clock.now().getTime()).toBe(10 * 60 * 1000);
    const pending: number[] = [];
    const tokens = await oauth.pollDeviceFlow(start, {
      onPending: ({ nextPollInMs }) => pending.push(nextPollInMs),
    });
    expect(tokens.orgId).toBe(ORG_ID);
    expect(tokens.refreshToken).toBeDefined();
    expect(sleeps).toEqual([5000, 5000, 10000]);
    expect(pending).toEqual([5000, 10000]);
    expect(Object.fromEntries(fake.requests[0]?.form ?? [])).toEqual({
      response_type: 'device_code',
      client_id: CLIENT_ID,
      scope: 'api refresh_token',
    });
    expect(Object.fromEntries(fake.requests[1]?.form ?? [])).toEqual({
      grant_type: 'device',
      client_id: CLIENT_ID,
      code: startBody.device_code,
      client_secret: CLIENT_SECRET,
    });
  });

  it.each([
    ['access_denied', 'end-user denied authorization'],
    ['expired_token', 'device code expired'],
    ['invalid_grant', 'expired authorization code'],
  ])('stops polling on %s', async (code, description) => {
    const fake = fakeFetch(
      () => json(400, { error: 'authorization_pending' }),
      () => json(400, { error: code, error_description: description }),
    );
    const oauth = client(fake.fetch, { sleep: async () => undefined });
    const start = {
      deviceCode: 'd',
      userCode: 'u',
      verificationUri: 'v',
      interval: 5,
      expiresAt: new Date(Date.now() + 60_000),
    };
    await expect(oauth.pollDeviceFlow(start)).rejects.toMatchObject({
      name: 'CrmAuthenticationError',
      providerCode: code,
    });
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up locally once the device code has expired', async () => {
    const clock = manualClock();
    const fake = fakeFetch(
      () => json(400, { error: 'authorization_pending' }),
      () => json(400, { error: 'authorization_pending' }),
    );
    const oauth = client(fake.fetch, { clock, sleep: async (ms: number) => clock.advance(ms) });
    const start = {
      deviceCode: 'd',
      userCode: 'u',
      verificationUri: 'v',
      interval: 5,
      expiresAt: new Date(clock.now().getTime() + 9000),
    };
    await expect(oauth.pollDeviceFlow(start)).rejects.toMatchObject({ providerCode: 'expired_token' });
    expect(fake.requests).toHaveLength(2);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const oauth = client(fakeFetch().fetch);
    const start = {
      deviceCode: 'd',
      userCode: 'u',
      verificationUri: 'v',
      interval: 5,
      expiresAt: new Date(Date.now() + 60_000),
    };
    const polling = oauth.pollDeviceFlow(start, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(polling).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('JWT bearer, refresh, revoke, userinfo', () => {
  it('signs an RS256 assertion that verifies against the public key', async () => {
    const keys = rsaKeyPair();
    const clock = manualClock();
    const fake = fakeFetch(() => json(200, tokenResponse({}, null)));
    const oauth = client(fake.fetch, { clock });
    const tokens = await oauth.jwtBearer({ username: 'integration@acme.com', privateKey: keys.privateKey });
    expect(tokens.refreshToken).toBeUndefined();
    const form = fake.requests[0]?.form;
    expect(form?.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(form?.get('client_secret')).toBeNull();
    const [header, claims, signature] = (form?.get('assertion') ?? '').split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT',
    });
    expect(JSON.parse(Buffer.from(claims ?? '', 'base64url').toString())).toEqual({
      iss: CLIENT_ID,
      sub: 'integration@acme.com',
      aud: 'https://login.salesforce.com',
      exp: Math.floor(clock.now().getTime() / 1000) + 180,
    });
    const valid = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${claims}`),
      createPublicKey(keys.publicKey),
      Buffer.from(signature ?? '', 'base64url'),
    );
    expect(valid).toBe(true);
  });

  it('refuses a non-RSA or unreadable key before any request', async () => {
    const fake = fakeFetch();
    await expect(
      client(fake.fetch).jwtBearer({ username: 'u', privateKey: 'not a key' }),
    ).rejects.toBeInstanceOf(CrmConfigurationError);
    expect(fake.requests).toHaveLength(0);
  });

  it('refreshes with grant_type=refresh_token and returns a rotated refresh token when Salesforce sends one', async () => {
    const rotated = refreshToken();
    const fake = fakeFetch(
      () => json(200, tokenResponse()),
      () =>
        json(
          200,
          tokenResponse({ refresh_token: rotated, instance_url: 'https://acme2.my.salesforce.com/' }),
        ),
    );
    const oauth = client(fake.fetch);
    expect((await oauth.refresh('rt-1')).refreshToken).toBeUndefined();
    const second = await oauth.refresh('rt-1');
    expect(second.refreshToken).toBe(rotated);
    expect(second.instanceUrl).toBe('https://acme2.my.salesforce.com');
    expect(Object.fromEntries(fake.requests[0]?.form ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
  });

  it('revokes a token and maps a refusal', async () => {
    const fake = fakeFetch(
      () => new Response('', { status: 200 }),
      () =>
        json(400, { error: 'unsupported_token_type', error_description: 'this token type is not supported' }),
    );
    const oauth = client(fake.fetch);
    await oauth.revoke('tok');
    expect(fake.requests[0]?.url).toBe(`${LOGIN_URL}/services/oauth2/revoke`);
    expect(Object.fromEntries(fake.requests[0]?.form ?? [])).toEqual({ token: 'tok' });
    await expect(oauth.revoke('tok')).rejects.toMatchObject({ providerCode: 'unsupported_token_type' });
  });

  it('reads userinfo from the instance with the bearer token', async () => {
    const fake = fakeFetch(
      () =>
        json(200, {
          sub: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
          user_id: USER_ID,
          organization_id: ORG_ID,
          preferred_username: 'admin@acme.com',
          email: 'admin@acme.com',
          name: 'Ada Admin',
        }),
      () => json(403, { error: 'bad_token', error_description: 'invalid access token' }),
    );
    const oauth = client(fake.fetch);
    await expect(oauth.userinfo('00Dtoken', INSTANCE_URL)).resolves.toEqual({
      orgId: ORG_ID,
      userId: USER_ID,
      username: 'admin@acme.com',
      email: 'admin@acme.com',
      name: 'Ada Admin',
    });
    expect(fake.requests[0]?.url).toBe(`${INSTANCE_URL}/services/oauth2/userinfo`);
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer 00Dtoken');
    await expect(oauth.userinfo('00Dtoken', INSTANCE_URL)).rejects.toBeInstanceOf(CrmAuthenticationError);
  });

  it('logs no token, secret or verifier', async () => {
    const logger = recordingLogger();
    const body = tokenResponse({ refresh_token: refreshToken() });
    const fake = fakeFetch(
      () => json(200, body),
      () => json(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' }),
    );
    const oauth = client(fake.fetch, { logger });
    await oauth.exchangeCode({ code: 'code-xyz', codeVerifier: 'verifier'.repeat(6) });
    await oauth.refresh(String(body.refresh_token)).catch(() => undefined);
    expect(logger.lines.length).toBeGreaterThan(1);
    const all = logger.lines.join('\n');
    for (const secret of [body.access_token, body.refresh_token, CLIENT_SECRET, 'verifier'.repeat(6)]) {
      expect(all).not.toContain(String(secret));
    }
  });
});

describe('global fetch through nock (no real host is contacted)', () => {
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('posts to the My Domain token endpoint', async () => {
    nock.disableNetConnect();
    const scope = nock(LOGIN_URL)
      .post('/services/oauth2/token', (body: Record<string, string>) => body.grant_type === 'refresh_token')
      .reply(200, tokenResponse());
    const oauth = new SalesforceOAuth({
      loginUrl: LOGIN_URL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    await expect(oauth.refresh('rt')).resolves.toMatchObject({ orgId: ORG_ID, instanceUrl: INSTANCE_URL });
    scope.done();
  });
});
