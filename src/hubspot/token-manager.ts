import { CrmAuthenticationError, CrmConfigurationError } from '../core/errors.js';
import type { CredentialCipher } from '../security/cipher.js';
import type { CrmStorage } from '../storage/types.js';
import type { HubSpotOAuth, HubSpotTokenSet } from './oauth.js';

/** Options of `new HubSpotTokenManager(options)`. */
export interface HubSpotTokenManagerOptions {
  oauth: Pick<HubSpotOAuth, 'refresh'>;
  /** Starting tokens; without them they are read from the integration's encrypted credentials. */
  tokens?: HubSpotTokenSet;
  /** With `cipher` and `integrationId`: refreshed tokens are persisted encrypted (compare-and-swap). */
  storage?: CrmStorage;
  cipher?: CredentialCipher;
  integrationId?: string;
  /** Refresh this long before expiry, ms. @default 60000 */
  refreshSkewMs?: number;
  clock?: { now(): Date };
}

interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
}

/**
 * Keeps a HubSpot OAuth access token fresh: refreshes shortly before the 30-minute expiry or when
 * forced (HubSpot answered 401 EXPIRED_AUTHENTICATION), one refresh shared by every concurrent
 * caller, and persists the result encrypted. Pass `getAccessToken` to `HubSpotProvider`.
 *
 * @example
 * ```ts
 * const tokens = new HubSpotTokenManager({ oauth, storage, cipher, integrationId });
 * const provider = new HubSpotProvider({ getAccessToken: (c) => tokens.getAccessToken(c) });
 * ```
 */
export class HubSpotTokenManager {
  readonly #options: HubSpotTokenManagerOptions;
  #tokens: HubSpotTokenSet | undefined;
  #stored: string | undefined;
  #refreshing: Promise<HubSpotTokenSet> | undefined;

  constructor(options: HubSpotTokenManagerOptions) {
    if (!options?.oauth)
      throw new CrmConfigurationError('HubSpotTokenManager: oauth is required', { fields: ['oauth'] });
    if (options.storage && (!options.cipher || !options.integrationId)) {
      throw new CrmConfigurationError('HubSpotTokenManager: storage needs cipher and integrationId', {
        fields: ['cipher', 'integrationId'],
      });
    }
    this.#options = options;
    this.#tokens = options.tokens;
  }

  /** The current access token, refreshed first when it is about to expire or `forceRefresh` is set. */
  async getAccessToken(
    context: { forceRefresh?: boolean; failedAccessToken?: string | undefined } = {},
  ): Promise<string> {
    const tokens = this.#tokens ?? (await this.#load());
    const now = (this.#options.clock ?? { now: () => new Date() }).now().getTime();
    const skew = this.#options.refreshSkewMs ?? 60_000;
    if (!context.forceRefresh && tokens.expiresAt.getTime() - skew > now) return tokens.accessToken;
    return (
      await this.refresh(
        context.forceRefresh ? (context.failedAccessToken ?? tokens.accessToken) : tokens.accessToken,
      )
    ).accessToken;
  }

  /**
   * Refreshes now; concurrent callers share one refresh. `failedAccessToken`: skip the refresh if
   * the token was already replaced since that one was handed out.
   */
  async refresh(failedAccessToken?: string): Promise<HubSpotTokenSet> {
    const current = this.#tokens ?? (await this.#load());
    if (failedAccessToken !== undefined && current.accessToken !== failedAccessToken) return current;
    this.#refreshing ??= (async () => {
      try {
        const fresh = await this.#options.oauth.refresh(current.refreshToken);
        await this.#persist(fresh);
        this.#tokens = fresh;
        return fresh;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async #load(): Promise<HubSpotTokenSet> {
    const { storage, cipher, integrationId } = this.#options;
    if (!storage || !cipher || !integrationId) {
      throw new CrmConfigurationError(
        'HubSpotTokenManager: no tokens given and no storage to read them from',
      );
    }
    const integration = await storage.integrations.get(integrationId);
    if (!integration)
      throw new CrmAuthenticationError('HubSpotTokenManager: the integration does not exist', {
        provider: 'hubspot',
      });
    const stored = JSON.parse(
      cipher.decrypt(integration.credentials, { context: integrationId }),
    ) as StoredTokens;
    this.#stored = integration.credentials;
    this.#tokens = {
      accessToken: stored.accessToken,
      refreshToken: stored.refreshToken,
      expiresAt: new Date(stored.expiresAt),
    };
    return this.#tokens;
  }

  async #persist(tokens: HubSpotTokenSet): Promise<void> {
    const { storage, cipher, integrationId } = this.#options;
    if (!storage || !cipher || !integrationId) return;
    const plain: StoredTokens = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt.toISOString(),
    };
    const credentials = cipher.encrypt(JSON.stringify(plain), { context: integrationId });
    await storage.integrations.update(
      integrationId,
      { credentials },
      this.#stored !== undefined ? { expectedCredentials: this.#stored } : {},
    );
    this.#stored = credentials;
  }

  /** Encrypts a token set for `integrations.create({ credentials })`. */
  static encryptTokens(cipher: CredentialCipher, integrationId: string, tokens: HubSpotTokenSet): string {
    const plain: StoredTokens = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt.toISOString(),
    };
    return cipher.encrypt(JSON.stringify(plain), { context: integrationId });
  }
}
