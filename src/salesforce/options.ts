import type { Connection } from 'jsforce';
import { z } from 'zod';
import { CrmConfigurationError } from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmFieldMappingInput } from '../core/models.js';
import type { CrmSleep } from '../core/sleep.js';
import { assertKnownOptions } from '../internal/options.js';
import type { SalesforceTokens } from './auth/token-set.js';
import type { SalesforceBulkOptions } from './bulk.js';
import type { SalesforceRetryOptions } from './retry.js';

/** Default Salesforce REST API version (jsforce's own default, 50.0, is years old). */
export const DEFAULT_SALESFORCE_API_VERSION = '66.0';

/** OAuth client settings jsforce can refresh a token with. */
export interface SalesforceOAuthClientConfig {
  clientId: string;
  clientSecret?: string;
  /** @default 'https://login.salesforce.com' */
  loginUrl?: string;
  redirectUri?: string;
}

/** Anything with a `refresh(refreshToken)` method, e.g. `SalesforceOAuth` from this package. */
export interface SalesforceTokenRefresher {
  refresh(
    refreshToken: string,
  ): Promise<{ accessToken: string; refreshToken?: string | undefined; instanceUrl?: string | undefined }>;
}

/**
 * Options of {@link SalesforceProvider}. Give either `connection` (a jsforce `Connection`) or
 * `instanceUrl` + `accessToken`. Unknown keys are rejected.
 */
export interface SalesforceProviderOptions {
  /**
   * A ready jsforce `Connection`. The provider switches off its HTTP retry (it owns retries) and
   * upgrades jsforce's default version 50.0 to {@link DEFAULT_SALESFORCE_API_VERSION}. If the
   * connection can refresh by itself (`oauth2.clientId` or `refreshFn`), jsforce does so on every
   * 401 without a loop guard; prefer a plain connection plus `refreshAccessToken`.
   */
  connection?: Connection;
  /** Instance origin, e.g. `https://acme.my.salesforce.com` (no path, no trailing slash). */
  instanceUrl?: string;
  /** OAuth access token (session id). */
  accessToken?: string;
  /** Refresh token; needs `oauth` (or use `refreshAccessToken`). */
  refreshToken?: string;
  /** How to refresh with `refreshToken`: OAuth client settings or a `SalesforceOAuth`-like object. */
  oauth?: SalesforceOAuthClientConfig | SalesforceTokenRefresher;
  /**
   * Salesforce REST API version.
   * @default '66.0'
   */
  apiVersion?: string;
  /**
   * Called once when Salesforce answers `INVALID_SESSION_ID`; the failed call is retried once with
   * the new token. Pass e.g. `() => tokenManager.refresh().then((t) => t.accessToken)`.
   * Takes precedence over `refreshToken` + `oauth`.
   */
  refreshAccessToken?: () => Promise<string | { accessToken: string; instanceUrl?: string | undefined }>;
  /**
   * Told about every refresh done with `refreshToken` + `oauth` (`instanceUrl` is the new one, or
   * the current one when the refresh did not change it); persist a rotated refresh token here.
   */
  onTokenRefresh?: (tokens: SalesforceTokens) => void | Promise<void>;
  /**
   * Secrets of the host's own that could reach an error or a log line through this provider (e.g.
   * the client secret a `refreshAccessToken` of yours puts in its error). Read on every log line
   * and every refresh failure; their exact values (8 characters or longer) become `[REDACTED]`.
   * A `CrmError` your refresher throws is passed on unchanged: give it `knownSecrets` yourself.
   * The provider's own access and refresh tokens are always redacted.
   */
  secrets?: () => Iterable<string>;
  /**
   * Contact field holding the host id (an External ID field). `null`: match contacts by Email.
   * @default 'MarkMail_ID__c'
   */
  externalIdField?: string | null;
  /**
   * Campaign field holding the host campaign/list id (an External ID field).
   * @default 'MarkMail_Campaign_ID__c'
   */
  campaignExternalIdField?: string;
  /**
   * Lead field holding the lead's external id; leads are upserted on it. `null`: plain create.
   * @default 'MarkMail_ID__c'
   */
  leadExternalIdField?: string | null;
  /**
   * Task field (an External ID field) holding an email activity's externalId; activities are then
   * upserted on it (atomic idempotency). `null`: the id is kept as a `[mm:…]` marker at the end of
   * the Task Subject and looked up before insert (works in any org; not atomic under concurrency).
   * @default null
   */
  activityExternalIdField?: string | null;
  /**
   * `bulkSyncContacts` in `auto` mode uses sObject Collections up to this many records and Bulk
   * API 2.0 above it.
   * @default 2000
   */
  bulkThreshold?: number;
  /**
   * How far before its cursor `listContactChanges` starts each read, in milliseconds, so changes
   * whose transaction committed after later-stamped records were read are not skipped. The feed
   * is at least once: changes inside this window may be delivered again.
   * @default 600000 (10 minutes: the longest a synchronous Salesforce API call may run)
   */
  changeLookbackMs?: number;
  /**
   * `listContactChanges` (and so `SyncEngine.pullContacts`) reads through a Bulk API 2.0 query job
   * when its first REST page reports more than this many changed records (`totalSize`): an
   * initial sync or a large change set. Smaller reads stay on the REST query API, and the probe
   * costs them nothing (its page is theirs); a Bulk read pays one extra call for it. Both read the
   * same SOQL, so cursors and guarantees do not depend on the route. `null`: always REST.
   * @default 10000 (Salesforce's guidance: Bulk query jobs suit reads of 10,000 records or more)
   */
  bulkQueryThreshold?: number | null;
  /**
   * Records per results page of a Bulk API 2.0 query job (`maxRecords`). Each page is held whole
   * in memory while its rows are handed out (~200 bytes a contact), the next one is read meanwhile,
   * and each page is one API call.
   * @default 25000
   */
  bulkQueryPageSize?: number;
  /** Extra host ↔ Salesforce field mappings for contacts. */
  fieldMappings?: CrmFieldMappingInput[];
  /**
   * Refuse (with `CrmRateLimitError`) any request that would take the org's daily API usage, as
   * last reported by `Sforce-Limit-Info`, past this fraction of its limit. `null` disables the guard.
   * @default 0.9
   */
  maxApiUsageRatio?: number | null;
  /**
   * While `maxApiUsageRatio` refuses requests, usage is read again from the org (`GET /limits`,
   * one call) at most this often, in milliseconds: the daily allowance is a rolling 24-hour
   * window and may be raised, so a long-lived provider resumes on its own. The refusal's
   * `retryAfterMs` says when the next re-read is due.
   * @default 300000 (5 minutes)
   */
  apiUsageRecheckMs?: number;
  /**
   * Every HTTP request is cancelled (at the socket) when no complete answer arrived within this
   * many milliseconds; reads and keyed upserts are then retried, other writes fail with
   * `CrmConnectionError` (`providerCode: 'TIMEOUT'`). Bulk uploads use `bulk.uploadTimeoutMs`.
   * @default 120000 (2 minutes; jsforce alone waits 30 minutes)
   */
  requestTimeoutMs?: number;
  /**
   * Calls slower than this many milliseconds are logged with `logger.warn`.
   * @default 30000
   */
  slowCallWarningMs?: number;
  /** Retry policy; `false` disables retries. */
  retry?: SalesforceRetryOptions | false;
  /** Bulk API 2.0 tuning. */
  bulk?: SalesforceBulkOptions;
  /**
   * sObject Collections requests in flight at once during `bulkSyncContacts`.
   * @default 4
   */
  concurrency?: number;
  /**
   * `Lead.Status` value to convert leads into. By default the provider asks Salesforce for the
   * converted `LeadStatus` and falls back to `Closed - Converted`.
   */
  leadConvertedStatus?: string;
  /** Sent as `Sforce-Call-Options: client=<name>` on connections the provider builds. */
  clientName?: string;
  /**
   * `fetch` every HTTP request is sent with, so that an abort (the `signal` of a call) cancels the
   * request at the socket, not only the waiting for it. jsforce's own request function cannot be
   * cancelled from outside, only by its timeout.
   *
   * Defaults to `globalThis.fetch`, except when jsforce would route through a proxy (an
   * `HTTP(S)_PROXY` variable is set, or the `connection` you pass has a proxy transport): then
   * jsforce sends the requests, and an aborted request is cut by `requestTimeoutMs` at the latest.
   * Pass a fetch bound to your proxy (e.g. undici's `fetch` with a `ProxyAgent` dispatcher) to get
   * both. `false`: always let jsforce send.
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch | false;
  /** Logger; silent by default. Messages never contain tokens. */
  logger?: CrmLogger;
  /** Time source. @default system clock */
  clock?: { now(): Date };
  /** Sleep used between retries and polls. @default timers */
  sleep?: CrmSleep;
}

const functionSchema = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function');
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a Salesforce field API name');

const OptionsSchema = z.strictObject({
  connection: z.custom<Connection>((v) => typeof v === 'object' && v !== null).optional(),
  instanceUrl: z.string().min(1).optional(),
  accessToken: z.string().min(1).optional(),
  refreshToken: z.string().min(1).optional(),
  oauth: z.custom<SalesforceProviderOptions['oauth']>((v) => typeof v === 'object' && v !== null).optional(),
  apiVersion: z
    .string()
    .regex(/^\d{2}\.0$/, 'must look like 66.0')
    .optional(),
  refreshAccessToken: functionSchema.optional(),
  onTokenRefresh: functionSchema.optional(),
  secrets: functionSchema.optional(),
  externalIdField: fieldName.nullable().optional(),
  campaignExternalIdField: fieldName.optional(),
  leadExternalIdField: fieldName.nullable().optional(),
  activityExternalIdField: fieldName.nullable().optional(),
  bulkThreshold: z.number().int().nonnegative().optional(),
  changeLookbackMs: z.number().int().min(0).max(86_400_000).optional(),
  bulkQueryThreshold: z.number().int().nonnegative().nullable().optional(),
  bulkQueryPageSize: z.number().int().min(1).optional(),
  fieldMappings: z.array(z.unknown()).optional(),
  maxApiUsageRatio: z.number().gt(0).max(1).nullable().optional(),
  apiUsageRecheckMs: z.number().int().min(0).optional(),
  requestTimeoutMs: z.number().int().min(1).optional(),
  fetch: z.union([functionSchema, z.literal(false)]).optional(),
  slowCallWarningMs: z.number().int().min(0).optional(),
  retry: z
    .union([
      z.literal(false),
      z.strictObject({
        maxRetries: z.number().int().min(0).max(20).optional(),
        initialDelayMs: z.number().min(0).optional(),
        maxDelayMs: z.number().min(0).optional(),
      }),
    ])
    .optional(),
  bulk: z
    .strictObject({
      pollIntervalMs: z.number().min(0).optional(),
      pollTimeoutMs: z.number().min(0).optional(),
      maxJobBytes: z.number().int().min(1024).optional(),
      maxJobRecords: z.number().int().min(1).optional(),
      uploadTimeoutMs: z.number().int().min(1).optional(),
    })
    .optional(),
  concurrency: z.number().int().min(1).max(25).optional(),
  leadConvertedStatus: z.string().min(1).optional(),
  clientName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  logger: z.custom<CrmLogger>((v) => typeof v === 'object' && v !== null).optional(),
  clock: z.custom<{ now(): Date }>((v) => typeof (v as { now?: unknown })?.now === 'function').optional(),
  sleep: functionSchema.optional(),
});

/**
 * Validate provider options.
 * @throws {CrmConfigurationError} naming every unknown or invalid option (never its value).
 */
export function validateProviderOptions(options: unknown): SalesforceProviderOptions {
  if (typeof options === 'object' && options !== null) {
    assertKnownOptions('SalesforceProvider', options, Object.keys(OptionsSchema.shape), {
      provider: 'salesforce',
    });
  }
  const result = OptionsSchema.safeParse(options);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown option(s) ${issue.keys.join(', ')}`;
      return `${issue.path.join('.') || 'options'}: ${issue.message}`;
    });
    throw new CrmConfigurationError(`Invalid SalesforceProvider options: ${problems.join('; ')}`, {
      provider: 'salesforce',
    });
  }
  const value = options as SalesforceProviderOptions;
  if (!value.connection && !(value.instanceUrl && value.accessToken)) {
    throw new CrmConfigurationError(
      'SalesforceProvider needs `connection`, or `instanceUrl` and `accessToken`',
      {
        provider: 'salesforce',
      },
    );
  }
  if (value.connection && (value.instanceUrl || value.accessToken || value.refreshToken || value.oauth)) {
    throw new CrmConfigurationError(
      'SalesforceProvider: pass either `connection` or `instanceUrl`/`accessToken`/`refreshToken`/`oauth`, not both',
      { provider: 'salesforce' },
    );
  }
  if (value.refreshToken && !value.oauth && !value.refreshAccessToken) {
    throw new CrmConfigurationError(
      'SalesforceProvider: `refreshToken` needs `oauth` or `refreshAccessToken`',
      {
        provider: 'salesforce',
      },
    );
  }
  return value;
}

/**
 * Normalise an instance URL to its origin. jsforce builds `//services/…` from a trailing slash and
 * Bulk API 2.0 drops a path prefix, so both are refused or removed here.
 * @throws {CrmConfigurationError} when the URL is not an http(s) origin.
 */
export function normaliseInstanceUrl(instanceUrl: string): string {
  let url: URL;
  try {
    url = new URL(instanceUrl);
  } catch (cause) {
    throw new CrmConfigurationError('SalesforceProvider: `instanceUrl` is not a valid URL', {
      cause,
      provider: 'salesforce',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CrmConfigurationError('SalesforceProvider: `instanceUrl` must be http(s)', {
      provider: 'salesforce',
    });
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new CrmConfigurationError('SalesforceProvider: `instanceUrl` must be an origin without a path', {
      provider: 'salesforce',
    });
  }
  return url.origin;
}
