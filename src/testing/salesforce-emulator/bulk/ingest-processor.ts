import { open } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { parse } from 'csv-parse';
import type { EmulatorClock, OrgStore, StoreWriteOperation } from '../store/org-store.js';
import type { EmulatorSaveError, EmulatorSaveResult } from '../store/record-error.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';
import type { BulkFaults, BulkRowFault } from './bulk-faults.js';
import { COLUMN_DELIMITERS, csvLine } from './csv-format.js';
import { type IngestJob, setState } from './ingest-job.js';
import { closeStream, type JobSpool, writeChunk } from './job-spool.js';

/** Records applied to the store per step; the event loop runs between steps (polls stay fast). */
export const INGEST_CHUNK_SIZE = 5000;

/** What processing needs from the emulator. */
export interface IngestProcessorDependencies {
  store: OrgStore;
  spool: JobSpool;
  clock: EmulatorClock;
  /** Injected per-record and running-job failures. */
  faults?: BulkFaults;
}

/** A job-level failure: the job ends `Failed` with this `errorMessage`. */
class JobFailure extends Error {}

/** How one CSV column maps onto the object. */
type ColumnBinding =
  | { kind: 'id' }
  | { kind: 'field'; field: ResolvedField }
  /** `Account.MarkMail_ID__c`: a parent referenced by one of its external-id fields. */
  | { kind: 'parent'; reference: ResolvedField; target: ObjectSchema; key: ResolvedField; header: string }
  | { kind: 'ignored' };

const SUCCESS_HEADER = ['sf__Id', 'sf__Created'];
const FAILED_HEADER = ['sf__Id', 'sf__Error'];

/**
 * Processes an uploaded ingest job: streams the spooled CSV through csv-parse, applies records to
 * the store in chunks of {@link INGEST_CHUNK_SIZE}, and streams `successfulResults` /
 * `failedResults` rows to the spool. Never throws: job-level problems end the job `Failed`.
 */
export async function processIngestJob(job: IngestJob, deps: IngestProcessorDependencies): Promise<void> {
  const started = Date.now();
  setState(job, 'InProgress', deps.clock.now());
  try {
    if (job.injectedFailure !== undefined) throw new JobFailure(job.injectedFailure);
    if (!job.uploaded) throw new JobFailure('InvalidBatch : No data was uploaded for this job');
    const schema = deps.store.schema(job.object);
    if (!schema) throw new JobFailure(`InvalidJob : Unable to find object: ${job.object}`);
    await checkLineEnding(job, deps.spool);
    await runRows(job, schema, deps);
    if (job.state === 'InProgress') setState(job, 'JobComplete', deps.clock.now());
  } catch (error) {
    job.errorMessage =
      error instanceof JobFailure
        ? error.message
        : `InvalidBatch : Failed to process the CSV data: ${(error as Error).message ?? String(error)}`;
    if (job.numberRecordsProcessed === 0) job.unprocessed = 'upload';
    setState(job, 'Failed', deps.clock.now());
  } finally {
    job.totalProcessingTime = Date.now() - started;
  }
}

/** Salesforce refuses data whose line endings differ from the job's `lineEnding`. */
async function checkLineEnding(job: IngestJob, spool: JobSpool): Promise<void> {
  const handle = await open(spool.path(job.id, 'upload'), 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    const lf = head.indexOf(0x0a);
    if (lf < 0) return;
    const crlf = lf > 0 && head[lf - 1] === 0x0d;
    if (crlf !== (job.dialect.lineEnding === 'CRLF')) {
      throw new JobFailure(
        `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${job.dialect.lineEnding}`,
      );
    }
  } finally {
    await handle.close();
  }
}

async function runRows(
  job: IngestJob,
  schema: ObjectSchema,
  deps: IngestProcessorDependencies,
): Promise<void> {
  const { spool, store } = deps;
  const parser = parse({
    delimiter: COLUMN_DELIMITERS[job.dialect.columnDelimiter],
    record_delimiter: job.dialect.lineEnding === 'CRLF' ? '\r\n' : '\n',
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  const source = spool.reader(job.id, 'upload');
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) await onceDrain(parser);
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();

  const successful = spool.writer(job.id, 'successful');
  const failed = spool.writer(job.id, 'failed');
  let unprocessed: ReturnType<JobSpool['writer']> | undefined;
  let header: string[] | undefined;
  let bindings: ColumnBinding[] = [];
  let chunk: string[][] = [];
  let matchFault: ((row: readonly string[]) => BulkRowFault | undefined) | undefined;
  // Record-scope faults fail their row; job-scope ones fail the job (checked before applying).
  const checked = new WeakMap<readonly string[], BulkRowFault | null>();
  const faultOf = (row: readonly string[]): BulkRowFault | undefined => {
    if (!matchFault) return undefined;
    let fault = checked.get(row);
    if (fault === undefined) {
      fault = matchFault(row) ?? null;
      checked.set(row, fault);
    }
    return fault ?? undefined;
  };
  const rowFault = (row: readonly string[]): EmulatorSaveError | undefined => faultOf(row)?.error;
  // Rows the job may still apply before an injected running failure stops it.
  let budget = job.runningFailure?.afterRecords ?? Number.POSITIVE_INFINITY;
  const failWhileRunning = async (): Promise<void> => {
    if (header && chunk.length > 0) {
      await applyChunk(job, schema, header, bindings, chunk, deps, successful, failed, rowFault);
    }
    chunk = [];
    job.errorMessage = job.runningFailure?.message;
    setState(job, 'Failed', deps.clock.now());
  };
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        job.header = header;
        bindings = bindColumns(job, schema, header, store);
        matchFault = deps.faults?.matcher(header);
        await writeChunk(successful, csvLine([...SUCCESS_HEADER, ...header], job.dialect));
        await writeChunk(failed, csvLine([...FAILED_HEADER, ...header], job.dialect));
        job.resultsWritten = true;
        continue;
      }
      if (job.state !== 'InProgress') {
        // Aborted while running: the rest is reported by `unprocessedrecords`.
        if (!unprocessed) {
          unprocessed = spool.writer(job.id, 'unprocessed');
          job.unprocessed = 'spool';
          await writeChunk(unprocessed, csvLine(header, job.dialect));
        }
        await writeChunk(unprocessed, csvLine(record, job.dialect));
        continue;
      }
      if (budget <= 0) {
        await failWhileRunning();
        // This row was never reached: it goes to `unprocessedrecords` with the rest.
        unprocessed = spool.writer(job.id, 'unprocessed');
        job.unprocessed = 'spool';
        await writeChunk(unprocessed, csvLine(header, job.dialect));
        await writeChunk(unprocessed, csvLine(record, job.dialect));
        continue;
      }
      budget -= 1;
      const fault = faultOf(record);
      if (fault?.failsJob && job.numberRecordsProcessed === 0) throw new JobFailure(fault.error.message);
      chunk.push(record);
      if (chunk.length >= INGEST_CHUNK_SIZE) {
        await applyChunk(job, schema, header, bindings, chunk, deps, successful, failed, rowFault);
        chunk = [];
        await yieldToEventLoop();
      }
    }
    if (header && chunk.length > 0 && job.state === 'InProgress') {
      await applyChunk(job, schema, header, bindings, chunk, deps, successful, failed, rowFault);
    }
    await feeding;
    // No data at all (an empty upload, or none before UploadComplete): a real org completes the
    // job with empty result files (jsforce relies on it for an empty input).
  } finally {
    await Promise.all([
      closeStream(successful),
      closeStream(failed),
      unprocessed ? closeStream(unprocessed) : undefined,
    ]);
  }
}

/** Resolves on `drain`, or on `close` when the consumer stopped reading (a parse error). */
function onceDrain(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** Resolves header cells to fields; unknown names fail the job as Salesforce does. */
function bindColumns(
  job: IngestJob,
  schema: ObjectSchema,
  header: string[],
  store: OrgStore,
): ColumnBinding[] {
  const deleting = job.operation === 'delete' || job.operation === 'hardDelete';
  const bindings = header.map((name): ColumnBinding => {
    if (name.toLowerCase() === 'id') return { kind: 'id' };
    if (deleting) return { kind: 'ignored' };
    const field = schema.field(name);
    if (field) return { kind: 'field', field };
    const dot = name.indexOf('.');
    if (dot > 0) {
      const reference = schema.relationship(name.slice(0, dot));
      const targetName = reference?.referenceTo[0];
      const target = targetName === undefined ? undefined : store.schema(targetName);
      const key = target?.field(name.slice(dot + 1));
      if (reference && target && key && (key.externalId || key.type === 'id')) {
        return { kind: 'parent', reference, target, key, header: name };
      }
    }
    throw new JobFailure(`InvalidBatch : Field name not found : ${name}`);
  });
  if (deleting && !bindings.some((b) => b.kind === 'id')) {
    throw new JobFailure('InvalidBatch : Field name not found : Id');
  }
  if (job.operation === 'update' && !bindings.some((b) => b.kind === 'id')) {
    throw new JobFailure('InvalidBatch : Field name not found : Id');
  }
  if (job.operation === 'upsert') {
    const external = job.externalIdFieldName?.toLowerCase();
    // Keyed on `Id` without an Id column, every row is new: a real org inserts each one
    // (`sf__Created=true`), which jsforce's org setup relies on to seed BigTable__c.
    const hasKey = external === 'id' || header.some((name) => name.toLowerCase() === external);
    if (!hasKey) throw new JobFailure(`InvalidBatch : Field name not found : ${job.externalIdFieldName}`);
  }
  return bindings;
}

/** A row that fails before reaching the store (bad cell count, unresolved parent, missing Id). */
function rowError(statusCode: string, message: string, fields: string[] = []): EmulatorSaveError {
  return { statusCode, message, fields };
}

async function applyChunk(
  job: IngestJob,
  schema: ObjectSchema,
  header: string[],
  bindings: ColumnBinding[],
  rows: string[][],
  deps: IngestProcessorDependencies,
  successful: ReturnType<JobSpool['writer']>,
  failed: ReturnType<JobSpool['writer']>,
  rowFault?: (row: readonly string[]) => EmulatorSaveError | undefined,
): Promise<void> {
  const { store } = deps;
  const operations: StoreWriteOperation[] = [];
  const early: Array<EmulatorSaveError | undefined> = [];
  const rowIds: string[] = [];
  for (const row of rows) {
    let id = '';
    const values: Record<string, unknown> = {};
    let error: EmulatorSaveError | undefined = rowFault?.(row);
    if (!error && row.length !== header.length) {
      error = rowError(
        'INVALID_INPUT',
        `Found ${row.length} columns but the header has ${header.length}; the row is malformed`,
      );
    }
    for (let i = 0; i < bindings.length && !error; i++) {
      const binding = bindings[i] as ColumnBinding;
      const cell = row[i] ?? '';
      switch (binding.kind) {
        case 'id':
          id = cell;
          break;
        case 'field':
          values[binding.field.name] = cell;
          break;
        case 'parent': {
          if (cell === '' || cell === '#N/A') {
            values[binding.reference.name] = cell;
            break;
          }
          const matches = store.findByExternalId(binding.target.name, binding.key.name, cell);
          if (matches.length === 1) {
            values[binding.reference.name] = matches[0];
          } else {
            error =
              matches.length === 0
                ? rowError(
                    'INVALID_FIELD',
                    `Foreign key external ID: ${cell} not found for field ${binding.key.name} in entity ${binding.target.name}`,
                    [binding.reference.name],
                  )
                : rowError(
                    'INVALID_FIELD',
                    `More than 1 record found for field ${binding.key.name} in entity ${binding.target.name} with value ${cell}`,
                    [binding.reference.name],
                  );
          }
          break;
        }
        case 'ignored':
          break;
      }
    }
    rowIds.push(id);
    if (!error && id === '' && job.operation !== 'insert' && job.operation !== 'upsert') {
      error = rowError('MISSING_ARGUMENT', `Id not specified in an ${job.operation} call`, ['Id']);
    }
    early.push(error);
    if (error) continue;
    switch (job.operation) {
      case 'insert':
        operations.push({ kind: 'insert', sobject: schema.name, values: withId(values, id) });
        break;
      case 'update':
        operations.push({ kind: 'update', sobject: schema.name, id, values });
        break;
      case 'upsert':
        operations.push({
          kind: 'upsert',
          sobject: schema.name,
          externalIdField: job.externalIdFieldName as string,
          values: withId(values, id),
        });
        break;
      case 'delete':
      case 'hardDelete':
        operations.push({ kind: job.operation, sobject: schema.name, id });
        break;
    }
  }
  const results = store.withOrigin(job.origin, () => store.apply(operations, { valueFormat: 'csv' }));
  let okText = '';
  let failedText = '';
  let next = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as string[];
    const error = early[i];
    const result: EmulatorSaveResult | undefined = error ? undefined : results[next++];
    job.numberRecordsProcessed += 1;
    if (result?.success) {
      const created = job.operation === 'insert' || (job.operation === 'upsert' && result.created === true);
      okText += csvLine([result.id ?? '', String(created), ...row], job.dialect);
    } else {
      job.numberRecordsFailed += 1;
      const first =
        error ?? result?.errors[0] ?? rowError('UNKNOWN_EXCEPTION', 'An unexpected error occurred');
      const sfId =
        result?.id ?? (job.operation === 'insert' || job.operation === 'upsert' ? '' : (rowIds[i] ?? ''));
      failedText += csvLine([sfId, formatBulkError(first), ...row], job.dialect);
    }
  }
  if (okText) await writeChunk(successful, okText);
  if (failedText) await writeChunk(failed, failedText);
}

/** A CSV `Id` cell only matters when it has a value (jsforce sends an empty `Id` column on upserts). */
function withId(values: Record<string, unknown>, id: string): Record<string, unknown> {
  return id === '' ? values : { ...values, Id: id };
}

/**
 * `sf__Error` text: `STATUS_CODE:message:field1,field2 --`, the shape Bulk API result files use
 * (e.g. `REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --`).
 */
export function formatBulkError(error: EmulatorSaveError): string {
  return `${error.statusCode}:${error.message}:${error.fields.join(',')} --`;
}
