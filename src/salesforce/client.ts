import type { Connection } from 'jsforce';
import {
  type CrmApiUsage,
  CrmAuthenticationError,
  CrmConnectionError,
  CrmError,
  CrmRateLimitError,
  isCrmError,
  throwIfAborted,
} from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmSleep } from '../core/sleep.js';
import { raceWithSignal } from '../internal/abort.js';
import { SALESFORCE_PROVIDER, toSalesforceError } from './errors.js';
import type { StreamedBody } from './fetch-request.js';
import { isRetryable, type ResolvedRetryOptions, retryDelayFor } from './retry.js';
import {
  type AttemptRecord,
  CALL_CONTEXT,
  type CallContext,
  InstrumentedTransport,
  type OperationCounters,
  parseLimitInfo,
} from './transport.js';

const DEFAULT_USAGE_RECHECK_MS = 5 * 60_000;

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
  /** Per-attempt timeout for this call, ms (e.g. longer for a large upload). */
  timeoutMs?: number | undefined;
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
  /** Host secrets removed from a failed refresh's error (see the provider's `secrets` option). */
  knownSecrets?: () => Iterable<string>;
  random?: () => number;
  /**
   * While the guard refuses, re-read usage from the org (`GET /limits`) at most this often, ms:
   * the daily allowance is a rolling 24-hour window and can be raised, so a refusal is not final.
   * @default 300000
   */
  usageRecheckMs?: number;
  /** Time source, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Each HTTP request is cut (and cancelled) after this long, ms. @default 120000 */
  requestTimeoutMs?: number;
  /** Calls slower than this are logged as warnings, ms. @default 30000 */
  slowCallMs?: number;
  /**
   * Send HTTP requests with this `fetch`, so an abort cancels them at the socket. Absent: jsforce
   * sends them (a caller's abort then only stops the waiting; the timeout still cancels).
   */
  fetch?: typeof globalThis.fetch | undefined;
}

/** Defaults of {@link SalesforceClientOptions.requestTimeoutMs} and `slowCallMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
const DEFAULT_SLOW_CALL_MS = 30_000;

/**
 * The one place every Salesforce call goes through: error mapping, the retry loop, the
 * once-per-call session refresh, API-usage tracking and the `maxApiUsageRatio` guard.
 */
export class SalesforceClient {
  readonly connection: Connection;
  readonly #options: SalesforceClientOptions;
  #usage: CrmApiUsage | undefined;
  /** When `#usage` was last read from the org. */
  #usageAt = 0;
  #usageCheck: Promise<void> | undefined;
  /** Lets the one `GET /limits` probe past the guard it is run for. */
  #probing = false;
  #refreshing: Promise<void> | undefined;
  /** Every HTTP request this client sent. */
  totalApiCalls = 0;

  constructor(options: SalesforceClientOptions) {
    this.#options = options;
    this.connection = options.connection;
    new InstrumentedTransport(options.connection, {
      beforeRequest: () => this.#guardUsage(),
      timeoutMs: () => this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      fetch: options.fetch,
      onResponse: (_status, headers) => {
        const usage = parseLimitInfo(headers['sforce-limit-info']);
        if (usage) {
          this.#usage = usage;
          this.#usageAt = this.#now();
        }
      },
    });
  }

  /** Latest API usage from `Sforce-Limit-Info`, or `undefined` before the first response. */
  get apiUsage(): CrmApiUsage | undefined {
    return this.#usage ? { ...this.#usage } : undefined;
  }

  #warnIfSlow(operation: string, started: number): void {
    const elapsed = this.#now() - started;
    if (elapsed > (this.#options.slowCallMs ?? DEFAULT_SLOW_CALL_MS)) {
      this.#options.logger.warn('Salesforce call was slow', { operation, durationMs: elapsed });
    }
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : Date.now();
  }

  #overRatio(): boolean {
    const ratio = this.#options.maxApiUsageRatio;
    const usage = this.#usage;
    if (ratio === undefined || !usage || usage.max <= 0) return false;
    return (usage.used + 1) / usage.max > ratio;
  }

  #guardUsage(): void {
    this.totalApiCalls += 1;
    if (this.#probing) {
      this.#probing = false;
      return;
    }
    if (this.#overRatio()) {
      this.totalApiCalls -= 1;
      const usage = this.#usage as CrmApiUsage;
      const recheckMs = this.#options.usageRecheckMs ?? DEFAULT_USAGE_RECHECK_MS;
      throw new CrmRateLimitError(
        `Salesforce API usage ${usage.used}/${usage.max} would pass maxApiUsageRatio ${this.#options.maxApiUsageRatio}; request not sent`,
        {
          provider: SALESFORCE_PROVIDER,
          usage: { ...usage },
          providerCode: 'MAX_API_USAGE_RATIO',
          // Usage is read again from the org after this long.
          retryAfterMs: Math.max(0, this.#usageAt + recheckMs - this.#now()),
        },
      );
    }
  }

  /**
   * When the guard would refuse and the last reading is older than `usageRecheckMs`, read usage
   * again from the org (one `GET /limits`, shared by concurrent callers), so a long-lived worker
   * resumes once the rolling window frees calls or the limit is raised.
   */
  async #recheckUsage(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#overRatio()) return;
    const recheckMs = this.#options.usageRecheckMs ?? DEFAULT_USAGE_RECHECK_MS;
    if (!this.#usageCheck && this.#now() - this.#usageAt < recheckMs) return;
    this.#usageCheck ??= (async () => {
      try {
        this.#probing = true;
        const limits = await this.connection.request<{
          DailyApiRequests?: { Max?: number; Remaining?: number };
        }>({ method: 'GET', url: `/services/data/v${this.connection.version}/limits` });
        const daily = limits?.DailyApiRequests;
        if (typeof daily?.Max === 'number' && typeof daily.Remaining === 'number') {
          this.#usage = { used: Math.max(0, daily.Max - daily.Remaining), max: daily.Max };
        }
      } catch {
        // Over the limit the probe itself may be refused; its Sforce-Limit-Info still updated usage.
      } finally {
        this.#probing = false;
        this.#usageAt = this.#now();
        this.#usageCheck = undefined;
      }
    })();
    await raceWithSignal(this.#usageCheck, signal);
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
   * Send one GET and read its body a piece at a time as it arrives, instead of as one string,
   * through the same retries, session refresh, timeouts and abort as {@link request}. `read` gets
   * the attempt's text in pieces (split anywhere, never inside a character). The body is read off
   * the socket as fast as it comes (see `StreamedBody`), whatever pace `read` keeps. An attempt
   * whose body fails part-way (a dropped socket, a timeout, a 5xx on the retry) is retried like
   * any failed call: `read` is called again with the new attempt's body from its start, so it
   * must skip what it already handed on from the failed attempt. Whatever `read` itself throws
   * ends the call as it is (not mapped, not retried). Without `fetch` (jsforce sends the request)
   * the body arrives as one piece.
   */
  download(
    operation: string,
    request: SalesforceHttpRequest,
    options: ClientCallOptions,
    read: (text: AsyncIterable<string>) => Promise<void>,
  ): Promise<void> {
    return this.run(
      operation,
      async (context) => {
        const call = context[CALL_CONTEXT] as CallContext;
        call.streamBody = true;
        const whole = await this.connection.request<unknown>(
          { ...request, headers: { ...(request.headers ?? {}) } } as Parameters<Connection['request']>[0],
          { responseType: 'text/plain', ...context } as Parameters<Connection['request']>[1],
        );
        const body = call.attempt.body;
        const failed: { error?: unknown } = {};
        try {
          await read(body ? decodedText(body, failed) : wholeText(whole));
        } catch (error) {
          if ('error' in failed && error === failed.error) throw error;
          throw new ReaderFailure(error);
        } finally {
          body?.cancel();
        }
      },
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
      const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const started = this.#now();
      try {
        await this.#recheckUsage(options.signal);
        const context: CallContext = { counters, attempt, timeoutMs, signal: options.signal };
        const result = await raceWithSignal(fn({ [CALL_CONTEXT]: context }), options.signal);
        this.#warnIfSlow(operation, started);
        return result;
      } catch (thrown) {
        if (thrown instanceof ReaderFailure) throw thrown.error;
        this.#warnIfSlow(operation, started);
        // jsforce reports its own timeout as an AbortError; the caller's abort is told apart by its signal.
        const raw =
          thrown instanceof Error && thrown.name === 'AbortError' && !options.signal?.aborted
            ? new CrmConnectionError(`Salesforce ${operation} failed: no response within ${timeoutMs} ms`, {
                cause: thrown,
                provider: SALESFORCE_PROVIDER,
                providerCode: 'TIMEOUT',
              })
            : thrown;
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
        counters.retries = (counters.retries ?? 0) + 1;
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

  /** The retry policy every call uses (for callers that run their own attempt loop, e.g. Bulk uploads). */
  get retryOptions(): ResolvedRetryOptions {
    return this.#options.retry;
  }

  /** True when an expired session can be refreshed. */
  get canRefresh(): boolean {
    return this.#options.refreshAccessToken !== undefined;
  }

  /**
   * Refresh the session after a call made with `staleToken` was refused as expired (shared with
   * concurrent callers; skipped when the token was already replaced).
   */
  refreshSession(staleToken: string | undefined, signal?: AbortSignal): Promise<void> {
    return this.#refresh(staleToken, signal);
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
        // A CrmError passes through as it is (whoever built it chose its message); anything else is
        // wrapped with the host's registered secrets removed from its message and stack.
        throw isCrmError(error)
          ? error
          : new CrmAuthenticationError('Salesforce session refresh failed', {
              cause: error,
              provider: SALESFORCE_PROVIDER,
              providerCode: 'REFRESH_FAILED',
              knownSecrets: this.#options.knownSecrets?.() ?? [],
            });
      } finally {
        this.#refreshing = undefined;
      }
    })();
    await raceWithSignal(this.#refreshing, signal);
  }
}

/** What the reader of a {@link SalesforceClient.download} threw: passed on as it is. */
class ReaderFailure {
  constructor(readonly error: unknown) {}
}

/** The UTF-8 text of `body`, a piece per chunk; a failed read is noted in `failed` before it is thrown. */
async function* decodedText(body: StreamedBody, failed: { error?: unknown }): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) yield decoder.decode(chunk, { stream: true });
  } catch (error) {
    failed.error = error;
    throw error;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** A body jsforce read whole, as one piece. */
async function* wholeText(body: unknown): AsyncGenerator<string> {
  if (typeof body === 'string' && body !== '') yield body;
}

/** Wrap a non-CrmError thrown outside a call (programming error) so callers see the tree. */
export function asCrmError(error: unknown, operation: string): Error {
  if (isCrmError(error) || (error instanceof Error && error.name === 'AbortError')) return error as Error;
  return new CrmError(`Salesforce ${operation} failed`, { cause: error, provider: SALESFORCE_PROVIDER });
}
