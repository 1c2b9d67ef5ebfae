import { Readable } from 'node:stream';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { formatDateTime } from '../dates.js';
import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import type { BulkControls } from './bulk-controls.js';
import { badEnum, invalidJob, invalidJobState, requireObjectBody } from './bulk-errors.js';
import { COLUMN_DELIMITERS, type CsvDialect, csvLine, isColumnDelimiter } from './csv-format.js';
import { type BulkJobState, isTerminal } from './ingest-job.js';

const BASE = '/services/data/:version/jobs/query';
/** Lines per streamed chunk of a results page. */
const LINES_PER_CHUNK = 1000;

/** Server-side state of one query job. */
export interface QueryJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  query: string;
  dialect: CsvDialect;
  state: BulkJobState;
  apiVersion: number;
  createdById: string;
  createdDate: Date;
  systemModstamp: Date;
  totalProcessingTime: number;
  errorMessage: string | undefined;
  /** Snapshot taken when the job was created. */
  records: Array<Record<string, unknown>>;
  columns: string[];
  injectedFailure: string | undefined;
}

/** State of the query-job routes of one emulator. */
export interface QueryState {
  jobs: Map<string, QueryJob>;
  controls: BulkControls;
  timers: Set<NodeJS.Timeout>;
}

/** Query job info, short (create/abort) or full (`GET`). */
export function queryJobInfo(job: QueryJob, full: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: formatDateTime(job.createdDate),
    systemModstamp: formatDateTime(job.systemModstamp),
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: job.apiVersion,
  };
  if (full) info.jobType = 'V2Query';
  info.lineEnding = job.dialect.lineEnding;
  info.columnDelimiter = job.dialect.columnDelimiter;
  if (full) {
    info.numberRecordsProcessed = job.state === 'JobComplete' ? job.records.length : 0;
    info.retries = 0;
    info.totalProcessingTime = job.totalProcessingTime;
    info.isPkChunkingSupported = false;
    if (job.errorMessage !== undefined) info.errorMessage = job.errorMessage;
  }
  return info;
}

/** Registers the Bulk API 2.0 query-job resources under `/services/data/vXX.X/jobs/query`. */
export function registerQueryJobRoutes(context: EmulatorModuleContext, state: QueryState): void {
  const { router, clock } = context;
  const { jobs } = state;

  const requireJob = (request: EmulatorRequestContext): QueryJob => {
    const job = jobs.get(request.params.jobId ?? '');
    if (!job) throw notFound();
    return job;
  };

  const later = (fn: () => void, delayMs = 0): void => {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      fn();
    }, delayMs);
    state.timers.add(timer);
  };

  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      const body = requireObjectBody(await request.json());
      const operation = body.operation ?? 'query';
      if (operation !== 'query' && operation !== 'queryAll') {
        throw badEnum('operation', operation, ['query', 'queryAll']);
      }
      if (typeof body.query !== 'string' || body.query.trim() === '') throw invalidJob('Query is required');
      const contentType = body.contentType ?? 'CSV';
      if (contentType !== 'CSV') throw badEnum('contentType', contentType, ['CSV']);
      const columnDelimiter = body.columnDelimiter ?? 'COMMA';
      if (!isColumnDelimiter(columnDelimiter)) {
        throw badEnum('columnDelimiter', columnDelimiter, Object.keys(COLUMN_DELIMITERS));
      }
      const lineEnding = body.lineEnding ?? 'LF';
      if (lineEnding !== 'LF' && lineEnding !== 'CRLF')
        throw badEnum('lineEnding', lineEnding, ['LF', 'CRLF']);
      // Validates the SOQL now, so MALFORMED_QUERY / INVALID_FIELD answer the create call.
      const result = context.query(body.query, {
        includeDeleted: operation === 'queryAll',
        apiVersion: request.apiVersion,
      });
      if (result.isCount) {
        throw new EmulatorHttpError(
          400,
          'API_ERROR',
          'Aggregate queries (COUNT()) are not supported by Bulk API 2.0 query jobs',
        );
      }
      const now = clock.now();
      const job: QueryJob = {
        id: context.ids.next('750'),
        operation,
        object: result.sobject,
        query: body.query,
        dialect: { columnDelimiter, lineEnding },
        state: 'UploadComplete',
        apiVersion: request.apiVersion,
        createdById: context.userId,
        createdDate: now,
        systemModstamp: now,
        totalProcessingTime: 0,
        errorMessage: undefined,
        records: result.records,
        columns: result.columns,
        injectedFailure: state.controls.take('query'),
      };
      jobs.set(job.id, job);
      const started = Date.now();
      later(() => {
        if (job.state !== 'UploadComplete') return;
        job.state = 'InProgress';
        job.systemModstamp = clock.now();
        later(() => {
          if (job.state !== 'InProgress') return;
          job.totalProcessingTime = Date.now() - started;
          job.systemModstamp = clock.now();
          if (job.injectedFailure !== undefined) {
            job.state = 'Failed';
            job.errorMessage = job.injectedFailure;
            job.records = [];
          } else {
            job.state = 'JobComplete';
          }
        });
      }, state.controls.processingDelayMs);
      return { status: 200, body: queryJobInfo(job, false) };
    },
  });

  router.add({
    method: 'GET',
    pattern: BASE,
    kind: 'api',
    handler: () => ({
      status: 200,
      body: {
        done: true,
        records: [...jobs.values()].map((job) => ({ ...queryJobInfo(job, false), jobType: 'V2Query' })),
        nextRecordsUrl: null,
      },
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: queryJobInfo(requireJob(request), true) }),
  });

  router.add({
    method: 'PATCH',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: async (request) => {
      const job = requireJob(request);
      const body = requireObjectBody(await request.json());
      if (body.state !== 'Aborted') throw badEnum('state', body.state, ['Aborted']);
      if (isTerminal(job.state)) {
        throw invalidJobState(`Job ${job.id} cannot be aborted: its state is already ${job.state}`);
      }
      job.state = 'Aborted';
      job.systemModstamp = clock.now();
      job.records = [];
      return { status: 200, body: queryJobInfo(job, false) };
    },
  });

  router.add({
    method: 'DELETE',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: (request) => {
      const job = requireJob(request);
      if (!isTerminal(job.state)) {
        throw invalidJobState(`Job ${job.id} cannot be deleted in state ${job.state}; abort it first`);
      }
      jobs.delete(job.id);
      return { status: 204 };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/results`,
    kind: 'api',
    handler: (request) => {
      const job = requireJob(request);
      if (job.state !== 'JobComplete') {
        throw new EmulatorHttpError(
          412,
          'JOB_NOT_COMPLETE',
          `Job ${job.id} is in state ${job.state}; results are available once it is JobComplete`,
        );
      }
      const offset = decodeLocator(request.query.get('locator'));
      const maxRecords = parseMaxRecords(request.query.get('maxRecords'), state.controls.queryPageSize);
      const end = Math.min(offset + maxRecords, job.records.length);
      const headers: Record<string, string> = {
        'Content-Type': 'text/csv',
        // The literal string "null" marks the last page; jsforce loops until it sees it.
        'Sforce-Locator': end < job.records.length ? encodeLocator(end) : 'null',
        'Sforce-NumberOfRecords': String(Math.max(0, end - offset)),
      };
      // Salesforce always compresses query results; here only for a client that says it can
      // inflate them (fetch and jsforce do), at the fastest level to keep the emulator cheap.
      if (acceptsGzip(request.req.headers['accept-encoding'])) {
        headers['Content-Encoding'] = 'gzip';
        return {
          status: 200,
          headers,
          body: Readable.from(resultLines(job, offset, end)).pipe(
            createGzip({ level: zlibConstants.Z_BEST_SPEED }),
          ),
        };
      }
      return { status: 200, headers, body: resultLines(job, offset, end) };
    },
  });
}

/** Whether an `Accept-Encoding` header admits gzip (`gzip` or `*`, not with `q=0`). */
function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** Salesforce's locators are opaque; base64 of the next offset keeps them stateless here. */
function encodeLocator(offset: number): string {
  return Buffer.from(String(offset), 'utf8').toString('base64').replace(/=+$/, '');
}

function decodeLocator(locator: string | null): number {
  if (locator === null || locator === '') return 0;
  const text = Buffer.from(locator, 'base64').toString('utf8');
  if (!/^\d+$/.test(text)) {
    throw new EmulatorHttpError(400, 'INVALID_QUERY_LOCATOR', `Invalid locator: ${locator}`);
  }
  return Number(text);
}

function parseMaxRecords(value: string | null, fallback: number): number {
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new EmulatorHttpError(400, 'INVALIDPARAMETER', `maxRecords must be a positive integer: ${value}`);
  }
  return Number(value);
}

/** Streams one results page: header plus rows, every cell quoted as Salesforce writes them. */
async function* resultLines(job: QueryJob, offset: number, end: number): AsyncGenerator<string> {
  yield csvLine(job.columns, job.dialect, true);
  let text = '';
  let lines = 0;
  for (let i = offset; i < end; i++) {
    const record = job.records[i] as Record<string, unknown>;
    text += csvLine(
      job.columns.map((column) => cellText(readPath(record, column))),
      job.dialect,
      true,
    );
    if (++lines >= LINES_PER_CHUNK) {
      yield text;
      text = '';
      lines = 0;
    }
  }
  if (text) yield text;
}

function readPath(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return '';
  return String(value);
}
