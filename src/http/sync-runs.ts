import { type CrmError, isCrmError } from '../core/errors.js';
import type { CrmClock } from '../storage/types.js';
import type { SyncProgress } from '../sync/push.js';
import type { SyncReport } from '../sync/report.js';
import { HttpProblem } from './responses.js';

/** What a sync started over HTTP looks like in `/status` (JSON). */
export interface CrmHttpSyncRun {
  id: string;
  integrationId: string;
  entityType: 'contact' | 'campaign';
  /** What started it: `sync` (POST /sync/…) or `resync`. */
  trigger: 'sync' | 'resync';
  state: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  completedAt: string | null;
  /** Latest progress; `null` until the first batch. */
  progress: SyncProgress | null;
  /** Counts of the finished run. */
  result: {
    processed: number;
    created: number;
    updated: number;
    unchanged: number;
    failed: number;
    apiCalls: number;
    errorsByCode: SyncReport['errorsByCode'];
  } | null;
  /** Why the run failed as a whole (records failing one by one do not fail the run). */
  error: { code: string; message: string } | null;
}

/** The work of one run: report progress through `onProgress`, stop when `signal` aborts. */
export type SyncRunWork = (context: {
  signal: AbortSignal;
  onProgress: (progress: SyncProgress) => void;
}) => Promise<SyncReport>;

/**
 * Runs syncs in the background, one at a time per integration in this process (the engine's
 * lease keeps other processes out), and remembers the latest run per integration for `/status`.
 */
export class SyncRunTracker {
  readonly #runs = new Map<string, CrmHttpSyncRun>();
  readonly #active = new Map<string, { promise: Promise<void>; abort: AbortController }>();
  readonly #clock: CrmClock;
  readonly #onFailure: (integrationId: string, error: CrmError) => Promise<void>;
  #sequence = 0;

  constructor(clock: CrmClock, onFailure: (integrationId: string, error: CrmError) => Promise<void>) {
    this.#clock = clock;
    this.#onFailure = onFailure;
  }

  /** The current or latest run of the integration, or `null`. */
  get(integrationId: string): CrmHttpSyncRun | null {
    return this.#runs.get(integrationId) ?? null;
  }

  /**
   * Start `work` in the background and return its run record at once.
   * @throws HttpProblem 409 when a run of this integration is already going on here.
   */
  start(
    integrationId: string,
    entityType: CrmHttpSyncRun['entityType'],
    trigger: CrmHttpSyncRun['trigger'],
    work: SyncRunWork,
  ): CrmHttpSyncRun {
    if (this.#active.has(integrationId)) {
      throw new HttpProblem(409, 'CONFLICT', 'A sync of this integration is already running');
    }
    const run: CrmHttpSyncRun = {
      id: `run-${++this.#sequence}`,
      integrationId,
      entityType,
      trigger,
      state: 'running',
      startedAt: this.#clock.now().toISOString(),
      completedAt: null,
      progress: null,
      result: null,
      error: null,
    };
    this.#runs.set(integrationId, run);
    const abort = new AbortController();
    const promise = (async () => {
      try {
        const report = await work({
          signal: abort.signal,
          onProgress: (progress) => {
            run.progress = { ...progress };
          },
        });
        run.result = {
          processed: report.processed,
          created: report.created,
          updated: report.updated,
          unchanged: report.unchanged,
          failed: report.failed,
          apiCalls: report.apiCalls,
          errorsByCode: report.errorsByCode,
        };
        run.state = report.stopReason && report.stopReason !== 'aborted' ? 'failed' : 'succeeded';
        if (report.stopReason)
          run.error = { code: report.stopReason.toUpperCase(), message: report.stopMessage ?? '' };
      } catch (error) {
        run.state = 'failed';
        run.error = isCrmError(error)
          ? { code: error.code, message: error.message }
          : { code: 'UNKNOWN', message: 'The sync failed unexpectedly' };
        if (isCrmError(error)) await this.#onFailure(integrationId, error).catch(() => {});
      } finally {
        run.completedAt = this.#clock.now().toISOString();
        this.#active.delete(integrationId);
      }
    })();
    this.#active.set(integrationId, { promise, abort });
    return run;
  }

  /** Resolves when every run started so far has finished. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((a) => a.promise));
  }

  /** Abort every running sync and wait for them to stop. */
  async close(): Promise<void> {
    for (const active of this.#active.values()) active.abort.abort(new Error('HTTP handler closed'));
    await this.idle();
  }
}
