import { parseReadyContact } from '../../core/contact-fast-parse.js';
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
type ContactRow = BulkRow;

/** Rows read per batch: the pipeline hands rows on a batch at a time, not one promise per row. */
const BATCH_ROWS = 500;

/** Per-record results (all of them, or only failures) and the running counts `onProgress` reports. */
interface Tally {
  /** Record one input record's outcome; awaits `onResult` when it returns a promise. */
  settle(index: number, result: CrmSyncResult): void | Promise<void>;
  progress(): void;
  /** The batch outcome for `total` input records (a record without a result fails `NO_RESULT`). */
  summary(total: number, route: Route): Promise<CrmBulkSyncResult>;
}

/**
 * Create or update many contacts. Mode `auto` reads up to `bulkThreshold` + 1 valid records: that
 * many or fewer go through sObject Collections, more through Bulk API 2.0. Every input record gets
 * a result, in input order (all of them, or only the failed ones with `keepResults: 'failures'`;
 * each also goes to `onResult` as soon as it is known); invalid ones fail locally with code
 * `INVALID_DATA`, repeated external ids with `DUPLICATE_EXTERNAL_ID` (within one Collections
 * run, or within one Bulk job: separate jobs run one after the other, so a later job's copy is
 * applied after the earlier one, and nothing is kept per record across jobs).
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
  const tally = createTally(context, options, counters);
  const input = validatedBatches(context, contacts, keyField, tally);
  const { route, batches, columns } = await chooseRoute(context, input.batches, mode, options.expectedCount);
  try {
    if (route === 'rest') await sendThroughCollections(context, batches, keyField, tally, signal, counters);
    else
      await sendThroughBulkJobs(
        context,
        batches,
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
  return tally.summary(input.count(), route);
}

/** The mode, once `mode` and `contacts` are known to be usable. */
function assertBulkArguments(contacts: unknown, options: CrmBulkSyncOptions): BulkMode {
  const mode = options.mode ?? 'auto';
  if (!['auto', 'rest', 'bulk'].includes(mode)) {
    throw new CrmDataConversionError('Invalid bulk sync options: mode must be auto, rest or bulk', {
      fields: [{ field: 'mode', message: 'must be one of "auto", "rest", "bulk"' }],
    });
  }
  if (options.keepResults !== undefined && !['all', 'failures'].includes(options.keepResults)) {
    throw new CrmDataConversionError('Invalid bulk sync options: keepResults must be all or failures', {
      fields: [{ field: 'keepResults', message: 'must be one of "all", "failures"' }],
    });
  }
  if (options.onResult !== undefined && typeof options.onResult !== 'function') {
    throw new CrmDataConversionError('Invalid bulk sync options: onResult must be a function', {
      fields: [{ field: 'onResult', message: 'must be a function' }],
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

function createTally(
  context: SalesforceContext,
  options: CrmBulkSyncOptions,
  counters: OperationCounters,
): Tally {
  const keepAll = options.keepResults !== 'failures';
  const { onResult } = options;
  // keepResults 'all': dense by input index. 'failures': the failed ones with their index, and a
  // bitmap of settled records (one byte per 8 records) so a gap is still found.
  const results: CrmSyncResult[] = [];
  const failures: Array<{ index: number; result: CrmSyncResult }> = [];
  let settled = new Uint8Array(1024);
  let done = 0;
  let failed = 0;
  const mark = (index: number) => {
    const byte = index >> 3;
    if (byte >= settled.length) {
      const grown = new Uint8Array(Math.max(settled.length * 2, byte + 1));
      grown.set(settled);
      settled = grown;
    }
    settled[byte] = (settled[byte] as number) | (1 << (index & 7));
  };
  const isSettled = (index: number) => (((settled[index >> 3] ?? 0) >> (index & 7)) & 1) === 1;
  const tally: Tally = {
    settle(index, result) {
      done += 1;
      if (!result.success) failed += 1;
      if (keepAll) results[index] = result;
      else {
        mark(index);
        if (!result.success) failures.push({ index, result });
      }
      return onResult?.(result, index);
    },
    progress() {
      options.onProgress?.({
        done,
        failed,
        apiCalls: counters.apiCalls,
        ...(options.expectedCount !== undefined ? { total: options.expectedCount } : {}),
      });
    },
    async summary(total, route) {
      const missing = () =>
        syncResult(
          'contact',
          '',
          { error: { code: 'NO_RESULT', message: 'No result' } },
          context.clock.now(),
        );
      if (keepAll) {
        const dense: CrmSyncResult[] = new Array(total);
        for (let i = 0; i < total; i++) {
          let result = results[i];
          if (result === undefined) {
            result = missing();
            await tally.settle(i, result);
          }
          dense[i] = result;
        }
        return bulkSyncResult(dense, counters, route);
      }
      if (done < total) {
        for (let i = 0; i < total; i++) if (!isSettled(i)) await tally.settle(i, missing());
      }
      failures.sort((a, b) => a.index - b.index);
      return {
        total,
        success: done - failed,
        failed,
        results: failures.map((f) => f.result),
        apiCalls: counters.apiCalls,
        retries: counters.retries ?? 0,
        mode: route,
      };
    },
  };
  return tally;
}

/**
 * Validate and number the input lazily, a batch at a time (a synchronous iterable is read without
 * a promise per record). Invalid records are settled here and not yielded; `count()` is how many
 * input records were read so far.
 */
function validatedBatches(
  context: SalesforceContext,
  contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
  keyField: string,
  tally: Tally,
): { batches: AsyncGenerator<ContactRow[]>; count(): number } {
  const mapping = contactMapping(context);
  let index = 0;
  const invalid: Array<Promise<void>> = [];
  const accept = (raw: unknown, batch: ContactRow[]) => {
    const i = index++;
    // Most input is already valid: checked in place, the schema only parses the rest.
    const ready = parseReadyContact(raw);
    const parsed = ready ? { success: true as const, data: ready } : CrmContactSchema.safeParse(raw);
    if (!parsed.success) {
      const pending = tally.settle(
        i,
        syncResult(
          'contact',
          rawExternalId(raw),
          { error: issuesError(toFieldIssues(parsed.error)) },
          context.clock.now(),
        ),
      );
      if (pending) invalid.push(pending);
      return;
    }
    const contact = parsed.data;
    const record = contactToRecord(contact, mapping);
    batch.push({ index: i, key: String(record[keyField] ?? ''), record, externalId: contact.externalId });
  };
  const batches = (async function* (): AsyncGenerator<ContactRow[]> {
    let batch: ContactRow[] = [];
    const flush = async () => {
      if (invalid.length) await Promise.all(invalid.splice(0));
    };
    if (typeof (contacts as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const raw of contacts as Iterable<CrmContactInput>) {
        accept(raw, batch);
        if (batch.length >= BATCH_ROWS) {
          await flush();
          yield batch;
          batch = [];
        }
      }
    } else {
      for await (const raw of contacts as AsyncIterable<CrmContactInput>) {
        accept(raw, batch);
        if (batch.length >= BATCH_ROWS) {
          await flush();
          yield batch;
          batch = [];
        }
      }
    }
    await flush();
    if (batch.length > 0) yield batch;
  })();
  return { batches, count: () => index };
}

/**
 * Read ahead: `auto` decides on what it has read, and the bulk CSV header is built from the keys
 * of every buffered record (not just the first, as jsforce would). Returns the route, the batches
 * (buffered ones first) and the CSV columns.
 */
async function chooseRoute(
  context: SalesforceContext,
  input: AsyncGenerator<ContactRow[]>,
  mode: BulkMode,
  expectedCount: number | undefined,
): Promise<{ route: Route; batches: AsyncIterable<ContactRow[]>; columns: string[] }> {
  let route: Route = mode === 'bulk' ? 'bulk' : 'rest';
  const readAhead =
    mode === 'rest' ? 0 : mode === 'bulk' ? BULK_HEADER_SAMPLE : Math.max(context.bulkThreshold + 1, 1);
  const buffered: ContactRow[][] = [];
  let count = 0;
  let exhausted = false;
  if (mode === 'auto' && expectedCount !== undefined && expectedCount > context.bulkThreshold) {
    route = 'bulk';
  }
  while (count < readAhead) {
    const next = await input.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    buffered.push(next.value);
    count += next.value.length;
  }
  if (mode === 'auto' && route === 'rest') route = count > context.bulkThreshold ? 'bulk' : 'rest';
  const columns = new Set(bulkColumns(context));
  for (const batch of buffered) {
    for (const row of batch) for (const key of Object.keys(row.record)) columns.add(key);
  }
  const batches = (async function* () {
    // Handed over and let go: the buffered batches are not held for the whole run.
    yield* buffered.splice(0);
    if (!exhausted) yield* { [Symbol.asyncIterator]: () => input };
  })();
  return { route, batches, columns: [...columns] };
}

/** Rows one at a time from batches. */
async function* rowsOf(batches: AsyncIterable<readonly ContactRow[]>): AsyncGenerator<ContactRow> {
  for await (const batch of batches) yield* batch;
}

/**
 * sObject Collections, 200 records a request, `concurrency` requests in flight. A key seen before
 * in this call fails `DUPLICATE_EXTERNAL_ID` (two requests in flight could otherwise race).
 */
async function sendThroughCollections(
  context: SalesforceContext,
  batches: AsyncIterable<readonly ContactRow[]>,
  keyField: string,
  tally: Tally,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<void> {
  const seen = new Set<string>();
  const unique = (async function* () {
    for await (const row of rowsOf(batches)) {
      const dedupeKey = normaliseKey(keyField)(row.key);
      if (seen.has(dedupeKey)) {
        await tally.settle(row.index, duplicateResult(context, row, keyField));
        continue;
      }
      seen.add(dedupeKey);
      yield row;
    }
  })();
  await runPool(chunked(unique, COLLECTION_LIMIT), context.concurrency, async (batch) => {
    const outcomes = await upsertWithLockRetry(context, batch, keyField, signal, counters);
    const at = context.clock.now();
    for (const [i, row] of batch.entries()) {
      const outcome = outcomes[i];
      await tally.settle(
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

/** How keys compare: emails case-insensitively, external ids exactly. */
function normaliseKey(keyField: string): (key: string) => string {
  return keyField === 'Email' ? (key) => key.toLowerCase() : (key) => key;
}

function duplicateResult(context: SalesforceContext, row: ContactRow, keyField: string): CrmSyncResult {
  return syncResult(
    'contact',
    row.externalId,
    {
      error: {
        code: 'DUPLICATE_EXTERNAL_ID',
        message: `Another record in this batch has the same ${keyField}`,
        fields: [keyField === 'Email' ? 'email' : 'externalId'],
      },
    },
    context.clock.now(),
  );
}

/** Bulk API 2.0 ingest jobs; progress is reported once per job. */
async function sendThroughBulkJobs(
  context: SalesforceContext,
  batches: AsyncIterable<readonly ContactRow[]>,
  keyField: string,
  columns: string[],
  tally: Tally,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
  onRemoteJob?: CrmBulkSyncOptions['onRemoteJob'],
): Promise<void> {
  let jobAt: Date | undefined;
  // Bulk fails a whole job on one unknown column: check columns against the (cached) describe
  // first, reading it again once before failing a record on it (the field may be new).
  let known = fieldNameSet(await describeContact(context, signal));
  let reread = false;
  const diverted: ContactRow[] = [];
  const tracked = (async function* () {
    for await (const batch of batches) {
      const out: ContactRow[] = [];
      for (const row of batch) {
        let unknown = unknownFields(row.record, known);
        if (unknown.length > 0 && !reread) {
          reread = true;
          context.describeContact = undefined;
          known = fieldNameSet(await describeContact(context, signal));
          unknown = unknownFields(row.record, known);
        }
        if (unknown.length > 0) {
          await tally.settle(
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
        if (hasBulkNull(row.record)) {
          // `#N/A` is Bulk's null marker: the literal text would be stored as null. Collections
          // stores it as sent.
          diverted.push(row);
          continue;
        }
        out.push(row);
      }
      if (out.length > 0) yield out;
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
    normaliseKey: normaliseKey(keyField),
    onDuplicate: (row) => tally.settle(row.index, duplicateResult(context, row, keyField)),
    onResult: (r) => {
      // One timestamp per job: the records of a job were synced together.
      jobAt ??= context.clock.now();
      return tally.settle(r.index, syncResult('contact', r.externalId, r, jobAt));
    },
    onJobDone: () => {
      jobAt = undefined;
      tally.progress();
    },
  });
  if (diverted.length > 0) {
    const divertedBatches = (async function* () {
      yield diverted;
    })();
    await sendThroughCollections(context, divertedBatches, keyField, tally, signal, counters);
  }
}

function hasBulkNull(record: Record<string, unknown>): boolean {
  for (const key in record) if (record[key] === BULK_NULL) return true;
  return false;
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
