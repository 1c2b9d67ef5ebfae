import { CrmConfigurationError, isCrmError } from '../../core/errors.js';
import { redactText } from '../../security/redact.js';
import type { CrmIntegration } from '../../storage/types.js';
import { type HeldLease, holdLease, isSyncLeaseHeldError } from '../../sync/lease.js';
import type {
  SyncDeadLetter,
  SyncRequestOptions,
  SyncRunEvent,
  SyncRunFailure,
  SyncRunner,
  SyncRunnerStopOptions,
  SyncRunSchedule,
} from '../types.js';
import { runLeaseKey } from './lease-keys.js';
import type { ResolvedSyncRunnerOptions } from './options.js';
import { scheduleOffsetMs } from './schedule-offset.js';
import type { SyncJob, SyncJobTransport } from './transport.js';

/** How many due schedules one scan claims per round trip. */
const SCAN_BATCH = 500;
/** How often claims on running jobs are refreshed (pg-boss's shortest heartbeat is 10 s). */
const HEARTBEAT_MS = 3_000;

interface ActiveRun {
  job: SyncJob;
  controller: AbortController;
  /** Set before aborting for `stop()`: the run goes back to the queue instead of failing. */
  handBack: boolean;
}

/**
 * The engine-agnostic sync runner: a pull loop that claims jobs from `transport`, and for each one
 * takes the integration's run lease and an org slot in storage (the authoritative exclusion and
 * per-org limit; the engine's own per-key exclusion is the first line), calls `runSync`, then
 * completes, fails (engine retry/backoff/dead letter) or requeues the job. A timer scans due
 * schedules into the same queue, so scheduled and event-driven runs share one path.
 */
export function createSyncJobRunner(
  transport: SyncJobTransport,
  options: ResolvedSyncRunnerOptions,
): SyncRunner {
  const { storage, logger, concurrency } = options;
  const active = new Map<string, ActiveRun>();
  let started = false;
  let running = false;
  let loop: Promise<void> | null = null;
  let scanTimer: ReturnType<typeof setTimeout> | null = null;
  let scanning: Promise<void> | null = null;
  let heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  let wake: (() => void) | null = null;
  const settled = new Set<() => void>();
  // Set up the engine once, on start() or on the first request from a process that only enqueues.
  let prepared: Promise<void> | null = null;
  const prepare = (): Promise<void> => {
    prepared ??= transport.setup().catch((error: unknown) => {
      prepared = null;
      throw error;
    });
    return prepared;
  };

  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Wait `ms`, or less when a job is requested locally, a run ends or `stop()` is called. */
  const idle = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        if (wake === done) wake = null;
        resolve();
      }
      wake = done;
    });

  const emit = (event: SyncRunEvent): void => {
    try {
      options.onRunEnd?.(event);
    } catch (error) {
      logger.warn('onRunEnd threw', { error: String(error) });
    }
  };

  async function pullLoop(): Promise<void> {
    while (running) {
      const free = concurrency - active.size;
      if (free <= 0) {
        await idle(options.pollIntervalMs);
        continue;
      }
      let jobs: SyncJob[];
      try {
        jobs = await transport.fetch(free);
      } catch (error) {
        logger.error('sync runner could not fetch jobs', { error: describe(error) });
        await idle(options.pollIntervalMs);
        continue;
      }
      for (const job of jobs) {
        // Claimed after stop() began: give it straight back rather than start it.
        if (!running) void transport.requeue(job, 0).catch(() => undefined);
        else void execute(job);
      }
      // Fewer jobs than asked for is no sign of an empty queue (concurrent workers skip each
      // other's locked rows), so only an empty fetch waits; a full worker waits for a run to end.
      if (jobs.length === 0) await idle(options.pollIntervalMs);
    }
  }

  async function execute(job: SyncJob): Promise<void> {
    const run: ActiveRun = { job, controller: new AbortController(), handBack: false };
    active.set(job.id, run);
    const base = {
      integrationId: job.integrationId,
      reason: job.reason,
      jobId: job.id,
      attempt: job.attempt,
    };
    try {
      const integration = await storage.integrations.get(job.integrationId);
      if (!integration?.syncEnabled) {
        await transport.complete(job);
        emit({ ...base, outcome: 'skipped', durationMs: 0 });
        return;
      }
      const event = { ...base, orgId: integration.orgId };
      const runLease = await tryHold(runLeaseKey(job.integrationId), run);
      if (!runLease) {
        await defer(job, event, 'integration_busy');
        return;
      }
      let orgSlot: HeldLease | null = null;
      try {
        if (options.perOrgConcurrency !== undefined) {
          orgSlot = await takeOrgSlot(integration.orgId, options.perOrgConcurrency, run);
          if (!orgSlot) {
            await defer(job, event, 'org_limit');
            return;
          }
        }
        await runOnce(run, integration, event);
      } finally {
        await orgSlot?.release();
        await runLease.release();
      }
    } catch (error) {
      // Storage or engine trouble around the run (not the run itself): let the engine retry it.
      logger.error('sync runner failed around a run', {
        integrationId: job.integrationId,
        error: describe(error),
      });
      await transport.fail(job, serialise(error)).catch(() => undefined);
      emit({ ...base, outcome: 'failed', durationMs: 0, error });
    } finally {
      active.delete(job.id);
      for (const resolve of settled) resolve();
      notify();
    }
  }

  async function runOnce(
    run: ActiveRun,
    integration: CrmIntegration,
    event: Omit<SyncRunEvent, 'outcome' | 'durationMs'>,
  ): Promise<void> {
    const { job, controller } = run;
    const startedAt = new Date();
    const clock = performance.now();
    try {
      await options.runSync(integration, {
        signal: controller.signal,
        reason: job.reason,
        attempt: job.attempt,
      });
    } catch (error) {
      const durationMs = performance.now() - clock;
      if (run.handBack) {
        await transport.requeue(job, 0);
        emit({ ...event, outcome: 'handed_back', startedAt, durationMs });
        return;
      }
      await transport.fail(job, serialise(error));
      const failed: SyncRunEvent = { ...event, outcome: 'failed', startedAt, durationMs, error };
      logger.warn('sync run failed', {
        integrationId: job.integrationId,
        attempt: job.attempt,
        error: describe(error),
      });
      emit(failed);
      if (job.attempt >= job.retryLimit) {
        logger.error('sync run dead-lettered', {
          integrationId: job.integrationId,
          attempts: job.attempt + 1,
        });
        try {
          options.onDeadLetter?.(failed);
        } catch (callbackError) {
          logger.warn('onDeadLetter threw', { error: String(callbackError) });
        }
      }
      return;
    }
    await transport.complete(job);
    emit({ ...event, outcome: 'succeeded', startedAt, durationMs: performance.now() - clock });
  }

  async function defer(
    job: SyncJob,
    event: Omit<SyncRunEvent, 'outcome' | 'durationMs'>,
    because: 'integration_busy' | 'org_limit',
  ): Promise<void> {
    const delay = Math.round(options.deferDelayMs * (1 + Math.random() * 0.5));
    await transport.requeue(job, delay);
    emit({ ...event, outcome: 'deferred', durationMs: 0, deferredBecause: because });
  }

  /** Hold `key` without waiting; a lost renewal aborts the run (another worker may hold it now). */
  async function tryHold(key: string, run: ActiveRun): Promise<HeldLease | null> {
    try {
      return await holdLease({
        storage,
        key,
        ttlMs: options.leaseTtlMs,
        waitMs: 0,
        logger,
        sleep: async () => undefined,
        onLost: (error) => run.controller.abort(error),
      });
    } catch (error) {
      if (isSyncLeaseHeldError(error)) return null;
      throw error;
    }
  }

  /**
   * One of `limit` lease slots of the org (`jobs:org:<org>:<n>`): a counting semaphore in storage,
   * so the limit holds across workers and a dead worker's slot frees itself on expiry. Starts at a
   * random slot so workers do not all contend for slot 0.
   */
  async function takeOrgSlot(orgId: string, limit: number, run: ActiveRun): Promise<HeldLease | null> {
    const first = Math.floor(Math.random() * limit);
    for (let i = 0; i < limit; i++) {
      const slot = await tryHold(`jobs:org:${orgId}:${(first + i) % limit}`, run);
      if (slot) return slot;
    }
    return null;
  }

  async function heartbeat(): Promise<void> {
    const runs = [...active.values()];
    if (runs.length === 0) return;
    try {
      const lost = await transport.heartbeat(runs.map((r) => r.job));
      for (const run of runs) {
        if (!lost.has(run.job.id)) continue;
        logger.error('sync job claim lost; aborting the run', { integrationId: run.job.integrationId });
        run.controller.abort(new Error('The engine no longer holds this job for this worker'));
      }
    } catch (error) {
      logger.warn('sync job heartbeat failed', { error: describe(error) });
    }
  }

  async function scan(): Promise<void> {
    try {
      for (;;) {
        const due = await transport.schedules.claimDue(SCAN_BATCH, options.scheduleJitterMs);
        if (due.length > 0) {
          await transport.enqueue(due.map((integrationId) => ({ integrationId, reason: 'scheduled' })));
          notify();
        }
        if (due.length < SCAN_BATCH || !running) break;
      }
    } catch (error) {
      logger.error('sync schedule scan failed', { error: describe(error) });
    }
  }

  function scheduleScan(): void {
    if (!running) return;
    scanTimer = setTimeout(() => {
      scanning = scan().finally(() => {
        scanning = null;
        scheduleScan();
      });
    }, options.scanIntervalMs);
  }

  const whenIdle = (): Promise<void> =>
    new Promise((resolve) => {
      if (active.size === 0) return resolve();
      const check = (): void => {
        if (active.size > 0) return;
        settled.delete(check);
        resolve();
      };
      settled.add(check);
    });

  return {
    get activeRuns() {
      return active.size;
    },

    async start() {
      if (started) return;
      await prepare();
      started = true;
      running = true;
      heartbeatTimer = setInterval(() => void heartbeat(), HEARTBEAT_MS);
      loop = pullLoop();
      scanning = scan().finally(() => {
        scanning = null;
        scheduleScan();
      });
    },

    async stop(stopOptions: SyncRunnerStopOptions = {}) {
      if (!started) {
        // A process that only enqueued still releases what setup took (e.g. its own PgBoss).
        if (prepared) await prepared.then(() => transport.close()).catch(() => undefined);
        prepared = null;
        return;
      }
      started = false;
      running = false;
      if (scanTimer) clearTimeout(scanTimer);
      notify();
      await loop;
      await scanning;
      if (stopOptions.graceful !== false && active.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([whenIdle(), new Promise((r) => (timer = setTimeout(r, options.gracePeriodMs)))]);
        clearTimeout(timer);
      }
      for (const run of active.values()) {
        run.handBack = true;
        const reason = new Error('The sync runner stopped; the run was handed back to the queue');
        reason.name = 'AbortError';
        run.controller.abort(reason);
      }
      await whenIdle();
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      prepared = null;
      await transport.close();
    },

    async requestSync(integrationId: string, request: SyncRequestOptions) {
      checkId(integrationId, 'requestSync');
      if (typeof request?.reason !== 'string' || request.reason.length === 0) {
        throw new CrmConfigurationError('requestSync needs { reason }, e.g. { reason: "webhook" }');
      }
      const delayMs = request.delayMs ?? 0;
      if (!Number.isFinite(delayMs) || delayMs < 0) {
        throw new CrmConfigurationError('requestSync delayMs must be ≥ 0 milliseconds');
      }
      await prepare();
      await transport.enqueue([{ integrationId, reason: request.reason, delayMs }]);
      if (delayMs === 0) notify();
    },

    async setSchedule(integrationId: string, schedule: SyncRunSchedule | null) {
      checkId(integrationId, 'setSchedule');
      if (schedule === null) {
        await prepare();
        return transport.schedules.remove(integrationId);
      }
      const everyMs = schedule?.everyMs;
      if (typeof everyMs !== 'number' || !Number.isFinite(everyMs) || everyMs < 1_000) {
        throw new CrmConfigurationError('setSchedule everyMs must be a number of milliseconds ≥ 1000');
      }
      const first = schedule.firstRunAt ?? new Date(Date.now() + scheduleOffsetMs(integrationId, everyMs));
      if (!(first instanceof Date) || Number.isNaN(first.getTime())) {
        throw new CrmConfigurationError('setSchedule firstRunAt must be a valid Date');
      }
      await prepare();
      await transport.schedules.set(integrationId, Math.round(everyMs), first);
    },

    async deadLetters(listOptions: { limit?: number } = {}): Promise<SyncDeadLetter[]> {
      await prepare();
      return transport.deadLetters(listOptions.limit ?? 100);
    },

    async redriveDeadLetters(redriveOptions: { ids?: string[] } = {}): Promise<number> {
      await prepare();
      return transport.redrive(redriveOptions.ids);
    },
  };
}

function checkId(integrationId: unknown, method: string): void {
  if (typeof integrationId !== 'string' || integrationId.length === 0) {
    throw new CrmConfigurationError(`${method} needs an integration id (a non-empty string)`);
  }
}

/** The error as the engine stores it: name, code and a redacted message; never a payload. */
export function serialise(error: unknown): SyncRunFailure {
  if (isCrmError(error)) {
    return { name: error.name, message: error.message, code: error.code, retryable: error.retryable };
  }
  if (error instanceof Error) return { name: error.name, message: redactText(error.message) };
  return { name: 'Error', message: redactText(String(error)) };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
