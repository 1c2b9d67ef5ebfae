import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { type Options as StringifyOptions, stringify } from 'csv-stringify/sync';
import { CrmApiError, CrmAuthenticationError, createAbortError, isCrmError } from '../core/errors.js';
import type { CrmRecordError } from '../core/models.js';
import type { CrmRemoteJobEvent } from '../core/provider.js';
import type { CrmSleep } from '../core/sleep.js';
import type { SalesforceClient } from './client.js';
import { SALESFORCE_PROVIDER } from './errors.js';
import type { SalesforceRecord } from './mapping.js';
import { isRetryable, retryDelayFor } from './retry.js';
import type { OperationCounters } from './transport.js';

/** Tuning of Bulk API 2.0 ingest jobs. */
export interface SalesforceBulkOptions {
  /**
   * Longest wait between two job-status polls, in milliseconds. Polls start at 250 ms and double
   * up to this, so small jobs finish in few API calls and long ones do not spin.
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
  uploadTimeoutMs: 15 * 60_000,
};

/** One record to upload, with its position in the caller's input and its key (external id). */
export interface BulkRow {
  index: number;
  key: string;
  record: SalesforceRecord;
}

/** The outcome of one uploaded record. */
export interface BulkRowResult {
  index: number;
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
  rows: AsyncIterator<BulkRow>;
  options: ResolvedBulkOptions;
  sleep: CrmSleep;
  signal?: AbortSignal | undefined;
  counters: OperationCounters;
  /** Called once per uploaded row with its outcome (streamed: results are not collected here). */
  onResult: (result: BulkRowResult) => void;
  /** Called after each job's results were all reported. */
  onJobDone: (report: BulkJobReport) => void;
  /** Told (and awaited) when a job is opened, before it gets data, and when it is over. */
  onRemoteJob?: ((event: CrmRemoteJobEvent) => void | Promise<void>) | undefined;
}

// Quote what csv-stringify leaves bare but Salesforce's parser would misread: carriage returns
// (a record separator) and leading/trailing spaces (an unquoted space errors the row).
const STRINGIFY_OPTIONS: StringifyOptions = { record_delimiter: 'unix', quoted_match: [/\r/, /^\s|\s$/] };
const ROWS_PER_CHUNK = 500;
/** Longest wait for a job-abort call (cleanup after a failure or an abort). */
const ABORT_JOB_TIMEOUT_MS = 10_000;
/** CSV kept in memory so a job whose upload hit a connection reset can be re-sent once. */
const REPLAY_LIMIT_BYTES = 32 * 1024 * 1024;

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

/** Format rows as CSV lines (LF endings, RFC 4180 quoting). */
export function csvLines(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  return rows.length ? stringify(rows as string[][], STRINGIFY_OPTIONS) : '';
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
  let peeked: IteratorResult<BulkRow> = await args.rows.next();
  while (!peeked.done) {
    if (signal?.aborted) throw createAbortError(signal);
    const header = [...args.columns];
    const headerSet = new Set(header);
    for (const key of Object.keys(peeked.value.record)) {
      if (!headerSet.has(key)) {
        headerSet.add(key);
        header.push(key);
      }
    }
    const keyToIndex = new Map<string, number>();
    let uploaded = 0;
    // The generator shares `peeked` with the outer loop: it stops at the first row that does
    // not fit this job and leaves it for the next one.
    const first: IteratorResult<BulkRow> = peeked;
    const csv = (async function* (): AsyncGenerator<string> {
      let bytes = 0;
      const headerLine = csvLines([header]);
      bytes += Buffer.byteLength(headerLine);
      yield headerLine;
      let chunk: string[][] = [];
      let current: IteratorResult<BulkRow> = first;
      while (!current.done) {
        const row = current.value;
        const fits = Object.keys(row.record).every((k) => headerSet.has(k));
        if (!fits) break;
        const line = header.map((column) => csvCell(row.record[column]));
        const size = line.reduce((sum, cell) => sum + Buffer.byteLength(cell) + 3, 1);
        if (uploaded > 0 && bytes + size > args.options.maxJobBytes) break;
        bytes += size;
        keyToIndex.set(row.key, row.index);
        uploaded += 1;
        chunk.push(line);
        if (chunk.length >= ROWS_PER_CHUNK) {
          yield csvLines(chunk);
          chunk = [];
        }
        if (signal?.aborted) throw createAbortError(signal);
        current = await args.rows.next();
      }
      peeked = current;
      if (chunk.length) yield csvLines(chunk);
    })();
    // What was generated so far, kept (up to a limit) so the upload can be re-sent after a
    // connection reset, an expired session or a 5xx: the input iterable cannot be rewound.
    const replay: string[] = [];
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
            if (replayable) {
              replay.push(next.value);
              replayBytes += next.value.length;
              if (replayBytes > REPLAY_LIMIT_BYTES) {
                replayable = false;
                replay.length = 0;
              }
            }
            yield next.value;
          }
        })(),
      );
    };
    const outcome = await executeJob(
      args,
      base,
      { body, replayable: () => replayable, uploaded: () => (replay.length = 0) },
      keyToIndex,
      () => uploaded,
    );
    if (outcome.unprocessed.length > 0) await redrive(args, base, outcome);
  }
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

interface UnprocessedRow {
  index: number;
  key: string;
  cells: string[];
}

/** Create, upload, close, poll and read one job; the job is aborted if anything fails. */
async function executeJob(
  args: BulkUpsertArguments,
  base: string,
  upload: JobUpload,
  keyToIndex: Map<string, number>,
  uploaded: () => number,
): Promise<JobOutcome> {
  const current = { job: await openJob(args, base) };
  try {
    await uploadWithRetry(args, base, current, upload);
    upload.uploaded?.();
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
    const final = await pollJob(args, base, current.job.id);
    await args.onRemoteJob?.({ jobId: current.job.id, state: 'closed' });
    const outcome = await collectResults(args, base, final, keyToIndex, uploaded(), args.onResult);
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
async function redrive(args: BulkUpsertArguments, base: string, first: JobOutcome): Promise<void> {
  let budget = 2 * Math.ceil(Math.log2(first.unprocessed.length + 1)) + 2;
  const queue: Array<{ rows: UnprocessedRow[]; message: string }> = [
    { rows: first.unprocessed, message: first.info.errorMessage ?? 'The Bulk API job failed' },
  ];
  while (queue.length > 0) {
    const part = queue.shift() as { rows: UnprocessedRow[]; message: string };
    if (budget <= 0) {
      for (const row of part.rows) {
        args.onResult({
          index: row.index,
          success: false,
          error: { code: 'UNPROCESSED', message: part.message },
        });
      }
      continue;
    }
    budget -= 1;
    const text = csvLines([first.header, ...part.rows.map((r) => r.cells)]);
    const keyToIndex = new Map(part.rows.map((r) => [r.key, r.index]));
    const outcome = await executeJob(
      args,
      base,
      { body: () => Readable.from([text]), replayable: () => true },
      keyToIndex,
      () => part.rows.length,
    );
    const left = outcome.unprocessed;
    if (left.length === 0) continue;
    const message = outcome.info.errorMessage ?? part.message;
    if (left.length === 1 && part.rows.length === 1) {
      const [row] = left as [UnprocessedRow];
      // Pinned down: this row fails a job on its own.
      args.onResult({ index: row.index, success: false, error: { code: 'BULK_JOB_FAILED', message } });
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

async function pollJob(args: BulkUpsertArguments, base: string, jobId: string): Promise<JobInfo> {
  const started = Date.now();
  let delay = 250;
  for (;;) {
    await args.sleep(delay, args.signal);
    const info = await args.client.request<JobInfo>(
      'check bulk ingest job',
      { method: 'GET', url: `${base}/${jobId}` },
      { idempotent: true, signal: args.signal, counters: args.counters },
    );
    if (info.state === 'JobComplete') return info;
    if (info.state === 'Failed' || info.state === 'Aborted') {
      // Failed jobs may still have processed part of the data: report per record below.
      if (info.state === 'Failed') return info;
      throw new CrmApiError(`Salesforce bulk ingest job ${jobId} was aborted`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_ABORTED',
      });
    }
    if (Date.now() - started > args.options.pollTimeoutMs) {
      throw new CrmApiError(`Salesforce bulk ingest job ${jobId} did not finish in time`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_POLLING_TIMEOUT',
        retryable: true,
        details: { jobId },
      });
    }
    delay = Math.min(delay * 2, args.options.pollIntervalMs);
  }
}

/** Yield every CSV row (header first) as an array of cells. */
async function* csvRows(text: string): AsyncGenerator<string[]> {
  if (!text.trim()) return;
  yield* Readable.from([text]).pipe(parse({ relax_column_count: true, bom: true })) as AsyncIterable<
    string[]
  >;
}

/**
 * Yield the `wanted` columns of each CSV row, by header name, as an array (`''` when absent).
 * Rows are parsed as arrays: cheaper than one object per row at 100,000 rows.
 */
async function* csvColumns(text: string, wanted: readonly string[]): AsyncGenerator<string[]> {
  if (!text.trim()) return;
  const parser = Readable.from([text]).pipe(parse({ relax_column_count: true, bom: true }));
  let positions: number[] | undefined;
  for await (const cells of parser as AsyncIterable<string[]>) {
    if (!positions) {
      positions = wanted.map((name) => cells.indexOf(name));
      continue;
    }
    yield positions.map((at) => (at >= 0 ? (cells[at] ?? '') : ''));
  }
}

async function getText(args: BulkUpsertArguments, url: string, operation: string): Promise<string> {
  const body = await args.client.request<unknown>(
    operation,
    { method: 'GET', url, headers: { Accept: 'text/csv' } },
    { idempotent: true, signal: args.signal, counters: args.counters },
    { responseType: 'text/plain' },
  );
  return typeof body === 'string' ? body : '';
}

/**
 * Read the job's result sets and report each uploaded row exactly once through `onResult`.
 * `keyToIndex` is consumed: what is left at the end got no result and is reported as such.
 */
async function collectResults(
  args: BulkUpsertArguments,
  base: string,
  info: JobInfo,
  keyToIndex: Map<string, number>,
  uploaded: number,
  onResult: (result: BulkRowResult) => void,
): Promise<JobOutcome> {
  const keyColumn = args.externalIdFieldName;
  const outcome: JobOutcome = { info, header: [], unprocessed: [] };
  const failedCount = info.numberRecordsFailed ?? 0;
  const take = (key: string): number | undefined => {
    const index = keyToIndex.get(key);
    if (index !== undefined) keyToIndex.delete(key);
    return index;
  };
  let text = await getText(args, `${base}/${info.id}/successfulResults`, 'read bulk successful results');
  for await (const [key = '', id = '', created = ''] of csvColumns(text, [
    keyColumn,
    'sf__Id',
    'sf__Created',
  ])) {
    const index = take(key);
    if (index === undefined) continue;
    const result: BulkRowResult = { index, success: true, created: created === 'true' };
    if (id) result.crmId = id;
    onResult(result);
  }
  // Skip the calls when the job's counters say there is nothing to read.
  if (failedCount > 0 || info.state === 'Failed' || uploaded - keyToIndex.size + failedCount < uploaded) {
    text = await getText(args, `${base}/${info.id}/failedResults`, 'read bulk failed results');
    for await (const [key = '', id = '', error = ''] of csvColumns(text, [
      keyColumn,
      'sf__Id',
      'sf__Error',
    ])) {
      const index = take(key);
      if (index === undefined) continue;
      const result: BulkRowResult = { index, success: false, error: parseBulkError(error) };
      if (id) result.crmId = id;
      onResult(result);
    }
  }
  if (keyToIndex.size > 0) {
    text = await getText(args, `${base}/${info.id}/unprocessedrecords`, 'read bulk unprocessed records');
    // Never tried: handed back whole (as uploaded) to be sent again.
    let keyAt = -1;
    for await (const cells of csvRows(text)) {
      if (keyAt < 0) {
        outcome.header = cells;
        keyAt = cells.indexOf(keyColumn);
        if (keyAt < 0) break;
        continue;
      }
      const key = cells[keyAt] ?? '';
      const index = take(key);
      if (index !== undefined) outcome.unprocessed.push({ index, key, cells });
    }
  }
  // Anything still unaccounted for is reported, never silently dropped.
  for (const index of keyToIndex.values()) {
    onResult({
      index,
      success: false,
      error: { code: 'NO_RESULT', message: 'Salesforce returned no result for this record' },
    });
  }
  keyToIndex.clear();
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
