import { createHash, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let now = Date.parse('2026-06-01T00:00:00Z');
let sf: SalesforceEmulator;
const REDIRECT = 'http://localhost:1717/OauthRedirect';

beforeAll(async () => {
  sf = await startSalesforceEmulator({ clock: { now: () => new Date(now) }, refreshProcessingMs: 60 });
});
afterAll(async () => {
  await sf.stop();
});

interface TokenBody {
  access_token?: string;
  refresh_token?: string;
  id?: string;
  instance_url?: string;
  issued_at?: string;
  signature?: string;
  token_type?: string;
  error?: string;
  error_description?: string;
}

async function token(params: Record<string, string>): Promise<{ status: number; body: TokenBody }> {
  const response = await fetch(`${sf.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as TokenBody };
}

async function authorize(params: Record<string, string>): Promise<URL> {
  const url = new URL(`${sf.loginUrl}/services/oauth2/authorize`);
  for (const [key, value] of Object.entries({
    response_type: 'code',
    client_id: sf.clientId,
    redirect_uri: REDIRECT,
    ...params,
  })) {
    url.searchParams.set(key, value);
  }
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') as string);
}

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('web server flow with PKCE', () => {
  it('auto-approves, redirects with code and state, and exchanges the code with a signed token response', async () => {
    const verifier = 'v'.repeat(64);
    const redirect = await authorize({
      state: 'st-1',
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('st-1');
    const code = redirect.searchParams.get('code') as string;

    const { status, body } = await token({
      grant_type: 'authorization_code',
      code,
      client_id: sf.clientId,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', instance_url: sf.instanceUrl, id: sf.identityUrl });
    expect(body.issued_at).toBe(String(now));
    const expected = createHmac('sha256', sf.clientSecret)
      .update(`${body.id}${body.issued_at}`)
      .digest('base64');
    expect(body.signature).toBe(expected);
    expect(body.refresh_token).toBeTruthy();

    const reuse = await token({
      grant_type: 'authorization_code',
      code,
      client_id: sf.clientId,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(reuse).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'expired authorization code' },
    });
  });

  it('refuses a wrong or missing verifier and a mismatched redirect_uri', async () => {
    const challenge = challengeOf('right-verifier-right-verifier-right-verifier-0000');
    const code1 = (await authorize({ code_challenge: challenge })).searchParams.get('code') as string;
    const wrong = await token({
      grant_type: 'authorization_code',
      code: code1,
      client_id: sf.clientId,
      redirect_uri: REDIRECT,
      code_verifier: 'wrong',
    });
    expect(wrong.body.error).toBe('invalid_request');
    const code2 = (await authorize({ code_challenge: challenge })).searchParams.get('code') as string;
    const missing = await token({
      grant_type: 'authorization_code',
      code: code2,
      client_id: sf.clientId,
      redirect_uri: REDIRECT,
    });
    expect(missing.body.error).toBe('invalid_grant');
    const code3 = (await authorize({})).searchParams.get('code') as string;
    const mismatch = await token({
      grant_type: 'authorization_code',
      code: code3,
      client_id: sf.clientId,
      client_secret: sf.clientSecret,
      redirect_uri: 'http://localhost:9999/cb',
    });
    expect(mismatch.body.error).toBe('redirect_uri_mismatch');
  });

  it('works with jsforce OAuth2 (useVerifier) and conn.authorize, then identity()', async () => {
    const oauth2 = new jsforce.OAuth2({
      clientId: sf.clientId,
      clientSecret: sf.clientSecret,
      redirectUri: REDIRECT,
      loginUrl: sf.loginUrl,
      useVerifier: true,
    });
    const response = await fetch(oauth2.getAuthorizationUrl({ state: 'abc' }), { redirect: 'manual' });
    const code = new URL(response.headers.get('location') as string).searchParams.get('code') as string;
    const conn = new jsforce.Connection({ oauth2, version: '62.0' });
    const userInfo = await conn.authorize(code);
    expect(userInfo).toMatchObject({ id: sf.userId, organizationId: sf.orgId });
    expect(conn.instanceUrl).toBe(sf.instanceUrl);
    const identity = await conn.identity();
    expect(identity).toMatchObject({ user_id: sf.userId, organization_id: sf.orgId, username: sf.username });
  });

  it('serves userinfo with the fields the sf CLI reads', async () => {
    const response = await fetch(`${sf.loginUrl}/services/oauth2/userinfo`, {
      headers: { Authorization: `Bearer ${sf.accessToken}` },
    });
    expect(await response.json()).toMatchObject({
      user_id: sf.userId,
      organization_id: sf.orgId,
      preferred_username: sf.username,
    });
  });
});

describe('refresh tokens', () => {
  it('refreshes without rotation by default', async () => {
    const { refreshToken } = sf.oauth.issueTokens();
    const first = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshToken as string,
      client_id: sf.clientId,
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toBeUndefined();
    const again = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshToken as string,
      client_id: sf.clientId,
    });
    expect(again.status).toBe(200);
  });

  it('refuses a parallel refresh of the same token', async () => {
    const { refreshToken } = sf.oauth.issueTokens();
    const params = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken as string,
      client_id: sf.clientId,
    };
    const [a, b] = await Promise.all([token(params), token(params)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 400]);
    const refused = a.status === 400 ? a : b;
    expect(refused.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Token request is already being processed',
    });
  });

  it('rotates refresh tokens and revokes the grant when a superseded one is replayed', async () => {
    sf.oauth.setRefreshTokenRotation(true);
    try {
      const { refreshToken } = sf.oauth.issueTokens();
      const rotated = await token({
        grant_type: 'refresh_token',
        refresh_token: refreshToken as string,
        client_id: sf.clientId,
      });
      expect(rotated.body.refresh_token).toBeTruthy();
      expect(rotated.body.refresh_token).not.toBe(refreshToken);

      const replay = await token({
        grant_type: 'refresh_token',
        refresh_token: refreshToken as string,
        client_id: sf.clientId,
      });
      expect(replay.body).toEqual({
        error: 'invalid_grant',
        error_description: 'expired access/refresh token',
      });
      const successor = await token({
        grant_type: 'refresh_token',
        refresh_token: rotated.body.refresh_token as string,
        client_id: sf.clientId,
      });
      expect(successor.body.error).toBe('invalid_grant');
      const limits = await fetch(`${sf.instanceUrl}/services/data/v62.0/limits`, {
        headers: { Authorization: `Bearer ${rotated.body.access_token}` },
      });
      expect(limits.status).toBe(401);
    } finally {
      sf.oauth.setRefreshTokenRotation(false);
    }
  });

  it('revokes a refresh token and its access tokens', async () => {
    const { accessToken, refreshToken } = sf.oauth.issueTokens();
    const response = await fetch(`${sf.loginUrl}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken as string }),
    });
    expect(response.status).toBe(200);
    const refresh = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshToken as string,
      client_id: sf.clientId,
    });
    expect(refresh.body.error).toBe('invalid_grant');
    const call = await fetch(`${sf.instanceUrl}/services/data/v62.0/limits`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(call.status).toBe(401);
    const unknown = await fetch(`${sf.loginUrl}/services/oauth2/revoke?token=unknown`);
    expect(unknown.status).toBe(400);
  });

  it('revokes a single access token and serves the identity URL with ?oauth_token=', async () => {
    const { accessToken } = sf.oauth.issueTokens();
    const identity = await fetch(
      `${sf.identityUrl}?format=json&oauth_token=${encodeURIComponent(accessToken)}`,
    );
    expect(await identity.json()).toMatchObject({ user_id: sf.userId, organization_id: sf.orgId });
    expect(sf.oauth.revokeToken(accessToken)).toBe(true);
    const after = await fetch(`${sf.identityUrl}?format=json&oauth_token=${encodeURIComponent(accessToken)}`);
    expect(after.status).toBe(401);
  });

  it('issues tokens for client_credentials only with the secret', async () => {
    const ok = await token({
      grant_type: 'client_credentials',
      client_id: sf.clientId,
      client_secret: sf.clientSecret,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.refresh_token).toBeUndefined();
    const noSecret = await token({ grant_type: 'client_credentials', client_id: sf.clientId });
    expect(noSecret.body).toEqual({
      error: 'invalid_client',
      error_description: 'invalid client credentials',
    });
  });

  it('logs in with the username-password flow through jsforce conn.login', async () => {
    const conn = new jsforce.Connection({
      oauth2: { clientId: sf.clientId, clientSecret: sf.clientSecret, loginUrl: sf.loginUrl },
      version: '62.0',
    });
    const userInfo = await conn.login(sf.username, 'any-password-and-token');
    expect(userInfo).toMatchObject({ id: sf.userId, organizationId: sf.orgId });
    await expect(conn.login('someone@else.example', 'pw')).rejects.toMatchObject({ name: 'invalid_grant' });
  });

  it('rejects an unknown client id', async () => {
    const result = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'other' });
    expect(result.body).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
  });
});

describe('device flow (Salesforce shape)', () => {
  const start = async () => {
    const { body } = (await token({
      response_type: 'device_code',
      client_id: sf.clientId,
      scope: 'api refresh_token',
    })) as unknown as {
      body: { device_code: string; user_code: string; verification_uri: string; interval: number };
    };
    return body;
  };
  const poll = (code: string) => token({ grant_type: 'device', client_id: sf.clientId, code });

  it('answers authorization_pending, slow_down, then tokens once approved', async () => {
    const device = await start();
    expect(device.interval).toBe(5);
    expect(device.verification_uri).toBe(`${sf.loginUrl}/setup/connect`);
    expect((await poll(device.device_code)).body.error).toBe('authorization_pending');
    expect((await poll(device.device_code)).body.error).toBe('slow_down');
    sf.oauth.approveDevice(device.user_code);
    now += 5_000;
    const granted = await poll(device.device_code);
    expect(granted.status).toBe(200);
    expect(granted.body.access_token).toBeTruthy();
    expect(granted.body.refresh_token).toBeTruthy();
  });

  it('answers access_denied when the user denies', async () => {
    const device = await start();
    sf.oauth.denyDevice(device.user_code);
    expect((await poll(device.device_code)).body.error).toBe('access_denied');
  });

  it('approves through the verification page', async () => {
    const device = await start();
    const page = await fetch(`${device.verification_uri}?user_code=${device.user_code}`);
    expect(page.status).toBe(200);
    expect(sf.oauth.pendingDeviceCodes()).not.toContain(device.user_code);
    expect((await poll(device.device_code)).status).toBe(200);
  });

  it('answers expired_token after the device code lifetime', async () => {
    const device = await start();
    now += 601_000;
    expect((await poll(device.device_code)).body.error).toBe('expired_token');
  });
});

describe('JWT bearer flow', () => {
  let privateKey: KeyObject;
  let otherKey: KeyObject;

  beforeAll(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    sf.oauth.registerJwtCertificate(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });

  const assertion = (claims: Record<string, unknown>, key = privateKey): string => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const data = `${encode({ alg: 'RS256' })}.${encode(claims)}`;
    return `${data}.${sign('RSA-SHA256', Buffer.from(data), key).toString('base64url')}`;
  };
  const claims = () => ({
    iss: sf.clientId,
    sub: sf.username,
    aud: 'https://login.salesforce.com',
    exp: Math.floor(now / 1000) + 180,
  });
  const exchange = (jwt: string) =>
    token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt });

  it('issues an access token without a refresh token for a valid assertion', async () => {
    const { status, body } = await exchange(assertion(claims()));
    expect(status).toBe(200);
    expect(body.access_token).toBeTruthy();
    expect(body.refresh_token).toBeUndefined();
  });

  it('works through jsforce conn.authorize', async () => {
    const conn = new jsforce.Connection({
      oauth2: { clientId: sf.clientId, loginUrl: sf.loginUrl },
      version: '62.0',
    });
    await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: assertion(claims()),
    });
    expect(conn.instanceUrl).toBe(sf.instanceUrl);
    await expect(conn.query('SELECT COUNT() FROM Contact')).resolves.toMatchObject({ done: true });
  });

  it('refuses a wrong signer, wrong audience, clock-skewed expiry, wrong issuer and unknown user', async () => {
    expect((await exchange(assertion(claims(), otherKey))).body).toEqual({
      error: 'invalid_grant',
      error_description: 'invalid assertion',
    });
    expect(
      (await exchange(assertion({ ...claims(), aud: 'https://evil.example' }))).body.error_description,
    ).toBe('audience is invalid');
    expect((await exchange(assertion({ ...claims(), exp: Math.floor(now / 1000) - 1 }))).body.error).toBe(
      'invalid_grant',
    );
    expect((await exchange(assertion({ ...claims(), iss: 'someone-else' }))).body.error).toBe(
      'invalid_client_id',
    );
    expect((await exchange(assertion({ ...claims(), sub: 'nobody@example.com' }))).body.error).toBe(
      'invalid_grant',
    );
  });
});
