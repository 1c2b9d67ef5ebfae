import { Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { CrmApiError, CrmAuthenticationError, createAbortError, isCrmError } from '../core/errors.js';
import type { CrmRecordError } from '../core/models.js';
import type { CrmRemoteJobEvent } from '../core/provider.js';
import type { CrmSleep } from '../core/sleep.js';
import { BulkCsvReader } from './bulk-csv.js';
import { type PendingBulkRow, PendingBulkRows } from './bulk-pending-rows.js';
import type { SalesforceClient } from './client.js';
import { SALESFORCE_PROVIDER } from './errors.js';
import type { SalesforceRecord } from './mapping.js';
import { isRetryable, retryDelayFor } from './retry.js';
import type { OperationCounters } from './transport.js';

/** Tuning of Bulk API 2.0 ingest jobs. */
export interface SalesforceBulkOptions {
  /**
   * Longest wait between two job-status polls while nothing predicts when the job ends, in
   * milliseconds. Polls start at 250 ms (or this, when smaller) and double up to this. Once a job
   * reports progress, or an earlier job on the same connection (of this call or an earlier one)
   * showed how fast the org processes rows, the next poll waits for about the predicted rest of
   * the job instead (at most 30 s), so a large job costs a few polls rather than one every
   * `pollIntervalMs`.
   * @default 2000
   */
  pollIntervalMs?: number;
  /**
   * Give up waiting for a job after this many milliseconds (the job is aborted).
   * @default 1800000 (30 minutes)
   */
  pollTimeoutMs?: number;
  /**
   * Start a new job before one job's CSV passes this many bytes (Salesforce accepts 100 MB of
   * raw CSV per job; 150 MB after base64).
   * @default 100000000
   */
  maxJobBytes?: number;
  /**
   * Start a new job after this many rows. Every row of the job in flight is tracked until its
   * result is read (its key and position, under 100 bytes each, outside the V8 heap), and a job's
   * result sets are parsed as they download, so the V8 heap does not grow with the job; a crash
   * loses at most one job's results. Fewer, larger jobs cost fewer API calls (about six per job).
   * @default 150000
   */
  maxJobRecords?: number;
  /**
   * Longest an upload of one job's CSV may take, in milliseconds (other calls use the provider's
   * `requestTimeoutMs`); it is cancelled and re-sent on a fresh job when it passes this.
   * @default 900000 (15 minutes)
   */
  uploadTimeoutMs?: number;
}

/** {@link SalesforceBulkOptions} with defaults applied. */
export type ResolvedBulkOptions = Required<SalesforceBulkOptions>;

/** Defaults of {@link SalesforceBulkOptions}. */
export const DEFAULT_BULK: ResolvedBulkOptions = {
  pollIntervalMs: 2_000,
  pollTimeoutMs: 30 * 60_000,
  maxJobBytes: 100_000_000,
  maxJobRecords: 150_000,
  uploadTimeoutMs: 15 * 60_000,
};

/** One record to upload, with its position in the caller's input and its key (external id). */
export interface BulkRow {
  index: number;
  key: string;
  /** The caller's id for the record, handed back with its result. */
  externalId: string;
  record: SalesforceRecord;
}

/** The outcome of one uploaded record. */
export interface BulkRowResult {
  index: number;
  externalId: string;
  success: boolean;
  crmId?: string;
  created?: boolean;
  error?: CrmRecordError;
}

/** What the caller learns after each job. */
export interface BulkJobReport {
  jobId: string;
}

/** Arguments of {@link runBulkUpsert}. */
export interface BulkUpsertArguments {
  client: SalesforceClient;
  apiVersion: string;
  object: string;
  externalIdFieldName: string;
  /** Columns every job's header starts with (the full mapped field set). */
  columns: readonly string[];
  /** The rows, a batch at a time (a batch may be cut across two jobs). */
  rows: AsyncIterator<readonly BulkRow[]>;
  options: ResolvedBulkOptions;
  sleep: CrmSleep;
  signal?: AbortSignal | undefined;
  counters: OperationCounters;
  /**
   * How keys compare (e.g. lower-cased emails): two rows of one job with the same key are not
   * both sent; the later one goes to `onDuplicate`. Rows of different jobs never clash (the jobs
   * run one after the other), so nothing is kept across jobs.
   */
  normaliseKey?: (key: string) => string;
  /** A row whose key is already in the job in flight (it is not sent). */
  onDuplicate: (row: BulkRow) => void | Promise<void>;
  /**
   * Called once per uploaded row with its outcome (streamed: results are not collected here).
   * A returned promise is awaited before the next result is read (backpressure).
   */
  onResult: (result: BulkRowResult) => void | Promise<void>;
  /** Called after each job's results were all reported. */
  onJobDone: (report: BulkJobReport) => void;
  /** Told (and awaited) when a job is opened, before it gets data, and when it is over. */
  onRemoteJob?: ((event: CrmRemoteJobEvent) => void | Promise<void>) | undefined;
}

const ROWS_PER_CHUNK = 500;
/** Longest wait for a job-abort call (cleanup after a failure or an abort). */
const ABORT_JOB_TIMEOUT_MS = 10_000;
/** CSV kept (off the V8 heap, as buffers) so a job whose upload hit a connection reset can be re-sent once. */
const REPLAY_LIMIT_BYTES = 32 * 1024 * 1024;
/** Shortest wait between two polls. */
const MIN_POLL_MS = 250;
/** Longest wait a predicted job end may ask for. */
const MAX_PREDICTED_POLL_MS = 30_000;
/** Results handed over between two yields to the event loop. */
const RESULTS_PER_SLICE = 2_000;

/**
 * A CSV cell for Bulk API 2.0: `#N/A` sets a field to null, an empty cell leaves it unchanged
 * (on update) — so `undefined` (not given) and `null` (clear it) stay distinct. Values are never
 * prefixed against spreadsheet formula injection: Salesforce stores `=SUM(A1)` as text, exactly as
 * the REST path would, and altering it would corrupt data.
 */
export function csvCell(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return '#N/A';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, and also when
 * it starts or ends with white space (Salesforce's parser errors an unquoted leading space) or
 * holds a bare carriage return (a record separator to it).
 */
function csvField(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
const NEEDS_QUOTES = /[",\n\r]|^\s|\s$/;

/** One CSV line with its LF ending. */
function csvLine(cells: readonly string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++)
    line += i === 0 ? csvField(cells[i] as string) : `,${csvField(cells[i] as string)}`;
  return `${line}\n`;
}

/**
 * Format rows as CSV lines (LF endings, RFC 4180 quoting). Written here rather than with
 * csv-stringify: it is a few lines of quoting, and building 100,000 rows a job through the
 * library's option handling cost more than the rest of the CSV path (see README, Performance).
 */
export function csvLines(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  let text = '';
  for (const row of rows) text += csvLine(row);
  return text;
}

/** Parse Salesforce's `sf__Error` (`CODE:message`) into a record error. */
export function parseBulkError(text: string | undefined): CrmRecordError {
  const raw = (text ?? '').trim();
  const match = /^([A-Z][A-Z0-9_]+):(.*)$/s.exec(raw);
  if (!match) return { code: 'UNKNOWN', message: raw || 'Record failed' };
  let message = (match[2] ?? '').trim();
  let fields: string[] | undefined;
  // Salesforce appends the fields as `:Field1,Field2 --` to some messages.
  const trailing = /:([A-Za-z0-9_,]+) --$/.exec(message);
  if (trailing?.[1]) {
    fields = trailing[1].split(',').filter(Boolean);
    message = message.slice(0, trailing.index).trim();
  } else if (message.endsWith('--')) {
    message = message.slice(0, -2).trim();
  }
  return fields ? { code: match[1] ?? 'UNKNOWN', message, fields } : { code: match[1] ?? 'UNKNOWN', message };
}

interface JobInfo {
  id: string;
  state: string;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
  errorMessage?: string;
}

/**
 * Upsert `rows` through Bulk API 2.0 ingest jobs: the CSV is generated while it uploads (never
 * buffered whole), with the header from the full field set. A row that carries a column the
 * current header lacks starts a new job, as does passing `maxJobBytes`. Results are read back
 * from `successfulResults`, `failedResults` and `unprocessedrecords` and mapped to each row by its
 * key column. On abort the job in flight is aborted too.
 *
 * A failed job does not fail its rows: the rows it never processed (`unprocessedrecords`) were
 * never tried, so they are sent again in smaller jobs, halving a set that fails again until the
 * row that makes a job fail is pinned down; only such a row is reported failed (`BULK_JOB_FAILED`,
 * with the job's error message). An upload refused with an expired session or a transient error
 * is re-sent on a fresh job after a refresh or backoff, through the client's retry policy.
 */
export async function runBulkUpsert(args: BulkUpsertArguments): Promise<void> {
  const { signal } = args;
  const base = `/services/data/v${args.apiVersion}/jobs/ingest`;
  const normalise = args.normaliseKey ?? ((key: string) => key);
  const pace = paceOf(args.client);
  // The batch being read and the position of its next row: shared with each job's generator,
  // which stops at the first row that does not fit and leaves it for the next job.
  let batch: readonly BulkRow[] = [];
  let at = 0;
  const nextRow = async (): Promise<BulkRow | undefined> => {
    while (at >= batch.length) {
      const next = await args.rows.next();
      if (next.done) return undefined;
      batch = next.value;
      at = 0;
    }
    return batch[at];
  };
  for (let first = await nextRow(); first !== undefined; first = await nextRow()) {
    if (signal?.aborted) throw createAbortError(signal);
    const header = [...args.columns];
    const headerSet = new Set(header);
    for (const key of Object.keys(first.record)) {
      if (!headerSet.has(key)) {
        headerSet.add(key);
        header.push(key);
      }
    }
    const pending = new PendingBulkRows();
    const csv = (async function* (): AsyncGenerator<string> {
      const headerLine = csvLine(header);
      let bytes = Buffer.byteLength(headerLine);
      yield headerLine;
      let chunk = '';
      let inChunk = 0;
      for (;;) {
        if (at >= batch.length && (await nextRow()) === undefined) break;
        const row = batch[at] as BulkRow;
        let fits = true;
        for (const key in row.record) {
          if (!headerSet.has(key)) {
            fits = false;
            break;
          }
        }
        if (!fits || pending.size >= args.options.maxJobRecords) break;
        const key = normalise(row.key);
        if (pending.has(key)) {
          at += 1;
          await args.onDuplicate(row);
          continue;
        }
        let line = '';
        for (let i = 0; i < header.length; i++) {
          const cell = csvField(csvCell(row.record[header[i] as string]));
          line += i === 0 ? cell : `,${cell}`;
        }
        line += '\n';
        // UTF-16 length is a lower bound of UTF-8 bytes: measure exactly only near the limit.
        const size =
          bytes + 3 * line.length > args.options.maxJobBytes ? Buffer.byteLength(line) : line.length;
        if (pending.size > 0 && bytes + size > args.options.maxJobBytes) break;
        bytes += size;
        pending.add(key, row.index, row.externalId);
        at += 1;
        chunk += line;
        inChunk += 1;
        if (inChunk >= ROWS_PER_CHUNK) {
          yield chunk;
          chunk = '';
          inChunk = 0;
          if (signal?.aborted) throw createAbortError(signal);
        }
      }
      if (chunk) yield chunk;
    })();
    // What was generated so far, kept (up to a limit) so the upload can be re-sent after a
    // connection reset, an expired session or a 5xx: the input iterable cannot be rewound. Kept
    // as buffers, off the V8 heap (the upload sends bytes anyway).
    const replay: Buffer[] = [];
    let replayBytes = 0;
    let replayable = true;
    const body = () => {
      const prefix = replay.slice();
      return Readable.from(
        (async function* () {
          yield* prefix;
          for (;;) {
            const next = await csv.next();
            if (next.done) return;
            const bytes = Buffer.from(next.value);
            if (replayable) {
              replay.push(bytes);
              replayBytes += bytes.length;
              if (replayBytes > REPLAY_LIMIT_BYTES) {
                replayable = false;
                replay.length = 0;
              }
            }
            yield bytes;
          }
        })(),
      );
    };
    const outcome = await executeJob(
      args,
      base,
      { body, replayable: () => replayable, uploaded: () => (replay.length = 0) },
      pending,
      pace,
    );
    if (outcome.unprocessed.length > 0) await redrive(args, base, outcome, pace);
  }
}

/** How fast the org processed the last job, to time the polls of the next one. */
interface PollPace {
  /** Milliseconds from closing a job to its completion, per row. */
  msPerRow?: number;
}

/**
 * The pace per client (one org), kept across calls: a large push arrives as many calls of one job
 * each, and without the last job's pace every job would poll from 250 ms up again.
 */
const paces = new WeakMap<SalesforceClient, PollPace>();

function paceOf(client: SalesforceClient): PollPace {
  let pace = paces.get(client);
  if (pace === undefined) {
    pace = {};
    paces.set(client, pace);
  }
  return pace;
}

/** What {@link executeJob} uploads. */
interface JobUpload {
  body: () => Readable;
  /** Whether `body()` can be called again for a re-send. */
  replayable: () => boolean;
  /** Called once the upload was accepted. */
  uploaded?: () => void;
}

/** A finished job and the rows it never processed. */
interface JobOutcome {
  info: JobInfo;
  header: string[];
  unprocessed: UnprocessedRow[];
}

interface UnprocessedRow extends PendingBulkRow {
  /** Normalised key. */
  key: string;
  cells: string[];
}

/** Create, upload, close, poll and read one job; the job is aborted if anything fails. */
async function executeJob(
  args: BulkUpsertArguments,
  base: string,
  upload: JobUpload,
  pending: PendingBulkRows,
  pace: PollPace,
): Promise<JobOutcome> {
  const current = { job: await openJob(args, base) };
  try {
    await uploadWithRetry(args, base, current, upload);
    upload.uploaded?.();
    const uploaded = pending.size;
    await args.client.request<JobInfo>(
      'close bulk ingest job',
      {
        method: 'PATCH',
        url: `${base}/${current.job.id}`,
        body: JSON.stringify({ state: 'UploadComplete' }),
        headers: JSON_HEADERS,
      },
      { signal: args.signal, counters: args.counters, idempotent: true },
    );
    const final = await pollJob(args, base, current.job.id, uploaded, pace);
    await args.onRemoteJob?.({ jobId: current.job.id, state: 'closed' });
    const outcome = await collectResults(args, base, final, pending, uploaded);
    args.onJobDone({ jobId: current.job.id });
    return outcome;
  } catch (error) {
    await closeJob(args, base, current.job.id);
    throw error;
  }
}

/** Abort a job and, once the abort is confirmed (or the job was already over), report it closed. */
async function closeJob(args: BulkUpsertArguments, base: string, jobId: string): Promise<void> {
  if (await abortJob(args.client, base, jobId, args.counters)) {
    await args.onRemoteJob?.({ jobId, state: 'closed' });
  }
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

async function openJob(args: BulkUpsertArguments, base: string): Promise<JobInfo> {
  const job = await args.client.request<JobInfo>(
    'create bulk ingest job',
    {
      method: 'POST',
      url: base,
      body: JSON.stringify({
        object: args.object,
        operation: 'upsert',
        externalIdFieldName: args.externalIdFieldName,
        contentType: 'CSV',
        columnDelimiter: 'COMMA',
        lineEnding: 'LF',
      }),
      headers: JSON_HEADERS,
    },
    { signal: args.signal, counters: args.counters, idempotent: true },
  );
  try {
    // Before any data: whoever records open jobs must know of this one before it can hold rows.
    await args.onRemoteJob?.({ jobId: job.id, state: 'opened' });
  } catch (error) {
    await abortJob(args.client, base, job.id, args.counters);
    throw error;
  }
  return job;
}

/**
 * Upload through the same refresh-and-retry policy as every other call: a streamed body cannot be
 * replayed by jsforce, so a refused upload is re-sent here, on a fresh job (the old one may hold
 * part of the data and is aborted).
 */
async function uploadWithRetry(
  args: BulkUpsertArguments,
  base: string,
  current: { job: JobInfo },
  upload: JobUpload,
): Promise<void> {
  const { client } = args;
  let refreshed = false;
  for (let attempt = 0; ; attempt++) {
    const token = client.connection.accessToken ?? undefined;
    try {
      await uploadCsv(client, `${base}/${current.job.id}/batches`, upload.body(), {
        signal: args.signal,
        counters: args.counters,
        timeoutMs: args.options.uploadTimeoutMs,
      });
      return;
    } catch (error) {
      if (!upload.replayable() || !isCrmError(error) || args.signal?.aborted) throw error;
      if (
        error instanceof CrmAuthenticationError &&
        (error.providerCode === 'INVALID_SESSION_ID' || error.status === 401)
      ) {
        if (refreshed || !client.canRefresh) throw error;
        refreshed = true;
        await client.refreshSession(token, args.signal);
        attempt -= 1;
      } else {
        if (!isRetryable(error, true)) throw error;
        const delay = retryDelayFor(error, attempt, client.retryOptions, undefined);
        if (delay === undefined) throw error;
        await args.sleep(delay, args.signal);
      }
      await closeJob(args, base, current.job.id);
      current.job = await openJob(args, base);
    }
  }
}

/**
 * Send the rows a failed job never processed again, in smaller jobs: the whole set first (most
 * job failures are the server's, and pass on a second try), then halves of any set that fails
 * again, down to single rows. A single row whose job still fails is reported failed with the
 * job's message; a budget of jobs bounds the cost, past which rows stay retryable (`UNPROCESSED`).
 */
async function redrive(
  args: BulkUpsertArguments,
  base: string,
  first: JobOutcome,
  pace: PollPace,
): Promise<void> {
  let budget = 2 * Math.ceil(Math.log2(first.unprocessed.length + 1)) + 2;
  const queue: Array<{ rows: UnprocessedRow[]; message: string }> = [
    { rows: first.unprocessed, message: first.info.errorMessage ?? 'The Bulk API job failed' },
  ];
  while (queue.length > 0) {
    const part = queue.shift() as { rows: UnprocessedRow[]; message: string };
    if (budget <= 0) {
      for (const row of part.rows) {
        await args.onResult({
          index: row.index,
          externalId: row.externalId,
          success: false,
          error: { code: 'UNPROCESSED', message: part.message },
        });
      }
      continue;
    }
    budget -= 1;
    const text = csvLines([first.header, ...part.rows.map((r) => r.cells)]);
    const pending = new PendingBulkRows();
    for (const r of part.rows) pending.add(r.key, r.index, r.externalId);
    const outcome = await executeJob(
      args,
      base,
      { body: () => Readable.from([text]), replayable: () => true },
      pending,
      pace,
    );
    const left = outcome.unprocessed;
    if (left.length === 0) continue;
    const message = outcome.info.errorMessage ?? part.message;
    if (left.length === 1 && part.rows.length === 1) {
      const [row] = left as [UnprocessedRow];
      // Pinned down: this row fails a job on its own.
      await args.onResult({
        index: row.index,
        externalId: row.externalId,
        success: false,
        error: { code: 'BULK_JOB_FAILED', message },
      });
      continue;
    }
    const half = Math.ceil(left.length / 2);
    queue.push({ rows: left.slice(0, half), message });
    if (left.length > half) queue.push({ rows: left.slice(half), message });
  }
}

async function uploadCsv(
  client: SalesforceClient,
  url: string,
  body: Readable,
  call: { signal?: AbortSignal | undefined; counters: OperationCounters; timeoutMs?: number },
): Promise<void> {
  await client.run(
    'upload bulk ingest data',
    (context) => {
      const pending = client.connection.request(
        { method: 'PUT', url, headers: { 'Content-Type': 'text/csv' } } as Parameters<
          typeof client.connection.request
        >[0],
        context,
      );
      const target = pending.stream();
      body.on('error', (error) => target.destroy(error));
      body.pipe(target);
      return (async () => {
        try {
          await pending;
        } finally {
          body.destroy();
        }
      })();
    },
    // A streamed body cannot be replayed: one attempt only.
    { ...call, idempotent: false, retry: false },
  );
}

/**
 * Wait for the job to end. Without a prediction, waits double from 250 ms up to `pollIntervalMs`.
 * The first wait of a job is predicted from how long the client's previous job took per row (90%
 * of it: a job that runs faster is not overslept much). Later waits come from the job's own progress
 * (rows processed since it was closed): 90% of the predicted rest, but never longer than the job
 * has run so far, so a rate read early and noisy cannot oversleep much; once every row is
 * processed, 5% of the time the job has run. A large job costs a few polls rather than one every
 * `pollIntervalMs`.
 */
async function pollJob(
  args: BulkUpsertArguments,
  base: string,
  jobId: string,
  rows: number,
  pace: PollPace,
): Promise<JobInfo> {
  const started = Date.now();
  const shortest = Math.min(MIN_POLL_MS, args.options.pollIntervalMs);
  let delay = shortest;
  let wait =
    pace.msPerRow !== undefined
      ? Math.max(shortest, Math.min(0.9 * pace.msPerRow * rows, MAX_PREDICTED_POLL_MS))
      : shortest;
  for (;;) {
    await args.sleep(wait, args.signal);
    const info = await args.client.request<JobInfo>(
      'check bulk ingest job',
      { method: 'GET', url: `${base}/${jobId}` },
      { idempotent: true, signal: args.signal, counters: args.counters },
    );
    const now = Date.now();
    if (info.state === 'JobComplete') {
      if (rows > 0) pace.msPerRow = (now - started) / rows;
      return info;
    }
    if (info.state === 'Failed' || info.state === 'Aborted') {
      // Failed jobs may still have processed part of the data: report per record below.
      if (info.state === 'Failed') return info;
      throw new CrmApiError(`Salesforce bulk ingest job ${jobId} was aborted`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_ABORTED',
      });
    }
    if (now - started > args.options.pollTimeoutMs) {
      throw new CrmApiError(`Salesforce bulk ingest job ${jobId} did not finish in time`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_POLLING_TIMEOUT',
        retryable: true,
        details: { jobId },
      });
    }
    const processed = info.numberRecordsProcessed ?? 0;
    const elapsed = now - started;
    if (processed > 0 && processed < rows) {
      const rest = ((rows - processed) * elapsed) / processed;
      wait = Math.max(shortest, Math.min(0.9 * rest, elapsed, MAX_PREDICTED_POLL_MS));
    } else if (processed > 0) {
      // Every row processed, results being written: a short wait in proportion to the job.
      wait = Math.max(shortest, Math.min(0.05 * elapsed, MAX_PREDICTED_POLL_MS));
    } else {
      // No progress reported (queued, or an org that does not count): back off.
      delay = Math.min(delay * 2, Math.max(args.options.pollIntervalMs, shortest));
      wait = delay;
    }
  }
}

/**
 * Read one result set of a job as it downloads, a piece at a time (never the whole set as one
 * string: a job of 150,000 rows answers with tens of MB of CSV): `onHeader` gets its header row,
 * then `onRow` each record, awaited (backpressure), with a yield to the event loop every
 * {@link RESULTS_PER_SLICE} rows. A download that fails part-way is read again from its start
 * (the client's retry): `onHeader` and `onRow` then see the rows of the failed attempt again, and
 * must skip those they already handled (the callers here take each row's key out of the job's
 * pending rows, so a row seen twice is handed on once).
 */
async function readResultSet(
  args: BulkUpsertArguments,
  url: string,
  operation: string,
  onHeader: (header: string[]) => void,
  onRow: (cells: string[]) => void | Promise<void>,
): Promise<void> {
  const { signal } = args;
  await args.client.download(
    operation,
    { method: 'GET', url, headers: { Accept: 'text/csv' } },
    { idempotent: true, signal, counters: args.counters },
    async (text) => {
      const reader = new BulkCsvReader();
      let header = false;
      let sinceYield = 0;
      const drain = async (): Promise<void> => {
        if (!header) {
          const [first] = reader.rows(1);
          if (!first) return;
          header = true;
          onHeader(first);
        }
        for (
          let slice = reader.rows(RESULTS_PER_SLICE);
          slice.length > 0;
          slice = reader.rows(RESULTS_PER_SLICE)
        ) {
          for (const cells of slice) {
            // The read ahead may hold rows still when the caller aborts: none is handed on after.
            if (signal?.aborted) throw createAbortError(signal);
            const pending = onRow(cells);
            if (pending) await pending;
          }
          sinceYield += slice.length;
          if (sinceYield >= RESULTS_PER_SLICE) {
            sinceYield = 0;
            await yieldToEventLoop();
          }
        }
      };
      for await (const piece of text) {
        reader.append(piece);
        await drain();
      }
      reader.end();
      await drain();
    },
  );
}

/**
 * Hand each record of a result set to `each` with the cells of the `wanted` columns (by header
 * name; `''` when absent), as {@link readResultSet} reads it.
 */
async function forEachResult(
  args: BulkUpsertArguments,
  url: string,
  operation: string,
  wanted: readonly string[],
  each: (cells: string[]) => void | Promise<void>,
): Promise<void> {
  let positions: number[] = [];
  await readResultSet(
    args,
    url,
    operation,
    (header) => {
      positions = wanted.map((name) => header.indexOf(name));
    },
    (cells) => each(positions.map((at) => (at >= 0 ? (cells[at] ?? '') : ''))),
  );
}

/**
 * Read the job's result sets and report each uploaded row exactly once through `onResult`.
 * `pending` is consumed: what is left at the end got no result and is reported as such.
 */
async function collectResults(
  args: BulkUpsertArguments,
  base: string,
  info: JobInfo,
  pending: PendingBulkRows,
  uploaded: number,
): Promise<JobOutcome> {
  const keyColumn = args.externalIdFieldName;
  const normalise = args.normaliseKey ?? ((key: string) => key);
  const outcome: JobOutcome = { info, header: [], unprocessed: [] };
  const failedCount = info.numberRecordsFailed ?? 0;
  const take = (key: string): PendingBulkRow | undefined => pending.take(normalise(key));
  // One result row (`key, sf__Id, third column`) of a job still pending: its result, handed on.
  const settle = (
    [key = '', id = '', third = '']: string[],
    outcome: (third: string) => Pick<BulkRowResult, 'success' | 'created' | 'error'>,
  ) => {
    const row = take(key);
    if (row === undefined) return;
    const result: BulkRowResult = { index: row.index, externalId: row.externalId, ...outcome(third) };
    if (id) result.crmId = id;
    return args.onResult(result);
  };
  const results = `${base}/${info.id}`;
  const successful = [keyColumn, 'sf__Id', 'sf__Created'];
  await forEachResult(
    args,
    `${results}/successfulResults`,
    'read bulk successful results',
    successful,
    (cells) => settle(cells, (created) => ({ success: true, created: created === 'true' })),
  );
  // Skip the calls when the job's counters say there is nothing to read.
  if (failedCount > 0 || info.state === 'Failed' || uploaded - pending.size + failedCount < uploaded) {
    const failed = [keyColumn, 'sf__Id', 'sf__Error'];
    await forEachResult(args, `${results}/failedResults`, 'read bulk failed results', failed, (cells) =>
      settle(cells, (error) => ({ success: false, error: parseBulkError(error) })),
    );
  }
  if (pending.size > 0) {
    // Never tried: handed back whole (as uploaded) to be sent again.
    let keyAt = -1;
    await readResultSet(
      args,
      `${results}/unprocessedrecords`,
      'read bulk unprocessed records',
      (header) => {
        outcome.header = header;
        keyAt = header.indexOf(keyColumn);
      },
      (cells) => {
        if (keyAt < 0) return;
        const key = normalise(cells[keyAt] ?? '');
        const row = take(key);
        if (row !== undefined) outcome.unprocessed.push({ ...row, key, cells });
      },
    );
  }
  // Anything still unaccounted for is reported, never silently dropped.
  for (const row of pending.remaining()) {
    await args.onResult({
      index: row.index,
      externalId: row.externalId,
      success: false,
      error: { code: 'NO_RESULT', message: 'Salesforce returned no result for this record' },
    });
  }
  pending.clear();
  return outcome;
}

/**
 * Abort a job. `true` when it is over (aborted now, or already finished: Salesforce refuses to
 * abort those with a 4xx), `false` when the abort could not be confirmed (timeout, connection).
 */
async function abortJob(
  client: SalesforceClient,
  base: string,
  jobId: string,
  counters: OperationCounters,
): Promise<boolean> {
  try {
    // Not the caller's signal (it may be what fired, and the abort must still go out), but a
    // bounded wait: an abort that stalls must not hold the caller.
    await client.request(
      'abort bulk ingest job',
      {
        method: 'PATCH',
        url: `${base}/${jobId}`,
        body: JSON.stringify({ state: 'Aborted' }),
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
      },
      { idempotent: true, counters, retry: false, signal: AbortSignal.timeout(ABORT_JOB_TIMEOUT_MS) },
    );
    return true;
  } catch (error) {
    // Best effort: a job that already finished cannot be aborted (400 InvalidJobState, 404).
    return isCrmError(error) && error.status !== undefined && error.status >= 400 && error.status < 500;
  }
}

/**
 * Abort ingest jobs a killed process left open. Jobs already over (or unknown) are skipped.
 * Resolves to the ids aborted now.
 */
export async function abortIngestJobs(
  client: SalesforceClient,
  apiVersion: string,
  jobIds: ReadonlyArray<string>,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const base = `/services/data/v${apiVersion}/jobs/ingest`;
  const aborted: string[] = [];
  for (const jobId of jobIds) {
    if (signal?.aborted) throw createAbortError(signal);
    try {
      await client.request(
        'abort bulk ingest job',
        {
          method: 'PATCH',
          url: `${base}/${jobId}`,
          body: JSON.stringify({ state: 'Aborted' }),
          headers: JSON_HEADERS,
        },
        { idempotent: true, counters: { apiCalls: 0 }, signal },
      );
      aborted.push(jobId);
    } catch (error) {
      // Over already (InvalidJobState) or gone (NOT_FOUND): nothing left to abort.
      if (isCrmError(error) && error.status !== undefined && error.status >= 400 && error.status < 500) {
        if (error.code !== 'AUTHENTICATION' && error.code !== 'RATE_LIMIT') continue;
      }
      throw error;
    }
  }
  return aborted;
}
