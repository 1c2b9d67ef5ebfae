import { type CrmError, isCrmError } from '../core/errors.js';
import { networkErrorCode } from './errors.js';

/**
 * Retry policy of the Salesforce provider. jsforce's own HTTP retry is switched off, so this is
 * the only retry layer.
 */
export interface SalesforceRetryOptions {
  /**
   * Retries after the first attempt (0 disables retrying).
   * @default 3
   */
  maxRetries?: number;
  /**
   * Delay before the first retry, in milliseconds; doubles on each further retry.
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * Upper bound of one delay, in milliseconds. A `Retry-After` longer than this is not waited
   * for: the error is thrown with `retryAfterMs` instead.
   * @default 30000
   */
  maxDelayMs?: number;
}

/** {@link SalesforceRetryOptions} with defaults applied. */
export type ResolvedRetryOptions = Required<SalesforceRetryOptions>;

/** Defaults of {@link SalesforceRetryOptions}. */
export const DEFAULT_RETRY: ResolvedRetryOptions = { maxRetries: 3, initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, half random, so
 * concurrent clients spread out but no retry fires immediately.
 *
 * @param retry - 0 for the first retry.
 */
export function backoffDelay(
  retry: number,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
) {
  const exponential = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** retry);
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * Whether `error` may be retried.
 *
 * - A refused connection never reached Salesforce: always safe.
 * - `UNABLE_TO_LOCK_ROW` means the DML was rolled back: always safe.
 * - Other transient failures (502/503/504, `SERVER_UNAVAILABLE`, resets, 429) may have been
 *   processed, so only idempotent operations (reads, deletes, updates by id, upserts keyed by an
 *   external id) are retried.
 */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!isCrmError(error)) return false;
  const network = networkErrorCode(error.cause);
  if (network === 'ECONNREFUSED') return true;
  if (error.providerCode === 'UNABLE_TO_LOCK_ROW') return true;
  if (!idempotent) return false;
  if (error.code === 'CONNECTION') return true;
  if (error.code === 'RATE_LIMIT') return error.status === 429 || error.status === 420;
  if (error.code === 'API') return error.retryable;
  return false;
}

/** The delay before retry number `retry` of `error`, or `undefined` when it must not be retried. */
export function retryDelayFor(
  error: CrmError,
  retry: number,
  options: ResolvedRetryOptions,
  retryAfterMs: number | undefined,
  random?: () => number,
): number | undefined {
  if (retry >= options.maxRetries) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs > options.maxDelayMs ? undefined : retryAfterMs;
  void error;
  return backoffDelay(retry, options, random);
}

/** Resolve retry options, rejecting nonsense values. */
export function resolveRetryOptions(input: SalesforceRetryOptions | false | undefined): ResolvedRetryOptions {
  if (input === false) return { ...DEFAULT_RETRY, maxRetries: 0 };
  return { ...DEFAULT_RETRY, ...(input ?? {}) };
}
