import type { CrmEntityType } from '../core/models.js';
import { stripRecordValues } from '../security/record-values.js';
import { redactText } from '../security/redact.js';

/** Secrets and record values out: what may be reported, logged or stored about a failure. */
function safeText(text: string, record?: unknown): string {
  return stripRecordValues(redactText(text), record);
}

/**
 * The `lastError` text of a status row: `CODE: message` without secrets or record values (the
 * record's own values too, when given), at most 1,000 characters.
 */
export function storedError(code: string, message: string, record?: unknown): string {
  return safeText(`${code}: ${message}`, record).slice(0, 1_000);
}

/** Why a run ended before it had processed everything. */
export type SyncStopReason = 'aborted' | 'api_budget' | 'rate_limited' | 'lease_lost' | 'error';

/** One failed record in a {@link SyncReport}. */
export interface SyncRecordError {
  /** Host id (or CRM id for pulled records without one). */
  externalId: string;
  /** Provider error code (`DUPLICATE_VALUE`, `REQUIRED_FIELD_MISSING`) or engine code (`DATA_CONVERSION`). */
  code: string;
  /** Redacted reason. */
  message: string;
  /** Fields involved, when known. */
  fields?: string[];
  /** Whether a later run retries it automatically. */
  retryable: boolean;
  /** Failed attempts so far, including this one. */
  attempts: number;
  /** Retries are exhausted (or the error is not retryable): someone must fix the data. */
  needsAttention: boolean;
}

/** Failures of one error code. */
export interface SyncErrorGroup {
  count: number;
  retryable: boolean;
  /** A redacted sample message. */
  message: string;
  /** Up to 20 record ids. */
  externalIds: string[];
}

/** What a sync run did. */
export interface SyncReport {
  entityType: CrmEntityType;
  /** `push` (host → CRM) or `pull` (CRM → host). */
  direction: 'push' | 'pull';
  /** Records read from the source (push) or the CRM (pull). */
  processed: number;
  created: number;
  updated: number;
  /** Records skipped because nothing changed (push: equal content hash; pull: echoes of the engine's own writes). */
  unchanged: number;
  /**
   * Pull: records the CRM sent again that were already applied (a provider's change feed is at
   * least once: it re-reads a lookback window). Dropped without cost; not counted in `processed`.
   */
  redelivered: number;
  failed: number;
  /** Pull: deletions delivered. */
  deleted: number;
  /** Records with an unresolved field conflict (pull), or skipped because of one (push). */
  conflicts: number;
  /** Push: failed records not retried this run (backing off, or waiting for a fix). */
  deferred: number;
  /**
   * Push: records skipped because their person was forgotten (`SyncEngine.forgetContact`) and not
   * restored, so a push does not re-create them in the CRM.
   */
  suppressed: number;
  /** Failed records that need a human: retries exhausted or not retryable. */
  needsAttention: number;
  /**
   * Push: records left `uncertain` by this run — a write was sent but its answer never came
   * (abort, timeout, dropped connection), or an earlier such write of other content may still
   * land. They are not counted as synced; the next push reads them back (`verified`) or re-sends.
   */
  uncertain: number;
  /**
   * Push: `uncertain` records of earlier runs that this run read back from the CRM and found
   * holding what was sent, so they are now synced without being sent again.
   */
  verified: number;
  /** The first failures (at most `maxReportedErrors`). */
  errors: SyncRecordError[];
  /** All failures grouped by code. */
  errorsByCode: Record<string, SyncErrorGroup>;
  /** API calls spent by this run. */
  apiCalls: number;
  /**
   * Push: provider calls sent again after a transient failure (5xx, dropped connection, timeout)
   * during this run, as the provider reports them; otherwise only visible as log warnings.
   */
  retries: number;
  durationMs: number;
  startedAt: Date;
  completedAt: Date;
  /** True when nothing was written (push `dryRun`). */
  dryRun: boolean;
  /** The `syncLogs` entry, or `null` in a dry run. */
  logId: string | null;
  /** True when the run reached the end of its input. */
  complete: boolean;
  /** Why the run stopped early, or `null`. */
  stopReason: SyncStopReason | null;
  /** Human-readable detail of `stopReason`. */
  stopMessage: string | null;
}

/** Accumulates a {@link SyncReport}; keeps memory bounded however many records fail. */
export class SyncReportBuilder {
  readonly report: SyncReport;
  readonly #maxErrors: number;

  constructor(init: {
    entityType: CrmEntityType;
    direction: 'push' | 'pull';
    startedAt: Date;
    dryRun: boolean;
    maxErrors: number;
  }) {
    this.#maxErrors = init.maxErrors;
    this.report = {
      entityType: init.entityType,
      direction: init.direction,
      processed: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      redelivered: 0,
      failed: 0,
      deleted: 0,
      conflicts: 0,
      deferred: 0,
      suppressed: 0,
      needsAttention: 0,
      uncertain: 0,
      verified: 0,
      errors: [],
      errorsByCode: {},
      apiCalls: 0,
      retries: 0,
      durationMs: 0,
      startedAt: init.startedAt,
      completedAt: init.startedAt,
      dryRun: init.dryRun,
      logId: null,
      complete: false,
      stopReason: null,
      stopMessage: null,
    };
  }

  /** Record a failure. */
  fail(error: SyncRecordError): void {
    const r = this.report;
    r.failed += 1;
    if (error.needsAttention) r.needsAttention += 1;
    const safe = { ...error, message: safeText(error.message) };
    if (r.errors.length < this.#maxErrors) r.errors.push(safe);
    this.group(error.code, error.retryable, safe.message, error.externalId);
  }

  /** Count one record under `code` in `errorsByCode`. */
  group(code: string, retryable: boolean, message: string, externalId: string): void {
    let group = this.report.errorsByCode[code];
    if (!group) {
      group = { count: 0, retryable, message: safeText(message), externalIds: [] };
      this.report.errorsByCode[code] = group;
    }
    group.count += 1;
    if (group.externalIds.length < 20) group.externalIds.push(externalId);
  }

  /** Mark the run as stopped early. */
  stop(reason: SyncStopReason, message: string): void {
    this.report.stopReason = reason;
    this.report.stopMessage = safeText(message);
  }

  /** Finish the report. */
  finish(completedAt: Date, complete: boolean): SyncReport {
    this.report.completedAt = completedAt;
    this.report.durationMs = Math.max(0, completedAt.getTime() - this.report.startedAt.getTime());
    this.report.complete = complete && this.report.stopReason === null;
    return this.report;
  }

  /** The JSON-safe `errorDetails` for the run's log entry, or `null` for a clean run. */
  logDetails(): Record<string, unknown> | null {
    const r = this.report;
    if (
      r.failed === 0 &&
      r.stopReason === null &&
      r.conflicts === 0 &&
      r.retries === 0 &&
      r.uncertain === 0 &&
      r.verified === 0
    )
      return null;
    return {
      stopReason: r.stopReason,
      stopMessage: r.stopMessage,
      errorsByCode: r.errorsByCode,
      counts: {
        processed: r.processed,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        failed: r.failed,
        deleted: r.deleted,
        conflicts: r.conflicts,
        deferred: r.deferred,
        suppressed: r.suppressed,
        needsAttention: r.needsAttention,
        uncertain: r.uncertain,
        verified: r.verified,
        apiCalls: r.apiCalls,
        retries: r.retries,
      },
    };
  }
}
