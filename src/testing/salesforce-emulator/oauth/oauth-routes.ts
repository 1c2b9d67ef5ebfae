import { type KeyObject, randomBytes } from 'node:crypto';
import { EmulatorOAuthError } from '../http/errors.js';
import type { EmulatorRouter } from '../http/router.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import { toId15 } from '../ids.js';
import type { EmulatorClock } from '../store/org-store.js';
import type { EmulatorRecord } from '../store/schema.js';
import { MAX_API_VERSION } from '../versions.js';
import { publicKeyFromPem, verifyRs256 } from './jwt.js';
import { pkceChallenge, tokenSignature } from './signature.js';
import type { IssuedTokens, TokenStore } from './token-store.js';

/** Everything the OAuth endpoints need from the emulator. */
export interface OAuthDependencies {
  tokens: TokenStore;
  clock: EmulatorClock;
  clientId: string;
  clientSecret: string;
  orgId: string;
  userId: string;
  username: string;
  baseUrl: () => string;
  accessTokenTtlMs: number | undefined;
  refreshTokenRotation: boolean;
  refreshProcessingMs: number;
  deviceCodeIntervalSeconds: number;
  deviceCodeTtlSeconds: number;
  userRecord: () => EmulatorRecord;
  orgRecord: () => EmulatorRecord;
}

/** OAuth test controls (`emulator.oauth`). */
export interface EmulatorOAuthControls {
  /** Approves a pending device authorisation by its user code (as the user would in a browser). */
  approveDevice(userCode: string): void;
  /** Denies a pending device authorisation; the next poll answers `access_denied`. */
  denyDevice(userCode: string): void;
  /** User codes of device authorisations still waiting for a decision. */
  pendingDeviceCodes(): string[];
  /**
   * Registers the certificate (or public key) PEM of a connected app for the JWT bearer flow.
   * Assertions must be RS256-signed by the matching private key with `iss` = the client id.
   */
  registerJwtCertificate(pem: string, options?: { clientId?: string }): void;
  /** Expires one access token now, or every access token when none is given (→ 401 INVALID_SESSION_ID). */
  expireAccessToken(token?: string): void;
  /** Revokes a token as `/services/oauth2/revoke` would. Returns false for an unknown token. */
  revokeToken(token: string): boolean;
  /** Issues a fresh grant for the API user (access + refresh token), without an HTTP round trip. */
  issueTokens(): { accessToken: string; refreshToken: string | undefined; issuedAt: number };
  /** Turns refresh-token rotation on or off. */
  setRefreshTokenRotation(enabled: boolean): void;
  /** Sets the lifetime of access tokens issued from now on (ms; `undefined` = no expiry). */
  setAccessTokenTtl(ttlMs: number | undefined): void;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  challenge: string | undefined;
  scope: string;
  expiresAt: number;
  used: boolean;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  lastPollAt: number | undefined;
  decision: 'pending' | 'approved' | 'denied' | 'consumed';
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ23456789';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Registers authorize, token, revoke, userinfo, the identity URL and the device verification page. */
export function registerOAuthRoutes(router: EmulatorRouter, deps: OAuthDependencies): EmulatorOAuthControls {
  const codes = new Map<string, AuthorizationCode>();
  const devices = new Map<string, DeviceAuthorization>();
  const jwtKeys = new Map<string, KeyObject[]>();
  let rotation = deps.refreshTokenRotation;
  let ttlMs = deps.accessTokenTtlMs;
  const now = () => deps.clock.now().getTime();
  const identityUrl = () => `${deps.baseUrl()}/id/${deps.orgId}/${deps.userId}`;

  const tokenResponse = (issued: IssuedTokens, includeRefresh: boolean): EmulatorResponse => {
    const issuedAt = String(issued.issuedAt);
    const id = identityUrl();
    const body: Record<string, string> = { access_token: issued.accessToken };
    if (includeRefresh && issued.refreshToken) body.refresh_token = issued.refreshToken;
    Object.assign(body, {
      signature: tokenSignature(deps.clientSecret, id, issuedAt),
      scope: issued.grant.scope,
      instance_url: deps.baseUrl(),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    });
    return {
      status: 200,
      body,
      headers: { 'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private' },
    };
  };

  const checkClient = (params: URLSearchParams, secretRequired: boolean): void => {
    if (params.get('client_id') !== deps.clientId) {
      throw new EmulatorOAuthError('invalid_client_id', 'client identifier invalid');
    }
    const secret = params.get('client_secret');
    if ((secret !== null && secret !== deps.clientSecret) || (secretRequired && secret === null)) {
      throw new EmulatorOAuthError('invalid_client', 'invalid client credentials');
    }
  };

  const formParams = async (request: EmulatorRequestContext): Promise<URLSearchParams> => {
    const params = new URLSearchParams(request.query);
    for (const [key, value] of await request.form()) params.set(key, value);
    return params;
  };

  router.add({
    method: 'GET',
    pattern: '/services/oauth2/authorize',
    kind: 'public',
    handler: (request) => {
      const q = request.query;
      if (q.get('client_id') !== deps.clientId)
        throw new EmulatorOAuthError('invalid_client_id', 'client identifier invalid');
      const redirectUri = q.get('redirect_uri');
      if (!redirectUri)
        throw new EmulatorOAuthError('redirect_uri_missing', 'redirect_uri must match configuration');
      const responseType = q.get('response_type') ?? '';
      const state = q.get('state');
      const scope = q.get('scope') ?? 'api refresh_token';
      const target = new URL(redirectUri);
      if (responseType === 'code') {
        const code = `aPrx${randomBytes(24).toString('base64url')}`;
        codes.set(code, {
          clientId: deps.clientId,
          redirectUri,
          challenge: q.get('code_challenge') ?? undefined,
          scope,
          expiresAt: now() + 15 * 60_000,
          used: false,
        });
        target.searchParams.set('code', code);
        if (state !== null) target.searchParams.set('state', state);
        return { status: 302, headers: { Location: target.toString() } };
      }
      if (responseType === 'token') {
        const issued = deps.tokens.createGrant(deps.clientId, deps.userId, scope, false, ttlMs);
        const fragment = new URLSearchParams(tokenResponse(issued, false).body as Record<string, string>);
        if (state !== null) fragment.set('state', state);
        target.hash = fragment.toString();
        return { status: 302, headers: { Location: target.toString() } };
      }
      target.searchParams.set('error', 'unsupported_response_type');
      target.searchParams.set('error_description', 'response type not supported');
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { Location: target.toString() } };
    },
  });

  const authorizationCodeGrant = (params: URLSearchParams): EmulatorResponse => {
    const verifier = params.get('code_verifier');
    checkClient(params, false);
    const code = codes.get(params.get('code') ?? '');
    if (!code || code.used || code.expiresAt <= now()) {
      throw new EmulatorOAuthError('invalid_grant', 'expired authorization code');
    }
    if (params.get('redirect_uri') !== code.redirectUri) {
      throw new EmulatorOAuthError('redirect_uri_mismatch', 'redirect_uri must match configuration');
    }
    if (code.challenge !== undefined) {
      if (verifier === null) throw new EmulatorOAuthError('invalid_grant', 'invalid code verifier');
      if (pkceChallenge(verifier) !== code.challenge)
        throw new EmulatorOAuthError('invalid_request', 'invalid code verifier');
    } else if (params.get('client_secret') === null) {
      throw new EmulatorOAuthError('invalid_client', 'invalid client credentials');
    }
    code.used = true;
    return tokenResponse(deps.tokens.createGrant(deps.clientId, deps.userId, code.scope, true, ttlMs), true);
  };

  const refreshGrant = async (params: URLSearchParams): Promise<EmulatorResponse> => {
    checkClient(params, false);
    const token = params.get('refresh_token') ?? '';
    const check = deps.tokens.checkRefresh(token);
    if (!check.ok) {
      if (check.reason === 'in-flight') {
        throw new EmulatorOAuthError('invalid_grant', 'Token request is already being processed');
      }
      if (check.reason === 'reused') {
        // Refresh-token rotation: replaying a superseded token revokes the whole grant.
        deps.tokens.revokeToken(token);
      }
      throw new EmulatorOAuthError('invalid_grant', 'expired access/refresh token');
    }
    deps.tokens.setInFlight(token, true);
    try {
      if (deps.refreshProcessingMs > 0) await sleep(deps.refreshProcessingMs);
      if (check.grant.revoked) throw new EmulatorOAuthError('invalid_grant', 'expired access/refresh token');
      const issued = deps.tokens.reissue(check.grant, rotation, ttlMs);
      if (rotation) deps.tokens.supersede(token);
      return tokenResponse(issued, rotation);
    } finally {
      deps.tokens.setInFlight(token, false);
    }
  };

  const deviceStart = (params: URLSearchParams): EmulatorResponse => {
    checkClient(params, false);
    const deviceCode = randomBytes(32).toString('base64url');
    let userCode = '';
    for (const byte of randomBytes(8)) userCode += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    devices.set(deviceCode, {
      deviceCode,
      userCode,
      clientId: deps.clientId,
      scope: params.get('scope') ?? 'api refresh_token',
      expiresAt: now() + deps.deviceCodeTtlSeconds * 1000,
      lastPollAt: undefined,
      decision: 'pending',
    });
    return {
      status: 200,
      body: {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: `${deps.baseUrl()}/setup/connect`,
        interval: deps.deviceCodeIntervalSeconds,
      },
    };
  };

  const deviceGrant = (params: URLSearchParams): EmulatorResponse => {
    checkClient(params, false);
    const device = devices.get(params.get('code') ?? '');
    if (!device || device.decision === 'consumed')
      throw new EmulatorOAuthError('invalid_grant', 'expired authorization code');
    const at = now();
    if (at >= device.expiresAt) throw new EmulatorOAuthError('expired_token', 'the device code has expired');
    if (device.decision === 'denied')
      throw new EmulatorOAuthError('access_denied', 'end-user denied authorization');
    const tooSoon =
      device.lastPollAt !== undefined && at - device.lastPollAt < deps.deviceCodeIntervalSeconds * 1000;
    device.lastPollAt = at;
    if (tooSoon) throw new EmulatorOAuthError('slow_down', 'polling too frequently');
    if (device.decision === 'pending') {
      throw new EmulatorOAuthError('authorization_pending', 'authorization pending');
    }
    device.decision = 'consumed';
    return tokenResponse(
      deps.tokens.createGrant(deps.clientId, deps.userId, device.scope, true, ttlMs),
      true,
    );
  };

  const jwtGrant = (params: URLSearchParams): EmulatorResponse => {
    const assertion = params.get('assertion') ?? '';
    const keys = [...jwtKeys.values()].flat();
    const verified = verifyRs256(assertion, keys);
    if ('failure' in verified) throw new EmulatorOAuthError('invalid_grant', 'invalid assertion');
    const { claims } = verified;
    if (typeof claims.iss !== 'string' || claims.iss !== deps.clientId) {
      throw new EmulatorOAuthError('invalid_client_id', 'client identifier invalid');
    }
    const ownKeys = jwtKeys.get(claims.iss) ?? [];
    if (!('claims' in verifyRs256(assertion, ownKeys)))
      throw new EmulatorOAuthError('invalid_grant', 'invalid assertion');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const allowed = new Set([
      deps.baseUrl(),
      'https://login.salesforce.com',
      'https://test.salesforce.com',
      'https://login.salesforce.com/',
      'https://test.salesforce.com/',
      `${deps.baseUrl()}/`,
    ]);
    if (!audiences.some((aud) => typeof aud === 'string' && allowed.has(aud))) {
      throw new EmulatorOAuthError('invalid_grant', 'audience is invalid');
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now()) {
      throw new EmulatorOAuthError('invalid_grant', 'invalid assertion');
    }
    if (claims.sub !== deps.username) {
      throw new EmulatorOAuthError('invalid_grant', "user hasn't approved this consumer");
    }
    return tokenResponse(deps.tokens.createGrant(deps.clientId, deps.userId, 'api', false, ttlMs), false);
  };

  router.add({
    method: 'POST',
    pattern: '/services/oauth2/token',
    kind: 'oauth',
    handler: async (request) => {
      const params = await formParams(request);
      if (params.get('response_type') === 'device_code') return deviceStart(params);
      const grantType = params.get('grant_type') ?? '';
      switch (grantType) {
        case 'authorization_code':
          return authorizationCodeGrant(params);
        case 'refresh_token':
          return refreshGrant(params);
        case 'device':
          return deviceGrant(params);
        case JWT_GRANT:
          return jwtGrant(params);
        case 'password': {
          // Username-password flow: any non-empty password (plus security token) is accepted for
          // the API user; Salesforce issues no refresh token here.
          checkClient(params, true);
          if (params.get('username') !== deps.username || !params.get('password')) {
            throw new EmulatorOAuthError('invalid_grant', 'authentication failure');
          }
          return tokenResponse(
            deps.tokens.createGrant(deps.clientId, deps.userId, 'api', false, ttlMs),
            false,
          );
        }
        case 'client_credentials':
          checkClient(params, true);
          return tokenResponse(
            deps.tokens.createGrant(deps.clientId, deps.userId, 'api', false, ttlMs),
            false,
          );
        default:
          throw new EmulatorOAuthError('unsupported_grant_type', 'grant type not supported');
      }
    },
  });

  const revoke = async (request: EmulatorRequestContext): Promise<EmulatorResponse> => {
    const params = request.method === 'POST' ? await formParams(request) : request.query;
    const token = params.get('token') ?? '';
    if (!deps.tokens.revokeToken(token)) {
      throw new EmulatorOAuthError('unsupported_token_type', 'this token type is not supported');
    }
    return { status: 200 };
  };
  router.add({ method: 'POST', pattern: '/services/oauth2/revoke', kind: 'public', handler: revoke });
  router.add({ method: 'GET', pattern: '/services/oauth2/revoke', kind: 'public', handler: revoke });

  const identityUrls = (baseUrl: string): Record<string, string> => {
    const org15 = toId15(deps.orgId);
    return {
      enterprise: `${baseUrl}/services/Soap/c/{version}/${org15}`,
      metadata: `${baseUrl}/services/Soap/m/{version}/${org15}`,
      partner: `${baseUrl}/services/Soap/u/{version}/${org15}`,
      rest: `${baseUrl}/services/data/v{version}/`,
      sobjects: `${baseUrl}/services/data/v{version}/sobjects/`,
      search: `${baseUrl}/services/data/v{version}/search/`,
      query: `${baseUrl}/services/data/v{version}/query/`,
      recent: `${baseUrl}/services/data/v{version}/recent/`,
      tooling_soap: `${baseUrl}/services/Soap/T/{version}/${org15}`,
      tooling_rest: `${baseUrl}/services/data/v{version}/tooling/`,
      profile: `${baseUrl}/${deps.userId}`,
      feeds: `${baseUrl}/services/data/v{version}/chatter/feeds`,
      groups: `${baseUrl}/services/data/v{version}/chatter/groups`,
      users: `${baseUrl}/services/data/v{version}/chatter/users`,
      feed_items: `${baseUrl}/services/data/v{version}/chatter/feed-items`,
      feed_elements: `${baseUrl}/services/data/v{version}/chatter/feed-elements`,
      custom_domain: baseUrl,
    };
  };

  router.add({
    method: 'GET',
    pattern: '/services/oauth2/userinfo',
    kind: 'api-free',
    handler: (request) => {
      const user = deps.userRecord();
      return {
        status: 200,
        body: {
          sub: identityUrl(),
          user_id: deps.userId,
          organization_id: deps.orgId,
          preferred_username: deps.username,
          nickname: user.Alias ?? 'admin',
          name: user.Name ?? deps.username,
          email: user.Email ?? deps.username,
          email_verified: true,
          given_name: user.FirstName ?? null,
          family_name: user.LastName ?? null,
          zoneinfo: user.TimeZoneSidKey ?? 'GMT',
          photos: {},
          profile: `${request.baseUrl}/${deps.userId}`,
          picture: null,
          address: {},
          is_salesforce_integration_user: false,
          urls: identityUrls(request.baseUrl),
          active: true,
          user_type: 'STANDARD',
          language: 'en_US',
          locale: 'en_US',
          utcOffset: 0,
          updated_at: user.LastModifiedDate ?? null,
          is_app_installed: true,
        },
      };
    },
  });

  router.add({
    method: 'GET',
    pattern: '/id/:orgId/:userId',
    kind: 'api-free',
    handler: (request) => {
      const org = request.params.orgId ?? '';
      const user = request.params.userId ?? '';
      if (toId15(org) !== toId15(deps.orgId) || toId15(user) !== toId15(deps.userId)) {
        throw new EmulatorOAuthError('Bad_Id', 'Bad id', 404);
      }
      const record = deps.userRecord();
      return {
        status: 200,
        body: {
          id: identityUrl(),
          asserted_user: true,
          user_id: deps.userId,
          organization_id: deps.orgId,
          username: deps.username,
          nick_name: record.Alias ?? 'admin',
          display_name: record.Name ?? deps.username,
          email: record.Email ?? deps.username,
          email_verified: true,
          first_name: record.FirstName ?? null,
          last_name: record.LastName ?? null,
          timezone: record.TimeZoneSidKey ?? 'GMT',
          photos: {},
          addr_street: null,
          addr_city: null,
          addr_state: null,
          addr_country: null,
          addr_zip: null,
          mobile_phone: null,
          mobile_phone_verified: false,
          is_lightning_login_user: false,
          status: { created_date: null, body: null },
          urls: identityUrls(request.baseUrl),
          active: true,
          user_type: 'STANDARD',
          language: 'en_US',
          locale: 'en_US',
          utcOffset: 0,
          last_modified_date: record.LastModifiedDate ?? null,
          is_app_installed: true,
        },
      };
    },
  });

  const findDevice = (userCode: string): DeviceAuthorization => {
    const normalised = userCode.replace(/[\s-]/g, '').toUpperCase();
    for (const device of devices.values()) if (device.userCode === normalised) return device;
    throw new Error('No device authorisation with that user code');
  };

  // The page a user opens from `verification_uri`; `?user_code=…&decision=deny` denies.
  router.add({
    method: 'GET',
    pattern: '/setup/connect',
    kind: 'public',
    handler: (request) => {
      const userCode = request.query.get('user_code');
      if (!userCode) {
        return {
          status: 200,
          headers: { 'Content-Type': 'text/html;charset=UTF-8' },
          body: '<html><body><form><label>Code <input name="user_code"></label><button>Connect</button></form></body></html>',
        };
      }
      try {
        findDevice(userCode).decision = request.query.get('decision') === 'deny' ? 'denied' : 'approved';
      } catch {
        return {
          status: 400,
          headers: { 'Content-Type': 'text/html;charset=UTF-8' },
          body: '<html><body>Invalid code</body></html>',
        };
      }
      return {
        status: 200,
        headers: { 'Content-Type': 'text/html;charset=UTF-8' },
        body: '<html><body>Connected</body></html>',
      };
    },
  });

  return {
    approveDevice(userCode) {
      findDevice(userCode).decision = 'approved';
    },
    denyDevice(userCode) {
      findDevice(userCode).decision = 'denied';
    },
    pendingDeviceCodes() {
      return [...devices.values()].filter((d) => d.decision === 'pending').map((d) => d.userCode);
    },
    registerJwtCertificate(pem, options = {}) {
      const clientId = options.clientId ?? deps.clientId;
      jwtKeys.set(clientId, [...(jwtKeys.get(clientId) ?? []), publicKeyFromPem(pem)]);
    },
    expireAccessToken(token) {
      deps.tokens.expireAccessTokens(token);
    },
    revokeToken(token) {
      return deps.tokens.revokeToken(token);
    },
    issueTokens() {
      const issued = deps.tokens.createGrant(deps.clientId, deps.userId, 'api refresh_token', true, ttlMs);
      return {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        issuedAt: issued.issuedAt,
      };
    },
    setRefreshTokenRotation(enabled) {
      rotation = enabled;
    },
    setAccessTokenTtl(value) {
      ttlMs = value;
    },
  };
}

/** Highest API version, used in identity URLs' `{version}` examples. */
export const IDENTITY_DEFAULT_VERSION = `${MAX_API_VERSION}.0`;
