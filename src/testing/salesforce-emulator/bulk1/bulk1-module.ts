import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../versions.js';
import {
  BatchFailure,
  type Bulk1BatchOutcome,
  type Bulk1ContentType,
  type Bulk1JobSpec,
  type Bulk1Operation,
  processBatch,
  readBatchRecords,
} from './bulk1-batch.js';
import { bulk1Results, queryResultBody, queryResultList } from './bulk1-results.js';
import { AsyncApiError, encode, encodeError, parseXmlDocument, type WireFormat } from './bulk1-wire.js';

const BASE = '/services/async/:asyncVersion/job';
const OPERATIONS: readonly Bulk1Operation[] = [
  'insert',
  'update',
  'upsert',
  'delete',
  'hardDelete',
  'query',
  'queryAll',
];

type JobState = 'Open' | 'Closed' | 'Aborted' | 'Failed';
type BatchState = 'Queued' | 'InProgress' | 'Completed' | 'Failed' | 'NotProcessed';

interface Batch {
  id: string;
  jobId: string;
  state: BatchState;
  stateMessage?: string;
  createdDate: string;
  systemModstamp: string;
  request: string;
  outcome?: Bulk1BatchOutcome;
  resultId?: string;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  totalProcessingTime: number;
}

interface Job extends Bulk1JobSpec {
  id: string;
  state: JobState;
  concurrencyMode: 'Parallel' | 'Serial';
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  batches: Batch[];
  /** Request encoding of job documents (XML unless the job was created with JSON). */
  wire: WireFormat;
}

/**
 * Bulk API 1.0 (`/services/async/{version}/job…`): jobs created and closed with XML (or JSON)
 * `jobInfo` documents, CSV/XML/JSON batches processed asynchronously (clients poll `batchInfo`),
 * ingest results as `Id,Success,Created,Error`, query batches with a result list and CSV/JSON
 * result sets. Authenticated by the `X-SFDC-Session` header; each request is one API call.
 */
export const bulk1Module: EmulatorModule = {
  name: 'bulk1',
  create(context) {
    const jobs = new Map<string, Job>();
    const pending = new Set<NodeJS.Immediate>();
    registerRoutes(context, jobs, pending);
    return {
      reset: () => {
        for (const timer of pending) clearImmediate(timer);
        pending.clear();
        jobs.clear();
      },
      stop: () => {
        for (const timer of pending) clearImmediate(timer);
        pending.clear();
      },
    };
  },
};

function registerRoutes(
  context: EmulatorModuleContext,
  jobs: Map<string, Job>,
  pending: Set<NodeJS.Immediate>,
): void {
  const { router, clock, ids } = context;
  // Bulk API 1.0 dates are ISO 8601 with `Z` (`2013-05-08T21:20:00.000Z`).
  const now = (): string => clock.now().toISOString();

  /** Authenticates, counts the call and turns AsyncApiError into the API's error document. */
  const handle =
    (
      fn: (request: EmulatorRequestContext, version: number) => Promise<EmulatorResponse> | EmulatorResponse,
    ) =>
    async (request: EmulatorRequestContext): Promise<EmulatorResponse> => {
      const wire: WireFormat = /json/i.test(String(request.headers['content-type'] ?? '')) ? 'json' : 'xml';
      try {
        const version = Number(request.params.asyncVersion);
        if (
          !/^\d{2}\.0$/.test(request.params.asyncVersion ?? '') ||
          version < MIN_API_VERSION ||
          version > MAX_API_VERSION
        ) {
          throw new AsyncApiError(
            'InvalidVersion',
            `Invalid api version specified on URL: ${request.params.asyncVersion ?? ''}`,
            404,
          );
        }
        const header = request.headers['x-sfdc-session'];
        const token = (Array.isArray(header) ? header[0] : header)?.replace(/^(Bearer|OAuth)\s+/i, '');
        if (!token || !context.authenticate(token)) {
          throw new AsyncApiError('InvalidSessionId', 'Invalid session id');
        }
        if (!context.consumeApiCall())
          throw new AsyncApiError('ExceededQuota', 'TotalRequests Limit exceeded.', 403);
        return await fn(request, version);
      } catch (error) {
        if (!(error instanceof AsyncApiError)) throw error;
        return { status: error.status, ...encodeError(error, wire) };
      }
    };

  const requireJob = (request: EmulatorRequestContext): Job => {
    const job = jobs.get(request.params.jobId ?? '');
    if (!job) throw new AsyncApiError('InvalidJob', `Unable to find job: ${request.params.jobId ?? ''}`);
    return job;
  };
  const requireBatch = (request: EmulatorRequestContext): { job: Job; batch: Batch } => {
    const job = requireJob(request);
    const batch = job.batches.find((b) => b.id === request.params.batchId);
    if (!batch)
      throw new AsyncApiError('InvalidBatch', `Unable to find batch for id: ${request.params.batchId ?? ''}`);
    return { job, batch };
  };
  const readDocument = async (request: EmulatorRequestContext): Promise<Record<string, unknown>> => {
    const text = (await request.body()).toString('utf8');
    if (/json/i.test(String(request.headers['content-type'] ?? ''))) {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        throw new AsyncApiError('InvalidJob', `Failed to parse JSON: ${(error as Error).message}`);
      }
    }
    return parseXmlDocument(text, 'jobInfo');
  };

  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'public',
    handler: handle(async (request, version) => {
      const doc = await readDocument(request);
      const operation = OPERATIONS.find(
        (op) => op.toLowerCase() === String(doc.operation ?? '').toLowerCase(),
      );
      if (!operation)
        throw new AsyncApiError('InvalidJob', `Invalid operation: ${String(doc.operation ?? '')}`);
      const schema = context.store.schema(String(doc.object ?? ''));
      if (!schema)
        throw new AsyncApiError('InvalidJob', `Unable to find object: ${String(doc.object ?? '')}`);
      const contentType = String(doc.contentType ?? 'XML').toUpperCase();
      if (contentType !== 'CSV' && contentType !== 'XML' && contentType !== 'JSON') {
        throw new AsyncApiError('InvalidJob', `Unsupported content type: ${contentType}`);
      }
      const externalIdFieldName =
        doc.externalIdFieldName === undefined ? undefined : String(doc.externalIdFieldName);
      if (operation === 'upsert') {
        const key = externalIdFieldName === undefined ? undefined : schema.field(externalIdFieldName);
        if (!key || !(key.externalId || key.idLookup || key.type === 'id')) {
          throw new AsyncApiError(
            'InvalidJob',
            `Field name provided, ${externalIdFieldName ?? ''} is not an External ID or indexed field for ${schema.name}`,
          );
        }
      }
      const stamp = now();
      const job: Job = {
        id: ids.next('750'),
        object: schema.name,
        operation,
        externalIdFieldName,
        contentType: contentType as Bulk1ContentType,
        apiVersion: version,
        state: 'Open',
        concurrencyMode: doc.concurrencyMode === 'Serial' ? 'Serial' : 'Parallel',
        createdById: context.userId,
        createdDate: stamp,
        systemModstamp: stamp,
        batches: [],
        wire: /json/i.test(String(request.headers['content-type'] ?? '')) ? 'json' : 'xml',
      };
      jobs.set(job.id, job);
      return { status: 201, ...encode(job.wire, 'jobInfo', jobInfo(job)) };
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId`,
    kind: 'public',
    handler: handle((request) => {
      const job = requireJob(request);
      return { status: 200, ...encode(job.wire, 'jobInfo', jobInfo(job)) };
    }),
  });

  router.add({
    method: 'POST',
    pattern: `${BASE}/:jobId`,
    kind: 'public',
    handler: handle(async (request) => {
      const job = requireJob(request);
      const state = String((await readDocument(request)).state ?? '');
      if (state !== 'Closed' && state !== 'Aborted') {
        throw new AsyncApiError(
          'InvalidJobState',
          `Invalid state: ${state}; a job can only be Closed or Aborted`,
        );
      }
      if (job.state !== 'Open' && !(state === 'Aborted' && job.state === 'Closed')) {
        throw new AsyncApiError('InvalidJobState', `Job ${job.id} is already ${job.state}`);
      }
      job.state = state;
      job.systemModstamp = now();
      if (state === 'Aborted') {
        for (const batch of job.batches) {
          if (batch.state === 'Queued') {
            batch.state = 'NotProcessed';
            batch.systemModstamp = job.systemModstamp;
          }
        }
      }
      return { status: 200, ...encode(job.wire, 'jobInfo', jobInfo(job)) };
    }),
  });

  router.add({
    method: 'POST',
    pattern: `${BASE}/:jobId/batch`,
    kind: 'public',
    handler: handle(async (request) => {
      const job = requireJob(request);
      if (job.state !== 'Open')
        throw new AsyncApiError('InvalidJobState', `Job ${job.id} is not open: ${job.state}`);
      const body = (await request.body()).toString('utf8');
      if (job.operation !== 'query' && job.operation !== 'queryAll') readBatchRecords(job, body);
      else if (body.trim() === '')
        throw new AsyncApiError('ClientInputError', 'Stream is empty: the batch has no query');
      const stamp = now();
      const batch: Batch = {
        id: ids.next('751'),
        jobId: job.id,
        state: 'Queued',
        createdDate: stamp,
        systemModstamp: stamp,
        request: body,
        numberRecordsProcessed: 0,
        numberRecordsFailed: 0,
        totalProcessingTime: 0,
      };
      job.batches.push(batch);
      // Processed asynchronously, as on Salesforce: clients poll the batch.
      const timer = setImmediate(() => {
        pending.delete(timer);
        runBatch(context, job, batch, now);
      });
      pending.add(timer);
      return { status: 201, ...encode(job.wire, 'batchInfo', batchInfo(batch)) };
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/batch`,
    kind: 'public',
    handler: handle((request) => {
      const job = requireJob(request);
      const list = job.batches.map(batchInfo);
      return {
        status: 200,
        ...(job.wire === 'json'
          ? encode('json', 'batchInfoList', { batchInfo: list })
          : encode('xml', 'batchInfoList', { batchInfo: list })),
      };
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/batch/:batchId`,
    kind: 'public',
    handler: handle((request) => {
      const { job, batch } = requireBatch(request);
      return { status: 200, ...encode(job.wire, 'batchInfo', batchInfo(batch)) };
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/batch/:batchId/request`,
    kind: 'public',
    handler: handle((request) => {
      const { job, batch } = requireBatch(request);
      const type = { CSV: 'text/csv', XML: 'application/xml', JSON: 'application/json' }[job.contentType];
      return { status: 200, headers: { 'Content-Type': `${type}; charset=UTF-8` }, body: batch.request };
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/batch/:batchId/result`,
    kind: 'public',
    handler: handle((request) => {
      const { job, batch } = requireBatch(request);
      if (!batch.outcome) {
        throw new AsyncApiError('InvalidBatch', `Batch not completed: ${batch.id} is ${batch.state}`);
      }
      if (batch.outcome.kind === 'query') return queryResultList(job.contentType, batch.resultId as string);
      return bulk1Results(job.contentType, batch.outcome.rows);
    }),
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:jobId/batch/:batchId/result/:resultId`,
    kind: 'public',
    handler: handle((request) => {
      const { job, batch } = requireBatch(request);
      if (batch.outcome?.kind !== 'query' || batch.resultId !== request.params.resultId) {
        throw new AsyncApiError(
          'InvalidBatch',
          `Unable to find result for id: ${request.params.resultId ?? ''}`,
        );
      }
      return queryResultBody(job.contentType, batch.outcome);
    }),
  });
}

function runBatch(context: EmulatorModuleContext, job: Job, batch: Batch, now: () => string): void {
  if (batch.state !== 'Queued') return;
  const started = Date.now();
  batch.state = 'InProgress';
  try {
    const outcome = processBatch(context, job, batch.request);
    batch.outcome = outcome;
    if (outcome.kind === 'query') {
      batch.resultId = context.ids.next('752');
      batch.numberRecordsProcessed = outcome.records.length;
    } else {
      batch.numberRecordsProcessed = outcome.rows.length;
      batch.numberRecordsFailed = outcome.rows.filter((r) => !r.success).length;
    }
    batch.state = 'Completed';
  } catch (error) {
    if (!(error instanceof BatchFailure) && !(error instanceof AsyncApiError)) throw error;
    batch.state = 'Failed';
    batch.stateMessage =
      error instanceof AsyncApiError ? `${error.exceptionCode} : ${error.message}` : error.message;
  } finally {
    batch.totalProcessingTime = Date.now() - started;
    batch.systemModstamp = now();
  }
}

function batchInfo(batch: Batch): Record<string, unknown> {
  return {
    id: batch.id,
    jobId: batch.jobId,
    state: batch.state,
    ...(batch.stateMessage ? { stateMessage: batch.stateMessage } : {}),
    createdDate: batch.createdDate,
    systemModstamp: batch.systemModstamp,
    numberRecordsProcessed: batch.numberRecordsProcessed,
    numberRecordsFailed: batch.numberRecordsFailed,
    totalProcessingTime: batch.totalProcessingTime,
    apiActiveProcessingTime: batch.totalProcessingTime,
    apexProcessingTime: 0,
  };
}

function jobInfo(job: Job): Record<string, unknown> {
  const count = (state: BatchState) => job.batches.filter((b) => b.state === state).length;
  const sum = (key: 'numberRecordsProcessed' | 'numberRecordsFailed' | 'totalProcessingTime') =>
    job.batches.reduce((total, b) => total + b[key], 0);
  return {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
    ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
    concurrencyMode: job.concurrencyMode,
    contentType: job.contentType,
    numberBatchesQueued: count('Queued'),
    numberBatchesInProgress: count('InProgress'),
    numberBatchesCompleted: count('Completed'),
    numberBatchesFailed: count('Failed'),
    numberBatchesTotal: job.batches.length,
    numberRecordsProcessed: sum('numberRecordsProcessed'),
    numberRetries: 0,
    apiVersion: job.apiVersion.toFixed(1),
    numberRecordsFailed: sum('numberRecordsFailed'),
    totalProcessingTime: sum('totalProcessingTime'),
    apiActiveProcessingTime: sum('totalProcessingTime'),
    apexProcessingTime: 0,
  };
}
