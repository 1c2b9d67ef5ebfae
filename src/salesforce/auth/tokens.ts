import { type CrmClock, systemClock } from '../../core/clock.js';
import type { CrmErrorReason } from '../../core/errors.js';
import {
  CrmAuthenticationError,
  CrmConfigurationError,
  isCrmError,
  throwIfAborted,
} from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger } from '../../core/logger.js';
import { type CrmSleep, sleep } from '../../core/sleep.js';
import { raceWithSignal } from '../../internal/abort.js';
import { assertKnownOptions } from '../../internal/options.js';
import type { CrmIntegration, CrmIntegrationStore, CrmLease, CrmLeaseStore } from '../../storage/types.js';
import {
  type CredentialCipherLike,
  decodeSalesforceCredentials,
  encodeSalesforceCredentials,
} from './credentials.js';
import type { SalesforceTokenSet, SalesforceTokens } from './token-set.js';

/** Key under `CrmIntegration.settings` where a needed re-authorisation is recorded. */
export const REAUTHORIZATION_SETTING = 'reauthorization';

/** The record stored at `settings.reauthorization` when a grant stopped working. */
export interface CrmReauthorizationMarker {
  required: true;
  /** Why: a {@link CrmErrorReason} such as `refresh_token_rejected`, `no_refresh_token`, `revoked`. */
  reason: string;
  /** The OAuth error, e.g. `invalid_grant`. */
  providerCode?: string;
  /** ISO timestamp. */
  at: string;
}

/** Read the re-authorisation marker of an integration, if any. */
export function getReauthorizationMarker(
  integration: Pick<CrmIntegration, 'settings'>,
): CrmReauthorizationMarker | null {
  const marker = integration.settings[REAUTHORIZATION_SETTING] as
    | Partial<CrmReauthorizationMarker>
    | undefined;
  return marker && marker.required === true && typeof marker.reason === 'string'
    ? (marker as CrmReauthorizationMarker)
    : null;
}

/** How many refreshes a {@link TokenManager} may make in a time window. */
export interface TokenRefreshBudget {
  /** Network refreshes allowed per window. @default 5 */
  maxRefreshes: number;
  /** Window length in milliseconds. @default 60000 */
  windowMs: number;
}

/** The OAuth operations a {@link TokenManager} needs (a `SalesforceOAuth` fits). */
export interface TokenManagerOAuth {
  refresh(refreshToken: string, options?: { signal?: AbortSignal }): Promise<SalesforceTokenSet>;
  /** Needed only for {@link TokenManager.revoke}. */
  revoke?(token: string, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  /** Client used to refresh (a `SalesforceOAuth`). */
  oauth: TokenManagerOAuth;
  /**
   * Where the integration lives. With {@link integrationId}, rotated tokens are persisted here
   * (encrypted, compare-and-swap) and `leases` serialise refreshes across processes.
   */
  storage?: { integrations: CrmIntegrationStore; leases?: CrmLeaseStore };
  /** `CredentialCipher` for the stored credentials. Required with {@link integrationId}. */
  cipher?: CredentialCipherLike;
  /** Integration whose credentials to manage. Without it the manager only holds tokens in memory. */
  integrationId?: string;
  /** Current tokens. Optional with {@link integrationId}: they are then read from storage. */
  tokens?: SalesforceTokens;
  /** Structured logger; every line is redacted, including the current tokens by value. @default silent */
  logger?: CrmLogger;
  /** Time source. @default system clock */
  clock?: CrmClock;
  /** Wait function (lease polling, retry back-off). @default setTimeout-based, abortable */
  sleep?: CrmSleep;
  /** Cap on network refreshes, so a host that keeps answering 401 cannot cause a refresh loop. */
  refreshBudget?: Partial<TokenRefreshBudget>;
  /**
   * Refresh proactively once the access token is this old (Salesforce sends no expiry; the org's
   * session timeout defaults to 2 hours). Tokens without `issuedAt` are only refreshed on demand.
   * @default 6900000 (1 h 55 min)
   */
  maxTokenAgeMs?: number;
  /**
   * Obtain brand-new tokens when there is no refresh token (JWT bearer, client credentials),
   * e.g. `(signal) => oauth.jwtBearer({ username, privateKey, signal })`.
   */
  reauthorize?: (signal?: AbortSignal) => Promise<SalesforceTokens>;
  /** Called after tokens changed (refresh, adoption of another worker's refresh). */
  onTokens?: (tokens: { accessToken: string; instanceUrl: string }) => void;
  /** Lease TTL for a cross-process refresh, in milliseconds. @default 30000 */
  lockTtlMs?: number;
  /** How long to wait for another process's refresh before giving up, in milliseconds. @default 20000 */
  lockWaitMs?: number;
}

const OPTION_KEYS = [
  'oauth',
  'storage',
  'cipher',
  'integrationId',
  'tokens',
  'logger',
  'clock',
  'sleep',
  'refreshBudget',
  'maxTokenAgeMs',
  'reauthorize',
  'onTokens',
  'lockTtlMs',
  'lockWaitMs',
] as const;

/** Options of {@link TokenManager.refresh}. */
export interface TokenRefreshOptions {
  signal?: AbortSignal | undefined;
  /**
   * The access token that was just rejected. If the manager already holds a different one (another
   * caller refreshed meanwhile), that one is returned without a new refresh.
   */
  failedAccessToken?: string | null;
}

/** An access token and the instance it is valid for (never the refresh token). */
type SalesforceSession = Pick<SalesforceTokens, 'accessToken' | 'instanceUrl'>;

/**
 * A jsforce-compatible `refreshFn` (see jsforce `SessionRefreshFunc`): called with the connection
 * and a node-style callback receiving the new access token.
 */
export type SalesforceRefreshFn = (
  connection: { accessToken?: string | null | undefined; instanceUrl: string },
  callback: (error: Error | null | undefined, accessToken?: string) => void,
) => void;

/** Options for `new Connection(…)` from jsforce, produced by {@link TokenManager.createConnectionOptions}. */
export interface SalesforceConnectionOptions {
  instanceUrl: string;
  accessToken: string;
  refreshFn: SalesforceRefreshFn;
  version?: string;
}

const REFRESH_LOCK_PREFIX = 'salesforce:token-refresh:';
const LEASE_POLL_MS = 200;
// Salesforce answers a concurrent refresh of the same token with this description (Summer '24).
const ALREADY_PROCESSING = /already being processed/i;

/**
 * Holds one integration's Salesforce tokens and keeps them valid.
 *
 * - One refresh at a time per manager: every concurrent caller shares it.
 * - Across processes: a storage lease serialises refreshes, the new pair is persisted encrypted
 *   with a compare-and-swap on the old ciphertext, and a process that finds the stored token
 *   already replaced adopts it instead of refreshing (so an old refresh token is never reused,
 *   which under refresh-token rotation would revoke the grant).
 * - Captures a rotated refresh token and a changed `instance_url`.
 * - A refresh budget stops 401 → refresh loops.
 * - A rejected refresh token throws `CrmAuthenticationError` and marks the integration as needing
 *   re-authorisation (`syncEnabled: false`, `settings.reauthorization`), then fails fast.
 *
 * @example
 * const tokens = new TokenManager({ oauth, storage, cipher, integrationId });
 * const conn = new Connection({ ...(await tokens.createConnectionOptions()), version: '62.0' });
 */
export class TokenManager {
  readonly #oauth: TokenManagerOAuth;
  readonly #integrations: CrmIntegrationStore | undefined;
  readonly #leases: CrmLeaseStore | undefined;
  readonly #cipher: CredentialCipherLike | undefined;
  readonly #integrationId: string | undefined;
  readonly #logger: CrmLogger;
  readonly #clock: CrmClock;
  readonly #sleep: CrmSleep;
  readonly #budget: TokenRefreshBudget;
  readonly #maxTokenAgeMs: number;
  readonly #reauthorize: TokenManagerOptions['reauthorize'];
  readonly #onTokens: TokenManagerOptions['onTokens'];
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  #tokens: SalesforceTokens | undefined;
  #loading: Promise<SalesforceTokens> | undefined;
  #inflight: Promise<SalesforceTokens> | undefined;
  #refreshTimes: number[] = [];
  #fatal: CrmAuthenticationError | undefined;
  #refreshCount = 0;

  /** @throws CrmConfigurationError for unknown options or an unusable combination. */
  constructor(options: TokenManagerOptions) {
    assertKnownOptions('TokenManager', options, OPTION_KEYS, { provider: 'salesforce' });
    if (!options.oauth) {
      throw new CrmConfigurationError('TokenManager needs an oauth client', {
        provider: 'salesforce',
        fields: ['oauth'],
      });
    }
    if (options.integrationId !== undefined && (!options.storage || !options.cipher)) {
      throw new CrmConfigurationError('TokenManager needs storage and cipher together with integrationId', {
        provider: 'salesforce',
        fields: ['storage', 'cipher'],
      });
    }
    if (options.integrationId === undefined && !options.tokens) {
      throw new CrmConfigurationError('TokenManager needs tokens or an integrationId to read them from', {
        provider: 'salesforce',
        fields: ['tokens', 'integrationId'],
      });
    }
    this.#oauth = options.oauth;
    this.#integrations = options.storage?.integrations;
    this.#leases = options.storage?.leases;
    this.#cipher = options.cipher;
    this.#integrationId = options.integrationId;
    this.#tokens = options.tokens ? { ...options.tokens } : undefined;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#budget = {
      maxRefreshes: options.refreshBudget?.maxRefreshes ?? 5,
      windowMs: options.refreshBudget?.windowMs ?? 60_000,
    };
    this.#maxTokenAgeMs = options.maxTokenAgeMs ?? 6_900_000;
    this.#reauthorize = options.reauthorize;
    this.#onTokens = options.onTokens;
    this.#lockTtlMs = options.lockTtlMs ?? 30_000;
    this.#lockWaitMs = options.lockWaitMs ?? 20_000;
    this.#logger = createRedactingLogger(options.logger, () => {
      const t = this.#tokens;
      return t ? [t.accessToken, t.refreshToken ?? ''] : [];
    });
  }

  /** Integration id, when the manager persists to storage. */
  get integrationId(): string | undefined {
    return this.#integrationId;
  }

  /** Network refreshes made by this manager so far (for metrics and tests). */
  get refreshCount(): number {
    return this.#refreshCount;
  }

  /** True once a refresh was refused for good; every call then fails until re-authorisation. */
  get reauthorizationRequired(): boolean {
    return this.#fatal !== undefined;
  }

  /** A redacted view for logs. */
  toJSON(): Record<string, unknown> {
    return {
      integrationId: this.#integrationId,
      instanceUrl: this.#tokens?.instanceUrl,
      reauthorizationRequired: this.reauthorizationRequired,
    };
  }

  /**
   * A valid access token: the current one, or a fresh one when it is older than `maxTokenAgeMs`.
   *
   * @throws CrmAuthenticationError when the grant needs re-authorisation.
   */
  async getAccessToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    return (await this.getSession(options)).accessToken;
  }

  /** Access token plus instance URL (which a refresh may change). */
  async getSession(options: { signal?: AbortSignal } = {}): Promise<SalesforceSession> {
    throwIfAborted(options.signal);
    if (this.#fatal) await this.#recoverOrThrow();
    const tokens = await this.#current(options.signal);
    if (this.#isStale(tokens)) {
      const fresh = await this.refresh({ signal: options.signal, failedAccessToken: tokens.accessToken });
      return { accessToken: fresh.accessToken, instanceUrl: fresh.instanceUrl };
    }
    return { accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl };
  }

  /**
   * Refresh now. Concurrent calls share one refresh; a caller's `signal` only stops its own wait.
   * Resolves to the new session (never the refresh token).
   *
   * @throws CrmAuthenticationError (`providerCode` from Salesforce, or `refresh_budget_exhausted`,
   *   `no_refresh_token`, `refresh_in_progress`).
   */
  async refresh(options: TokenRefreshOptions = {}): Promise<SalesforceSession> {
    throwIfAborted(options.signal);
    if (this.#fatal) await this.#recoverOrThrow();
    if (!this.#inflight) {
      const current = await this.#current(options.signal);
      if (this.#inflight === undefined) {
        if (options.failedAccessToken != null && options.failedAccessToken !== current.accessToken) {
          // Someone refreshed after the caller's request was sent: use that token.
          return { accessToken: current.accessToken, instanceUrl: current.instanceUrl };
        }
        const stale = options.failedAccessToken ?? current.accessToken;
        this.#inflight = this.#refreshOnce(stale).finally(() => {
          this.#inflight = undefined;
        });
      }
    }
    const inflight = this.#inflight;
    if (!inflight)
      throw new CrmAuthenticationError('Token refresh did not start', { provider: 'salesforce' });
    const tokens = await raceWithSignal(inflight, options.signal);
    return { accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl };
  }

  /**
   * A refresh function for jsforce's `Connection` (`refreshFn` option). It refreshes through this
   * manager (so jsforce never sees the refresh token), applies a changed instance URL to the
   * connection, and respects the refresh budget. jsforce wraps errors as
   * `Error('Unable to refresh session due to: …')`; check {@link reauthorizationRequired}.
   */
  get refreshFn(): SalesforceRefreshFn {
    return (connection, callback) => {
      this.refresh({ failedAccessToken: connection.accessToken ?? null }).then(
        (session) => {
          if (connection.instanceUrl !== session.instanceUrl) connection.instanceUrl = session.instanceUrl;
          callback(undefined, session.accessToken);
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    };
  }

  /**
   * Options for `new Connection(options)` from jsforce: the current session and {@link refreshFn}.
   * No refresh token is handed to jsforce.
   *
   * @example
   * const conn = new Connection(await tokens.createConnectionOptions({ version: '62.0' }));
   */
  async createConnectionOptions(
    options: { version?: string; signal?: AbortSignal } = {},
  ): Promise<SalesforceConnectionOptions> {
    const session = await this.getSession(options.signal ? { signal: options.signal } : {});
    const out: SalesforceConnectionOptions = { ...session, refreshFn: this.refreshFn };
    if (options.version) out.version = options.version;
    return out;
  }

  /**
   * After a fatal refusal, fail fast without contacting Salesforce, unless the integration was
   * re-authorised in storage meanwhile (marker gone, new credentials): then start over with those.
   */
  async #recoverOrThrow(): Promise<void> {
    const fatal = this.#fatal as CrmAuthenticationError;
    if (!this.#integrationId) throw fatal;
    const { integration, tokens } = await this.#readStored();
    if (getReauthorizationMarker(integration) || tokens.accessToken === this.#tokens?.accessToken)
      throw fatal;
    this.#fatal = undefined;
    this.#refreshTimes = [];
    this.#apply(tokens);
  }

  /**
   * Disconnect: revoke the grant at Salesforce (the refresh token, which also revokes its access
   * tokens; the access token when there is none) and mark the integration as needing
   * re-authorisation with reason `revoked`. Deleting the record stays the host's choice.
   *
   * @throws CrmConfigurationError when the oauth client cannot revoke.
   * @throws CrmAuthenticationError when Salesforce refuses (an already revoked token is fine).
   */
  async revoke(options: { signal?: AbortSignal } = {}): Promise<void> {
    const revoke = this.#oauth.revoke?.bind(this.#oauth);
    if (!revoke) {
      throw new CrmConfigurationError('TokenManager.revoke needs an oauth client with revoke()', {
        provider: 'salesforce',
        fields: ['oauth'],
      });
    }
    const stored = this.#integrationId ? await this.#readStored() : undefined;
    const tokens = stored?.tokens ?? this.#tokens;
    if (tokens) {
      try {
        await revoke(
          tokens.refreshToken ?? tokens.accessToken,
          options.signal ? { signal: options.signal } : {},
        );
      } catch (error) {
        // Revoking what is already dead is what the caller wanted.
        const code = isCrmError(error) && error.code === 'AUTHENTICATION' ? error.providerCode : undefined;
        if (!code || !['invalid_token', 'unsupported_token_type', 'invalid_grant'].includes(code))
          throw error;
      }
    }
    await this.#markNeedsReauthorization('revoked', undefined, stored?.integration, undefined);
  }

  #isStale(tokens: SalesforceTokens): boolean {
    if (!tokens.issuedAt) return false;
    return this.#clock.now().getTime() - tokens.issuedAt.getTime() >= this.#maxTokenAgeMs;
  }

  async #current(signal: AbortSignal | undefined): Promise<SalesforceTokens> {
    if (this.#tokens) return this.#tokens;
    if (!this.#loading) {
      this.#loading = this.#readStored().then(
        ({ tokens, integration }) => {
          const marker = getReauthorizationMarker(integration);
          if (marker) {
            this.#fatal = new CrmAuthenticationError(
              'Salesforce integration needs re-authorisation; connect the org again',
              {
                provider: 'salesforce',
                providerCode: marker.providerCode ?? marker.reason,
                details: { ...marker, reason: marker.reason as CrmErrorReason },
              },
            );
            throw this.#fatal;
          }
          this.#tokens ??= tokens;
          return this.#tokens;
        },
        (error: unknown) => {
          this.#loading = undefined;
          throw error;
        },
      );
    }
    return raceWithSignal(this.#loading, signal);
  }

  async #readStored(): Promise<{ integration: CrmIntegration; tokens: SalesforceTokens }> {
    const integrations = this.#integrations;
    const cipher = this.#cipher;
    const id = this.#integrationId;
    if (!integrations || !cipher || id === undefined) {
      throw new CrmConfigurationError('TokenManager has no storage to read from', { provider: 'salesforce' });
    }
    const integration = await integrations.get(id);
    if (!integration) {
      throw new CrmConfigurationError('Salesforce integration not found in storage', {
        provider: 'salesforce',
        details: { integrationId: id },
      });
    }
    let plaintext: string;
    try {
      plaintext = await cipher.decrypt(integration.credentials);
    } catch (cause) {
      throw new CrmConfigurationError('Stored Salesforce credentials could not be decrypted (wrong key?)', {
        provider: 'salesforce',
        cause,
        details: { integrationId: id },
      });
    }
    const tokens = decodeSalesforceCredentials(plaintext);
    // The record's instanceUrl is authoritative (hosts may move an org by editing it).
    tokens.instanceUrl = integration.instanceUrl || tokens.instanceUrl;
    return { integration, tokens };
  }

  async #refreshOnce(staleAccessToken: string): Promise<SalesforceTokens> {
    if (!this.#integrationId) return this.#refreshInMemory();
    let lease: CrmLease | null = null;
    const key = REFRESH_LOCK_PREFIX + this.#integrationId;
    try {
      if (this.#leases) {
        const deadline = this.#clock.now().getTime() + this.#lockWaitMs;
        for (;;) {
          lease = await this.#leases.acquire(key, this.#lockTtlMs);
          if (lease) break;
          // Another process is refreshing; its result shows up in storage.
          const adopted = await this.#adoptIfReplaced(staleAccessToken);
          if (adopted) return adopted;
          if (this.#clock.now().getTime() >= deadline) {
            throw new CrmAuthenticationError(
              'Another process is refreshing this Salesforce session; try again',
              {
                provider: 'salesforce',
                providerCode: 'refresh_in_progress',
                retryable: true,
              },
            );
          }
          await this.#sleep(LEASE_POLL_MS);
        }
      }
      return await this.#refreshPersisted(staleAccessToken);
    } finally {
      if (lease) await this.#leases?.release(lease).catch(() => undefined);
    }
  }

  async #refreshInMemory(): Promise<SalesforceTokens> {
    const current = this.#tokens;
    if (!current) throw new CrmConfigurationError('TokenManager has no tokens', { provider: 'salesforce' });
    const fresh = await this.#callRefresh(current, undefined);
    return this.#apply(mergeTokens(current, fresh.tokens, this.#clock.now()));
  }

  async #refreshPersisted(staleAccessToken: string): Promise<SalesforceTokens> {
    const integrations = this.#integrations as CrmIntegrationStore;
    const cipher = this.#cipher as CredentialCipherLike;
    const id = this.#integrationId as string;
    const { integration, tokens: stored } = await this.#readStored();
    if (getReauthorizationMarker(integration)) {
      throw this.#markFatalLocally('reauthorization_required', undefined, undefined);
    }
    if (this.#isNewer(stored, staleAccessToken)) return this.#apply(stored);

    const fresh = await this.#callRefresh(stored, integration);
    if (fresh.adopted) return this.#tokens as SalesforceTokens;
    const merged = mergeTokens(stored, fresh.tokens, this.#clock.now());
    const ciphertext = await cipher.encrypt(encodeSalesforceCredentials(merged));
    const patch: { credentials: string; instanceUrl?: string } = { credentials: ciphertext };
    if (merged.instanceUrl !== integration.instanceUrl) {
      patch.instanceUrl = merged.instanceUrl;
      this.#logger.info('Salesforce instance URL changed after refresh', {
        integrationId: id,
        from: integration.instanceUrl,
        to: merged.instanceUrl,
      });
    }
    try {
      await integrations.update(id, patch, { expectedCredentials: integration.credentials });
    } catch (error) {
      if (isCrmError(error) && error.code === 'STORAGE' && error.details?.reason === 'credentials_conflict') {
        // Lost the race: another worker stored its pair first. Use theirs; ours may already be dead.
        this.#logger.warn('Salesforce token refresh lost a compare-and-swap; adopting the stored tokens', {
          integrationId: id,
        });
        const winner = await this.#readStored();
        return this.#apply(winner.tokens);
      }
      throw error;
    }
    return this.#apply(merged);
  }

  /** True when the stored token is not the stale one and not older than what we hold. */
  #isNewer(stored: SalesforceTokens, staleAccessToken: string): boolean {
    if (stored.accessToken === staleAccessToken) return false;
    const mine = this.#tokens;
    if (mine && stored.accessToken === mine.accessToken) return false;
    // Never step back to an older pair. Age alone does not disqualify it: if it has expired too,
    // the next 401 refreshes it (bounded by the budget).
    return !(mine?.issuedAt && stored.issuedAt && stored.issuedAt < mine.issuedAt);
  }

  async #adoptIfReplaced(staleAccessToken: string): Promise<SalesforceTokens | null> {
    const { integration, tokens } = await this.#readStored();
    if (getReauthorizationMarker(integration)) {
      throw this.#markFatalLocally('reauthorization_required', undefined, undefined);
    }
    return this.#isNewer(tokens, staleAccessToken) ? this.#apply(tokens) : null;
  }

  async #callRefresh(
    current: SalesforceTokens,
    integration: CrmIntegration | undefined,
  ): Promise<{ tokens: SalesforceTokenSet | SalesforceTokens; adopted: boolean }> {
    this.#spendBudget();
    this.#refreshCount++;
    if (!current.refreshToken) {
      if (this.#reauthorize) return { tokens: await this.#reauthorize(), adopted: false };
      throw await this.#markNeedsReauthorization('no_refresh_token', undefined, integration, undefined);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const fresh = await this.#oauth.refresh(current.refreshToken);
        this.#logger.debug('Salesforce access token refreshed', {
          integrationId: this.#integrationId,
          rotatedRefreshToken:
            fresh.refreshToken !== undefined && fresh.refreshToken !== current.refreshToken,
        });
        return { tokens: fresh, adopted: false };
      } catch (error) {
        if (!isCrmError(error) || error.code !== 'AUTHENTICATION') throw error;
        // A pair someone else persisted meanwhile beats our failure (their refresh consumed ours).
        const adopted = integration ? await this.#adoptIfReplaced(current.accessToken) : null;
        if (adopted) return { tokens: adopted, adopted: true };
        if (ALREADY_PROCESSING.test(error.message)) {
          // Salesforce refuses parallel refreshes of one token: someone else is refreshing it.
          // Retrying at once would replay a token that is about to be superseded (with rotation
          // that revokes the grant), so wait for their result to land in storage and use it.
          if (!integration) {
            throw new CrmAuthenticationError(
              'Another client is refreshing this Salesforce session; try again',
              {
                provider: 'salesforce',
                providerCode: 'refresh_in_progress',
                retryable: true,
                cause: error,
              },
            );
          }
          if (attempt < 2) {
            for (let wait = 0; wait < 4; wait++) {
              await this.#sleep(250 * 2 ** wait);
              const landed = await this.#adoptIfReplaced(current.accessToken);
              if (landed) return { tokens: landed, adopted: true };
            }
            // Nothing landed: the other refresh failed or persisted elsewhere; try ourselves.
            continue;
          }
        }
        throw await this.#markNeedsReauthorization(
          'refresh_token_rejected',
          error.providerCode,
          integration,
          error,
        );
      }
    }
  }

  #spendBudget(): void {
    const now = this.#clock.now().getTime();
    this.#refreshTimes = this.#refreshTimes.filter((t) => now - t < this.#budget.windowMs);
    if (this.#refreshTimes.length >= this.#budget.maxRefreshes) {
      this.#logger.error('Salesforce token refresh budget exhausted', {
        integrationId: this.#integrationId,
        ...this.#budget,
      });
      throw new CrmAuthenticationError(
        `Salesforce token refresh budget exhausted (${this.#budget.maxRefreshes} refreshes in ${this.#budget.windowMs} ms); the server keeps rejecting fresh tokens`,
        {
          provider: 'salesforce',
          providerCode: 'refresh_budget_exhausted',
          retryable: true,
          details: { ...this.#budget },
        },
      );
    }
    this.#refreshTimes.push(now);
  }

  #markFatalLocally(
    reason: CrmErrorReason,
    providerCode: string | undefined,
    cause: unknown,
  ): CrmAuthenticationError {
    this.#fatal = new CrmAuthenticationError(
      'Salesforce refused to refresh the session; the integration needs re-authorisation',
      {
        provider: 'salesforce',
        providerCode: providerCode ?? reason,
        cause,
        details: { reason, integrationId: this.#integrationId },
      },
    );
    return this.#fatal;
  }

  async #markNeedsReauthorization(
    reason: CrmErrorReason,
    providerCode: string | undefined,
    integration: CrmIntegration | undefined,
    cause: unknown,
  ): Promise<CrmAuthenticationError> {
    const error = this.#markFatalLocally(reason, providerCode, cause);
    this.#logger.warn('Salesforce integration needs re-authorisation', {
      integrationId: this.#integrationId,
      reason,
      providerCode,
    });
    if (integration && this.#integrations) {
      const marker: CrmReauthorizationMarker = {
        required: true,
        reason,
        at: this.#clock.now().toISOString(),
      };
      if (providerCode) marker.providerCode = providerCode;
      try {
        await this.#integrations.update(integration.id, {
          syncEnabled: false,
          settings: { ...integration.settings, [REAUTHORIZATION_SETTING]: marker },
        });
      } catch (storageError) {
        this.#logger.error('Could not record that the Salesforce integration needs re-authorisation', {
          integrationId: integration.id,
          error: storageError instanceof Error ? storageError.message : String(storageError),
        });
      }
    }
    return error;
  }

  #apply(tokens: SalesforceTokens): SalesforceTokens {
    const previous = this.#tokens;
    this.#tokens = { ...tokens };
    if (
      !previous ||
      previous.accessToken !== tokens.accessToken ||
      previous.instanceUrl !== tokens.instanceUrl
    ) {
      this.#onTokens?.({ accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl });
    }
    return this.#tokens;
  }
}

function mergeTokens(
  previous: SalesforceTokens,
  fresh: SalesforceTokenSet | SalesforceTokens,
  now: Date,
): SalesforceTokens {
  const merged: SalesforceTokens = {
    accessToken: fresh.accessToken,
    instanceUrl: fresh.instanceUrl || previous.instanceUrl,
  };
  // Without rotation Salesforce sends no refresh token: keep the old one.
  const refreshToken = fresh.refreshToken ?? previous.refreshToken;
  if (refreshToken) merged.refreshToken = refreshToken;
  const id = fresh.id ?? previous.id;
  if (id) merged.id = id;
  merged.issuedAt = fresh.issuedAt ?? now;
  const scope = fresh.scope ?? previous.scope;
  if (scope) merged.scope = scope;
  return merged;
}
