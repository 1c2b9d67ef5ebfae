import type { SyncDeadLetter, SyncRunFailure, SyncRunReason } from '../types.js';

/**
 * The engine-specific half of a sync runner (pg-boss, BullMQ). The engine-agnostic half
 * ({@link createSyncJobRunner}) owns leases, per-org slots, deferral, heartbeats and shutdown, so
 * each adapter only maps these calls onto its engine.
 */
export interface SyncJobTransport {
  /** Create queues / tables; idempotent. */
  setup(): Promise<void>;
  /**
   * Enqueue runs, coalescing per integration id: at most one queued job per integration next to
   * the active one. MUST be safe to call from any process.
   */
  enqueue(requests: ReadonlyArray<SyncJobRequest>): Promise<void>;
  /** Claim up to `max` ready jobs for this worker (may return fewer). */
  fetch(max: number): Promise<SyncJob[]>;
  /** Keep the claims on `jobs` alive; resolves to the ids whose claim was lost. */
  heartbeat(jobs: ReadonlyArray<SyncJob>): Promise<Set<string>>;
  complete(job: SyncJob): Promise<void>;
  /** Fail the attempt: the engine retries with backoff or dead-letters past the retry limit. */
  fail(job: SyncJob, failure: SyncRunFailure): Promise<void>;
  /** End the attempt without using a retry and run it again after `delayMs` (coalescing applies). */
  requeue(job: SyncJob, delayMs: number): Promise<void>;
  schedules: SyncScheduleStore;
  deadLetters(limit: number): Promise<SyncDeadLetter[]>;
  redrive(ids?: string[]): Promise<number>;
  /** Stop background work the transport started (not the host's client). */
  close(): Promise<void>;
}

/** One requested run. */
export interface SyncJobRequest {
  integrationId: string;
  reason: SyncRunReason;
  delayMs?: number;
}

/** A claimed job. */
export interface SyncJob {
  id: string;
  integrationId: string;
  reason: SyncRunReason;
  /** 0-based attempt number. */
  attempt: number;
  /** Retries allowed in total; `attempt >= retryLimit` means a failure now dead-letters. */
  retryLimit: number;
  /** Engine-specific handle (pg-boss attempt, BullMQ job + token). */
  handle?: unknown;
}

/** Per-integration schedules with a `next_run_at`, claimed by a due-scan. */
export interface SyncScheduleStore {
  set(integrationId: string, everyMs: number, nextRunAt: Date): Promise<void>;
  remove(integrationId: string): Promise<void>;
  /**
   * Atomically take up to `limit` schedules due now and move each one's `next_run_at` to
   * now + everyMs + random(0, jitter) where jitter = min(everyMs × 0.1, jitterCapMs) or
   * `jitterMs` when given. Two scanners never claim the same due schedule.
   */
  claimDue(limit: number, jitterMs: number | undefined): Promise<string[]>;
}
