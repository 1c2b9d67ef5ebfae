import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import { requireObjectBody } from './bulk-errors.js';
import { BulkFaults } from './bulk-faults.js';

/** Path of the Bulk API 2.0 test-control endpoint (not a Salesforce resource). */
export const BULK_CONTROL_PATH = '/__emulator/bulk2';

/** Default `errorMessage` of a job failed by {@link failNextBulkJob}. */
export const INJECTED_FAILURE_MESSAGE =
  'InternalServerError : The job failed to complete (injected by the emulator)';

/** Test-control state shared by the ingest and query routes of one emulator. */
export class BulkControls {
  private readonly pending: { ingest: string[]; query: string[] } = { ingest: [], query: [] };
  /** Records per results page of query jobs when the client sends no `maxRecords`. */
  queryPageSize: number;
  /** How long a job waits in `UploadComplete` before processing starts, ms. */
  processingDelayMs = 0;
  /** Per-record and running-job faults (see `failBulkRecords`). */
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
 * Test control: the next Bulk API 2.0 job created (ingest unless `jobType: 'V2Query'`) ends in
 * state `Failed` with `errorMessage` as soon as processing starts (after `UploadComplete` for
 * ingest jobs), without touching any record; its `unprocessedrecords` returns the uploaded rows.
 * jsforce's `poll()` then rejects with "Ingest job failed to complete due to: <errorMessage>".
 *
 * Works against a standalone emulator too (it calls the `POST /__emulator/bulk2` control route).
 *
 * @param target the emulator (its `instanceUrl` and a valid `accessToken`).
 * @param options `jobType` (default `'V2Ingest'`), `errorMessage` (default
 *   {@link INJECTED_FAILURE_MESSAGE}), `fetch` (default `globalThis.fetch`).
 * @throws {Error} when the emulator refuses the control request.
 * @example
 * ```ts
 * await failNextBulkJob(sf, { errorMessage: 'InvalidBatch : boom' });
 * await expect(conn.bulk2.loadAndWaitForResults({ object: 'Contact', operation: 'insert', input })).rejects.toThrow('boom');
 * ```
 */
export async function failNextBulkJob(
  target: BulkControlTarget,
  options: { jobType?: 'V2Ingest' | 'V2Query'; errorMessage?: string; fetch?: typeof fetch } = {},
): Promise<void> {
  const { fetch: fetchImpl = globalThis.fetch, ...failNextJob } = options;
  await postControl(target, { failNextJob }, fetchImpl);
}

/**
 * Test control: how many records each page of a Bulk API 2.0 query job's results holds when the
 * client sends no `maxRecords` (jsforce never does). Lower it to exercise `Sforce-Locator` paging
 * with few records. Reset by `emulator.reset()`.
 *
 * @param target the emulator.
 * @param size records per page (default 50,000 until changed).
 * @throws {Error} when the emulator refuses the control request.
 */
export async function setBulkQueryPageSize(
  target: BulkControlTarget,
  size: number,
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  await postControl(target, { queryPageSize: size }, options.fetch ?? globalThis.fetch);
}

/**
 * Test control: jobs wait this long in `UploadComplete` before processing starts (default 0), so a
 * test can observe intermediate states or abort a job before it completes. Reset by `reset()`.
 *
 * @param target the emulator.
 * @param delayMs milliseconds.
 * @throws {Error} when the emulator refuses the control request.
 */
export async function setBulkProcessingDelay(
  target: BulkControlTarget,
  delayMs: number,
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  await postControl(target, { processingDelayMs: delayMs }, options.fetch ?? globalThis.fetch);
}

async function postControl(target: BulkControlTarget, body: unknown, fetchImpl: typeof fetch): Promise<void> {
  const response = await fetchImpl(`${target.instanceUrl}${BULK_CONTROL_PATH}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${target.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`emulator bulk2 control refused (HTTP ${response.status}): ${await response.text()}`);
  }
}
