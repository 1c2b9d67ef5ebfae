import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import { describeQueryColumns } from '../soql/columns.js';
import { type ExplainSourceResolver, explainQuery } from './query-explain.js';

/** Default and maximum query batch (`Sforce-Query-Options: batchSize=` may lower it to 200). */
export const DEFAULT_QUERY_BATCH_SIZE = 2000;
const MIN_QUERY_BATCH_SIZE = 200;
/**
 * "A user can have up to 10 query cursors open at a time"; opening an 11th releases the oldest
 * (its locator then answers INVALID_QUERY_LOCATOR), as the SOAP API `query()` reference documents.
 */
const MAX_OPEN_CURSORS = 10;

interface Cursor {
  records: Array<Record<string, unknown>>;
  batchSize: number;
  resource: 'query' | 'queryAll';
}

/** Query cursors of one emulator (server-side state behind `nextRecordsUrl`). */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();

  open(id: string, cursor: Cursor): void {
    if (this.cursors.size >= MAX_OPEN_CURSORS) {
      const oldest = this.cursors.keys().next().value;
      if (oldest !== undefined) this.cursors.delete(oldest);
    }
    this.cursors.set(id, cursor);
  }

  get(id: string): Cursor | undefined {
    return this.cursors.get(id);
  }

  close(id: string): void {
    this.cursors.delete(id);
  }

  clear(): void {
    this.cursors.clear();
  }
}

/** `Sforce-Query-Options: batchSize=N`, clamped to 200..2000 as documented. */
export function batchSizeOf(request: EmulatorRequestContext): number {
  const header = request.headers['sforce-query-options'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const match = /batchSize\s*=\s*(\d+)/i.exec(text);
  if (!match) return DEFAULT_QUERY_BATCH_SIZE;
  return Math.min(DEFAULT_QUERY_BATCH_SIZE, Math.max(MIN_QUERY_BATCH_SIZE, Number(match[1])));
}

/**
 * Registers `query`, `queryAll` (with `?explain=` query plans) and their locator pages.
 * `resolveExplain` maps a list view or report id given to `explain` to its SOQL.
 */
export function registerQueryRoutes(
  context: EmulatorModuleContext,
  cursors: QueryCursors,
  resolveExplain: ExplainSourceResolver = () => undefined,
): void {
  const page = (
    request: EmulatorRequestContext,
    cursorId: string,
    cursor: Cursor,
    offset: number,
  ): EmulatorResponse => {
    const end = Math.min(offset + cursor.batchSize, cursor.records.length);
    const done = end >= cursor.records.length;
    const body: Record<string, unknown> = { totalSize: cursor.records.length, done };
    if (done) cursors.close(cursorId);
    else body.nextRecordsUrl = `/services/data/${request.versionSegment}/query/${cursorId}-${end}`;
    body.records = cursor.records.slice(offset, end);
    return { status: 200, body };
  };

  const run =
    (resource: 'query' | 'queryAll') =>
    (request: EmulatorRequestContext): EmulatorResponse => {
      const explain = request.query.get('explain');
      if (explain !== null && explain.trim() !== '') return explainQuery(context, explain, resolveExplain);
      const soql = request.query.get('q');
      if (soql === null || soql.trim() === '') {
        throw new EmulatorHttpError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      }
      // `sf data query` asks for column metadata with `&columns=true` before printing a table.
      if (request.query.get('columns') === 'true')
        return { status: 200, body: describeQueryColumns(context.store, soql) };
      const result = context.query(soql, {
        includeDeleted: resource === 'queryAll',
        apiVersion: request.apiVersion,
      });
      if (result.isCount)
        return { status: 200, body: { totalSize: result.totalSize, done: true, records: [] } };
      const cursorId = context.ids.next('01g').slice(0, 15);
      const cursor: Cursor = { records: result.records, batchSize: batchSizeOf(request), resource };
      if (cursor.records.length > cursor.batchSize) cursors.open(cursorId, cursor);
      return page(request, cursorId, cursor, 0);
    };

  const more = (request: EmulatorRequestContext): EmulatorResponse => {
    const locator = request.params.locator ?? '';
    const match = /^(.+)-(\d+)$/.exec(locator);
    const cursor = match ? cursors.get(match[1] as string) : undefined;
    if (!match || !cursor) throw new EmulatorHttpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    return page(request, match[1] as string, cursor, Number(match[2]));
  };

  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/query',
    kind: 'api',
    handler: run('query'),
  });
  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/queryAll',
    kind: 'api',
    handler: run('queryAll'),
  });
  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/query/:locator',
    kind: 'api',
    handler: more,
  });
  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/queryAll/:locator',
    kind: 'api',
    handler: more,
  });
}
