/**
 * When a rejected record is tried again. Transient failures (locks, limits, timeouts, the network)
 * are retried on later runs with exponential backoff up to `maxAttempts`; other failures (bad data,
 * validation rules, duplicates) wait until the host changes the record, since sending the same
 * content again would fail the same way.
 */
export interface SyncRetryPolicy {
  /**
   * Attempts before a record is marked as needing attention.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Delay before the first retry, in milliseconds; doubles per attempt.
   * @default 60_000
   */
  baseDelayMs?: number;
  /**
   * Longest delay between retries, in milliseconds.
   * @default 86_400_000 (one day)
   */
  maxDelayMs?: number;
  /**
   * Error codes retried automatically, replacing the defaults ({@link DEFAULT_RETRYABLE_CODES}).
   */
  retryableCodes?: ReadonlyArray<string>;
}

/** Codes retried by default: Salesforce's transient errors plus the package's own transient kinds. */
export const DEFAULT_RETRYABLE_CODES: ReadonlyArray<string> = [
  'UNABLE_TO_LOCK_ROW',
  'REQUEST_LIMIT_EXCEEDED',
  'SERVER_UNAVAILABLE',
  'QUERY_TIMEOUT',
  'TIMEOUT',
  'INTERNAL_ERROR',
  'UNKNOWN_EXCEPTION',
  'CONNECTION',
  'RATE_LIMIT',
  'NO_RESULT',
];

/** Retry bookkeeping kept in a status row's `state.retry`. */
export interface SyncRetryState {
  attempts: number;
  code: string;
  retryable: boolean;
  /** ISO time of the next automatic attempt, or `null` when none is planned. */
  nextAttemptAt: string | null;
  /** No more automatic attempts: the record needs attention. */
  exhausted: boolean;
}

/** {@link SyncRetryPolicy} with defaults applied. */
export class RetryPlanner {
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #codes: Set<string>;

  constructor(policy: SyncRetryPolicy = {}) {
    this.#maxAttempts = Math.max(1, policy.maxAttempts ?? 5);
    this.#baseDelayMs = Math.max(0, policy.baseDelayMs ?? 60_000);
    this.#maxDelayMs = Math.max(this.#baseDelayMs, policy.maxDelayMs ?? 86_400_000);
    this.#codes = new Set(policy.retryableCodes ?? DEFAULT_RETRYABLE_CODES);
  }

  /** Whether `code` is retried without a change to the record. */
  isRetryable(code: string, hint?: boolean): boolean {
    return this.#codes.has(code) || hint === true;
  }

  /** State after one more failed attempt. `previous` counts only if the content is the same. */
  next(previous: SyncRetryState | undefined, code: string, now: Date, hint?: boolean): SyncRetryState {
    const attempts = (previous?.attempts ?? 0) + 1;
    const retryable = this.isRetryable(code, hint);
    const exhausted = !retryable || attempts >= this.#maxAttempts;
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempts - 1));
    return {
      attempts,
      code,
      retryable,
      exhausted,
      nextAttemptAt: exhausted ? null : new Date(now.getTime() + delay).toISOString(),
    };
  }

  /** `due` when the record should be sent now, else why not. */
  decide(state: SyncRetryState | undefined, now: Date): 'due' | 'backoff' | 'needs_attention' {
    if (!state) return 'due';
    if (state.exhausted) return 'needs_attention';
    if (state.nextAttemptAt !== null && Date.parse(state.nextAttemptAt) > now.getTime()) return 'backoff';
    return 'due';
  }
}
