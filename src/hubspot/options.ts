import { CrmConfigurationError } from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmSleep } from '../core/sleep.js';
import type { HubSpotAccessTokenSource } from './client.js';

/** API path generation: `2026-03` (date-based paths) or `v3` (legacy paths, unsupported from Sept. 2027). */
export type HubSpotApiVersion = '2026-03' | 'v3';

/** Options of `new HubSpotProvider(options)`. Unknown keys are an error. */
export interface HubSpotProviderOptions {
  /** A static token: an OAuth access token you refresh yourself, a private-app token or a service key. */
  accessToken?: string;
  /**
   * Called before each request for the current token; `forceRefresh: true` after HubSpot answered
   * 401 EXPIRED_AUTHENTICATION (once per call). Use it with `HubSpotTokenManager` for OAuth apps.
   */
  getAccessToken?: HubSpotAccessTokenSource;
  /**
   * Secrets of the host's own that could reach an error or a log line through this provider (e.g.
   * the client secret a `getAccessToken` of yours puts in its error). Read on every log line and
   * every token-source failure; their exact values (8 characters or longer) become `[REDACTED]`.
   * A `CrmError` your token source throws is passed on unchanged: give it `knownSecrets` yourself.
   * The provider's access tokens are always redacted.
   */
  secrets?: () => Iterable<string>;
  /** API origin. @default 'https://api.hubapi.com' */
  baseUrl?: string;
  /** Path family. @default '2026-03' */
  apiVersion?: HubSpotApiVersion;
  /**
   * Contact property holding the host id (`CrmContact.externalId`); must have unique values
   * (`hasUniqueValue`) so batch upsert can key on it. `null`: contacts are matched by email only.
   * @default 'markmail_id'
   */
  externalIdProperty?: string | null;
  /** Email engagement property holding an activity's `externalId` (unique values). @default 'markmail_activity_id' */
  activityIdProperty?: string;
  /** Extra contact properties read into `customFields` on `getContact` and pulls. @default [] */
  customProperties?: string[];
  /**
   * Overlap re-read on each pull before the stored position, ms: HubSpot's search index lags
   * writes, so a change can appear with an older `lastmodifieddate` than one already seen.
   * Re-read records are dropped by (id, lastmodifieddate).
   * @default 300000 (5 minutes)
   */
  pullOverlapMs?: number;
  /** Search page size for pulls (HubSpot caps it at 200). @default 200 */
  pullPageSize?: number;
  /** Retries after the first attempt. @default 4 */
  maxRetries?: number;
  /** First retry backoff, ms (doubles per attempt, full jitter; a 429's `Retry-After` wins). @default 500 */
  retryBaseMs?: number;
  /** Per-request timeout, ms. @default 60000 */
  timeoutMs?: number;
  /** Injected `fetch`. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Injected sleep for backoff. */
  sleep?: CrmSleep;
  /** Logger (silent by default; messages are redacted). */
  logger?: CrmLogger;
  /** Clock for `syncedAt`. @default the system clock */
  clock?: { now(): Date };
}

const KNOWN = new Set<string>([
  'accessToken',
  'getAccessToken',
  'secrets',
  'baseUrl',
  'apiVersion',
  'externalIdProperty',
  'activityIdProperty',
  'customProperties',
  'pullOverlapMs',
  'pullPageSize',
  'maxRetries',
  'retryBaseMs',
  'timeoutMs',
  'fetch',
  'sleep',
  'logger',
  'clock',
]);

/** Throws `CrmConfigurationError` naming an unknown or invalid option. */
export function validateHubSpotOptions(options: HubSpotProviderOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new CrmConfigurationError('HubSpotProvider options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new CrmConfigurationError(`HubSpotProvider: unknown option '${key}'`);
  }
  if (!options.accessToken && !options.getAccessToken) {
    throw new CrmConfigurationError('HubSpotProvider needs `accessToken` or `getAccessToken`');
  }
  if (options.secrets !== undefined && typeof options.secrets !== 'function') {
    throw new CrmConfigurationError(
      'HubSpotProvider: secrets must be a function returning the secret values',
    );
  }
  if (options.apiVersion !== undefined && options.apiVersion !== '2026-03' && options.apiVersion !== 'v3') {
    throw new CrmConfigurationError("HubSpotProvider: apiVersion must be '2026-03' or 'v3'");
  }
  if (options.pullPageSize !== undefined && !(options.pullPageSize >= 1 && options.pullPageSize <= 200)) {
    throw new CrmConfigurationError('HubSpotProvider: pullPageSize must be between 1 and 200');
  }
  if (options.baseUrl !== undefined && !URL.canParse(options.baseUrl)) {
    throw new CrmConfigurationError('HubSpotProvider: baseUrl must be an absolute URL');
  }
}
