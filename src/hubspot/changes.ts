import { CrmApiError, CrmDataConversionError } from '../core/errors.js';
import type { CrmCallOptions, CrmContactChangeBatch } from '../core/provider.js';
import { contactReadProperties, fromHubSpotContact } from './contacts.js';
import { type HubSpotContext, type HubSpotObject, objectsPath } from './context.js';

/** HubSpot search pages through at most 10,000 results of one query. */
export const HUBSPOT_SEARCH_CAP = 10_000;

/**
 * Pull position. `t`: the newest `lastmodifieddate` delivered (ms); `seen`: (id, ms) pairs
 * delivered inside the overlap window, so re-read records are dropped; `a`/`gone`: the same for
 * archived contacts.
 */
interface PullCursor {
  v: 1;
  t: number;
  seen: Array<[string, number]>;
  a: number;
  gone: Array<[string, number]>;
}

function encode(cursor: PullCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decode(raw: string | null): PullCursor {
  if (raw === null) return { v: 1, t: 0, seen: [], a: 0, gone: [] };
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PullCursor;
    if (
      parsed.v === 1 &&
      Number.isFinite(parsed.t) &&
      Array.isArray(parsed.seen) &&
      Array.isArray(parsed.gone)
    )
      return parsed;
  } catch {
    // falls through to the error below
  }
  throw new CrmDataConversionError('Invalid HubSpot pull cursor: not one this provider wrote', {
    fields: [{ field: 'cursor', message: 'is not a HubSpot pull cursor' }],
  });
}

/** Keeps only pairs inside the overlap window of the newest position. */
function prune(pairs: Map<string, number>, newest: number, overlapMs: number): Array<[string, number]> {
  for (const [id, at] of pairs) if (at < newest - overlapMs) pairs.delete(id);
  return [...pairs];
}

const stamp = (object: HubSpotObject) =>
  Date.parse(object.properties.lastmodifieddate ?? object.updatedAt ?? '') || 0;

/**
 * CRM-side contact changes since `cursor`: a `lastmodifieddate` search, ascending, re-anchored on
 * the last seen time before the 10,000-result cap, re-reading an overlap window on resume and
 * dropping what was already delivered; then archived contacts as deletions. Never skips a change
 * that reaches the search index within the overlap window.
 */
export async function* listContactChanges(
  context: HubSpotContext,
  cursor: string | null,
  options: CrmCallOptions = {},
): AsyncGenerator<CrmContactChangeBatch> {
  const state = decode(cursor);
  const overlap = context.pullOverlapMs;
  const seen = new Map(state.seen);
  const gone = new Map(state.gone);
  let newest = state.t;
  let archivedNewest = state.a;
  let yielded = false;
  const position = () =>
    encode({
      v: 1,
      t: newest,
      seen: prune(seen, newest, overlap),
      a: archivedNewest,
      gone: prune(gone, archivedNewest, overlap),
    });

  let anchor = Math.max(0, state.t - overlap);
  const pageSize = context.pullPageSize;
  let after = 0;
  for (;;) {
    if (after + pageSize > HUBSPOT_SEARCH_CAP) {
      // Next page would cross the cap: start a new query at the last time seen (ties re-read, dropped).
      if (newest <= anchor) {
        throw new CrmApiError(
          `HubSpot pull cannot advance: more than ${HUBSPOT_SEARCH_CAP} contacts share one lastmodifieddate`,
          { provider: 'hubspot', providerCode: 'SEARCH_CAP' },
        );
      }
      anchor = newest;
      after = 0;
    }
    const { body } = await context.client.request<{
      results: HubSpotObject[];
      paging?: { next?: { after: string } };
    }>({
      operation: 'search contact changes',
      method: 'POST',
      path: `${objectsPath(context, 'contacts')}/search`,
      body: {
        filterGroups: [
          { filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(anchor) }] },
        ],
        sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
        properties: contactReadProperties(context),
        limit: pageSize,
        after: String(after),
      },
      idempotent: true,
      signal: options.signal,
    });
    const upserted = [];
    for (const object of body.results ?? []) {
      const at = stamp(object);
      if (seen.get(object.id) === at) continue;
      seen.set(object.id, at);
      newest = Math.max(newest, at);
      upserted.push(fromHubSpotContact(object, context));
    }
    if (upserted.length) {
      yielded = true;
      yield { upserted, deleted: [], cursor: position() };
    }
    const next = body.paging?.next?.after;
    if (!next) break;
    after = Number(next);
  }

  let archivedAfter: string | undefined;
  for (;;) {
    const { body } = await context.client.request<{
      results: HubSpotObject[];
      paging?: { next?: { after: string } };
    }>({
      operation: 'list archived contacts',
      method: 'GET',
      path: objectsPath(context, 'contacts'),
      query: { archived: 'true', limit: '100', properties: 'lastmodifieddate', after: archivedAfter },
      idempotent: true,
      signal: options.signal,
    });
    const deleted: string[] = [];
    for (const object of body.results ?? []) {
      const at = Date.parse(object.archivedAt ?? '') || 0;
      if (at < state.a - overlap || gone.get(object.id) === at) continue;
      gone.set(object.id, at);
      archivedNewest = Math.max(archivedNewest, at);
      deleted.push(object.id);
    }
    if (deleted.length) {
      yielded = true;
      yield { upserted: [], deleted, cursor: position() };
    }
    archivedAfter = body.paging?.next?.after;
    if (!archivedAfter) break;
  }
  if (!yielded) yield { upserted: [], deleted: [], cursor: position() };
}
