import { safeParseContact } from '../../core/contact-fast-parse.js';
import { CrmDataConversionError, isCrmError } from '../../core/errors.js';
import type { CrmContact } from '../../core/models.js';
import type { CrmCallOptions, CrmContactChangeBatch } from '../../core/provider.js';
import { BULK_QUERY_JOB_FAILED, runBulkQuery } from '../bulk-query.js';
import {
  CONTACT_STANDARD_FIELDS,
  contactSelectFields,
  recordToContact,
  type SalesforceRecord,
} from '../mapping.js';
import { contactMapping, type SalesforceContext } from './context.js';
import { queryPages } from './query.js';

/**
 * Contacts changed in Salesforce since `cursor` (`null`: all), oldest first, in batches of at most
 * 2,000. Reads `queryAll` ordered by `SystemModstamp, Id`, so deletions (`IsDeleted`) come in the
 * same ordered stream. The cursor is the highest (SystemModstamp, Id) delivered; each read starts
 * `changeLookbackMs` before it, so a change committed late with an earlier stamp, or in the
 * cursor's own second, is still seen.
 *
 * Small reads go through the REST query API, large ones through a Bulk API 2.0 query job with the
 * same SOQL (same `WHERE`, same `ORDER BY`, same lookback), so the stream, the cursors and the
 * guarantees are the same either way. Large means more than `bulkQueryThreshold` records: an
 * initial read (no cursor) asks with `SELECT COUNT()` first; a read from a cursor reads its first
 * REST page and goes on with REST unless that page's `totalSize` is over the threshold, in which
 * case the page is dropped. A Bulk job that ends `Failed` (before any record of it was delivered)
 * is logged and the read goes through REST after all.
 *
 * The feed is therefore **at least once**: records changed within the lookback window before the
 * cursor are delivered again (with the same `lastModifiedAt`). Consumers must drop re-deliveries
 * by record id and `lastModifiedAt`; `SyncEngine.pullContacts` does.
 * Contacts without an Email cannot be represented and are skipped with a warning.
 * @throws {CrmDataConversionError} when `cursor` is not one this function produced.
 */
export async function* listContactChanges(
  context: SalesforceContext,
  cursor: string | null,
  options: CrmCallOptions = {},
): AsyncGenerator<CrmContactChangeBatch> {
  const position = cursor === null ? undefined : parseChangeCursor(cursor);
  const mapping = contactMapping(context);
  const fields = contactSelectFields(mapping, ['IsDeleted']);
  const where = changeFeedWhere(position, context.changeLookbackMs);
  const soql = `SELECT ${fields.join(', ')} FROM Contact${where} ORDER BY SystemModstamp ASC, Id ASC`;
  const batches = new ChangeBatches(context, position);
  const threshold = context.bulkQueryThreshold;
  let totalSize: number | undefined;
  const restPages = () =>
    queryPages<SalesforceRecord>(context, 'query Contact changes', soql, {
      signal: options.signal,
      all: true,
      onTotalSize: (size) => {
        totalSize = size;
      },
    });
  let rest: AsyncGenerator<SalesforceRecord[]> | undefined;
  let first: IteratorResult<SalesforceRecord[]> | undefined;
  let bulk = false;
  if (threshold !== null && position === undefined) {
    // An initial read is likely large: a COUNT() costs one call, where a dropped first page
    // would cost the server the whole ordered query.
    const count = `SELECT COUNT() FROM Contact${where}`;
    for await (const _ of queryPages(context, 'count Contact changes', count, {
      signal: options.signal,
      all: true,
      onTotalSize: (size) => {
        totalSize = size;
      },
    })) {
      break;
    }
    bulk = totalSize !== undefined && totalSize > threshold;
  } else if (threshold !== null) {
    // A read from a cursor is usually small: its first page tells, and is used when it is.
    rest = restPages();
    first = await rest.next();
    if (totalSize !== undefined && totalSize > threshold) {
      await rest.return(undefined);
      rest = undefined;
      first = undefined;
      bulk = true;
    }
  }
  if (bulk) {
    try {
      const reader = bulkCellReader(fields, mapping);
      for await (const batch of runBulkQuery({
        client: context.client,
        apiVersion: context.connection.version,
        soql,
        operation: 'queryAll',
        pageSize: context.bulkQueryPageSize,
        batchSize: BATCH_SIZE,
        pollIntervalMs: context.bulk.pollIntervalMs,
        pollTimeoutMs: context.bulk.pollTimeoutMs,
        sleep: context.sleep,
        signal: options.signal,
        counters: { apiCalls: 0 },
      })) {
        bulkRowsInto(batches, batch.columns, batch.rows, mapping, reader);
        const out = batches.take();
        if (out) yield out;
      }
      return;
    } catch (error) {
      // A failed job delivered nothing: read the same changes through REST instead.
      if (!isCrmError(error) || error.providerCode !== BULK_QUERY_JOB_FAILED) throw error;
      context.logger.warn('Salesforce bulk query job failed; reading the changes through REST instead', {
        ...(error.details ?? {}),
      });
    }
  }
  rest ??= restPages();
  first ??= await rest.next();
  if (first.done) return;
  const out = batches.next(first.value);
  if (out) yield out;
  for await (const page of rest) {
    const next = batches.next(page);
    if (next) yield next;
  }
}

/** Records per batch of the Bulk path: a REST page's worth, so consumers see the same batches. */
const BATCH_SIZE = 2000;

/**
 * Default of `bulkQueryThreshold`: Salesforce documents Bulk API 2.0 query jobs as designed for
 * queries returning 10,000 records or more; below that the REST query (2,000 per page, no job to
 * poll) is as cheap in calls and faster to start.
 */
export const DEFAULT_BULK_QUERY_THRESHOLD = 10_000;

/**
 * Default of `bulkQueryPageSize`: 25,000 records per results page reads 100,000 changes in four
 * calls, the next page arriving while the current one is handed out; one page (read whole,
 * ~4 MB of contacts) and the one read ahead fit a small heap.
 */
export const DEFAULT_BULK_QUERY_PAGE_SIZE = 25_000;

/** Turns records into change batches and tracks the cursor across them. */
class ChangeBatches {
  // The cursor as a time and an Id, compared without building a cursor object per record.
  #lastMs: number;
  #lastId: string;
  #upserted: CrmContact[] = [];
  #deleted: string[] = [];
  // The last stamp parsed, and its value.
  #stamp: string | undefined;
  #stampMs = Number.NaN;
  readonly #context: SalesforceContext;
  readonly #mapping: ReturnType<typeof contactMapping>;

  constructor(context: SalesforceContext, position: ChangeCursor | undefined) {
    this.#context = context;
    this.#mapping = contactMapping(context);
    this.#lastMs = position ? Date.parse(position.ts) : Number.NEGATIVE_INFINITY;
    this.#lastId = position?.id ?? '';
  }

  /** The batch of a page of REST records, or `undefined` when nothing in it can be delivered. */
  next(records: SalesforceRecord[]): CrmContactChangeBatch | undefined {
    for (const record of records) {
      const id = String(record.Id ?? '');
      this.position(id, String(record.SystemModstamp ?? ''));
      if (record.IsDeleted === true) this.delete(id);
      else this.upsert(id, recordToContact(record, this.#mapping));
    }
    return this.take();
  }

  /**
   * Moves the cursor to a record's position if it is later than the cursor, and returns the
   * record's `SystemModstamp` as epoch milliseconds.
   * @throws {RangeError} when the stamp is not a date.
   */
  position(id: string, stamp: string): number {
    // Rows come ordered by SystemModstamp, and a bulk load writes thousands with the same one:
    // parsing each distinct stamp once is a tenth of the reader's CPU on large reads.
    let ms = this.#stampMs;
    if (stamp !== this.#stamp) {
      ms = Date.parse(stamp);
      if (Number.isNaN(ms)) throw new RangeError(`Invalid SystemModstamp on Contact ${id}`);
      this.#stamp = stamp;
      this.#stampMs = ms;
    }
    // The later of the two positions: the cursor never moves back (a late commit re-read from
    // the lookback window is delivered without rewinding it).
    if (ms > this.#lastMs || (ms === this.#lastMs && id.slice(0, 15) > this.#lastId.slice(0, 15))) {
      this.#lastMs = ms;
      this.#lastId = id;
    }
    return ms;
  }

  /** A deleted record, by Id. */
  delete(id: string): void {
    this.#deleted.push(id);
  }

  /** A live record, mapped; one that is not a valid contact is skipped with a warning. */
  upsert(id: string, contact: Record<string, unknown>): void {
    const parsed = safeParseContact(contact);
    if (parsed.success) this.#upserted.push(parsed.data);
    else this.#context.logger.warn('Skipping Salesforce contact that cannot be represented', { id });
  }

  /** The batch of what was added since the last one, or `undefined` when nothing can be delivered. */
  take(): CrmContactChangeBatch | undefined {
    const upserted = this.#upserted;
    const deleted = this.#deleted;
    this.#upserted = [];
    this.#deleted = [];
    if (this.#lastMs === Number.NEGATIVE_INFINITY || (!upserted.length && !deleted.length)) return undefined;
    const cursor: ChangeCursor = { v: 1, ts: new Date(this.#lastMs).toISOString(), id: this.#lastId };
    return { upserted, deleted, cursor: JSON.stringify(cursor) };
  }
}

/**
 * Feed Bulk query rows to `batches`. Without field mappings, contacts are built straight from
 * the cells (as `recordToContact` would build them from the REST record); with mappings, each
 * row becomes a REST-shaped record first so typed custom fields convert the same way.
 */
function bulkRowsInto(
  batches: ChangeBatches,
  columns: readonly string[],
  rows: readonly string[][],
  mapping: ReturnType<typeof contactMapping>,
  reader: ReturnType<typeof bulkCellReader>,
): void {
  const at = (name: string) => columns.indexOf(name);
  const [idAt, stampAt, deletedAt] = [at('Id'), at('SystemModstamp'), at('IsDeleted')];
  if (mapping.fieldMappings.length > 0) {
    for (const row of rows) {
      const id = String(row[idAt] ?? '');
      batches.position(id, row[stampAt] ?? '');
      if (row[deletedAt] === 'true') batches.delete(id);
      else batches.upsert(id, recordToContact(reader(columns, row), mapping));
    }
    return;
  }
  const externalAt = mapping.externalIdField ? at(mapping.externalIdField) : -1;
  // One column per standard field, and one named store per field below: building 100,000
  // contacts through computed keys cost more than reading their CSV. `satisfies` makes a new
  // standard field a compile error here until it is read too.
  const F = CONTACT_STANDARD_FIELDS;
  const col = {
    email: at(F.email),
    firstName: at(F.firstName),
    lastName: at(F.lastName),
    phone: at(F.phone),
    title: at(F.title),
    emailOptOut: at(F.emailOptOut),
  } satisfies Record<keyof typeof CONTACT_STANDARD_FIELDS, number>;
  // An empty cell is null: the key stays absent, as `recordToContact` leaves it.
  const text = (row: readonly string[], index: number) => (index >= 0 ? row[index] || undefined : undefined);
  for (const row of rows) {
    const id = row[idAt] ?? '';
    const ms = batches.position(id, row[stampAt] ?? '');
    if (row[deletedAt] === 'true') {
      batches.delete(id);
      continue;
    }
    const external = externalAt >= 0 ? row[externalAt] : '';
    const contact: Record<string, unknown> = {
      id,
      externalId: external ? external : id,
      tags: [],
      customFields: {},
    };
    const email = text(row, col.email);
    if (email !== undefined) contact.email = email;
    const firstName = text(row, col.firstName);
    if (firstName !== undefined) contact.firstName = firstName;
    const lastName = text(row, col.lastName);
    if (lastName !== undefined) contact.lastName = lastName;
    const phone = text(row, col.phone);
    if (phone !== undefined) contact.phone = phone;
    const title = text(row, col.title);
    if (title !== undefined) contact.title = title;
    // A checkbox is never null: an empty cell is false.
    if (col.emailOptOut >= 0) contact.emailOptOut = row[col.emailOptOut] === 'true';
    contact.lastModifiedAt = new Date(ms);
    batches.upsert(id, contact);
  }
}

type CellKind = 'text' | 'boolean' | 'number' | 'datetime';

/**
 * A reader of Bulk query CSV rows into records shaped as the REST API returns them, so both
 * paths map to identical contacts. Bulk CSV carries no types and writes null as an empty cell
 * (there is no empty string in Salesforce: saving one stores null); `#N/A` is the ingest
 * side's null marker only and comes back from a query as the text it is. Booleans come as
 * `true`/`false`, numbers as decimal text, datetimes as ISO-8601 (`…Z` on Salesforce; the REST
 * API writes `…+0000`, which is what the record gets).
 */
function bulkCellReader(
  fields: readonly string[],
  mapping: ReturnType<typeof contactMapping>,
): (columns: readonly string[], row: readonly string[]) => SalesforceRecord {
  const kinds = new Map<string, CellKind>(fields.map((field) => [field, 'text']));
  kinds.set('HasOptedOutOfEmail', 'boolean');
  kinds.set('IsDeleted', 'boolean');
  for (const field of mapping.fieldMappings) {
    if (field.fieldType === 'boolean') kinds.set(field.crmField, 'boolean');
    else if (field.fieldType === 'number') kinds.set(field.crmField, 'number');
    else if (field.fieldType === 'datetime') kinds.set(field.crmField, 'datetime');
  }
  let seen: readonly string[] | undefined;
  let plan: Array<[string, CellKind]> = [];
  return (columns, row) => {
    if (columns !== seen) {
      seen = columns;
      plan = columns.map((column) => [column, kinds.get(column) ?? 'text']);
    }
    const record: SalesforceRecord = {};
    for (let i = 0; i < plan.length; i++) {
      const [column, kind] = plan[i] as [string, CellKind];
      record[column] = bulkCell(row[i] ?? '', kind);
    }
    return record;
  };
}

function bulkCell(cell: string, kind: CellKind): unknown {
  if (cell === '') return kind === 'boolean' ? false : null;
  switch (kind) {
    case 'boolean':
      return cell === 'true';
    case 'number': {
      const value = Number(cell);
      return Number.isNaN(value) ? cell : value;
    }
    case 'datetime':
      return cell.endsWith('Z') ? `${cell.slice(0, -1)}+0000` : cell;
    default:
      return cell;
  }
}

/**
 * How far back the contact change feed re-reads before its cursor, in milliseconds.
 *
 * Salesforce stamps `SystemModstamp` when a row is written, not when its transaction commits, and
 * to whole seconds: a transaction that commits late carries an earlier stamp than rows already
 * read. A synchronous API call (and so its transaction) is capped at 10 minutes, so a change can
 * become visible at most that long after its stamp.
 */
export const DEFAULT_CHANGE_LOOKBACK_MS = 10 * 60_000;

/** Opaque position of the contact change feed, serialised as JSON. */
export interface ChangeCursor {
  v: 1;
  /** Highest SystemModstamp delivered so far (ISO-8601). */
  ts: string;
  /** Id of the highest record delivered with that SystemModstamp. */
  id: string;
}

/** SOQL `WHERE` clause (with its leading space) for a read from `position` with `lookbackMs` overlap. */
export function changeFeedWhere(position: ChangeCursor | undefined, lookbackMs: number): string {
  if (!position) return '';
  // Whole-second lower bound: Salesforce compares SOQL datetimes to the second.
  const floor = new Date(Date.parse(position.ts) - lookbackMs).toISOString();
  return ` WHERE SystemModstamp >= ${floor.slice(0, 19)}Z`;
}

/**
 * Parse a cursor this feed produced.
 * @throws {CrmDataConversionError} when `cursor` is not one.
 */
export function parseChangeCursor(cursor: string): ChangeCursor {
  try {
    const value = JSON.parse(cursor) as Partial<ChangeCursor>;
    if (
      value.v === 1 &&
      typeof value.ts === 'string' &&
      !Number.isNaN(Date.parse(value.ts)) &&
      typeof value.id === 'string'
    ) {
      return { v: 1, ts: new Date(value.ts).toISOString(), id: value.id };
    }
  } catch {
    // fall through
  }
  throw new CrmDataConversionError('Invalid cursor: not produced by SalesforceProvider.listContactChanges', {
    fields: [{ field: 'cursor', message: 'is not a SalesforceProvider cursor', code: 'invalid_format' }],
  });
}
