import { formatDateTime } from '../dates.js';
import type { CsvDialect } from './csv-format.js';

/** Bulk API 2.0 ingest operations. */
export const INGEST_OPERATIONS = ['insert', 'update', 'upsert', 'delete', 'hardDelete'] as const;

/** One of {@link INGEST_OPERATIONS}. */
export type IngestOperation = (typeof INGEST_OPERATIONS)[number];

/** Bulk API 2.0 job states (`JobStateEnum`). */
export type BulkJobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

/** Where the rows of `unprocessedrecords` come from. */
export type UnprocessedSource = 'none' | 'upload' | 'spool';

/** Server-side state of one ingest job. */
export interface IngestJob {
  id: string;
  object: string;
  operation: IngestOperation;
  externalIdFieldName: string | undefined;
  assignmentRuleId: string | undefined;
  dialect: CsvDialect;
  state: BulkJobState;
  apiVersion: number;
  createdById: string;
  /** CDC `changeOrigin` of the job's writes (from the creating request's `Sforce-Call-Options`). */
  origin?: string;
  createdDate: Date;
  systemModstamp: Date;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  totalProcessingTime: number;
  errorMessage: string | undefined;
  /** A `PUT …/batches` finished (a job takes one upload). */
  uploaded: boolean;
  /** A `PUT …/batches` is streaming right now. */
  uploading: boolean;
  /** Result files have been started (header written). */
  resultsWritten: boolean;
  /** Original header cells, once parsed (for empty result files). */
  header: string[] | undefined;
  unprocessed: UnprocessedSource;
  /** Fail this job with this message when processing starts (test control). */
  injectedFailure: string | undefined;
  /** Fail this job once this many rows were processed (test control). */
  runningFailure?: { afterRecords: number; message: string } | undefined;
}

/** Terminal states: no more transitions (except deletion). */
export function isTerminal(state: BulkJobState): boolean {
  return state === 'JobComplete' || state === 'Failed' || state === 'Aborted';
}

/** Moves a job to a new state and stamps `systemModstamp`. */
export function setState(job: IngestJob, state: BulkJobState, now: Date): void {
  job.state = state;
  job.systemModstamp = now;
}

/**
 * Job info as `GET /jobs/ingest/{id}` answers it (`full`), or the shorter shape of the create,
 * close and abort responses, with the documented property order.
 */
export function ingestJobInfo(job: IngestJob, full: boolean): Record<string, unknown> {
  const version = `v${job.apiVersion.toFixed(1)}`;
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: formatDateTime(job.createdDate),
    systemModstamp: formatDateTime(job.systemModstamp),
    state: job.state,
  };
  if (job.externalIdFieldName !== undefined) info.externalIdFieldName = job.externalIdFieldName;
  if (job.assignmentRuleId !== undefined) info.assignmentRuleId = job.assignmentRuleId;
  info.concurrencyMode = 'Parallel';
  info.contentType = 'CSV';
  info.apiVersion = job.apiVersion;
  if (full) info.jobType = 'V2Ingest';
  if (job.state === 'Open') info.contentUrl = `services/data/${version}/jobs/ingest/${job.id}/batches`;
  info.lineEnding = job.dialect.lineEnding;
  info.columnDelimiter = job.dialect.columnDelimiter;
  if (full) {
    info.numberRecordsProcessed = job.numberRecordsProcessed;
    info.numberRecordsFailed = job.numberRecordsFailed;
    info.retries = 0;
    info.totalProcessingTime = job.totalProcessingTime;
    info.apiActiveProcessingTime = job.totalProcessingTime;
    info.apexProcessingTime = 0;
    if (job.errorMessage !== undefined) info.errorMessage = job.errorMessage;
  }
  return info;
}
