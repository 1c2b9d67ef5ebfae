import { CrmApiError, throwIfAborted } from '../core/errors.js';
import type { CrmSleep } from '../core/sleep.js';
import { BulkCsvReader } from './bulk-csv.js';
import type { SalesforceClient } from './client.js';
import { SALESFORCE_PROVIDER } from './errors.js';
import { CALL_CONTEXT, type CallContext, type OperationCounters } from './transport.js';

/** Arguments of {@link runBulkQuery}. */
export interface BulkQueryArguments {
  client: SalesforceClient;
  apiVersion: string;
  soql: string;
  /** `queryAll` also returns deleted and archived rows (with `IsDeleted`). */
  operation: 'query' | 'queryAll';
  /**
   * Records asked for per results page (`maxRecords`). jsforce buffers a response whole, so this
   * bounds the memory one page takes; fewer, bigger pages cost fewer API calls.
   */
  pageSize: number;
  /** Rows per yielded batch. */
  batchSize: number;
  /** Longest wait between two job-status polls, ms. */
  pollIntervalMs: number;
  /** Give up (and abort the job) after waiting this long for it, ms. */
  pollTimeoutMs: number;
  sleep: CrmSleep;
  signal?: AbortSignal | undefined;
  counters: OperationCounters;
  /** Monotonic time source for the poll timeout, ms. @default Date.now */
  now?: () => number;
}

/** Rows of a query job's results, cells as Salesforce wrote them (`''` for null). */
export interface BulkQueryBatch {
  /** Column names, in SELECT order (API 50+). */
  columns: readonly string[];
  rows: string[][];
}

/** `providerCode` of the error thrown when a query job ends in state `Failed`. */
export const BULK_QUERY_JOB_FAILED = 'JOB_FAILED';

interface QueryJobInfo {
  id: string;
  state: string;
  errorMessage?: string;
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };
/** Longest wait for a job abort or delete (cleanup after a failure or an abort). */
const CLEANUP_TIMEOUT_MS = 10_000;
/** First poll delays, ms: the first status check goes out at once, then 50 ms, doubling. */
const FIRST_POLL_DELAY_MS = 50;
const TERMINAL = new Set(['JobComplete', 'Failed', 'Aborted']);

/**
 * Run `soql` as a Bulk API 2.0 query job and yield its rows in batches, as they are parsed.
 *
 * Every call goes through the client (retries, session refresh, timeouts, error and rate-limit
 * mapping, API-call counting): the job is created, polled (at once, then 50 ms doubling up to
 * `pollIntervalMs`), and its results read page by page with `Sforce-Locator` and `maxRecords`
 * (jsforce's own `bulk2.query()` breaks on multi-page results). The next page is read while the
 * rows of the current one are consumed (so at most two pages are held), and each page is read
 * whole before any row of it is yielded, so a page that fails (5xx, dropped socket, expired
 * session) is requested again from the same locator: no row is skipped or delivered twice. Rows
 * are split out of the page text as they are yielded, never all at once.
 *
 * On abort, failure, or a consumer that stops early, a job that has not finished is aborted.
 * @throws {CrmApiError} {@link BULK_QUERY_JOB_FAILED} when the job ends `Failed` (always before
 *   any row was yielded), `JOB_ABORTED` when someone else aborted it, `JOB_POLLING_TIMEOUT` after
 *   `pollTimeoutMs`, `BULK_QUERY_NO_LOCATOR` when a page lacks `Sforce-Locator`.
 */
export async function* runBulkQuery(args: BulkQueryArguments): AsyncGenerator<BulkQueryBatch> {
  const base = `/services/data/v${args.apiVersion}/jobs/query`;
  const call = { signal: args.signal, counters: args.counters };
  const job = await args.client.request<QueryJobInfo>(
    'create bulk query job',
    {
      method: 'POST',
      url: base,
      body: JSON.stringify({
        operation: args.operation,
        query: args.soql,
        contentType: 'CSV',
        columnDelimiter: 'COMMA',
        lineEnding: 'LF',
      }),
      headers: JSON_HEADERS,
    },
    // A repeated create leaves at most an unused job behind (Salesforce deletes it after 7 days).
    { ...call, idempotent: true },
  );
  const status = { state: job.state, read: false };
  // Cancels a page read ahead when the consumer stops early.
  const stop = new AbortController();
  const signal = args.signal ? AbortSignal.any([args.signal, stop.signal]) : stop.signal;
  try {
    await pollQueryJob(args, base, job.id, status);
    const url = `${base}/${job.id}/results`;
    let next: Promise<ResultsPage> | undefined = readResultsPage(args, url, undefined, signal);
    while (next) {
      const page: ResultsPage = await next;
      // Read the next page while this one's rows are consumed: the server works meanwhile.
      next = page.locator === undefined ? undefined : readResultsPage(args, url, page.locator, signal);
      next?.catch(() => undefined); // awaited above on the next turn; ignored after an early stop
      const reader = new BulkCsvReader(page.text);
      const columns = reader.rows(1)[0];
      if (!columns) continue;
      while (!reader.done) {
        throwIfAborted(args.signal);
        yield { columns, rows: reader.rows(args.batchSize) };
      }
    }
    status.read = true;
  } finally {
    stop.abort();
    // Also runs when the consumer stops early (`return()`): a job still running is aborted, a
    // finished one whose results will not be read is deleted (its results count against the
    // org's daily Bulk query storage until Salesforce removes it after 7 days).
    if (!TERMINAL.has(status.state)) {
      await endQueryJob(args.client, base, job.id, args.counters, 'abort');
    } else if (status.state === 'JobComplete' && !status.read) {
      await endQueryJob(args.client, base, job.id, args.counters, 'delete');
    }
  }
}

async function pollQueryJob(
  args: BulkQueryArguments,
  base: string,
  jobId: string,
  status: { state: string },
): Promise<QueryJobInfo> {
  const now = args.now ?? Date.now;
  const started = now();
  let delay = 0;
  for (;;) {
    if (delay > 0) await args.sleep(delay, args.signal);
    const info = await args.client.request<QueryJobInfo>(
      'check bulk query job',
      { method: 'GET', url: `${base}/${jobId}` },
      { idempotent: true, signal: args.signal, counters: args.counters },
    );
    status.state = info.state;
    if (info.state === 'JobComplete') return info;
    if (info.state === 'Failed') {
      const message = info.errorMessage || 'The Bulk API query job failed';
      throw new CrmApiError(`Salesforce bulk query job ${jobId} failed: ${message}`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: BULK_QUERY_JOB_FAILED,
        retryable: true,
        details: { jobId, errorMessage: message },
      });
    }
    if (info.state === 'Aborted') {
      throw new CrmApiError(`Salesforce bulk query job ${jobId} was aborted`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_ABORTED',
        details: { jobId },
      });
    }
    if (now() - started > args.pollTimeoutMs) {
      throw new CrmApiError(`Salesforce bulk query job ${jobId} did not finish in time`, {
        provider: SALESFORCE_PROVIDER,
        providerCode: 'JOB_POLLING_TIMEOUT',
        retryable: true,
        details: { jobId },
      });
    }
    delay = delay === 0 ? FIRST_POLL_DELAY_MS : Math.min(delay * 2, args.pollIntervalMs);
  }
}

interface ResultsPage {
  text: string;
  /** Locator of the next page; `undefined` after the last one. */
  locator: string | undefined;
}

/** One results page, read whole (and re-read from the same locator when an attempt fails). */
async function readResultsPage(
  args: BulkQueryArguments,
  url: string,
  locator: string | undefined,
  signal: AbortSignal,
): Promise<ResultsPage> {
  const query = `maxRecords=${args.pageSize}${locator === undefined ? '' : `&locator=${encodeURIComponent(locator)}`}`;
  return args.client.run(
    'read bulk query results',
    async (context) => {
      const attempt = (context[CALL_CONTEXT] as CallContext).attempt;
      const body = await args.client.connection.request<unknown>(
        { method: 'GET', url: `${url}?${query}`, headers: { Accept: 'text/csv' } } as Parameters<
          typeof args.client.connection.request
        >[0],
        { responseType: 'text/plain', ...context } as Parameters<typeof args.client.connection.request>[1],
      );
      const next = attempt.headers?.['sforce-locator'];
      if (next === undefined || next === '') {
        throw new CrmApiError('Salesforce bulk query results page has no Sforce-Locator header', {
          provider: SALESFORCE_PROVIDER,
          providerCode: 'BULK_QUERY_NO_LOCATOR',
        });
      }
      // The literal string "null" marks the last page.
      return { text: typeof body === 'string' ? body : '', locator: next === 'null' ? undefined : next };
    },
    { idempotent: true, signal, counters: args.counters },
  );
}

async function endQueryJob(
  client: SalesforceClient,
  base: string,
  jobId: string,
  counters: OperationCounters,
  how: 'abort' | 'delete',
): Promise<void> {
  try {
    // Not the caller's signal (it may be what fired, and the cleanup must still go out), but a
    // bounded wait: a cleanup call that stalls must not hold the caller.
    await client.request(
      `${how} bulk query job`,
      how === 'abort'
        ? {
            method: 'PATCH',
            url: `${base}/${jobId}`,
            body: JSON.stringify({ state: 'Aborted' }),
            headers: JSON_HEADERS,
          }
        : { method: 'DELETE', url: `${base}/${jobId}` },
      { idempotent: true, counters, retry: false, signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) },
    );
  } catch {
    // Best effort: the job may have finished (an abort is refused) or be gone already.
  }
}
