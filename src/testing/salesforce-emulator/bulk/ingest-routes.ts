import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import { requestChangeOrigin } from '../realtime/change-origin.js';
import { isUpsertKey } from '../store/schema.js';
import type { BulkControls } from './bulk-controls.js';
import { badEnum, invalidJob, invalidJobState, requireObjectBody } from './bulk-errors.js';
import { COLUMN_DELIMITERS, type CsvDialect, csvLine, isColumnDelimiter } from './csv-format.js';
import {
  INGEST_OPERATIONS,
  type IngestJob,
  type IngestOperation,
  ingestJobInfo,
  isTerminal,
  setState,
} from './ingest-job.js';
import { processIngestJob } from './ingest-processor.js';
import type { JobSpool } from './job-spool.js';

const BASE = '/services/data/:version/jobs/ingest';
const CSV_CONTENT_TYPE = 'text/csv';

/** State of the ingest routes of one emulator. */
export interface IngestState {
  jobs: Map<string, IngestJob>;
  /** Jobs being processed (awaited by `stop()`). */
  running: Set<Promise<void>>;
  spool: JobSpool;
  controls: BulkControls;
}

/** Registers the Bulk API 2.0 ingest resources under `/services/data/vXX.X/jobs/ingest`. */
export function registerIngestRoutes(context: EmulatorModuleContext, state: IngestState): void {
  const { router, store, clock } = context;
  const { jobs, spool } = state;

  const requireJob = (request: EmulatorRequestContext): IngestJob => {
    const job = jobs.get(request.params.jobId ?? '');
    if (!job) throw notFound();
    return job;
  };

  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      const body = requireObjectBody(await request.json());
      const job = createJob(context, state, body, request.apiVersion);
      // The job's writes happen later, off the request: keep the caller's change origin with it.
      job.origin = requestChangeOrigin(request, 'bulkapi');
      jobs.set(job.id, job);
      return { status: 200, body: ingestJobInfo(job, false) };
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
        records: [...jobs.values()].map((job) => ({ ...ingestJobInfo(job, false), jobType: 'V2Ingest' })),
        nextRecordsUrl: null,
      },
    }),
  });

  router.add({
    method: 'PUT',
    pattern: `${BASE}/:jobId/batches`,
    kind: 'api',
    handler: async (request) => {
      const job = requireJob(request);
      if (job.state !== 'Open') {
        request.req.resume();
        throw invalidJobState(
          `Job ${job.id} is not in state Open (current state: ${job.state}); data can only be uploaded to an Open job`,
        );
      }
      if (job.uploaded || job.uploading) {
        request.req.resume();
        throw new EmulatorHttpError(
          400,
          'BULK_API_ERROR',
          `Found multiple contents for job: <${job.id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`,
        );
      }
      job.uploading = true;
      try {
        // Streamed to disk as it arrives: a 100 MB upload never becomes one string.
        await pipeline(request.req, createWriteStream(spool.path(job.id, 'upload')));
        job.uploaded = true;
      } finally {
        job.uploading = false;
      }
      return { status: 201 };
    },
  });

  router.add({
    method: 'PATCH',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: async (request) => {
      const job = requireJob(request);
      const body = requireObjectBody(await request.json());
      const target = body.state;
      if (target === 'UploadComplete') {
        if (job.state !== 'Open') {
          throw invalidJobState(`Job ${job.id} cannot be closed: its state is ${job.state}, not Open`);
        }
        if (job.uploading) throw invalidJobState(`Job ${job.id} is still receiving data`);
        setState(job, 'UploadComplete', clock.now());
        const response = ingestJobInfo(job, false);
        // Processing is asynchronous, as on Salesforce: clients poll the job until it finishes.
        const delay = state.controls.processingDelayMs;
        const run = new Promise<void>((resolve) =>
          delay > 0 ? setTimeout(resolve, delay) : setImmediate(resolve),
        )
          .then(() =>
            job.state === 'UploadComplete'
              ? processIngestJob(job, { store, spool, clock, faults: state.controls.faults })
              : undefined,
          )
          .finally(() => state.running.delete(run));
        state.running.add(run);
        return { status: 200, body: response };
      }
      if (target === 'Aborted') {
        if (isTerminal(job.state)) {
          throw invalidJobState(`Job ${job.id} cannot be aborted: its state is already ${job.state}`);
        }
        if (!job.resultsWritten && job.uploaded) job.unprocessed = 'upload';
        setState(job, 'Aborted', clock.now());
        return { status: 200, body: ingestJobInfo(job, false) };
      }
      throw badEnum('state', target, ['UploadComplete', 'Aborted']);
    },
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: ingestJobInfo(requireJob(request), true) }),
  });

  router.add({
    method: 'DELETE',
    pattern: `${BASE}/:jobId`,
    kind: 'api',
    handler: async (request) => {
      const job = requireJob(request);
      if (job.state === 'Open' || job.state === 'InProgress') {
        throw invalidJobState(
          `Job ${job.id} cannot be deleted in state ${job.state}; abort it or wait until it completes`,
        );
      }
      jobs.delete(job.id);
      await spool.remove(job.id);
      return { status: 204 };
    },
  });

  const results =
    (file: 'successful' | 'failed') =>
    (request: EmulatorRequestContext): EmulatorResponse => {
      const job = requireJob(request);
      const headers = { 'Content-Type': CSV_CONTENT_TYPE };
      if (job.resultsWritten) return { status: 200, headers, body: spool.reader(job.id, file) };
      const first = file === 'successful' ? ['sf__Id', 'sf__Created'] : ['sf__Id', 'sf__Error'];
      return { status: 200, headers, body: csvLine([...first, ...(job.header ?? [])], job.dialect) };
    };
  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/successfulResults`,
    kind: 'api',
    handler: results('successful'),
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/failedResults`,
    kind: 'api',
    handler: results('failed'),
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/unprocessedrecords`,
    kind: 'api',
    handler: (request) => {
      const job = requireJob(request);
      const headers = { 'Content-Type': CSV_CONTENT_TYPE };
      if (job.unprocessed === 'upload' && job.uploaded) {
        return { status: 200, headers, body: spool.reader(job.id, 'upload') };
      }
      if (job.unprocessed === 'spool')
        return { status: 200, headers, body: spool.reader(job.id, 'unprocessed') };
      return { status: 200, headers, body: job.header ? csvLine(job.header, job.dialect) : '' };
    },
  });
}

function createJob(
  context: EmulatorModuleContext,
  state: IngestState,
  body: Record<string, unknown>,
  apiVersion: number,
): IngestJob {
  const { object, operation } = body;
  if (typeof operation !== 'string' || operation === '') invalidJobThrow('Operation is required');
  if (!(INGEST_OPERATIONS as readonly string[]).includes(operation as string)) {
    throw badEnum('operation', operation, INGEST_OPERATIONS);
  }
  if (typeof object !== 'string' || object === '') invalidJobThrow('Object name is required');
  const schema = context.store.schema(object as string);
  if (!schema) throw invalidJob(`Unable to find object: ${String(object)}`);
  const contentType = body.contentType ?? 'CSV';
  if (contentType !== 'CSV') throw badEnum('contentType', contentType, ['CSV']);
  const columnDelimiter = body.columnDelimiter ?? 'COMMA';
  if (!isColumnDelimiter(columnDelimiter)) {
    throw badEnum('columnDelimiter', columnDelimiter, Object.keys(COLUMN_DELIMITERS));
  }
  const lineEnding = body.lineEnding ?? 'LF';
  if (lineEnding !== 'LF' && lineEnding !== 'CRLF') throw badEnum('lineEnding', lineEnding, ['LF', 'CRLF']);

  let externalIdFieldName: string | undefined;
  if (operation === 'upsert') {
    const name = body.externalIdFieldName;
    if (typeof name !== 'string' || name === '') {
      invalidJobThrow('External ID field name is required for upsert operations');
    }
    const field = schema.field(name as string);
    if (!field || !isUpsertKey(field)) {
      throw invalidJob(
        `Field name provided, ${String(name)} is not an External ID or indexed field for ${schema.name}`,
      );
    }
    externalIdFieldName = field.name;
  }
  const assignmentRuleId = typeof body.assignmentRuleId === 'string' ? body.assignmentRuleId : undefined;
  const now = context.clock.now();
  const dialect: CsvDialect = { columnDelimiter, lineEnding };
  return {
    id: context.ids.next('750'),
    object: schema.name,
    operation: operation as IngestOperation,
    externalIdFieldName,
    assignmentRuleId,
    dialect,
    state: 'Open',
    apiVersion,
    createdById: context.userId,
    createdDate: now,
    systemModstamp: now,
    numberRecordsProcessed: 0,
    numberRecordsFailed: 0,
    totalProcessingTime: 0,
    errorMessage: undefined,
    uploaded: false,
    uploading: false,
    resultsWritten: false,
    header: undefined,
    unprocessed: 'none',
    injectedFailure: state.controls.take('ingest'),
    runningFailure: state.controls.faults.takeRunningFailure(),
  };
}

function invalidJobThrow(message: string): never {
  throw invalidJob(message);
}
