import { type CrmClock, systemClock } from '../../core/clock.js';
import {
  CrmAuthenticationError,
  CrmConfigurationError,
  type CrmError,
  CrmStorageError,
  isCrmError,
} from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger } from '../../core/logger.js';
import { assertKnownOptions } from '../../internal/options.js';
import type { CrmIntegration, CrmIntegrationStore } from '../../storage/types.js';
import { type CredentialCipherLike, encodeSalesforceCredentials } from './credentials.js';
import type { SalesforceAuthorizeUrl, SalesforceOAuth } from './oauth.js';
import type { OAuthStateStore, SalesforcePendingAuthorization } from './state-store.js';
import type { SalesforceTokenSet } from './token-set.js';
import { REAUTHORIZATION_SETTING } from './tokens.js';

/** Provider name stored on Salesforce integrations. */
export const SALESFORCE_PROVIDER_NAME = 'salesforce';

/** The OAuth operations the callback flow needs (a `SalesforceOAuth` fits). */
export type OAuthCallbackClient = Pick<SalesforceOAuth, 'authorizeUrl' | 'exchangeCode'>;

/** Options of {@link beginOAuthAuthorization}. */
export interface BeginOAuthAuthorizationOptions {
  oauth: OAuthCallbackClient;
  stateStore: OAuthStateStore;
  /** Host user the integration will belong to. Recommended: binds the callback to this user. */
  userId?: string;
  /** Relative path (`/settings/crm`) to redirect to after success. Absolute URLs are refused. */
  returnTo?: string;
  /** @default 'api refresh_token' */
  scope?: string;
  /** @default the oauth client's redirectUri */
  redirectUri?: string;
  /** `prompt` for the authorize page (e.g. `login` to pick another org). */
  prompt?: string;
  /** How long the user has to complete the login. @default 600000 (10 minutes) */
  ttlMs?: number;
  /** JSON-safe data handed back to `onSuccess`. */
  metadata?: Record<string, unknown>;
  /** @default system clock */
  clock?: CrmClock;
}

/**
 * Start the web-server flow: remember the PKCE verifier (and user) under a fresh `state` and
 * return the Salesforce URL to redirect the browser to.
 *
 * @throws CrmConfigurationError for an absolute or protocol-relative `returnTo`.
 * @example
 * const { url } = await beginOAuthAuthorization({ oauth, stateStore, userId: session.userId });
 * return Response.redirect(url, 302);
 */
export async function beginOAuthAuthorization(
  options: BeginOAuthAuthorizationOptions,
): Promise<SalesforceAuthorizeUrl> {
  if (options.returnTo !== undefined && !isSafeReturnPath(options.returnTo)) {
    throw new CrmConfigurationError('returnTo must be a relative path starting with a single "/"', {
      provider: SALESFORCE_PROVIDER_NAME,
      fields: ['returnTo'],
    });
  }
  // Generate the PKCE pair first with a placeholder state, then bind it to the stored state.
  const placeholder = options.oauth.authorizeUrl({
    state: 'pending',
    ...(options.redirectUri ? { redirectUri: options.redirectUri } : {}),
  });
  const pending: SalesforcePendingAuthorization = {
    codeVerifier: placeholder.codeVerifier,
    redirectUri: placeholder.redirectUri,
    createdAt: (options.clock ?? systemClock).now().getTime(),
  };
  if (options.userId !== undefined) pending.userId = options.userId;
  if (options.returnTo !== undefined) pending.returnTo = options.returnTo;
  if (options.metadata !== undefined) pending.metadata = options.metadata;
  const state = await options.stateStore.save(pending, options.ttlMs ?? 600_000);
  return options.oauth.authorizeUrl({
    state,
    codeVerifier: placeholder.codeVerifier,
    redirectUri: placeholder.redirectUri,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.prompt ? { prompt: options.prompt } : {}),
  });
}

/** What `onSuccess` receives. */
export interface OAuthCallbackSuccess {
  /** The stored integration (credentials are ciphertext). */
  integration: CrmIntegration;
  /** True when a new record was created, false when an existing one (same user + org) was updated. */
  created: boolean;
  /** The pending data saved at the start (without the verifier). */
  pending: Omit<SalesforcePendingAuthorization, 'codeVerifier'>;
  request: Request;
}

/** Options of {@link createOAuthCallbackHandler}. */
export interface OAuthCallbackHandlerOptions {
  /** Salesforce OAuth client (web-server flow). */
  oauth: OAuthCallbackClient;
  /** Storage whose `integrations` receive the connected org. */
  storage: { integrations: CrmIntegrationStore };
  /** `CredentialCipher`: only ciphertext is stored. */
  cipher: CredentialCipherLike;
  /** Where {@link beginOAuthAuthorization} put the pending authorisations. */
  stateStore: OAuthStateStore;
  /**
   * The signed-in host user making the callback request (from your session cookie). When the
   * pending authorisation has a `userId`, they must match, which defeats login-CSRF (an attacker
   * making a victim's browser finish the attacker's authorisation). Return `null` when nobody is
   * signed in (→ 401).
   */
  resolveUser?: (
    request: Request,
    pending: SalesforcePendingAuthorization,
  ) => string | null | Promise<string | null>;
  /** Fixed user for single-tenant hosts; used when neither `resolveUser` nor the pending data names one. */
  userId?: string;
  /** Build the success response. @default 302 to `returnTo`, else a small "connected" page */
  onSuccess?: (result: OAuthCallbackSuccess) => Response | Promise<Response>;
  /** Build the failure response. @default 400/401/500 plain text without details */
  onError?: (error: CrmError, request: Request) => Response | Promise<Response>;
  /** Extra `providerSettings` merged into the record. */
  providerSettings?: Record<string, unknown>;
  /** Structured logger; lines are redacted. @default silent */
  logger?: CrmLogger;
}

const HANDLER_OPTION_KEYS = [
  'oauth',
  'storage',
  'cipher',
  'stateStore',
  'resolveUser',
  'userId',
  'onSuccess',
  'onError',
  'providerSettings',
  'logger',
] as const;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  // The callback URL carries the authorization code: keep it out of Referer headers.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
} as const;

/**
 * A Web-standard `(request: Request) => Promise<Response>` for the OAuth redirect URI. It takes the
 * pending authorisation for `state` (single use), exchanges the code with its PKCE verifier,
 * and stores the org as an integration: `orgId`, `instanceUrl`, credentials encrypted with the
 * cipher. Connecting the same org again for the same user updates that record (and re-enables a
 * sync that was paused for re-authorisation); other orgs become additional records.
 *
 * Errors never echo query values or tokens; details go to `logger` (redacted) and `onError`.
 *
 * @throws CrmConfigurationError at construction for missing or unknown options.
 * @example
 * const stateStore = new MemoryOAuthStateStore();
 * const callback = createOAuthCallbackHandler({ oauth, storage, cipher, stateStore,
 *   resolveUser: (req) => sessionUserId(req) });
 * // Express/Hono/Next: route GET /oauth/salesforce/callback to `callback`.
 */
export function createOAuthCallbackHandler(
  options: OAuthCallbackHandlerOptions,
): (request: Request) => Promise<Response> {
  assertKnownOptions('createOAuthCallbackHandler', options, HANDLER_OPTION_KEYS, { provider: 'salesforce' });
  for (const key of ['oauth', 'storage', 'cipher', 'stateStore'] as const) {
    if (!options[key]) {
      throw new CrmConfigurationError(`createOAuthCallbackHandler needs ${key}`, {
        provider: SALESFORCE_PROVIDER_NAME,
        fields: [key],
      });
    }
  }
  const logger = createRedactingLogger(options.logger);
  const onError = options.onError ?? defaultErrorResponse;

  return async (request: Request): Promise<Response> => {
    try {
      return await handle(request);
    } catch (error) {
      const crmError = isCrmError(error)
        ? error
        : new CrmConfigurationError('OAuth callback failed unexpectedly', {
            provider: SALESFORCE_PROVIDER_NAME,
            cause: error,
          });
      logger.warn('Salesforce OAuth callback failed', {
        code: crmError.code,
        providerCode: crmError.providerCode,
        message: crmError.message,
      });
      return onError(crmError, request);
    }
  };

  async function handle(request: Request): Promise<Response> {
    // Only GET: a HEAD from a link scanner must not consume the state or the single-use code.
    if (request.method !== 'GET') {
      return new Response('Method Not Allowed', {
        status: 405,
        headers: { ...SECURITY_HEADERS, Allow: 'GET', 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    const query = new URL(request.url).searchParams;
    const state = query.get('state');
    const code = query.get('code');
    const oauthError = query.get('error');
    // Check the signed-in user against a peeked state before taking it, so a refused callback
    // (another user, or nobody) leaves the rightful user's state usable.
    const peeked =
      state && code && !oauthError && options.resolveUser && options.stateStore.peek
        ? await options.stateStore.peek(state)
        : null;
    const signedIn = peeked ? await resolveUserId(request, peeked) : undefined;
    const pending = state ? await options.stateStore.take(state) : null;
    if (oauthError) {
      // The user declined or Salesforce refused; the state is consumed either way.
      throw new CrmAuthenticationError('Salesforce authorisation was not granted', {
        provider: SALESFORCE_PROVIDER_NAME,
        providerCode: /^[a-z_]{1,64}$/.test(oauthError) ? oauthError : 'authorization_error',
        status: 400,
      });
    }
    if (!state || !pending) {
      throw new CrmAuthenticationError('OAuth callback state is missing, unknown, used or expired', {
        provider: SALESFORCE_PROVIDER_NAME,
        providerCode: 'invalid_state',
        status: 400,
      });
    }
    if (!code) {
      throw new CrmAuthenticationError('OAuth callback has no authorization code', {
        provider: SALESFORCE_PROVIDER_NAME,
        providerCode: 'missing_code',
        status: 400,
      });
    }
    const userId =
      signedIn !== undefined ? checkUser(signedIn, pending) : await resolveUserId(request, pending);
    const tokens = await options.oauth.exchangeCode({
      code,
      codeVerifier: pending.codeVerifier,
      redirectUri: pending.redirectUri,
    });
    const { integration, created } = await storeIntegration(userId, tokens);
    logger.info('Salesforce org connected', {
      integrationId: integration.id,
      orgId: integration.orgId,
      created,
    });
    const { codeVerifier: _secret, ...visiblePending } = pending;
    const result: OAuthCallbackSuccess = { integration, created, pending: visiblePending, request };
    return options.onSuccess ? options.onSuccess(result) : defaultSuccessResponse(result);
  }

  async function resolveUserId(request: Request, pending: SalesforcePendingAuthorization): Promise<string> {
    if (options.resolveUser) {
      const current = await options.resolveUser(request, pending);
      if (!current) {
        throw new CrmAuthenticationError('No signed-in user for the OAuth callback', {
          provider: SALESFORCE_PROVIDER_NAME,
          providerCode: 'unauthenticated',
          status: 401,
        });
      }
      return checkUser(current, pending);
    }
    const userId = pending.userId ?? options.userId;
    if (!userId) {
      throw new CrmConfigurationError(
        'OAuth callback cannot tell which user to connect: pass userId to beginOAuthAuthorization, or resolveUser/userId to the handler',
        { provider: SALESFORCE_PROVIDER_NAME, fields: ['resolveUser', 'userId'] },
      );
    }
    return userId;
  }

  function checkUser(current: string, pending: SalesforcePendingAuthorization): string {
    if (pending.userId !== undefined && pending.userId !== current) {
      throw new CrmAuthenticationError('OAuth callback belongs to a different user than the one signed in', {
        provider: SALESFORCE_PROVIDER_NAME,
        providerCode: 'user_mismatch',
        status: 403,
      });
    }
    return current;
  }

  async function storeIntegration(
    userId: string,
    tokens: SalesforceTokenSet,
  ): Promise<{ integration: CrmIntegration; created: boolean }> {
    const credentials = await options.cipher.encrypt(encodeSalesforceCredentials(tokens));
    const providerSettings = {
      ...options.providerSettings,
      salesforceUserId: tokens.userId,
      identityUrl: tokens.id,
    };
    const integrations = options.storage.integrations;
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = (await integrations.findByUser(userId, SALESFORCE_PROVIDER_NAME)).find(
        (record) => record.orgId === tokens.orgId,
      );
      if (existing) {
        const settings = { ...existing.settings };
        const wasPausedForReauth = REAUTHORIZATION_SETTING in settings;
        delete settings[REAUTHORIZATION_SETTING];
        const integration = await integrations.update(existing.id, {
          credentials,
          instanceUrl: tokens.instanceUrl,
          settings,
          providerSettings: { ...existing.providerSettings, ...providerSettings },
          // Only undo a pause this package caused; a pause the host chose stays.
          ...(wasPausedForReauth ? { syncEnabled: true } : {}),
        });
        return { integration, created: false };
      }
      try {
        const integration = await integrations.create({
          userId,
          provider: SALESFORCE_PROVIDER_NAME,
          orgId: tokens.orgId,
          instanceUrl: tokens.instanceUrl,
          credentials,
          providerSettings,
        });
        return { integration, created: true };
      } catch (error) {
        // A concurrent callback for the same user and org created it first: update that one.
        const duplicate =
          isCrmError(error) && error.code === 'STORAGE' && error.details?.reason === 'duplicate';
        if (!duplicate || attempt > 0) throw error;
      }
    }
    throw new CrmStorageError('Could not store the Salesforce integration', {
      provider: SALESFORCE_PROVIDER_NAME,
    });
  }
}

function isSafeReturnPath(path: string): boolean {
  return /^\/(?![/\\])[^\s]*$/.test(path);
}

function defaultSuccessResponse(result: OAuthCallbackSuccess): Response {
  const returnTo = result.pending.returnTo;
  if (returnTo && isSafeReturnPath(returnTo)) {
    return new Response(null, { status: 302, headers: { ...SECURITY_HEADERS, Location: returnTo } });
  }
  return new Response(
    '<!doctype html><meta charset="utf-8"><title>Salesforce connected</title><p>Salesforce is connected. You can close this window.</p>',
    { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' } },
  );
}

function defaultErrorResponse(error: CrmError): Response {
  const status =
    error.code === 'AUTHENTICATION'
      ? error.status === 401 || error.status === 403
        ? error.status
        : 400
      : error.code === 'CONFIGURATION' || error.code === 'STORAGE'
        ? 500
        : 502;
  const text =
    error.providerCode === 'access_denied'
      ? 'Salesforce access was not granted.'
      : status >= 500
        ? 'Connecting Salesforce failed on our side. Please try again later.'
        : 'Connecting Salesforce failed. Please start again.';
  return new Response(text, {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}
