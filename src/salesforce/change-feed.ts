import { CrmDataConversionError } from '../core/errors.js';

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
