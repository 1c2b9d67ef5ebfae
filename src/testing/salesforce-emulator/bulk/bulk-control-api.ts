import type { EmulatorControlCall } from '../http/control-call.js';
import type { BulkRecordFaultSpec } from './bulk-faults.js';

/**
 * Bulk API 2.0 test controls of a running emulator (`emulator.bulk`). Every change lasts until
 * `emulator.reset()`.
 */
export interface EmulatorBulkControls {
  /**
   * The next job created (ingest unless `jobType: 'V2Query'`) ends in state `Failed` with
   * `errorMessage` as soon as processing starts (after `UploadComplete` for ingest jobs), without
   * touching any record; its `unprocessedrecords` returns the uploaded rows. jsforce's `poll()`
   * then rejects with "Ingest job failed to complete due to: <errorMessage>".
   *
   * @param options `jobType` (default `'V2Ingest'`), `errorMessage` (default
   *   `'InternalServerError : The job failed to complete (injected by the emulator)'`).
   */
  failNextJob(options?: { jobType?: 'V2Ingest' | 'V2Query'; errorMessage?: string }): Promise<void>;
  /**
   * The next ingest job fails while running, after `afterRecords` rows were processed (applied and
   * reported in its results): it ends `Failed` with `errorMessage`, and the rows it never reached
   * come back from `unprocessedrecords`.
   */
  failNextJobWhileRunning(options: { afterRecords: number; errorMessage?: string }): Promise<void>;
  /**
   * Rows of later ingest jobs whose `column` cell equals `value` come back in `failedResults` with
   * the given error (`sf__Error` = `CODE:message:fields --`), as a record Salesforce refused for
   * its own reason; the other rows are processed normally. With `scope: 'job'` such a row fails
   * its whole job instead.
   */
  failRecords(faults: BulkRecordFaultSpec[]): Promise<void>;
  /**
   * Records per page of a query job's results when the client sends no `maxRecords` (jsforce
   * never does; default 50,000). Lower it to exercise `Sforce-Locator` paging with few records.
   */
  setQueryPageSize(size: number): Promise<void>;
  /**
   * How long jobs wait in `UploadComplete` before processing starts (default 0), so a test can
   * observe intermediate states or abort a job before it completes.
   */
  setProcessingDelay(delayMs: number): Promise<void>;
}

/** The Bulk controls over the emulator's `/__emulator/bulk2` routes. */
export function bulkControls(call: EmulatorControlCall): EmulatorBulkControls {
  return {
    failNextJob: async (options = {}) => {
      await call('POST', 'bulk2', { failNextJob: { ...options } });
    },
    failNextJobWhileRunning: async (options) => {
      await call('POST', 'bulk2/faults', { failNextJobWhileRunning: { ...options } });
    },
    failRecords: async (faults) => {
      await call('POST', 'bulk2/faults', { failRecords: faults });
    },
    setQueryPageSize: async (size) => {
      await call('POST', 'bulk2', { queryPageSize: size });
    },
    setProcessingDelay: async (delayMs) => {
      await call('POST', 'bulk2', { processingDelayMs: delayMs });
    },
  };
}
