import type { KeyObject } from 'node:crypto';
import { type CrmClock, systemClock } from '../../core/clock.js';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmConnectionError,
  createAbortError,
  isCrmError,
  throwIfAborted,
} from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger } from '../../core/logger.js';
import { type CrmSleep, sleep } from '../../core/sleep.js';
import { assertKnownOptions } from '../../internal/options.js';
import { createJwtAssertion } from './jwt.js';
import { defaultJwtAudience, normaliseSalesforceUrl, SalesforceLoginUrls } from './login-urls.js';
import { createPkcePair, pkceChallenge } from './pkce.js';
import { parseTokenResponse, type SalesforceTokenResponse, type SalesforceTokenSet } from './token-set.js';

/** The subset of `fetch` the OAuth client uses; inject one for tests or proxies. */
export type SalesforceFetch = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link SalesforceOAuth}. */
export interface SalesforceOAuthOptions {
  /**
   * Login host: {@link SalesforceLoginUrls}.production, `.sandbox`, a My Domain
   * (`salesforceMyDomainLoginUrl`) or the emulator's `loginUrl`. `https` only, except loopback.
   * @default 'https://login.salesforce.com'
   */
  loginUrl?: string;
  /** Consumer key of the connected app / External Client App. */
  clientId: string;
  /** Consumer secret. Optional for PKCE-only apps; when set, token response signatures are verified. */
  clientSecret?: string;
  /** Callback URL registered on the app, used by the web-server flow. */
  redirectUri?: string;
  /** HTTP client. @default globalThis.fetch */
  fetch?: SalesforceFetch;
  /** Time source (JWT `exp`, device-code expiry, `issuedAt` fallback). @default system clock */
  clock?: CrmClock;
  /** Wait function used between device-flow polls. @default setTimeout-based, abortable */
  sleep?: CrmSleep;
  /** Per-request timeout in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** Reject token responses without a `signature` when a client secret is known. @default false */
  requireSignature?: boolean;
  /** Structured logger; every line is redacted. @default silent */
  logger?: CrmLogger;
}

const OPTION_KEYS = [
  'loginUrl',
  'clientId',
  'clientSecret',
  'redirectUri',
  'fetch',
  'clock',
  'sleep',
  'timeoutMs',
  'requireSignature',
  'logger',
] as const;

/** Options of {@link SalesforceOAuth.authorizeUrl}. */
export interface SalesforceAuthorizeUrlOptions {
  /** Opaque anti-CSRF value, checked again on the callback. Required. */
  state: string;
  /** Space-separated scopes. @default 'api refresh_token' */
  scope?: string;
  /** Overrides the constructor's `redirectUri`. */
  redirectUri?: string;
  /** `login`, `consent`, `select_account`, … passed through as `prompt`. */
  prompt?: string;
  /** Pre-fills the username on the login page. */
  loginHint?: string;
  /** Use this verifier instead of generating one (it must be 43–128 unreserved characters). */
  codeVerifier?: string;
}

/** Result of {@link SalesforceOAuth.authorizeUrl}. Keep `codeVerifier` server-side until the callback. */
export interface SalesforceAuthorizeUrl {
  /** Where to send the user's browser. */
  url: string;
  /** PKCE secret for {@link SalesforceOAuth.exchangeCode}. Never send it to the browser. */
  codeVerifier: string;
  /** The `state` that was put in the URL. */
  state: string;
  /** The redirect URI that was put in the URL; the exchange must use the same. */
  redirectUri: string;
}

/** Options of {@link SalesforceOAuth.exchangeCode}. */
export interface SalesforceExchangeCodeOptions {
  /** `code` from the callback query. */
  code: string;
  /** The verifier returned by {@link SalesforceOAuth.authorizeUrl}. */
  codeVerifier: string;
  /** `state` from the callback query; checked against {@link expectedState} when both are given. */
  state?: string;
  /** The `state` you generated; a mismatch is rejected before any network call. */
  expectedState?: string;
  /** Must equal the one used in the authorize URL. @default the constructor's `redirectUri` */
  redirectUri?: string;
  signal?: AbortSignal;
}

/** A started device authorisation. Show {@link userCode} and {@link verificationUri} to the user. */
export interface SalesforceDeviceFlowStart {
  /** Secret polled with; never show it. */
  deviceCode: string;
  /** Short code the user types at {@link verificationUri}. */
  userCode: string;
  /** Where the user approves, e.g. `https://login.salesforce.com/setup/connect`. */
  verificationUri: string;
  /** Minimum seconds between polls, as announced by Salesforce. */
  interval: number;
  /** When the device code stops working (Salesforce: 10 minutes unless `expires_in` says otherwise). */
  expiresAt: Date;
}

/** Options of {@link SalesforceOAuth.pollDeviceFlow}. */
export interface SalesforcePollDeviceFlowOptions {
  signal?: AbortSignal;
  /** Called after each `authorization_pending` answer (for progress output). */
  onPending?: (info: { attempt: number; nextPollInMs: number }) => void;
}

/** Options of {@link SalesforceOAuth.jwtBearer}. */
export interface SalesforceJwtBearerOptions {
  /** Username to act as; the user must be pre-authorised for the app. */
  username: string;
  /** RSA private key (PEM or `KeyObject`) matching the certificate uploaded to the app. */
  privateKey: string | KeyObject;
  /** `aud` claim. @default derived from loginUrl (login/test.salesforce.com, else the login URL) */
  audience?: string;
  /** Assertion lifetime. @default 180 seconds */
  expiresInSeconds?: number;
  signal?: AbortSignal;
}

/** Identity of a token's user from the OpenID Connect `userinfo` endpoint. */
export interface SalesforceUserInfo {
  /** `organization_id`. */
  orgId: string;
  /** `user_id`. */
  userId: string;
  /** `preferred_username` (the Salesforce username). */
  username: string;
  /** `email`, when the token has the scope. */
  email?: string;
  /** `name`, when reported. */
  name?: string;
}

/** Per-call options with a signal. */
export interface SalesforceOAuthCallOptions {
  signal?: AbortSignal;
}

/** Salesforce answers `{ error, error_description }` on every OAuth endpoint. */
interface OAuthErrorBody {
  error?: unknown;
  error_description?: unknown;
}

const DEVICE_CODE_LIFETIME_MS = 10 * 60 * 1000;
const SLOW_DOWN_STEP_MS = 5000;

/**
 * Salesforce OAuth 2.0 without the CLI: web-server flow with PKCE, device flow, JWT bearer,
 * refresh, revoke and userinfo, over an injectable `fetch`.
 *
 * Every token call resolves to a {@link SalesforceTokenSet}. OAuth error bodies become
 * `CrmAuthenticationError` with `providerCode` = the OAuth `error` (`invalid_grant`, …); network
 * failures become `CrmConnectionError`; Salesforce 5xx become retryable `CrmApiError`.
 *
 * @example
 * const oauth = new SalesforceOAuth({
 *   loginUrl: SalesforceLoginUrls.production,
 *   clientId: process.env.SF_CLIENT_ID!,
 *   clientSecret: process.env.SF_CLIENT_SECRET,
 *   redirectUri: 'https://app.example.com/oauth/salesforce/callback',
 * });
 * const { url, codeVerifier } = oauth.authorizeUrl({ state });
 * // … later, in the callback:
 * const tokens = await oauth.exchangeCode({ code, codeVerifier, state: query.state, expectedState: state });
 */
export class SalesforceOAuth {
  /** Normalised login origin. */
  readonly loginUrl: string;
  /** Consumer key. */
  readonly clientId: string;
  /** Default redirect URI, if configured. */
  readonly redirectUri: string | undefined;
  readonly #clientSecret: string | undefined;
  readonly #fetch: SalesforceFetch;
  readonly #clock: CrmClock;
  readonly #sleep: CrmSleep;
  readonly #timeoutMs: number;
  readonly #requireSignature: boolean;
  readonly #logger: CrmLogger;

  /** @throws CrmConfigurationError for a missing client id, a non-https login URL or unknown options. */
  constructor(options: SalesforceOAuthOptions) {
    assertKnownOptions('SalesforceOAuth', options, OPTION_KEYS, { provider: 'salesforce' });
    if (!options.clientId) {
      throw new CrmConfigurationError('SalesforceOAuth needs a clientId', {
        provider: 'salesforce',
        fields: ['clientId'],
      });
    }
    this.loginUrl = normaliseSalesforceUrl(options.loginUrl ?? SalesforceLoginUrls.production);
    this.clientId = options.clientId;
    this.#clientSecret = options.clientSecret || undefined;
    this.redirectUri = options.redirectUri;
    const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
    this.#fetch = fetchImpl;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#requireSignature = options.requireSignature ?? false;
    const secret = this.#clientSecret;
    this.#logger = createRedactingLogger(options.logger, () => (secret ? [secret] : []));
  }

  /** Whether a client secret is configured (token signatures are verified then). */
  get hasClientSecret(): boolean {
    return this.#clientSecret !== undefined;
  }

  /** A redacted view for logs and `console.log`. */
  toJSON(): Record<string, unknown> {
    return {
      loginUrl: this.loginUrl,
      clientId: this.clientId,
      redirectUri: this.redirectUri,
      clientSecret: this.#clientSecret ? '[REDACTED]' : undefined,
    };
  }

  /**
   * Build the authorize URL of the web-server flow with PKCE (S256).
   *
   * @throws CrmConfigurationError when no redirect URI is configured or `state` is empty.
   */
  authorizeUrl(options: SalesforceAuthorizeUrlOptions): SalesforceAuthorizeUrl {
    const redirectUri = options.redirectUri ?? this.redirectUri;
    if (!redirectUri) {
      throw new CrmConfigurationError('authorizeUrl needs a redirectUri (option or constructor)', {
        provider: 'salesforce',
        fields: ['redirectUri'],
      });
    }
    if (!options.state) {
      throw new CrmConfigurationError('authorizeUrl needs a non-empty state (anti-CSRF)', {
        provider: 'salesforce',
        fields: ['state'],
      });
    }
    let codeVerifier: string;
    let codeChallenge: string;
    if (options.codeVerifier !== undefined) {
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(options.codeVerifier)) {
        throw new CrmConfigurationError('codeVerifier must be 43-128 unreserved characters (RFC 7636)', {
          provider: 'salesforce',
          fields: ['codeVerifier'],
        });
      }
      codeVerifier = options.codeVerifier;
      codeChallenge = pkceChallenge(codeVerifier);
    } else {
      ({ codeVerifier, codeChallenge } = createPkcePair());
    }
    const url = new URL('/services/oauth2/authorize', this.loginUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', options.scope ?? 'api refresh_token');
    url.searchParams.set('state', options.state);
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    if (options.prompt) url.searchParams.set('prompt', options.prompt);
    if (options.loginHint) url.searchParams.set('login_hint', options.loginHint);
    return { url: url.toString(), codeVerifier, state: options.state, redirectUri };
  }

  /**
   * Exchange an authorization code (web-server flow) for tokens.
   *
   * @throws CrmAuthenticationError `providerCode: 'state_mismatch'` when `state` ≠ `expectedState`
   *   (checked before any request), or the OAuth error (`invalid_grant` for a wrong verifier or a
   *   used/expired code).
   */
  async exchangeCode(options: SalesforceExchangeCodeOptions): Promise<SalesforceTokenSet> {
    if (options.expectedState !== undefined || options.state !== undefined) {
      if (!constantTimeEqual(options.state ?? '', options.expectedState ?? '')) {
        throw new CrmAuthenticationError('OAuth callback state does not match the state that was issued', {
          provider: 'salesforce',
          providerCode: 'state_mismatch',
        });
      }
    }
    const redirectUri = options.redirectUri ?? this.redirectUri;
    if (!redirectUri) {
      throw new CrmConfigurationError('exchangeCode needs a redirectUri (option or constructor)', {
        provider: 'salesforce',
        fields: ['redirectUri'],
      });
    }
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code: options.code,
      client_id: this.clientId,
      redirect_uri: redirectUri,
      code_verifier: options.codeVerifier,
    };
    return this.#tokenRequest('authorization code exchange', form, options.signal);
  }

  /**
   * Start the device flow (Salesforce's shape: `response_type=device_code` on the token endpoint).
   * The app must have "Enable for Device Flow" switched on.
   */
  async startDeviceFlow(
    options: { scope?: string; signal?: AbortSignal } = {},
  ): Promise<SalesforceDeviceFlowStart> {
    const form: Record<string, string> = { response_type: 'device_code', client_id: this.clientId };
    if (options.scope) form.scope = options.scope;
    // A public-client flow: the secret is not part of the start request.
    const body = await this.#post('/services/oauth2/token', 'device flow start', form, options.signal, false);
    const deviceCode = typeof body.device_code === 'string' ? body.device_code : '';
    const userCode = typeof body.user_code === 'string' ? body.user_code : '';
    const verificationUri = typeof body.verification_uri === 'string' ? body.verification_uri : '';
    if (!deviceCode || !userCode || !verificationUri) {
      throw new CrmAuthenticationError('Salesforce device flow start returned an incomplete response', {
        provider: 'salesforce',
        providerCode: 'invalid_device_response',
      });
    }
    const interval = Number(body.interval);
    const expiresIn = Number(body.expires_in);
    const now = this.#clock.now().getTime();
    return {
      deviceCode,
      userCode,
      verificationUri,
      interval: Number.isFinite(interval) && interval > 0 ? interval : 5,
      expiresAt: new Date(
        now + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEVICE_CODE_LIFETIME_MS),
      ),
    };
  }

  /**
   * Poll until the user approved the device code. Waits `interval` seconds between polls, adds
   * 5 seconds on every `slow_down` (RFC 8628 §3.5), keeps waiting on `authorization_pending`.
   *
   * @throws CrmAuthenticationError with `providerCode` `access_denied` (user declined),
   *   `expired_token` (code expired, locally or as reported) or the server's error otherwise.
   * @throws AbortError when `signal` fires.
   */
  async pollDeviceFlow(
    start: SalesforceDeviceFlowStart,
    options: SalesforcePollDeviceFlowOptions = {},
  ): Promise<SalesforceTokenSet> {
    let intervalMs = Math.max(1, start.interval) * 1000;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(options.signal);
      if (this.#clock.now().getTime() >= start.expiresAt.getTime()) {
        throw new CrmAuthenticationError('Device code expired before the user approved it', {
          provider: 'salesforce',
          providerCode: 'expired_token',
        });
      }
      await this.#sleep(intervalMs, options.signal);
      const form: Record<string, string> = {
        grant_type: 'device',
        client_id: this.clientId,
        code: start.deviceCode,
      };
      try {
        return await this.#tokenRequest('device flow poll', form, options.signal);
      } catch (error) {
        if (!isCrmError(error) || error.code !== 'AUTHENTICATION') throw error;
        if (error.providerCode === 'authorization_pending') {
          options.onPending?.({ attempt, nextPollInMs: intervalMs });
          continue;
        }
        if (error.providerCode === 'slow_down') {
          intervalMs += SLOW_DOWN_STEP_MS;
          options.onPending?.({ attempt, nextPollInMs: intervalMs });
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * Server-to-server login with a signed JWT (no refresh token is issued: call again when the
   * session expires; {@link TokenManager} does this when given a `reauthorize` function).
   *
   * @throws CrmConfigurationError for a non-RSA key; CrmAuthenticationError for Salesforce's
   *   refusal (`invalid_grant`: unknown user, app not pre-authorised, expired or future assertion).
   */
  async jwtBearer(options: SalesforceJwtBearerOptions): Promise<SalesforceTokenSet> {
    const assertionOptions = {
      clientId: this.clientId,
      username: options.username,
      audience: options.audience ?? defaultJwtAudience(this.loginUrl),
      privateKey: options.privateKey,
      now: this.#clock.now(),
    };
    const assertion = createJwtAssertion(
      options.expiresInSeconds === undefined
        ? assertionOptions
        : { ...assertionOptions, expiresInSeconds: options.expiresInSeconds },
    );
    const form = { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion };
    return this.#tokenRequest('JWT bearer login', form, options.signal, false);
  }

  /**
   * Exchange a refresh token for a new access token. With refresh-token rotation the response
   * carries a new refresh token and the old one is dead: persist it (TokenManager does).
   *
   * @throws CrmAuthenticationError `invalid_grant` when the refresh token is revoked or expired.
   */
  async refresh(refreshToken: string, options: SalesforceOAuthCallOptions = {}): Promise<SalesforceTokenSet> {
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.clientId };
    return this.#tokenRequest('token refresh', form, options.signal);
  }

  /**
   * Revoke an access or refresh token (revoking a refresh token also revokes its access tokens).
   *
   * @throws CrmAuthenticationError with Salesforce's `providerCode` (`invalid_token`, …).
   */
  async revoke(token: string, options: SalesforceOAuthCallOptions = {}): Promise<void> {
    await this.#post('/services/oauth2/revoke', 'token revoke', { token }, options.signal, false);
  }

  /**
   * Who the access token belongs to (OpenID Connect `userinfo` on the instance).
   *
   * @throws CrmAuthenticationError for a revoked or expired access token.
   */
  async userinfo(
    accessToken: string,
    instanceUrl: string,
    options: SalesforceOAuthCallOptions = {},
  ): Promise<SalesforceUserInfo> {
    const origin = normaliseSalesforceUrl(instanceUrl, 'instanceUrl');
    const response = await this.#send(
      `${origin}/services/oauth2/userinfo`,
      'userinfo',
      { method: 'GET', headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } },
      options.signal,
    );
    const body = await this.#readBody(response, 'userinfo');
    const orgId = typeof body.organization_id === 'string' ? body.organization_id : '';
    const userId = typeof body.user_id === 'string' ? body.user_id : '';
    const username = typeof body.preferred_username === 'string' ? body.preferred_username : '';
    if (!orgId || !userId || !username) {
      throw new CrmAuthenticationError(
        'Salesforce userinfo response lacks organization_id, user_id or username',
        {
          provider: 'salesforce',
          providerCode: 'invalid_userinfo',
        },
      );
    }
    const info: SalesforceUserInfo = { orgId, userId, username };
    if (typeof body.email === 'string') info.email = body.email;
    if (typeof body.name === 'string') info.name = body.name;
    return info;
  }

  async #tokenRequest(
    operation: string,
    form: Record<string, string>,
    signal: AbortSignal | undefined,
    withSecret = true,
  ): Promise<SalesforceTokenSet> {
    const body = await this.#post('/services/oauth2/token', operation, form, signal, withSecret);
    const parseOptions = { now: this.#clock.now(), operation, requireSignature: this.#requireSignature };
    const tokens = parseTokenResponse(
      body as SalesforceTokenResponse,
      this.#clientSecret ? { ...parseOptions, clientSecret: this.#clientSecret } : parseOptions,
    );
    this.#logger.debug('Salesforce OAuth token issued', {
      operation,
      orgId: tokens.orgId,
      userId: tokens.userId,
      instanceUrl: tokens.instanceUrl,
      rotatedRefreshToken: tokens.refreshToken !== undefined,
    });
    return tokens;
  }

  async #post(
    path: string,
    operation: string,
    form: Record<string, string>,
    signal: AbortSignal | undefined,
    withSecret = true,
  ): Promise<Record<string, unknown>> {
    const params = new URLSearchParams(form);
    if (withSecret && this.#clientSecret) params.set('client_secret', this.#clientSecret);
    const response = await this.#send(
      new URL(path, this.loginUrl).toString(),
      operation,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: params.toString(),
      },
      signal,
    );
    return this.#readBody(response, operation);
  }

  async #send(
    url: string,
    operation: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    throwIfAborted(signal);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      return await this.#fetch(url, { ...init, signal: combined, redirect: 'manual' });
    } catch (cause) {
      if (signal?.aborted) throw createAbortError(signal);
      const timedOut = timeout.aborted;
      this.#logger.warn('Salesforce OAuth request failed', { operation, timedOut });
      throw new CrmConnectionError(
        timedOut
          ? `Salesforce ${operation} timed out after ${this.#timeoutMs} ms`
          : `Salesforce ${operation} could not reach ${new URL(url).origin}`,
        { provider: 'salesforce', cause },
      );
    }
  }

  async #readBody(response: Response, operation: string): Promise<Record<string, unknown>> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
      throw new CrmApiError(`Salesforce ${operation} returned a non-JSON response`, {
        provider: 'salesforce',
        status: response.status,
        providerCode: 'invalid_response',
      });
    }
    // Errors come as `{ error, error_description }` (token/revoke) or `[{ errorCode, message }]` (REST).
    const first = Array.isArray(body) ? body[0] : body;
    const errorBody = (first && typeof first === 'object' ? first : {}) as OAuthErrorBody & {
      errorCode?: unknown;
      message?: unknown;
    };
    const providerCode =
      typeof errorBody.error === 'string'
        ? errorBody.error
        : typeof errorBody.errorCode === 'string'
          ? errorBody.errorCode
          : `HTTP_${response.status}`;
    const description =
      typeof errorBody.error_description === 'string'
        ? errorBody.error_description
        : typeof errorBody.message === 'string'
          ? errorBody.message
          : response.statusText || 'no description';
    this.#logger.warn('Salesforce OAuth request refused', {
      operation,
      status: response.status,
      providerCode,
    });
    const message = `Salesforce ${operation} failed: ${providerCode} (${description})`;
    if (response.status >= 500 || response.status === 429) {
      return Promise.reject(
        new CrmApiError(message, {
          provider: 'salesforce',
          status: response.status,
          providerCode,
          retryable: true,
        }),
      );
    }
    if (response.status >= 300 && response.status < 400) {
      return Promise.reject(
        new CrmConfigurationError(`Salesforce ${operation} was redirected; check the login URL`, {
          provider: 'salesforce',
          status: response.status,
        }),
      );
    }
    return Promise.reject(
      new CrmAuthenticationError(message, { provider: 'salesforce', status: response.status, providerCode }),
    );
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length || left.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}
