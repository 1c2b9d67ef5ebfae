import { httpControlCall } from '../http/control-call.js';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import type { EmulatorSaveError } from '../store/record-error.js';
import { bulkControls } from './bulk-control-api.js';
import type { BulkControlTarget } from './bulk-controls.js';
import { requireObjectBody } from './bulk-errors.js';

/** Path of the Bulk API 2.0 fault-control endpoint (not a Salesforce resource). */
export const BULK_FAULT_PATH = '/__emulator/bulk2/faults';

/** Default `errorMessage` of a job failed while running by `emulator.bulk.failNextJobWhileRunning()`. */
export const RUNNING_FAILURE_MESSAGE =
  'InternalServerError : The job failed while processing (injected by the emulator)';

/**
 * A per-record failure inside Bulk ingest results: every row whose `column` cell equals `value`
 * fails with this error (in `failedResults`) without touching the store.
 */
export interface BulkRecordFaultSpec {
  /** CSV header cell to look at (case-insensitive), e.g. `MarkMail_ID__c` or `Email`. */
  column: string;
  /** Cell value that fails the row. */
  value: string;
  /** Salesforce status code, e.g. `FIELD_CUSTOM_VALIDATION_EXCEPTION`. @default 'UNKNOWN_EXCEPTION' */
  statusCode?: string;
  /** @default 'Record failed (injected by the emulator)' */
  message?: string;
  fields?: string[];
  /** How many matching rows fail before the fault is used up; unlimited when omitted. */
  times?: number;
  /**
   * `job`: the row fails its whole job instead (state `Failed`, `errorMessage` = `message`, every
   * row unprocessed), as an unreadable row does on Salesforce. Applies while nothing of the job
   * was processed yet (rows within its first 5,000). @default 'record'
   */
  scope?: 'record' | 'job';
}

interface RecordFault {
  column: string;
  value: string;
  error: EmulatorSaveError;
  remaining: number;
  scope: 'record' | 'job';
}

/** A matching row's injected error, and whether it fails the whole job. */
export interface BulkRowFault {
  error: EmulatorSaveError;
  failsJob: boolean;
}

/** Fault state of the Bulk ingest processor (reset with the emulator). */
export class BulkFaults {
  private records: RecordFault[] = [];
  private readonly running: Array<{ afterRecords: number; message: string }> = [];

  addRecordFault(spec: BulkRecordFaultSpec): void {
    this.records.push({
      column: spec.column.toLowerCase(),
      value: spec.value,
      error: {
        statusCode: spec.statusCode ?? 'UNKNOWN_EXCEPTION',
        message: spec.message ?? 'Record failed (injected by the emulator)',
        fields: spec.fields ?? [],
      },
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
      scope: spec.scope === 'job' ? 'job' : 'record',
    });
  }

  /** Marks the next created ingest job to fail once `afterRecords` rows were processed. */
  failNextWhileRunning(afterRecords: number, message: string): void {
    this.running.push({ afterRecords, message });
  }

  /** Takes the running-failure spec for a job being created, if one is pending. */
  takeRunningFailure(): { afterRecords: number; message: string } | undefined {
    return this.running.shift();
  }

  /**
   * A matcher for rows of a job with this header, or `undefined` when no record fault applies
   * (the common case costs nothing per row).
   */
  matcher(header: readonly string[]): ((row: readonly string[]) => BulkRowFault | undefined) | undefined {
    const active = this.records
      .filter((f) => f.remaining > 0)
      .map((fault) => ({ fault, at: header.findIndex((h) => h.toLowerCase() === fault.column) }))
      .filter((f) => f.at >= 0);
    if (active.length === 0) return undefined;
    return (row) => {
      for (const { fault, at } of active) {
        if (fault.remaining > 0 && row[at] === fault.value) {
          fault.remaining -= 1;
          return {
            error: { ...fault.error, fields: [...fault.error.fields] },
            failsJob: fault.scope === 'job',
          };
        }
      }
      return undefined;
    };
  }

  reset(): void {
    this.records = [];
    this.running.length = 0;
  }
}

/**
 * Registers `POST /__emulator/bulk2/faults` (needs a valid access token, not counted against the
 * API limit). Body: `{ "failRecords": BulkRecordFaultSpec[] }` and/or
 * `{ "failNextJobWhileRunning": { "afterRecords": number, "errorMessage"?: string } }`.
 */
export function registerBulkFaultRoute(context: EmulatorModuleContext, faults: BulkFaults): void {
  context.router.add({
    method: 'POST',
    pattern: BULK_FAULT_PATH,
    kind: 'api-free',
    name: 'emulator bulk2 faults',
    handler: async (request) => {
      const body = requireObjectBody(await request.json());
      if (body.failRecords !== undefined) {
        if (!Array.isArray(body.failRecords)) invalid('failRecords must be an array');
        for (const raw of body.failRecords as unknown[]) {
          const spec = requireObjectBody(raw);
          if (typeof spec.column !== 'string' || typeof spec.value !== 'string') {
            invalid('failRecords[].column and failRecords[].value must be strings');
          }
          if (spec.times !== undefined && !(typeof spec.times === 'number' && spec.times > 0)) {
            invalid('failRecords[].times must be a positive number');
          }
          faults.addRecordFault(spec as unknown as BulkRecordFaultSpec);
        }
      }
      if (body.failNextJobWhileRunning !== undefined) {
        const spec = requireObjectBody(body.failNextJobWhileRunning);
        const after = spec.afterRecords;
        if (typeof after !== 'number' || !Number.isInteger(after) || after < 0) {
          invalid('failNextJobWhileRunning.afterRecords must be a non-negative integer');
        }
        const message = spec.errorMessage ?? RUNNING_FAILURE_MESSAGE;
        if (typeof message !== 'string') invalid('failNextJobWhileRunning.errorMessage must be a string');
        faults.failNextWhileRunning(after as number, message as string);
      }
      return { status: 200, body: { ok: true } };
    },
  });
}

function invalid(message: string): never {
  throw new EmulatorHttpError(400, 'INVALID_INPUT', message);
}

/**
 * Test control: matching rows of later Bulk API 2.0 ingest jobs fail.
 *
 * @deprecated Use `emulator.bulk.failRecords(faults)`. Kept for one release.
 */
export async function failBulkRecords(
  target: BulkControlTarget,
  faults: BulkRecordFaultSpec[],
  options: { fetch?: typeof fetch } = {},
): Promise<void> {
  await bulkControls(httpControlCall(target, options.fetch)).failRecords(faults);
}

/**
 * Test control: the next Bulk API 2.0 ingest job fails after `afterRecords` rows.
 *
 * @deprecated Use `emulator.bulk.failNextJobWhileRunning(options)`. Kept for one release.
 */
export async function failNextBulkJobWhileRunning(
  target: BulkControlTarget,
  options: { afterRecords: number; errorMessage?: string; fetch?: typeof fetch },
): Promise<void> {
  const { fetch: fetchImpl, ...spec } = options;
  await bulkControls(httpControlCall(target, fetchImpl)).failNextJobWhileRunning(spec);
}
