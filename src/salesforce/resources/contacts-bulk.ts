import { CrmDataConversionError, createAbortError, throwIfAborted } from '../../core/errors.js';
import {
  type CrmBulkSyncResult,
  type CrmContactInput,
  CrmContactSchema,
  type CrmSyncResult,
  toFieldIssues,
} from '../../core/models.js';
import type { CrmBulkSyncOptions } from '../../core/provider.js';
import { chunked } from '../../internal/chunks.js';
import { runPool } from '../../internal/pool.js';
import { type BulkRow, runBulkUpsert } from '../bulk.js';
import { fieldNameSet, unknownFields } from '../field-check.js';
import { contactToRecord } from '../mapping.js';

import type { OperationCounters } from '../transport.js';
import { contactMapping, type SalesforceContext } from './context.js';
import { describeContact } from './fields.js';
import { COLLECTION_LIMIT, upsertCollection } from './query.js';
import {
  bulkSyncResult,
  issuesError,
  rawExternalId,
  recordError,
  type SaveResult,
  saveErrorCode,
  syncResult,
} from './results.js';

/** Records read ahead in `bulk` mode to build the CSV header from. */
const BULK_HEADER_SAMPLE = 2000;

type BulkMode = NonNullable<CrmBulkSyncOptions['mode']>;
type Route = CrmBulkSyncResult['mode'];

/** A valid contact on its way to Salesforce. */
interface ContactRow extends BulkRow {
  externalId: string;
}

/** Per-record results in input order, with the running counts `onProgress` reports. */
interface Tally {
  results: CrmSyncResult[];
  settle(index: number, result: CrmSyncResult): void;
  progress(): void;
}

/**
 * Create or update many contacts. Mode `auto` reads up to `bulkThreshold` + 1 valid records: that
 * many or fewer go through sObject Collections, more through Bulk API 2.0. Every input record gets
 * a result, in input order; invalid ones fail locally with code `INVALID_DATA`, repeated external
 * ids with `DUPLICATE_EXTERNAL_ID`.
 * @throws {CrmDataConversionError} on invalid options.
 * @throws an `AbortError` when `signal` fires (a bulk job in flight is aborted).
 */
export async function bulkSyncContacts(
  context: SalesforceContext,
  contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
  options: CrmBulkSyncOptions = {},
): Promise<CrmBulkSyncResult> {
  const mode = assertBulkArguments(contacts, options);
  const { signal } = options;
  throwIfAborted(signal);
  const counters: OperationCounters = { apiCalls: 0 };
  const keyField = context.externalIdField ?? 'Email';
  const tally = createTally(options, counters);
  const input = validatedRows(context, contacts, keyField, tally);
  const { route, rows, columns } = await chooseRoute(context, input.rows, mode, options.expectedCount);
  try {
    if (route === 'rest') await sendThroughCollections(context, rows, keyField, tally, signal, counters);
    else
      await sendThroughBulkJobs(
        context,
        rows,
        keyField,
        columns,
        tally,
        signal,
        counters,
        options.onRemoteJob,
      );
  } catch (error) {
    if (signal?.aborted) throw createAbortError(signal);
    throw error;
  }
  tally.progress();
  return summarise(context, tally.results, input.count(), counters, route);
}

/** The mode, once `mode` and `contacts` are known to be usable. */
function assertBulkArguments(contacts: unknown, options: CrmBulkSyncOptions): BulkMode {
  const mode = options.mode ?? 'auto';
  if (!['auto', 'rest', 'bulk'].includes(mode)) {
    throw new CrmDataConversionError('Invalid bulk sync options: mode must be auto, rest or bulk', {
      fields: [{ field: 'mode', message: 'must be one of "auto", "rest", "bulk"' }],
    });
  }
  if (
    contacts == null ||
    (typeof (contacts as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (contacts as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new CrmDataConversionError('Invalid contacts: must be an Iterable or AsyncIterable', {
      fields: [{ field: 'contacts', message: 'must be an Iterable or AsyncIterable' }],
    });
  }
  return mode;
}

function createTally(options: CrmBulkSyncOptions, counters: OperationCounters): Tally {
  const results: CrmSyncResult[] = [];
  let done = 0;
  let failed = 0;
  return {
    results,
    settle(index, result) {
      results[index] = result;
      done += 1;
      if (!result.success) failed += 1;
    },
    progress() {
      options.onProgress?.({
        done,
        failed,
        apiCalls: counters.apiCalls,
        ...(options.expectedCount !== undefined ? { total: options.expectedCount } : {}),
      });
    },
  };
}

/**
 * Validate and number the input lazily. Invalid records and repeated keys are settled here and
 * not yielded; `count()` is how many input records were read so far.
 */
function validatedRows(
  context: SalesforceContext,
  contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
  keyField: string,
  tally: Tally,
): { rows: AsyncGenerator<ContactRow>; count(): number } {
  const mapping = contactMapping(context);
  const seen = new Set<string>();
  let total = 0;
  const rows = (async function* (): AsyncGenerator<ContactRow> {
    let index = 0;
    for await (const raw of contacts as AsyncIterable<CrmContactInput>) {
      const i = index++;
      total = index;
      const parsed = CrmContactSchema.safeParse(raw);
      if (!parsed.success) {
        tally.settle(
          i,
          syncResult(
            'contact',
            rawExternalId(raw),
            { error: issuesError(toFieldIssues(parsed.error)) },
            context.clock.now(),
          ),
        );
        continue;
      }
      const contact = parsed.data;
      const record = contactToRecord(contact, mapping);
      const key = String(record[keyField] ?? '');
      const dedupeKey = keyField === 'Email' ? key.toLowerCase() : key;
      if (seen.has(dedupeKey)) {
        tally.settle(
          i,
          syncResult(
            'contact',
            contact.externalId,
            {
              error: {
                code: 'DUPLICATE_EXTERNAL_ID',
                message: `Another record in this batch has the same ${keyField}`,
                fields: [keyField === 'Email' ? 'email' : 'externalId'],
              },
            },
            context.clock.now(),
          ),
        );
        continue;
      }
      seen.add(dedupeKey);
      yield { index: i, key, record, externalId: contact.externalId };
    }
  })();
  return { rows, count: () => total };
}

/**
 * Read ahead: `auto` decides on what it has read, and the bulk CSV header is built from the keys
 * of every buffered record (not just the first, as jsforce would). Returns the route, the rows
 * (buffered ones first) and the CSV columns.
 */
async function chooseRoute(
  context: SalesforceContext,
  input: AsyncGenerator<ContactRow>,
  mode: BulkMode,
  expectedCount: number | undefined,
): Promise<{ route: Route; rows: AsyncIterable<ContactRow>; columns: string[] }> {
  let route: Route = mode === 'bulk' ? 'bulk' : 'rest';
  const readAhead =
    mode === 'rest' ? 0 : mode === 'bulk' ? BULK_HEADER_SAMPLE : Math.max(context.bulkThreshold + 1, 1);
  const buffered: ContactRow[] = [];
  let exhausted = false;
  if (mode === 'auto' && expectedCount !== undefined && expectedCount > context.bulkThreshold) {
    route = 'bulk';
  }
  while (buffered.length < readAhead) {
    const next = await input.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    buffered.push(next.value);
  }
  if (mode === 'auto' && route === 'rest') route = buffered.length > context.bulkThreshold ? 'bulk' : 'rest';
  const rows = (async function* () {
    yield* buffered;
    if (!exhausted) yield* { [Symbol.asyncIterator]: () => input };
  })();
  const columns = new Set(bulkColumns(context));
  for (const row of buffered) for (const key of Object.keys(row.record)) columns.add(key);
  return { route, rows, columns: [...columns] };
}

/** sObject Collections, 200 records a request, `concurrency` requests in flight. */
async function sendThroughCollections(
  context: SalesforceContext,
  rows: AsyncIterable<ContactRow>,
  keyField: string,
  tally: Tally,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<void> {
  await runPool(chunked(rows, COLLECTION_LIMIT), context.concurrency, async (batch) => {
    const outcomes = await upsertWithLockRetry(context, batch, keyField, signal, counters);
    const at = context.clock.now();
    for (const [i, row] of batch.entries()) {
      const outcome = outcomes[i];
      tally.settle(
        row.index,
        syncResult(
          'contact',
          row.externalId,
          outcome?.success
            ? { crmId: outcome.id, created: outcome.created ?? false }
            : {
                error: recordError(
                  outcome?.errors?.[0] ?? { statusCode: 'NO_RESULT', message: 'No result returned' },
                ),
              },
          at,
        ),
      );
    }
    tally.progress();
  });
}

/** Bulk API 2.0 ingest jobs; progress is reported once per job. */
async function sendThroughBulkJobs(
  context: SalesforceContext,
  rows: AsyncIterable<ContactRow>,
  keyField: string,
  columns: string[],
  tally: Tally,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
  onRemoteJob?: CrmBulkSyncOptions['onRemoteJob'],
): Promise<void> {
  // Dense by input index: a pointer per record, cheaper than a Map at 100,000 records.
  const externalIds: string[] = [];
  let jobAt: Date | undefined;
  // Bulk fails a whole job on one unknown column: check columns against the (cached) describe
  // first, reading it again once before failing a record on it (the field may be new).
  let known = fieldNameSet(await describeContact(context, signal));
  let reread = false;
  const diverted: ContactRow[] = [];
  const tracked = (async function* () {
    for await (const row of rows) {
      let unknown = unknownFields(row.record, known);
      if (unknown.length > 0 && !reread) {
        reread = true;
        context.describeContact = undefined;
        known = fieldNameSet(await describeContact(context, signal));
        unknown = unknownFields(row.record, known);
      }
      if (unknown.length > 0) {
        tally.settle(
          row.index,
          syncResult(
            'contact',
            row.externalId,
            {
              error: {
                code: 'INVALID_FIELD',
                message: `No such column '${unknown.join("', '")}' on entity 'Contact'`,
                fields: unknown,
              },
            },
            context.clock.now(),
          ),
        );
        continue;
      }
      if (Object.values(row.record).some((value) => value === BULK_NULL)) {
        // `#N/A` is Bulk's null marker: the literal text would be stored as null. Collections
        // stores it as sent.
        diverted.push(row);
        continue;
      }
      externalIds[row.index] = row.externalId;
      yield row;
    }
  })();
  await runBulkUpsert({
    client: context.client,
    apiVersion: context.connection.version,
    object: 'Contact',
    externalIdFieldName: keyField,
    columns: columns.filter((column) => known.has(column.toLowerCase())),
    rows: tracked,
    options: context.bulk,
    sleep: context.sleep,
    signal,
    counters,
    onRemoteJob,
    onResult: (r) => {
      // One timestamp per job: the records of a job were synced together.
      jobAt ??= context.clock.now();
      tally.settle(r.index, syncResult('contact', externalIds[r.index] ?? '', r, jobAt));
    },
    onJobDone: () => {
      jobAt = undefined;
      tally.progress();
    },
  });
  if (diverted.length > 0) {
    const divertedRows = (async function* () {
      yield* diverted;
    })();
    await sendThroughCollections(context, divertedRows, keyField, tally, signal, counters);
  }
}

/** The cell text Bulk API 2.0 reads as "set this field to null". */
const BULK_NULL = '#N/A';

/** The full mapped field set, so the bulk CSV header never depends on the first record. */
function bulkColumns(context: SalesforceContext): string[] {
  const columns = new Set<string>();
  if (context.externalIdField) columns.add(context.externalIdField);
  for (const field of ['Email', 'FirstName', 'LastName', 'Phone', 'Title', 'HasOptedOutOfEmail'])
    columns.add(field);
  for (const m of context.fieldMappings) {
    if (m.syncDirection !== 'from_crm') columns.add(m.crmField);
  }
  return [...columns];
}

/** Upsert one collection; records refused with `UNABLE_TO_LOCK_ROW` are re-sent after a backoff. */
async function upsertWithLockRetry(
  context: SalesforceContext,
  batch: ContactRow[],
  keyField: string,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<SaveResult[]> {
  const { retry } = context;
  const outcomes: SaveResult[] = new Array(batch.length);
  let pending = batch.map((row, i) => ({ row, i }));
  for (let attempt = 0; pending.length; attempt++) {
    const response = await upsertCollection(
      context,
      'Contact',
      keyField,
      pending.map((p) => p.row.record),
      signal,
      counters,
    );
    const locked: typeof pending = [];
    for (const [j, p] of pending.entries()) {
      const outcome = response[j];
      if (
        outcome &&
        !outcome.success &&
        saveErrorCode(outcome) === 'UNABLE_TO_LOCK_ROW' &&
        attempt < retry.maxRetries
      ) {
        locked.push(p);
      } else if (outcome) {
        outcomes[p.i] = outcome;
      }
    }
    if (!locked.length) break;
    await context.sleep(Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** attempt), signal);
    pending = locked;
  }
  return outcomes;
}

/** One result per input record (a gap, which should not happen, fails with `NO_RESULT`). */
function summarise(
  context: SalesforceContext,
  results: CrmSyncResult[],
  total: number,
  counters: OperationCounters,
  route: Route,
): CrmBulkSyncResult {
  const dense = Array.from(
    { length: total },
    (_, i) =>
      results[i] ??
      syncResult('contact', '', { error: { code: 'NO_RESULT', message: 'No result' } }, context.clock.now()),
  );
  return bulkSyncResult(dense, counters, route);
}
