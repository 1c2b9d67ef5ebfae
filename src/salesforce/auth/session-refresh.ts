import type { OAuth2 } from 'jsforce';
import type { SalesforceRefreshResult } from '../client.js';
import { loadJsforce } from '../jsforce.js';
import type { SalesforceProviderOptions, SalesforceTokenRefresher } from '../options.js';

/** Where the provider keeps its current refresh token (Salesforce may rotate it on every refresh). */
export interface RefreshTokenHolder {
  refreshToken: string | undefined;
}

/**
 * The provider's session refresh: `refreshAccessToken` when given, otherwise `refreshToken` spent
 * through `oauth` (a `SalesforceOAuth`-like object, or OAuth client settings for jsforce's
 * `OAuth2`). `undefined` when the options allow no refresh.
 */
export function createSessionRefresher(
  options: SalesforceProviderOptions,
  holder: RefreshTokenHolder,
  currentInstanceUrl: () => string,
): (() => Promise<SalesforceRefreshResult>) | undefined {
  if (options.refreshAccessToken) return options.refreshAccessToken;
  const oauth = options.oauth;
  if (!options.refreshToken || !oauth) return undefined;
  const refresher: SalesforceTokenRefresher =
    'refresh' in oauth && typeof oauth.refresh === 'function'
      ? oauth
      : {
          refresh: async (refreshToken) => {
            const { OAuth2 } = loadJsforce();
            const response = await new OAuth2(oauth as ConstructorParameters<typeof OAuth2>[0]).refreshToken(
              refreshToken,
            );
            return {
              accessToken: response.access_token,
              refreshToken: response.refresh_token,
              instanceUrl: response.instance_url,
            };
          },
        };
  return async () => {
    const tokens = await refresher.refresh(holder.refreshToken ?? '');
    // Salesforce rotates refresh tokens; jsforce would drop the new one, so keep it here.
    if (tokens.refreshToken) holder.refreshToken = tokens.refreshToken;
    await options.onTokenRefresh?.({
      accessToken: tokens.accessToken,
      ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      instanceUrl: tokens.instanceUrl || currentInstanceUrl(),
    });
    return { accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl };
  };
}
