import { httpControlCall } from '../http/control-call.js';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import { bulkControls } from './bulk-control-api.js';
import { requireObjectBody } from './bulk-errors.js';
import { BulkFaults } from './bulk-faults.js';

/** Path of the Bulk API 2.0 test-control endpoint (not a Salesforce resource). */
export const BULK_CONTROL_PATH = '/__emulator/bulk2';

/** Default `errorMessage` of a job failed by `emulator.bulk.failNextJob()`. */
export const INJECTED_FAILURE_MESSAGE =
  'InternalServerError : The job failed to complete (injected by the emulator)';

/** Test-control state shared by the ingest and query routes of one emulator. */
export class BulkControls {
  private readonly pending: { ingest: string[]; query: string[] } = { ingest: [], query: [] };
  /** Records per results page of query jobs when the client sends no `maxRecords`. */
  queryPageSize: number;
  /** How long a job waits in `UploadComplete` before processing starts, ms. */
  processingDelayMs = 0;
  /** Per-record and running-job faults (see `emulator.bulk.failRecords`). */
  readonly faults = new BulkFaults();

  constructor(private readonly defaultPageSize: number) {
    this.queryPageSize = defaultPageSize;
  }

  /** Marks the next created job of a type to fail when processing starts. */
  failNext(type: 'ingest' | 'query', message: string): void {
    this.pending[type].push(message);
  }

  /** Takes the failure message for a job being created, if one is pending. */
  take(type: 'ingest' | 'query'): string | undefined {
    return this.pending[type].shift();
  }

  reset(): void {
    this.pending.ingest.length = 0;
    this.pending.query.length = 0;
    this.queryPageSize = this.defaultPageSize;
    this.processingDelayMs = 0;
    this.faults.reset();
  }
}

/**
 * Registers `POST /__emulator/bulk2` (needs a valid access token, not counted against the API
 * limit). Body: `{ "failNextJob": { "jobType"?: "V2Ingest" | "V2Query", "errorMessage"?: string } }`
 * and/or `{ "queryPageSize": number }` and/or `{ "processingDelayMs": number }`. Answers 200 with
 * the current settings.
 */
export function registerBulkControlRoute(context: EmulatorModuleContext, controls: BulkControls): void {
  context.router.add({
    method: 'POST',
    pattern: BULK_CONTROL_PATH,
    kind: 'api-free',
    name: 'emulator bulk2 controls',
    handler: async (request) => {
      const body = requireObjectBody(await request.json());
      const fail = body.failNextJob;
      if (fail !== undefined) {
        const spec = fail === true ? {} : requireObjectBody(fail);
        const jobType = spec.jobType ?? 'V2Ingest';
        if (jobType !== 'V2Ingest' && jobType !== 'V2Query') {
          throw new EmulatorHttpError(
            400,
            'INVALID_INPUT',
            'failNextJob.jobType must be V2Ingest or V2Query',
          );
        }
        const message = spec.errorMessage ?? INJECTED_FAILURE_MESSAGE;
        if (typeof message !== 'string') {
          throw new EmulatorHttpError(400, 'INVALID_INPUT', 'failNextJob.errorMessage must be a string');
        }
        controls.failNext(jobType === 'V2Ingest' ? 'ingest' : 'query', message);
      }
      if (body.queryPageSize !== undefined) {
        const size = body.queryPageSize;
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
          throw new EmulatorHttpError(400, 'INVALID_INPUT', 'queryPageSize must be a positive integer');
        }
        controls.queryPageSize = size;
      }
      if (body.processingDelayMs !== undefined) {
        const delay = body.processingDelayMs;
        if (typeof delay !== 'number' || !(delay >= 0)) {
          throw new EmulatorHttpError(
            400,
            'INVALID_INPUT',
            'processingDelayMs must be a non-negative number',
          );
        }
        controls.processingDelayMs = delay;
      }
      return {
        status: 200,
        body: { queryPageSize: controls.queryPageSize, processingDelayMs: controls.processingDelayMs },
      };
    },
  });
}

/** Where and how to reach a running emulator (a `SalesforceEmulator` satisfies this). */
export interface BulkControlTarget {
  instanceUrl: string;
  accessToken: string;
}

/**
 * Test control: the next Bulk API 2.0 job fails when processing starts.
 *
 * @deprecated Use `emulator.bulk.failNextJob(options)` (or, for a standalone emulator,
 *   `connectSalesforceEmulator(target).bulk.failNextJob(options)`). Kept for one release.
 */
export async function failNextBulkJob(
  target: BulkControlTarget,
  options: { jobType?: 'V2Ingest' | 'V2Query'; errorMessage?: string; fetch?: typeof fetch } = {},
): Promise<void> {
  const { fetch: fetchImpl, ...failNextJob } = options;
  await bulkControls(httpControlCall(target, fetchImpl)).failNextJob(failNextJob);
}

/**
 * Test control: records per page of a Bulk API 2.0 query job's results.
 *
 * @deprecated Use `emulator.bulk.setQueryPageSize(size)`. Kept for one release.
 */
export async function setBulkQueryPageSize(
  target: BulkControlTarget,
  size: number,
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  await bulkControls(httpControlCall(target, options.fetch)).setQueryPageSize(size);
}

/**
 * Test control: how long Bulk API 2.0 jobs wait in `UploadComplete`.
 *
 * @deprecated Use `emulator.bulk.setProcessingDelay(delayMs)`. Kept for one release.
 */
export async function setBulkProcessingDelay(
  target: BulkControlTarget,
  delayMs: number,
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  await bulkControls(httpControlCall(target, options.fetch)).setProcessingDelay(delayMs);
}
