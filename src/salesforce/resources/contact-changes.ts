import { CrmDataConversionError } from '../../core/errors.js';
import { type CrmContact, CrmContactSchema } from '../../core/models.js';
import type { CrmCallOptions, CrmContactChangeBatch } from '../../core/provider.js';
import { contactSelectFields, recordToContact, type SalesforceRecord } from '../mapping.js';
import { contactMapping, type SalesforceContext } from './context.js';
import { queryPages } from './query.js';

/**
 * Contacts changed in Salesforce since `cursor` (`null`: all), oldest first, one batch per query
 * page. Reads `queryAll` ordered by `SystemModstamp, Id`, so deletions (`IsDeleted`) come in the
 * same ordered stream. The cursor is the highest (SystemModstamp, Id) delivered; each read starts
 * `changeLookbackMs` before it, so a change committed late with an earlier stamp, or in the
 * cursor's own second, is still seen.
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
  let last = position;
  for await (const page of queryPages<SalesforceRecord>(context, 'query Contact changes', soql, {
    signal: options.signal,
    all: true,
  })) {
    const upserted: CrmContact[] = [];
    const deleted: string[] = [];
    for (const record of page) {
      const id = String(record.Id ?? '');
      const ts = new Date(String(record.SystemModstamp ?? '')).toISOString();
      last = laterCursor(last, { v: 1, ts, id });
      if (record.IsDeleted === true) {
        deleted.push(id);
        continue;
      }
      const parsed = CrmContactSchema.safeParse(recordToContact(record, mapping));
      if (parsed.success) upserted.push(parsed.data);
      else context.logger.warn('Skipping Salesforce contact that cannot be represented', { id });
    }
    if (!last || (!upserted.length && !deleted.length)) continue;
    yield { upserted, deleted, cursor: JSON.stringify(last) };
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

/** The later of two positions (the cursor never moves back, even when a late commit is delivered). */
export function laterCursor(a: ChangeCursor | undefined, b: ChangeCursor): ChangeCursor {
  return a === undefined || compareCursor(b, a) > 0 ? b : a;
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

/** Order of (SystemModstamp, Id) as Salesforce sorts them (Ids compare on their 15-character form). */
export function compareCursor(a: ChangeCursor, b: ChangeCursor): number {
  const time = Date.parse(a.ts) - Date.parse(b.ts);
  if (time !== 0) return time;
  const ia = a.id.slice(0, 15);
  const ib = b.id.slice(0, 15);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
