import type { CrmLogger } from '../core/logger.js';
import type { CrmIntegration, CrmStorage } from '../storage/types.js';

/**
 * Why a run was requested. `scheduled` runs come from the due-scan over `setSchedule`; the others
 * are the host's own words (a webhook, a resync button, …) and are kept for logs and callbacks.
 */
export type SyncRunReason = 'scheduled' | 'manual' | 'webhook' | 'resync' | (string & {});

/** What `runSync` receives besides the integration. */
export interface SyncRunContext {
  /** Aborted on `stop()` (after the grace period) or when the run's lease is lost: stop at the next page. */
  signal: AbortSignal;
  /** The reason of the request that started this run (coalesced requests keep the first reason). */
  reason: SyncRunReason;
  /** 0 for the first attempt; retries after a failure or a crashed worker count up. */
  attempt: number;
}

/** How a job ended on this worker; see {@link SyncRunEvent}. */
export type SyncRunOutcome =
  /** `runSync` resolved. */
  | 'succeeded'
  /** `runSync` threw; the engine retries with backoff or, past the retry limit, dead-letters it. */
  | 'failed'
  /** Not started: another run of the integration or the org's limit was busy; requeued with a short delay, no retry used. */
  | 'deferred'
  /** Not started: the integration is gone or its sync is disabled. */
  | 'skipped'
  /** Aborted by `stop()`; requeued to run again on any worker, no retry used. */
  | 'handed_back';

/** Reported to `onRunEnd` once per job a worker took. */
export interface SyncRunEvent {
  integrationId: string;
  /** The CRM org of the integration, when it was loaded. */
  orgId?: string;
  reason: SyncRunReason;
  outcome: SyncRunOutcome;
  /** Engine job id. */
  jobId: string;
  attempt: number;
  /** When `runSync` was called (absent when it was not). */
  startedAt?: Date;
  /** Time inside `runSync`, in milliseconds (0 when it was not called). */
  durationMs: number;
  /** For `deferred`: `integration_busy` or `org_limit`. */
  deferredBecause?: 'integration_busy' | 'org_limit';
  /** For `failed`: what `runSync` threw. */
  error?: unknown;
}

/** A run that kept failing and left the retry cycle: visible to the host until redriven. */
export interface SyncDeadLetter {
  /** Engine id of the dead-lettered job. */
  id: string;
  integrationId: string;
  reason: SyncRunReason;
  /** Attempts made before it was dead-lettered. */
  attempts: number;
  /** The last error, as `{ name, code?, message }` (never a payload or a secret). */
  lastError: SyncRunFailure | null;
  /** When it was dead-lettered. */
  failedAt: Date | null;
}

/** The serialised last error of a failed run, as stored by the engine. */
export interface SyncRunFailure {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
}

/** A per-integration schedule: run every `everyMs` (plus jitter). */
export interface SyncRunSchedule {
  /** Interval between runs, in milliseconds (≥ 1,000). */
  everyMs: number;
  /**
   * When the first run falls due.
   * @default now + a stable per-integration offset in [0, everyMs), so many integrations created
   * together do not all fall due at once
   */
  firstRunAt?: Date;
}

/** Options both runners share; each engine adds its own connection options. */
export interface SyncRunnerOptions {
  /** Where integrations, leases (run and per-org slots) live. */
  storage: CrmStorage;
  /**
   * Does one sync run of `integration`, e.g. builds a `SyncEngine` and calls `pushContacts` and
   * `pullContacts`. Must stop soon after `signal` aborts, and must resume from stored cursors
   * (a run can be delivered again after a crash).
   */
  runSync: (integration: CrmIntegration, context: SyncRunContext) => Promise<unknown>;
  /**
   * Runs this worker executes at once.
   * @default 10
   */
  concurrency?: number;
  /**
   * Hard limit of runs at once per CRM org (integrations with the same `orgId` share its API
   * limits), across every worker. Enforced with lease slots in `storage`; `undefined` = no limit.
   */
  perOrgConcurrency?: number;
  /**
   * TTL of the run lease and the org slot, in milliseconds; renewed every third of it. A killed
   * worker's run can start elsewhere once it expired, so this bounds crash recovery.
   * @default 10000
   */
  leaseTtlMs?: number;
  /**
   * Retries after a failed run, with exponential backoff, before the run is dead-lettered.
   * A crashed worker's run also uses one.
   * @default 5
   */
  retryLimit?: number;
  /**
   * First backoff delay in milliseconds; doubles per retry (with jitter) up to `retryDelayMaxMs`.
   * @default 1000
   */
  retryDelayMs?: number;
  /** @default 300000 */
  retryDelayMaxMs?: number;
  /**
   * Delay before a deferred job (integration busy, org full) is tried again, in milliseconds; a
   * random 0–50 % is added.
   * @default 1000
   */
  deferDelayMs?: number;
  /**
   * How often this worker scans for due schedules, in milliseconds. Every worker scans; claims are
   * exclusive, so running several is safe.
   * @default 1000
   */
  scanIntervalMs?: number;
  /**
   * Random extra delay added to each next scheduled run, 0 to `scheduleJitterMs` milliseconds.
   * @default 10 % of the schedule's interval, at most 30000
   */
  scheduleJitterMs?: number;
  /**
   * How long an idle worker waits before looking for jobs again, in milliseconds.
   * @default 250
   */
  pollIntervalMs?: number;
  /**
   * How long `stop({ graceful: true })` waits for runs in flight before aborting and handing them back.
   * @default 30000
   */
  gracePeriodMs?: number;
  /** Called once per job this worker took, whatever its outcome. Exceptions are logged and ignored. */
  onRunEnd?: (event: SyncRunEvent) => void;
  /** Called when a failed run has used its last retry and is dead-lettered. */
  onDeadLetter?: (event: SyncRunEvent) => void;
  /** @default silent */
  logger?: CrmLogger;
}

/** Options of {@link SyncRunner.stop}. */
export interface SyncRunnerStopOptions {
  /**
   * `true`: stop taking jobs, let runs in flight finish within `gracePeriodMs`, then abort and
   * hand back the rest. `false`: abort runs in flight now and hand them back.
   * @default true
   */
  graceful?: boolean;
}

/** Options of {@link SyncRunner.requestSync}. */
export interface SyncRequestOptions {
  /** Shown to `runSync` and callbacks. */
  reason: SyncRunReason;
  /** Run no earlier than this many milliseconds from now. @default 0 */
  delayMs?: number;
}

/** What both `createPgBossSyncRunner` and `createBullMqSyncRunner` return. */
export interface SyncRunner {
  /** Prepare the engine (queues, schedule table) and start taking jobs and scanning schedules. */
  start(): Promise<void>;
  /**
   * Stop taking jobs and scanning; see {@link SyncRunnerStopOptions}. Does not close the engine
   * client the host passed in. A process that only called `requestSync`/`setSchedule` calls it too,
   * to release the engine client the runner created.
   */
  stop(options?: SyncRunnerStopOptions): Promise<void>;
  /**
   * Ask for a run of `integrationId` (webhook, resync, …). Works without `start()`: a web process
   * can enqueue while worker processes run. While a run is queued or active, further
   * requests coalesce: at most one follow-up run is queued behind the active one.
   */
  requestSync(integrationId: string, options: SyncRequestOptions): Promise<void>;
  /** Run `integrationId` every `everyMs` (with jitter), or stop its schedule with `null`. */
  setSchedule(integrationId: string, schedule: SyncRunSchedule | null): Promise<void>;
  /** Runs that kept failing, newest first. */
  deadLetters(options?: { limit?: number }): Promise<SyncDeadLetter[]>;
  /** Queue dead-lettered runs again (all, or the given ids); resolves to how many moved. */
  redriveDeadLetters(options?: { ids?: string[] }): Promise<number>;
  /** Runs in flight on this worker. */
  readonly activeRuns: number;
}
