import { type CrmClock, systemClock } from '../core/clock.js';
import { CrmConfigurationError } from '../core/errors.js';
import { type CrmLogger, createRedactingLogger, silentLogger } from '../core/logger.js';

/** One unit of scheduled work, e.g. `(ctx) => engine.pushContacts(db.stream(), { signal: ctx.signal, syncType: 'scheduled' })`. */
export interface SyncTask {
  /** Shown in logs and callbacks. */
  name: string;
  /** Does the work; resolves (with anything, e.g. a `SyncReport`) or rejects. */
  run: (context: { signal: AbortSignal; tick: number }) => Promise<unknown>;
}

/** Timer functions, injectable for tests. */
export interface SyncTimers {
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** What `onRun` receives after each task run. */
export interface SyncTaskRun {
  task: string;
  tick: number;
  startedAt: Date;
  durationMs: number;
  /** The task's resolved value (on success). */
  result?: unknown;
  /** The task's error (on failure). */
  error?: unknown;
}

/** Options of {@link SyncScheduler}. */
export interface SyncSchedulerOptions {
  /** Tasks run one after another on each tick, in order. */
  tasks: ReadonlyArray<SyncTask>;
  /** Pause between the end of one tick and the start of the next, in milliseconds. */
  intervalMs: number;
  /**
   * Random extra delay added to each pause, 0 to `jitterMs` milliseconds, so many workers and
   * integrations do not hit the CRM in lockstep.
   * @default 0
   */
  jitterMs?: number;
  /**
   * Run the first tick right after `start()` instead of after one interval.
   * @default false
   */
  runOnStart?: boolean;
  /** Called after each task run, successful or not. Exceptions from it are logged and ignored. */
  onRun?: (run: SyncTaskRun) => void;
  /** Called with each task failure. Exceptions from it are logged and ignored. */
  onError?: (error: unknown, run: SyncTaskRun) => void;
  /** @default silent */
  logger?: CrmLogger;
  /** @default the system clock */
  clock?: CrmClock;
  /** @default global setTimeout / clearTimeout */
  timers?: SyncTimers;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: () => number;
}

/**
 * Runs sync tasks on an interval with jitter. Ticks never overlap: the next one is scheduled only
 * after the current one finished, and {@link runNow} during a tick joins it instead of starting
 * another. Failures go to `onError` and the logger; the schedule keeps going.
 *
 * @example
 * const scheduler = new SyncScheduler({
 *   intervalMs: 5 * 60_000,
 *   jitterMs: 30_000,
 *   tasks: [{ name: 'push', run: ({ signal }) => engine.pushContacts(db.subscribers(), { signal, syncType: 'scheduled' }) }],
 *   onError: (error) => alerts.notify(error),
 * });
 * scheduler.start();
 * // on shutdown:
 * await scheduler.stop();
 */
export class SyncScheduler {
  readonly #tasks: ReadonlyArray<SyncTask>;
  readonly #intervalMs: number;
  readonly #jitterMs: number;
  readonly #runOnStart: boolean;
  readonly #onRun: ((run: SyncTaskRun) => void) | undefined;
  readonly #onError: ((error: unknown, run: SyncTaskRun) => void) | undefined;
  readonly #logger: CrmLogger;
  readonly #clock: CrmClock;
  readonly #timers: SyncTimers;
  readonly #random: () => number;
  #timer: unknown = null;
  #inFlight: Promise<void> | null = null;
  #controller: AbortController | null = null;
  #started = false;
  #tick = 0;

  /** @throws {CrmConfigurationError} for an invalid interval, jitter or task list. */
  constructor(options: SyncSchedulerOptions) {
    if (!Array.isArray(options?.tasks) || options.tasks.some((t) => typeof t?.run !== 'function')) {
      throw new CrmConfigurationError('SyncScheduler needs tasks: [{ name, run }]');
    }
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new CrmConfigurationError('SyncScheduler intervalMs must be a positive number of milliseconds');
    }
    const jitter = options.jitterMs ?? 0;
    if (!Number.isFinite(jitter) || jitter < 0)
      throw new CrmConfigurationError('SyncScheduler jitterMs must be ≥ 0');
    this.#tasks = options.tasks;
    this.#intervalMs = options.intervalMs;
    this.#jitterMs = jitter;
    this.#runOnStart = options.runOnStart ?? false;
    this.#onRun = options.onRun;
    this.#onError = options.onError;
    this.#logger = createRedactingLogger(options.logger ?? silentLogger);
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => {
        const handle = setTimeout(fn, ms);
        return handle;
      },
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.#random = options.random ?? Math.random;
  }

  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.#started;
  }

  /** True while a tick is running. */
  get running(): boolean {
    return this.#inFlight !== null;
  }

  /** Start the schedule. Calling it again while started does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#runOnStart) void this.runNow();
    else this.#schedule();
  }

  /**
   * Run a tick now, or join the one in flight. Resolves when that tick ended; never rejects (task
   * failures go to `onError`).
   */
  runNow(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#controller = new AbortController();
    const tick = ++this.#tick;
    this.#inFlight = this.#runTick(tick, this.#controller.signal).finally(() => {
      this.#inFlight = null;
      this.#controller = null;
      if (this.#started) this.#schedule();
    });
    return this.#inFlight;
  }

  /**
   * Stop scheduling and wait for the tick in flight to finish.
   * @param options.abort - also abort the tick in flight through its signal. @default false
   */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.#started = false;
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (options.abort) this.#controller?.abort(new Error('SyncScheduler stopped'));
    if (this.#inFlight) await this.#inFlight;
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    const delay = this.#intervalMs + Math.floor(this.#random() * this.#jitterMs);
    const handle = this.#timers.setTimeout(() => {
      this.#timer = null;
      if (this.#started) void this.runNow();
    }, delay);
    (handle as { unref?: () => void } | null)?.unref?.();
    this.#timer = handle;
  }

  async #runTick(tick: number, signal: AbortSignal): Promise<void> {
    for (const task of this.#tasks) {
      if (signal.aborted) break;
      const startedAt = this.#clock.now();
      const run: SyncTaskRun = { task: task.name, tick, startedAt, durationMs: 0 };
      try {
        run.result = await task.run({ signal, tick });
        run.durationMs = this.#clock.now().getTime() - startedAt.getTime();
        this.#logger.info('scheduled sync task finished', {
          task: task.name,
          tick,
          durationMs: run.durationMs,
        });
      } catch (error) {
        run.error = error;
        run.durationMs = this.#clock.now().getTime() - startedAt.getTime();
        this.#logger.error('scheduled sync task failed', { task: task.name, tick, error: describe(error) });
        this.#safely(() => this.#onError?.(error, run));
      }
      this.#safely(() => this.#onRun?.(run));
    }
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#logger.warn('SyncScheduler callback threw', { error: describe(error) });
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
