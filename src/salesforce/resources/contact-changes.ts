import { CrmDataConversionError } from '../../core/errors.js';
import { type CrmContact, CrmContactSchema } from '../../core/models.js';
import type { CrmCallOptions, CrmContactChangeBatch } from '../../core/provider.js';
import { contactSelectFields, recordToContact, type SalesforceRecord } from '../mapping.js';
import { contactMapping, type SalesforceContext } from './context.js';
import { queryPages } from './query.js';

/** Opaque position of {@link listContactChanges}, serialised as JSON. */
interface ChangeCursor {
  v: 1;
  /** SystemModstamp of the last record delivered (ISO-8601). */
  ts: string;
  /** Id of the last record delivered with that SystemModstamp. */
  id: string;
}

/**
 * Contacts changed in Salesforce since `cursor` (`null`: all), oldest first, one batch per query
 * page. Reads `queryAll` ordered by `SystemModstamp, Id`, so deletions (`IsDeleted`) come in the
 * same ordered stream; the cursor is the last delivered (SystemModstamp, Id), and records in the
 * cursor's second are re-read and filtered, so none is skipped at a page or second boundary.
 * Contacts without an Email cannot be represented and are skipped with a warning.
 * @throws {CrmDataConversionError} when `cursor` is not one this function produced.
 */
export async function* listContactChanges(
  context: SalesforceContext,
  cursor: string | null,
  options: CrmCallOptions = {},
): AsyncGenerator<CrmContactChangeBatch> {
  const position = cursor === null ? undefined : parseCursor(cursor);
  const mapping = contactMapping(context);
  const fields = contactSelectFields(mapping, ['IsDeleted']);
  let where = '';
  if (position) {
    // Whole-second lower bound, then exact filtering below: robust to sub-second precision.
    const floor = `${position.ts.slice(0, 19)}Z`;
    where = ` WHERE SystemModstamp >= ${floor}`;
  }
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
      if (position && compareCursor({ v: 1, ts, id }, position) <= 0) continue;
      last = { v: 1, ts, id };
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

function parseCursor(cursor: string): ChangeCursor {
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
function compareCursor(a: ChangeCursor, b: ChangeCursor): number {
  const time = Date.parse(a.ts) - Date.parse(b.ts);
  if (time !== 0) return time;
  const ia = a.id.slice(0, 15);
  const ib = b.id.slice(0, 15);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
