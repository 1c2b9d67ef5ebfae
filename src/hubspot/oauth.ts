import { CrmAuthenticationError, CrmConfigurationError, CrmConnectionError } from '../core/errors.js';

/** Tokens from HubSpot's token endpoint. */
export interface HubSpotTokenSet {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (HubSpot: 30 minutes after issue; always from `expires_in`). */
  expiresAt: Date;
  /** The portal the app was installed in, when the endpoint reports it. */
  hubId?: number;
}

/** Options of `new HubSpotOAuth(options)`. */
export interface HubSpotOAuthOptions {
  clientId: string;
  /** Never logged, never in an error. */
  clientSecret: string;
  redirectUri: string;
  /** API origin (token endpoint). @default 'https://api.hubapi.com' */
  baseUrl?: string;
  /** Origin of the install (consent) page. @default 'https://app.hubspot.com' (the emulator: its own baseUrl) */
  authorizeBaseUrl?: string;
  /** Token endpoint version: `2026-03` (`/oauth/2026-03/token`) or `v1` (deprecated 2027-02-16). @default '2026-03' */
  tokenApiVersion?: '2026-03' | 'v1';
  fetch?: typeof globalThis.fetch;
  clock?: { now(): Date };
}

/**
 * HubSpot OAuth 2.0 (authorization code): the install URL, code exchange and refresh. Access
 * tokens last 30 minutes; refresh tokens do not rotate. Use with `HubSpotTokenManager` for
 * single-flight refresh and encrypted storage.
 */
export class HubSpotOAuth {
  readonly #options: HubSpotOAuthOptions;

  constructor(options: HubSpotOAuthOptions) {
    for (const key of ['clientId', 'clientSecret', 'redirectUri'] as const) {
      if (typeof options?.[key] !== 'string' || !options[key]) {
        throw new CrmConfigurationError(`HubSpotOAuth: ${key} is required`, { fields: [key] });
      }
    }
    this.#options = options;
  }

  /** The install URL to send the user to. `scopes` are required, `optionalScopes` asked for if granted. */
  authorizeUrl(input: { state: string; scopes: string[]; optionalScopes?: string[] }): { url: string } {
    if (!input?.state)
      throw new CrmConfigurationError('HubSpotOAuth.authorizeUrl: state is required', { fields: ['state'] });
    if (!Array.isArray(input.scopes) || input.scopes.length === 0) {
      throw new CrmConfigurationError('HubSpotOAuth.authorizeUrl: at least one scope is required', {
        fields: ['scopes'],
      });
    }
    const url = new URL('/oauth/authorize', this.#options.authorizeBaseUrl ?? 'https://app.hubspot.com');
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('redirect_uri', this.#options.redirectUri);
    url.searchParams.set('scope', input.scopes.join(' '));
    if (input.optionalScopes?.length) url.searchParams.set('optional_scope', input.optionalScopes.join(' '));
    url.searchParams.set('state', input.state);
    return { url: url.toString() };
  }

  /** Exchanges the `code` from the redirect for tokens. */
  exchangeCode(code: string, options: { signal?: AbortSignal } = {}): Promise<HubSpotTokenSet> {
    if (typeof code !== 'string' || !code)
      throw new CrmConfigurationError('HubSpotOAuth.exchangeCode: code is required');
    return this.#token(
      { grant_type: 'authorization_code', code, redirect_uri: this.#options.redirectUri },
      'exchange code',
      options.signal,
    );
  }

  /** A new access token from a refresh token (the refresh token stays the same). */
  refresh(refreshToken: string, options: { signal?: AbortSignal } = {}): Promise<HubSpotTokenSet> {
    if (typeof refreshToken !== 'string' || !refreshToken) {
      throw new CrmConfigurationError('HubSpotOAuth.refresh: refreshToken is required');
    }
    return this.#token(
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      'refresh token',
      options.signal,
    );
  }

  async #token(
    fields: Record<string, string>,
    operation: string,
    signal: AbortSignal | undefined,
  ): Promise<HubSpotTokenSet> {
    const { clientId, clientSecret } = this.#options;
    const version = this.#options.tokenApiVersion ?? '2026-03';
    const url = new URL(
      version === 'v1' ? '/oauth/v1/token' : '/oauth/2026-03/token',
      this.#options.baseUrl ?? 'https://api.hubapi.com',
    );
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ ...fields, client_id: clientId, client_secret: clientSecret }),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new CrmConnectionError(`HubSpot OAuth ${operation} failed: no response`, {
        cause,
        provider: 'hubspot',
      });
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      // RFC 6749 `error` (2026-03) or the legacy `status` code; never the description (it can echo input).
      const providerCode = String(body.error ?? body.status ?? `HTTP_${response.status}`);
      const options = { status: response.status, providerCode, provider: 'hubspot' };
      if (response.status === 400 || response.status === 401) {
        throw new CrmAuthenticationError(`HubSpot OAuth ${operation} refused: ${providerCode}`, options);
      }
      throw new CrmConnectionError(`HubSpot OAuth ${operation} failed: HTTP ${response.status}`, options);
    }
    const now = (this.#options.clock ?? { now: () => new Date() }).now().getTime();
    const accessToken = String(body.access_token ?? '');
    if (!accessToken)
      throw new CrmAuthenticationError(`HubSpot OAuth ${operation}: no access token in the response`, {
        provider: 'hubspot',
      });
    return {
      accessToken,
      refreshToken: String(body.refresh_token ?? fields.refresh_token ?? ''),
      expiresAt: new Date(now + Number(body.expires_in ?? 1800) * 1000),
      ...(typeof body.hub_id === 'number' ? { hubId: body.hub_id } : {}),
    };
  }
}
