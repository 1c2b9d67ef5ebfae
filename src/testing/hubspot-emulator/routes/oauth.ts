import { randomBytes, randomUUID } from 'node:crypto';
import { type HubSpotRoute, route } from '../http.js';

/** An access token the emulator issued, with what it grants. */
export interface HubSpotEmulatorToken {
  expiresAt: number;
  scopes: string[];
}

/** OAuth state of the emulator: the app's credentials, issued codes and tokens. */
export class HubSpotEmulatorOAuth {
  readonly codes = new Map<string, { redirectUri: string; scopes: string[] }>();
  readonly accessTokens = new Map<string, HubSpotEmulatorToken>();
  readonly refreshTokens = new Map<string, string[]>();

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    readonly portalId: number,
    private readonly now: () => number,
    /** Lifetime of issued access tokens, ms (HubSpot: 30 minutes). */
    public accessTokenTtlMs: number,
  ) {}

  issueAccessToken(scopes: string[], ttlMs = this.accessTokenTtlMs): string {
    const token = `emu-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, { expiresAt: this.now() + ttlMs, scopes });
    return token;
  }

  check(token: string): 'ok' | 'expired' | 'invalid' {
    const found = this.accessTokens.get(token);
    if (!found) return 'invalid';
    return found.expiresAt > this.now() ? 'ok' : 'expired';
  }

  /** Expires one access token, or every one, now (the next API call answers 401 EXPIRED_AUTHENTICATION). */
  expireAccessTokens(only?: string): void {
    for (const [value, token] of this.accessTokens)
      if (only === undefined || value === only) token.expiresAt = 0;
  }
}

function oauthError(status: string, message: string, error = 'invalid_grant') {
  return {
    status: 400,
    body: { status, message, correlationId: randomUUID(), error, error_description: message },
  };
}

/** `GET /oauth/authorize` (auto-approved) and the token endpoint (`/oauth/v1/token`, `/oauth/2026-03/token`). */
export function oauthRoutes(oauth: HubSpotEmulatorOAuth): HubSpotRoute[] {
  return [
    route(
      'GET',
      '/oauth/authorize',
      (request) => {
        const q = request.query;
        const redirectUri = q.get('redirect_uri');
        if (q.get('client_id') !== oauth.clientId || !redirectUri) {
          return { status: 400, body: 'Invalid client_id or missing redirect_uri' };
        }
        const code = randomUUID();
        oauth.codes.set(code, { redirectUri, scopes: (q.get('scope') ?? '').split(/[ +]/).filter(Boolean) });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        const state = q.get('state');
        if (state !== null) target.searchParams.set('state', state);
        return { status: 302, headers: { location: target.toString() } };
      },
      false,
    ),
    route(
      'POST',
      '/oauth/v1/token',
      async (request) => {
        const form = await request.form();
        if (form.get('client_id') !== oauth.clientId)
          return oauthError('BAD_CLIENT_ID', 'missing or unknown client id', 'invalid_client');
        if (form.get('client_secret') !== oauth.clientSecret) {
          return oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret', 'invalid_client');
        }
        let scopes: string[];
        let refreshToken: string;
        const grant = form.get('grant_type');
        if (grant === 'authorization_code') {
          const code = oauth.codes.get(form.get('code') ?? '');
          if (!code) return oauthError('BAD_AUTH_CODE', 'auth code not found');
          if (code.redirectUri !== form.get('redirect_uri')) {
            return oauthError(
              'BAD_REDIRECT_URI',
              'redirect_uri does not match the one the code was issued for',
            );
          }
          oauth.codes.delete(form.get('code') ?? '');
          scopes = code.scopes;
          refreshToken = randomUUID();
          oauth.refreshTokens.set(refreshToken, scopes);
        } else if (grant === 'refresh_token') {
          refreshToken = form.get('refresh_token') ?? '';
          const found = oauth.refreshTokens.get(refreshToken);
          if (!found) return oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
          scopes = found;
        } else {
          return oauthError(
            'BAD_GRANT_TYPE',
            'grant_type must be authorization_code or refresh_token',
            'unsupported_grant_type',
          );
        }
        const accessToken = oauth.issueAccessToken(scopes);
        return {
          status: 200,
          body: {
            token_type: 'bearer',
            refresh_token: refreshToken,
            access_token: accessToken,
            expires_in: Math.floor(oauth.accessTokenTtlMs / 1000),
            hub_id: oauth.portalId,
            scopes,
          },
        };
      },
      false,
    ),
    route(
      'GET',
      '/oauth/v1/access-tokens/:token',
      (request) => {
        const token = request.params.token ?? '';
        const found = oauth.accessTokens.get(token);
        if (!found || oauth.check(token) !== 'ok')
          return oauthError('BAD_ACCESS_TOKEN', 'access token not found or expired');
        return {
          status: 200,
          body: {
            token,
            hub_id: oauth.portalId,
            app_id: 1,
            user_id: 1,
            scopes: found.scopes,
            token_type: 'access',
            expires_in: Math.floor((found.expiresAt - Date.now()) / 1000),
          },
        };
      },
      false,
    ),
  ];
}
