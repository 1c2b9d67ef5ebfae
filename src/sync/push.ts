import { CrmDataConversionError, isCrmError, throwIfAborted } from '../core/errors.js';
import type { CrmBulkSyncResult, CrmContactInput } from '../core/models.js';
import type { CrmProgress } from '../core/provider.js';
import { chunked } from '../internal/chunks.js';
import { CLEARABLE_CONTACT_FIELDS } from '../internal/contact-fields.js';
import { stripRecordValues } from '../security/record-values.js';
import type { CrmSyncStatusRow } from '../storage/types.js';
import { getStatusRows, type SyncRunContext, yieldToEventLoop } from './context.js';
import { KeyHashSet } from './key-set.js';
import type { SyncHostRecord, SyncMappedContact } from './mapping.js';
import { PendingPushes } from './pending-pushes.js';
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

/**
 * Push loop: chunk the source, skip unchanged records, send the rest, persist outcomes. The
 * changed records of many chunks go to the provider in one `bulkSyncContacts` call (a segment):
 * the first call gets `batchSize` records, later ones up to `maxRecordsPerCall`, so a big push
 * runs in a few large Bulk jobs. Results stream back through
 * `onResult` and status rows are written `batchSize` at a time; what the engine must remember about
 * a record until its result arrives is kept off the V8 heap ({@link PendingPushes}).
 */
export async function runPush(
  ctx: SyncRunContext,
  source: Iterable<SyncHostRecord> | AsyncIterable<SyncHostRecord>,
  options: PushLoopOptions,
): Promise<void> {
  const run: PushRunState = { progress: new ProgressEmitter(options.onProgress), sent: 0 };
  // Prepared (mapped, looked up) in pieces of at most PREPARE_RECORDS: what a piece allocates lives
  // until its last record is handed on, and under a small heap cap V8 lets such garbage pile up
  // to about twice the live set before collecting it. A call still takes whole batches' worth.
  const chunks = chunked(source, Math.min(ctx.batchSize, PREPARE_RECORDS))[Symbol.asyncIterator]();
  if (ctx.dryRun) {
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      await yieldToEventLoop();
      throwIfAborted(ctx.signal);
      const { toSend } = await prepareChunk(ctx, next.value, options);
      for (const c of toSend) {
        if (c.row?.crmId) ctx.report.report.updated += 1;
        else ctx.report.report.created += 1;
      }
      run.progress.emit({ ...progressOf(ctx.report.report), sent: run.sent });
    }
    return;
  }
  const segment: SegmentState = { carry: undefined, done: false, stopped: false };
  let limit = ctx.batchSize;
  while (!segment.done && !segment.stopped) {
    await sendSegment(ctx, chunks, segment, limit, options, run);
    limit = Math.max(ctx.batchSize, ctx.maxRecordsPerCall);
  }
}

/** Most records prepared at once (see runPush). */
const PREPARE_RECORDS = 2_000;

/** Most outcome rows buffered before a write while results stream in. */
const RESULT_ROWS_PER_WRITE = 2_000;

interface PushRunState {
  progress: ProgressEmitter;
  /** Records sent and answered so far in this run. */
  sent: number;
}

/** Where the push stands between two provider calls. */
interface SegmentState {
  /** A chunk read but left for the next call (it would pass the call's size, or it repeats a host id of the call in flight). */
  carry: SyncHostRecord[] | undefined;
  /** The source is exhausted. */
  done: boolean;
  /** The run stopped (API budget). */
  stopped: boolean;
}

interface Candidate {
  mapped: SyncMappedContact;
  row: CrmSyncStatusRow | null;
}

/** What a sent record's status row is built from once its result arrives (kept as JSON). */
interface PendingEntry {
  m: Pick<SyncMappedContact, 'externalId' | 'fields' | 'contact' | 'hash'>;
  /** The previous status row, without `lastSyncedAt` (JSON has no dates). */
  r: CrmSyncStatusRow | null;
  /** The previous row's `lastSyncedAt`, epoch ms. */
  t: number | null;
  /** When the record's chunk was read, epoch ms. */
  n: number;
}

/**
 * One provider call: reads chunks (preparing each: map, look up, decide) while the provider reads
 * its input, until `limit` records are on their way or the source ends. A chunk that repeats a
 * host id already in this call waits for the next call (its status row would be read before the
 * first copy's outcome is written).
 */
async function sendSegment(
  ctx: SyncRunContext,
  chunks: AsyncIterator<SyncHostRecord[]>,
  segment: SegmentState,
  limit: number,
  options: PushLoopOptions,
  run: PushRunState,
): Promise<void> {
  const report = ctx.report.report;
  const pending = new PendingPushes<PendingEntry>();
  const inCall = new KeyHashSet();
  let answered = new Uint8Array(1024);
  const rows: CrmSyncStatusRow[] = [];
  const sentBase = run.sent;
  const flush = async () => {
    if (rows.length > 0) await ctx.storage.syncStatus.upsertMany(rows.splice(0));
  };
  const settle = (position: number, result: OutcomeResult | undefined): CrmSyncStatusRow => {
    const byte = position >> 3;
    if (byte >= answered.length) {
      const grown = new Uint8Array(Math.max(answered.length * 2, byte + 1));
      grown.set(answered);
      answered = grown;
    }
    answered[byte] = (answered[byte] as number) | (1 << (position & 7));
    const candidate = candidateAt(position);
    const at = new Date(pending.get(position).n);
    return uncertainResultRow(ctx, candidate, result, at) ?? outcomeRow(ctx, candidate, result, at);
  };
  const candidateAt = (position: number): Candidate => {
    const entry = pending.get(position);
    const row = entry.r ? { ...entry.r, lastSyncedAt: entry.t === null ? null : new Date(entry.t) } : null;
    return { mapped: entry.m as SyncMappedContact, row };
  };
  const isAnswered = (position: number) => (((answered[position >> 3] ?? 0) >> (position & 7)) & 1) === 1;

  const input = async function* (): AsyncGenerator<CrmContactInput> {
    for (let chunk = 0; pending.size < limit; chunk++) {
      let records = segment.carry;
      segment.carry = undefined;
      if (!records) {
        const next = await chunks.next();
        if (next.done) {
          segment.done = true;
          return;
        }
        records = next.value;
      }
      if (
        pending.size > 0 &&
        (pending.size + records.length > limit || records.some((r) => repeats(ctx, inCall, r)))
      ) {
        segment.carry = records;
        return;
      }
      await yieldToEventLoop();
      throwIfAborted(ctx.signal);
      const { toSend, finalRows } = await prepareChunk(ctx, records, options);
      if (toSend.length > 0) {
        const overBudget = ctx.budget.check(
          ctx.provider.apiUsage,
          report.apiCalls,
          projectedCalls(ctx, pending.size + toSend.length),
        );
        if (overBudget !== null) {
          // The chunk's unsent records were not handled: take them back out of `processed`.
          report.processed -= toSend.length;
          if (finalRows.size > 0) await ctx.storage.syncStatus.upsertMany([...finalRows.values()]);
          ctx.report.stop('api_budget', overBudget);
          segment.stopped = true;
          return;
        }
      }
      if (finalRows.size > 0) await ctx.storage.syncStatus.upsertMany([...finalRows.values()]);
      // Prepared: the chunk's host records are not needed while its candidates are handed on.
      records = undefined;
      const now = ctx.clock.now().getTime();
      // Progress while a large call is being filled (the provider reports only per job).
      if (chunk > 0) run.progress.emit({ ...progressOf(report), sent: run.sent });
      const handing: Array<Candidate | undefined> = toSend;
      for (let i = 0; i < handing.length; i++) {
        const candidate = handing[i] as Candidate;
        // Let go once handed on: a chunk of 10,000 mapped records is not held until its last is read.
        handing[i] = undefined;
        const { mapped, row } = candidate;
        pending.add({
          m: {
            externalId: mapped.externalId,
            fields: mapped.fields,
            contact: mapped.contact,
            hash: mapped.hash,
          },
          r: row ? { ...row, lastSyncedAt: null } : null,
          t: row?.lastSyncedAt ? row.lastSyncedAt.getTime() : null,
          n: now,
        });
        inCall.add(mapped.externalId);
        yield withClears(candidate);
      }
    }
  };
  // Nothing to send (an unchanged re-push): no provider call at all.
  const contacts = input();
  const first = await contacts.next();
  if (first.done) {
    run.progress.emit({ ...progressOf(report), sent: run.sent });
    return;
  }
  const all = (async function* () {
    yield first.value;
    yield* contacts;
  })();

  // Finer-grained than per call: the provider reports per collection call / bulk job.
  const relay = (p: CrmProgress) => {
    run.progress.emit({
      ...progressOf(report),
      sent: sentBase + Math.min(p.done, pending.size),
      // Calls of the call in flight: without them progress said 0 until the call returned.
      apiCalls: report.apiCalls + (p.apiCalls ?? 0),
    });
  };
  let result: CrmBulkSyncResult;
  try {
    result = await ctx.provider.bulkSyncContacts(all, {
      mode: ctx.bulkMode,
      signal: ctx.signal,
      onProgress: relay,
      keepResults: 'failures',
      onRemoteJob: ctx.openJobs.track,
      onResult: (outcome, position) => {
        if (position < 0 || position >= pending.size || isAnswered(position)) return;
        rows.push(settle(position, outcome));
        // Written in slices while a large job's results stream in: the buffer stays small.
        if (rows.length >= Math.min(ctx.batchSize, RESULT_ROWS_PER_WRITE)) return flush();
      },
    });
  } catch (error) {
    // Outcomes already known are real: keep them. The rest count as failed under the error's
    // code; their status rows are left as they were, so the next run sends them again.
    if (!ctx.signal.aborted) await flush().catch(() => undefined);
    const unanswered: Candidate[] = [];
    for (let i = 0; i < pending.size; i++) if (!isAnswered(i)) unanswered.push(candidateAt(i));
    if (!ctx.signal.aborted && !isCleanStop(error)) countBatchFailure(ctx, unanswered, error);
    // Records handed over without an answer may have been written: `uncertain`, read back next
    // run (records the provider had not uploaded yet cost only that read).
    await recordUncertain(ctx, unanswered, new Map(), error, ctx.clock.now());
    throw error;
  }
  run.sent = sentBase + pending.size;
  report.apiCalls += result.apiCalls;
  report.retries += result.retries ?? 0;
  // A provider that ignores `onResult` returns every result in input order instead.
  const everyResult = result.results.length === pending.size ? result.results : undefined;
  for (let i = 0; i < pending.size; i++) {
    if (isAnswered(i)) continue;
    rows.push(settle(i, everyResult?.[i]));
    if (rows.length >= ctx.batchSize) await flush();
  }
  await flush();
  run.progress.emit({ ...progressOf(report), sent: run.sent });
}

/** API calls a provider call of `records` changed records is expected to cost. */
function projectedCalls(ctx: SyncRunContext, records: number): number {
  if (records === 0) return 0;
  return ctx.bulkMode === 'bulk' || records > 2000 ? 5 : Math.ceil(records / 200);
}

/** Whether `record`'s host id is already in the provider call in flight. */
function repeats(ctx: SyncRunContext, inCall: KeyHashSet, record: SyncHostRecord): boolean {
  const id = safeHostId(ctx, record);
  return id !== null && inCall.has(id);
}

/**
 * Map a chunk, drop forgotten people, look up status rows and decide per record. Returns the
 * records to send and the status rows to write for records that failed locally.
 */
async function prepareChunk(
  ctx: SyncRunContext,
  records: SyncHostRecord[],
  options: PushLoopOptions,
): Promise<{ toSend: Candidate[]; finalRows: Map<string, CrmSyncStatusRow> }> {
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
  return { toSend, finalRows };
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

/** What the provider answered for one record. */
interface OutcomeResult {
  success: boolean;
  crmId?: string | undefined;
  created?: boolean | undefined;
  error?: { code: string; message: string; fields?: string[] | undefined } | undefined;
}

function outcomeRow(
  ctx: SyncRunContext,
  candidate: Candidate,
  result: OutcomeResult | undefined,
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
