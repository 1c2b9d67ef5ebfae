import { CrmDataConversionError, isCrmError, throwIfAborted } from '../core/errors.js';
import type { CrmContactInput } from '../core/models.js';
import type { CrmProgress, CrmProvider } from '../core/provider.js';
import { chunked } from '../internal/chunks.js';
import { CLEARABLE_CONTACT_FIELDS } from '../internal/contact-fields.js';
import { stripRecordValues } from '../security/record-values.js';
import type { CrmSyncStatusRow } from '../storage/types.js';
import { getStatusRows, type SyncRunContext, yieldToEventLoop } from './context.js';
import type { SyncHostRecord, SyncMappedContact } from './mapping.js';
import { type SyncReport, storedError } from './report.js';
import { readContactState, writeContactState } from './state.js';
import { outstandingWrites } from './uncertain.js';
import {
  pendingRow,
  recordUncertain,
  settleUncertainRow,
  uncertainResultRow,
  verifyUncertainRows,
} from './uncertain-push.js';

/** Progress of a push or pull run, reported after each batch. */
export interface SyncProgress {
  direction: 'push' | 'pull';
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  deleted: number;
  apiCalls: number;
  /**
   * Push: records handed to the CRM whose outcome is known so far (cumulative over the run,
   * updated while a batch is in flight from the provider's own progress).
   */
  sent?: number;
}

/**
 * Calls `onProgress` only when something changed since the last call, and never lets a counter go
 * back (a provider's in-flight estimate is superseded by the batch's final counts, which are never
 * lower).
 */
export class ProgressEmitter {
  readonly #onProgress: ((progress: SyncProgress) => void) | undefined;
  #last: SyncProgress | null = null;

  constructor(onProgress: ((progress: SyncProgress) => void) | undefined) {
    this.#onProgress = onProgress;
  }

  emit(progress: SyncProgress): void {
    if (!this.#onProgress) return;
    const last = this.#last;
    const next: SyncProgress = { ...progress };
    if (last) {
      for (const key of COUNTERS) {
        const previous = last[key];
        const current = next[key];
        if (previous !== undefined && (current === undefined || current < previous)) next[key] = previous;
      }
      if (COUNTERS.every((key) => next[key] === last[key])) return;
    }
    this.#last = next;
    this.#onProgress({ ...next });
  }
}

const COUNTERS = [
  'processed',
  'created',
  'updated',
  'unchanged',
  'failed',
  'deleted',
  'apiCalls',
  'sent',
] as const satisfies ReadonlyArray<keyof SyncProgress>;

/** Options of `SyncEngine.pushContacts` that reach the push loop. */
export interface PushLoopOptions {
  overrideConflicts: boolean;
  /** Failed records to send again whatever their retry state (see `SyncPushOptions.redrive`). */
  redrive?: boolean | { codes?: string[] | undefined; externalIds?: string[] | undefined };
  onProgress?: ((progress: SyncProgress) => void) | undefined;
}

/** Snapshot of a report for `onProgress`. */
export function progressOf(report: SyncReport): SyncProgress {
  return {
    direction: report.direction,
    processed: report.processed,
    created: report.created,
    updated: report.updated,
    unchanged: report.unchanged,
    failed: report.failed,
    deleted: report.deleted,
    apiCalls: report.apiCalls,
  };
}

/** Push loop: chunk the source, skip unchanged records, send the rest, persist outcomes per chunk. */
export async function runPush(
  ctx: SyncRunContext,
  source: Iterable<SyncHostRecord> | AsyncIterable<SyncHostRecord>,
  options: PushLoopOptions,
): Promise<void> {
  const run: PushRunState = { progress: new ProgressEmitter(options.onProgress), sent: 0 };
  for await (const chunk of chunked(source, ctx.batchSize)) {
    await yieldToEventLoop();
    throwIfAborted(ctx.signal);
    const carryOn = await pushChunk(ctx, chunk, options, run);
    run.progress.emit({ ...progressOf(ctx.report.report), sent: run.sent });
    if (!carryOn) return;
  }
}

interface PushRunState {
  progress: ProgressEmitter;
  /** Records sent and answered so far in this run. */
  sent: number;
}

interface Candidate {
  mapped: SyncMappedContact;
  row: CrmSyncStatusRow | null;
}

async function pushChunk(
  ctx: SyncRunContext,
  records: SyncHostRecord[],
  options: PushLoopOptions,
  run: PushRunState,
): Promise<boolean> {
  const report = ctx.report.report;
  const now = ctx.clock.now();
  const rowsToWrite: CrmSyncStatusRow[] = [];
  const unique = new Map<string, SyncMappedContact>();

  for (const record of records) {
    report.processed += 1;
    try {
      const mapped = ctx.mapper.toPush(record);
      // The same host id twice in one chunk: the later version supersedes the earlier.
      if (unique.has(mapped.externalId)) report.unchanged += 1;
      unique.set(mapped.externalId, mapped);
    } catch (error) {
      if (!(error instanceof CrmDataConversionError)) throw error;
      const externalId = safeHostId(ctx, record);
      ctx.report.fail({
        externalId: externalId ?? '(missing id)',
        code: 'DATA_CONVERSION',
        message: stripRecordValues(error.message, record),
        fields: error.fields,
        retryable: false,
        attempts: 1,
        needsAttention: true,
      });
      if (externalId !== null) {
        rowsToWrite.push({
          integrationId: ctx.integrationId,
          entityType: 'contact',
          externalId,
          crmId: null,
          status: 'failed',
          direction: 'to_crm',
          contentHash: null,
          lastSyncedAt: null,
          lastError: storedError('DATA_CONVERSION', error.message, record),
          state: null,
        });
      }
    }
  }

  const forgotten = ctx.forgotten
    ? await ctx.forgotten(
        [...unique.values()].map((m) => ({ externalId: m.externalId, email: m.contact.email })),
      )
    : new Set<string>();
  report.suppressed += forgotten.size;
  const mappedList = [...unique.values()].filter((m) => !forgotten.has(m.externalId));
  const existing = await getStatusRows(
    ctx,
    mappedList.map((m) => ({
      integrationId: ctx.integrationId,
      entityType: 'contact',
      externalId: m.externalId,
    })),
  );
  const toSend: Candidate[] = [];
  const verdicts = ctx.dryRun ? new Map() : await verifyUncertainRows(ctx, mappedList, existing, now);
  // Merge by key: an invalid record may share an id with a valid later version in the same chunk.
  const finalRows = new Map(
    rowsToWrite.filter((r) => !unique.has(r.externalId)).map((r) => [r.externalId, r]),
  );
  mappedList.forEach((mapped, index) => {
    let row = existing[index] ?? null;
    const verdict = verdicts.get(index);
    if (verdict && row) {
      const settled = settleUncertainRow(ctx, mapped, row, verdict, now);
      if (settled) {
        finalRows.set(mapped.externalId, settled);
        return;
      }
      row = pendingRow(row, verdict);
    }
    const decision = decide(ctx, mapped, row, now, options);
    if (decision === 'send') toSend.push({ mapped, row });
    else if (decision === 'unchanged') report.unchanged += 1;
    else if (decision === 'conflict') report.conflicts += 1;
    else if (decision === 'backoff') report.deferred += 1;
    else {
      report.needsAttention += 1;
      const state = readContactState(row?.state);
      const code = state.retry?.code ?? 'UNKNOWN';
      ctx.report.group(code, state.retry?.retryable ?? false, row?.lastError ?? '', mapped.externalId);
    }
  });

  if (toSend.length > 0) {
    if (ctx.dryRun) {
      for (const c of toSend) {
        if (c.row?.crmId) report.updated += 1;
        else report.created += 1;
      }
    } else {
      const projected = ctx.bulkMode === 'bulk' || toSend.length > 2000 ? 5 : Math.ceil(toSend.length / 200);
      const overBudget = ctx.budget.check(ctx.provider.apiUsage, report.apiCalls, projected);
      if (overBudget !== null) {
        // The chunk's unsent records were not handled: take them back out of `processed`.
        report.processed -= toSend.length;
        if (finalRows.size > 0) await ctx.storage.syncStatus.upsertMany([...finalRows.values()]);
        ctx.report.stop('api_budget', overBudget);
        return false;
      }
      const failedBase = report.failed;
      const sentBase = run.sent;
      // Finer-grained than per batch: the provider reports per collection call / bulk job.
      const relay = (p: CrmProgress) => {
        run.progress.emit({
          ...progressOf(report),
          failed: failedBase + p.failed,
          sent: sentBase + Math.min(p.done, toSend.length),
          // Calls of the batch in flight: without them progress said 0 until the batch returned.
          apiCalls: report.apiCalls + (p.apiCalls ?? 0),
        });
      };
      let result: Awaited<ReturnType<CrmProvider['bulkSyncContacts']>>;
      try {
        result = await ctx.provider.bulkSyncContacts(
          toSend.map((c) => withClears(c)),
          {
            mode: ctx.bulkMode,
            expectedCount: toSend.length,
            signal: ctx.signal,
            onProgress: relay,
            onRemoteJob: ctx.openJobs.track,
          },
        );
      } catch (error) {
        // A rate limit is a clean stop (`stopReason: 'rate_limited'`), not a failure of the records.
        if (!ctx.signal.aborted && !isCleanStop(error)) countBatchFailure(ctx, toSend, error);
        await recordUncertain(ctx, toSend, finalRows, error, now);
        throw error;
      }
      run.sent = sentBase + toSend.length;
      report.apiCalls += result.apiCalls;
      report.retries += result.retries ?? 0;
      const byId = new Map(result.results.map((r) => [r.externalId, r]));
      for (const candidate of toSend) {
        const result = byId.get(candidate.mapped.externalId);
        finalRows.set(
          candidate.mapped.externalId,
          uncertainResultRow(ctx, candidate, result, now) ?? outcomeRow(ctx, candidate, result, now),
        );
      }
    }
  }
  if (!ctx.dryRun && finalRows.size > 0) await ctx.storage.syncStatus.upsertMany([...finalRows.values()]);
  return true;
}

/**
 * The contact to send, naming the standard fields the host emptied since the last sync in
 * `clearFields`: a blank field is otherwise left out, and the CRM would keep its old value. Only
 * fields the two sides last agreed were non-empty are cleared, so a field the host never filled
 * does not wipe what CRM users entered.
 */
function withClears(candidate: Candidate): CrmContactInput {
  const { mapped, row } = candidate;
  if (!row) return mapped.contact;
  const base = readContactState(row.state).fields;
  const clear = CLEARABLE_CONTACT_FIELDS.filter(
    (key) =>
      Object.hasOwn(mapped.fields, key) &&
      mapped.fields[key] === null &&
      base[key] !== null &&
      base[key] !== undefined,
  );
  return clear.length > 0 ? { ...mapped.contact, clearFields: clear } : mapped.contact;
}

function safeHostId(ctx: SyncRunContext, record: SyncHostRecord): string | null {
  try {
    return ctx.mapper.hostId(record);
  } catch {
    return null;
  }
}

type Decision = 'send' | 'unchanged' | 'conflict' | 'backoff' | 'needs_attention';

function decide(
  ctx: SyncRunContext,
  mapped: SyncMappedContact,
  row: CrmSyncStatusRow | null,
  now: Date,
  options: PushLoopOptions,
): Decision {
  if (row === null) return 'send';
  const sameContent = row.contentHash === mapped.hash;
  switch (row.status) {
    case 'synced':
      return sameContent ? 'unchanged' : 'send';
    case 'conflict':
      return options.overrideConflicts ? 'send' : 'conflict';
    case 'deleted':
      // Deleted in the CRM: only a change on the host side brings it back.
      return sameContent ? 'unchanged' : 'send';
    case 'failed': {
      if (!sameContent) return 'send';
      const retry = readContactState(row.state).retry;
      if (redriven(options.redrive, mapped.externalId, retry?.code)) return 'send';
      // The schema, not the record, was wrong: the provider checks it again (cheaply, against its
      // describe) on every run, so a field created since is picked up without a data change.
      if (retry && SCHEMA_ERROR_CODES.has(retry.code)) return 'send';
      const decision = ctx.retry.decide(retry, now);
      return decision === 'due' ? 'send' : decision;
    }
    default:
      return 'send';
  }
}

/** Errors that a schema change (a field created or made writable) can cure. */
const SCHEMA_ERROR_CODES: ReadonlySet<string> = new Set(['INVALID_FIELD']);

function redriven(filter: PushLoopOptions['redrive'], externalId: string, code: string | undefined): boolean {
  if (!filter) return false;
  if (filter === true) return true;
  if (filter.externalIds && !filter.externalIds.includes(externalId)) return false;
  if (filter.codes && (code === undefined || !filter.codes.includes(code))) return false;
  return filter.codes !== undefined || filter.externalIds !== undefined;
}

function outcomeRow(
  ctx: SyncRunContext,
  candidate: Candidate,
  result:
    | {
        success: boolean;
        crmId?: string | undefined;
        created?: boolean | undefined;
        error?: { code: string; message: string; fields?: string[] | undefined } | undefined;
      }
    | undefined,
  now: Date,
): CrmSyncStatusRow {
  const report = ctx.report.report;
  const { mapped, row } = candidate;
  const state = readContactState(row?.state);
  const key = {
    integrationId: ctx.integrationId,
    entityType: 'contact' as const,
    externalId: mapped.externalId,
  };
  if (result?.success) {
    const created = result.created ?? !row?.crmId;
    if (created) report.created += 1;
    else report.updated += 1;
    const next = { ...state, fields: { ...state.fields, ...mapped.fields }, pushedAt: now.toISOString() };
    delete next.retry;
    delete next.conflicts;
    // Confirmed, but an older write of other content may still land over it: not synced yet.
    const outstanding = outstandingWrites(state.uncertain, now, mapped.hash);
    delete next.uncertain;
    if (outstanding) {
      next.uncertain = outstanding;
      report.uncertain += 1;
    }
    return {
      ...key,
      crmId: result.crmId ?? row?.crmId ?? null,
      status: outstanding ? 'uncertain' : 'synced',
      direction: 'to_crm',
      contentHash: mapped.hash,
      lastSyncedAt: now,
      lastError: null,
      state: writeContactState(next),
    };
  }
  const code = result?.error?.code ?? 'NO_RESULT';
  // The record's own values are known here, so they are dropped from the message before it is
  // reported or stored, whatever the provider echoed.
  const message = stripRecordValues(
    result?.error?.message ?? 'The provider returned no result for this record',
    mapped.contact,
  );
  // Attempts only accumulate while the content stays the same; a changed record starts over.
  const previous = row?.contentHash === mapped.hash ? state.retry : undefined;
  const retry = ctx.retry.next(previous, code, now);
  ctx.report.fail({
    externalId: mapped.externalId,
    code,
    message,
    ...(result?.error?.fields ? { fields: result.error.fields } : {}),
    retryable: retry.retryable,
    attempts: retry.attempts,
    needsAttention: retry.exhausted,
  });
  return {
    ...key,
    crmId: result?.crmId ?? row?.crmId ?? null,
    status: 'failed',
    direction: 'to_crm',
    contentHash: mapped.hash,
    lastSyncedAt: row?.lastSyncedAt ?? null,
    lastError: storedError(code, message),
    state: writeContactState({ ...state, retry }),
  };
}

/**
 * A batch the provider refused as a whole: each of its records counts as failed under the error's
 * code, so the report and the sync log show the failure by code, not only in `stopMessage`. Their
 * status rows are left as they were, so the next run sends them again.
 */
function countBatchFailure(ctx: SyncRunContext, batch: readonly Candidate[], error: unknown): void {
  const code = isCrmError(error) ? (error.providerCode ?? error.code) : 'BATCH_FAILED';
  const message = isCrmError(error) ? error.message : 'The batch failed as a whole';
  for (const candidate of batch) {
    ctx.report.fail({
      externalId: candidate.mapped.externalId,
      code,
      message: stripRecordValues(message, candidate.mapped.contact),
      retryable: true,
      attempts: 1,
      needsAttention: false,
    });
  }
}

/** Whether `error` should end a run cleanly (report returned) rather than be thrown. */
export function isCleanStop(error: unknown): boolean {
  return isCrmError(error) && error.code === 'RATE_LIMIT';
}
