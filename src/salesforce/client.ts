import type { Connection } from 'jsforce';
import {
  type CrmApiUsage,
  CrmAuthenticationError,
  CrmError,
  CrmRateLimitError,
  isCrmError,
  throwIfAborted,
} from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmSleep } from '../core/sleep.js';
import { raceWithSignal } from '../internal/abort.js';
import { SALESFORCE_PROVIDER, toSalesforceError } from './errors.js';
import { isRetryable, type ResolvedRetryOptions, retryDelayFor } from './retry.js';
import {
  type AttemptRecord,
  CALL_CONTEXT,
  type CallContext,
  InstrumentedTransport,
  type OperationCounters,
  parseLimitInfo,
} from './transport.js';

/** What a token refresh returns: the new access token, optionally with a new instance URL. */
export type SalesforceRefreshResult = string | { accessToken: string; instanceUrl?: string | undefined };

/** Options of one {@link SalesforceClient} call. */
export interface ClientCallOptions {
  /** Safe to repeat: reads, deletes, updates by id, upserts keyed by an external id. */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  /** Counters of the public operation this call belongs to. */
  counters?: OperationCounters | undefined;
  /** `false`: a single attempt, no retry and no refresh (streamed request bodies). */
  retry?: boolean;
}

/** A jsforce HTTP request as `Connection.request` takes it. */
export interface SalesforceHttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: string;
  headers?: Record<string, string>;
}

/** Dependencies of {@link SalesforceClient}. */
export interface SalesforceClientOptions {
  connection: Connection;
  retry: ResolvedRetryOptions;
  sleep: CrmSleep;
  logger: CrmLogger;
  maxApiUsageRatio: number | undefined;
  refreshAccessToken: (() => Promise<SalesforceRefreshResult>) | undefined;
  random?: () => number;
}

/**
 * The one place every Salesforce call goes through: error mapping, the retry loop, the
 * once-per-call session refresh, API-usage tracking and the `maxApiUsageRatio` guard.
 */
export class SalesforceClient {
  readonly connection: Connection;
  readonly #options: SalesforceClientOptions;
  #usage: CrmApiUsage | undefined;
  #refreshing: Promise<void> | undefined;
  /** Every HTTP request this client sent. */
  totalApiCalls = 0;

  constructor(options: SalesforceClientOptions) {
    this.#options = options;
    this.connection = options.connection;
    new InstrumentedTransport(options.connection, {
      beforeRequest: () => this.#guardUsage(),
      onResponse: (_status, headers) => {
        const usage = parseLimitInfo(headers['sforce-limit-info']);
        if (usage) this.#usage = usage;
      },
    });
  }

  /** Latest API usage from `Sforce-Limit-Info`, or `undefined` before the first response. */
  get apiUsage(): CrmApiUsage | undefined {
    return this.#usage ? { ...this.#usage } : undefined;
  }

  #guardUsage(): void {
    this.totalApiCalls += 1;
    const ratio = this.#options.maxApiUsageRatio;
    const usage = this.#usage;
    if (ratio === undefined || !usage || usage.max <= 0) return;
    if ((usage.used + 1) / usage.max > ratio) {
      this.totalApiCalls -= 1;
      throw new CrmRateLimitError(
        `Salesforce API usage ${usage.used}/${usage.max} would pass maxApiUsageRatio ${ratio}; request not sent`,
        { provider: SALESFORCE_PROVIDER, usage: { ...usage }, providerCode: 'MAX_API_USAGE_RATIO' },
      );
    }
  }

  /** Send one REST request through jsforce, with retries. Resolves to the parsed body. */
  request<T>(
    operation: string,
    request: SalesforceHttpRequest,
    options: ClientCallOptions,
    httpOptions: { responseType?: string } = {},
  ): Promise<T> {
    return this.run(
      operation,
      (context) =>
        this.connection.request<T>(
          { ...request, headers: { ...(request.headers ?? {}) } } as Parameters<Connection['request']>[0],
          { ...httpOptions, ...context } as Parameters<Connection['request']>[1],
        ) as unknown as Promise<T>,
      options,
    );
  }

  /**
   * Run `fn` (one or more jsforce calls) with error mapping, retries and session refresh. Pass
   * `context` as (part of) the options of `conn.request` so the transport can attribute the
   * request to this attempt (status, `Retry-After`, API-call count).
   */
  async run<T>(
    operation: string,
    fn: (context: Record<string, unknown>) => Promise<T>,
    options: ClientCallOptions,
  ): Promise<T> {
    const counters = options.counters ?? { apiCalls: 0 };
    let refreshed = false;
    for (let retry = 0; ; retry++) {
      throwIfAborted(options.signal);
      const attempt: AttemptRecord = {};
      try {
        const context: CallContext = { counters, attempt };
        return await raceWithSignal(fn({ [CALL_CONTEXT]: context }), options.signal);
      } catch (raw) {
        const error = toSalesforceError(raw, {
          operation,
          status: attempt.status && attempt.status >= 300 ? attempt.status : undefined,
          retryAfterMs: attempt.retryAfterMs,
          usage: this.apiUsage,
        });
        if (!isCrmError(error)) throw error; // AbortError
        if (options.retry === false) throw error;
        if (
          error instanceof CrmAuthenticationError &&
          error.providerCode === 'INVALID_SESSION_ID' &&
          !refreshed
        ) {
          if (!this.#options.refreshAccessToken) throw error;
          refreshed = true;
          await this.#refresh(attempt.accessToken, options.signal);
          retry -= 1; // a refresh retry does not count against the transient-failure budget
          continue;
        }
        if (!isRetryable(error, options.idempotent)) throw error;
        const delay = retryDelayFor(
          error,
          retry,
          this.#options.retry,
          attempt.retryAfterMs,
          this.#options.random,
        );
        if (delay === undefined) throw error;
        this.#options.logger.warn('Salesforce call failed; retrying', {
          operation,
          code: error.providerCode ?? error.code,
          status: error.status,
          retry: retry + 1,
          delayMs: delay,
        });
        await this.#options.sleep(delay, options.signal);
      }
    }
  }

  /** One refresh shared by concurrent callers; skipped when another caller already replaced the token. */
  async #refresh(staleToken: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.#refreshing) {
      await raceWithSignal(this.#refreshing, signal);
      return;
    }
    if (
      staleToken !== undefined &&
      this.connection.accessToken &&
      staleToken !== this.connection.accessToken
    ) {
      return;
    }
    const refresh = this.#options.refreshAccessToken;
    if (!refresh) return;
    this.#refreshing = (async () => {
      try {
        const result = await refresh();
        const accessToken = typeof result === 'string' ? result : result.accessToken;
        this.connection.accessToken = accessToken;
        if (typeof result !== 'string' && result.instanceUrl)
          this.connection.instanceUrl = result.instanceUrl;
        this.#options.logger.info('Salesforce session refreshed');
      } catch (error) {
        throw isCrmError(error)
          ? error
          : new CrmAuthenticationError('Salesforce session refresh failed', {
              cause: error,
              provider: SALESFORCE_PROVIDER,
              providerCode: 'REFRESH_FAILED',
            });
      } finally {
        this.#refreshing = undefined;
      }
    })();
    await raceWithSignal(this.#refreshing, signal);
  }
}

/** Wrap a non-CrmError thrown outside a call (programming error) so callers see the tree. */
export function asCrmError(error: unknown, operation: string): Error {
  if (isCrmError(error) || (error instanceof Error && error.name === 'AbortError')) return error as Error;
  return new CrmError(`Salesforce ${operation} failed`, { cause: error, provider: SALESFORCE_PROVIDER });
}
