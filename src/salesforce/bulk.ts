import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { type Options as StringifyOptions, stringify } from 'csv-stringify/sync';
import { CrmApiError, createAbortError, isCrmError } from '../core/errors.js';
import type { CrmRecordError } from '../core/models.js';
import type { CrmSleep } from '../core/sleep.js';
import type { SalesforceClient } from './client.js';
import { SALESFORCE_PROVIDER } from './errors.js';
import type { SalesforceRecord } from './mapping.js';
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
}

/** {@link SalesforceBulkOptions} with defaults applied. */
export type ResolvedBulkOptions = Required<SalesforceBulkOptions>;

/** Defaults of {@link SalesforceBulkOptions}. */
export const DEFAULT_BULK: ResolvedBulkOptions = {
  pollIntervalMs: 2_000,
  pollTimeoutMs: 30 * 60_000,
  maxJobBytes: 100_000_000,
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
}

// Quote what csv-stringify leaves bare but Salesforce's parser would misread: carriage returns
// (a record separator) and leading/trailing spaces (an unquoted space errors the row).
const STRINGIFY_OPTIONS: StringifyOptions = { record_delimiter: 'unix', quoted_match: [/\r/, /^\s|\s$/] };
const ROWS_PER_CHUNK = 500;
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
 */
export async function runBulkUpsert(args: BulkUpsertArguments): Promise<void> {
  const { client, signal } = args;
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
    const call = { signal, counters: args.counters };
    const openJob = () =>
      client.request<JobInfo>(
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
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
        },
        { ...call, idempotent: true },
      );
    let job = await openJob();
    const keyToIndex = new Map<string, number>();
    let uploaded = 0;
    try {
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
      // What was generated so far, kept (up to a limit) so the upload can be re-sent once after
      // a connection reset: the input iterable itself cannot be rewound.
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
      try {
        await uploadCsv(client, `${base}/${job.id}/batches`, body(), call);
      } catch (error) {
        if (!replayable || !isCrmError(error) || error.code !== 'CONNECTION' || signal?.aborted) throw error;
        await abortJob(client, base, job.id, args.counters);
        job = await openJob();
        await uploadCsv(client, `${base}/${job.id}/batches`, body(), call);
      }
      replay.length = 0;
      await client.request<JobInfo>(
        'close bulk ingest job',
        {
          method: 'PATCH',
          url: `${base}/${job.id}`,
          body: JSON.stringify({ state: 'UploadComplete' }),
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
        },
        { ...call, idempotent: true },
      );
      const final = await pollJob(args, base, job.id);
      await collectResults(args, base, final, keyToIndex, uploaded, args.onResult);
      args.onJobDone({ jobId: job.id });
    } catch (error) {
      await abortJob(client, base, job.id, args.counters);
      throw error;
    }
  }
}

async function uploadCsv(
  client: SalesforceClient,
  url: string,
  body: Readable,
  call: { signal?: AbortSignal | undefined; counters: OperationCounters },
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
): Promise<void> {
  const keyColumn = args.externalIdFieldName;
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
    const message = info.errorMessage ?? 'Salesforce did not process this record';
    for await (const [key = ''] of csvColumns(text, [keyColumn])) {
      const index = take(key);
      if (index !== undefined) onResult({ index, success: false, error: { code: 'UNPROCESSED', message } });
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
}

async function abortJob(
  client: SalesforceClient,
  base: string,
  jobId: string,
  counters: OperationCounters,
): Promise<void> {
  try {
    // No signal: the caller's signal may be what fired, and the abort must still go out.
    await client.request(
      'abort bulk ingest job',
      {
        method: 'PATCH',
        url: `${base}/${jobId}`,
        body: JSON.stringify({ state: 'Aborted' }),
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
      },
      { idempotent: true, counters, retry: false },
    );
  } catch {
    // Best effort: a job that already finished cannot be aborted.
  }
}
