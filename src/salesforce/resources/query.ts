import { throwIfAborted } from '../../core/errors.js';
import type { CrmSyncResult } from '../../core/models.js';
import type { SalesforceRecord } from '../mapping.js';
import type { OperationCounters } from '../transport.js';
import { apiUrl, jsonRequest, type SalesforceContext } from './context.js';
import { recordError, recordFailure, type SaveResult, syncResult } from './results.js';

/** sObject Collections accept at most 200 records per request. */
export const COLLECTION_LIMIT = 200;

interface QueryResult<R> {
  totalSize: number;
  done: boolean;
  records: R[];
  nextRecordsUrl?: string;
}

/** Options of one query. */
export interface QueryOptions {
  signal?: AbortSignal | undefined;
  counters?: OperationCounters | undefined;
  /** Read through `queryAll`, which includes deleted records. */
  all?: boolean;
  /** Told the query's `totalSize` (from the first page), before that page is yielded. */
  onTotalSize?: (totalSize: number) => void;
}

/** Run a SOQL query and yield every page, following `nextRecordsUrl` itself (no 10,000 cap). */
export async function* queryPages<R>(
  context: SalesforceContext,
  operation: string,
  soql: string,
  options: QueryOptions = {},
): AsyncGenerator<R[]> {
  const first = apiUrl(context, `/${options.all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`);
  let url: string | undefined = first;
  while (url) {
    throwIfAborted(options.signal);
    const page: QueryResult<R> = await context.client.request<QueryResult<R>>(
      operation,
      { method: 'GET', url },
      { idempotent: true, signal: options.signal, counters: options.counters },
    );
    if (url === first && typeof page.totalSize === 'number') options.onTotalSize?.(page.totalSize);
    yield page.records ?? [];
    url = page.done ? undefined : page.nextRecordsUrl;
  }
}

/** Every record a SOQL query returns, all pages read. */
export async function queryAll<R>(
  context: SalesforceContext,
  operation: string,
  soql: string,
  options: Omit<QueryOptions, 'all'> = {},
): Promise<R[]> {
  const out: R[] = [];
  for await (const page of queryPages<R>(context, operation, soql, options)) out.push(...page);
  return out;
}

/** Upsert up to {@link COLLECTION_LIMIT} records of `sobject` on `field` (sObject Collections, never all-or-none). */
export function upsertCollection(
  context: SalesforceContext,
  sobject: string,
  field: string,
  records: SalesforceRecord[],
  signal: AbortSignal | undefined,
  counters?: OperationCounters,
): Promise<SaveResult[]> {
  return context.client.request<SaveResult[]>(
    `upsert ${sobject} collection`,
    jsonRequest(context, 'PATCH', `/composite/sobjects/${sobject}/${field}`, {
      allOrNone: false,
      records: records.map((r) => ({ attributes: { type: sobject }, ...r })),
    }),
    { idempotent: true, signal, counters },
  );
}

/** Create records through sObject Collections (not idempotent unless `idempotent` says why it is). */
export function createCollection(
  context: SalesforceContext,
  sobject: string,
  records: SalesforceRecord[],
  options: { signal: AbortSignal | undefined; counters?: OperationCounters; idempotent?: boolean },
): Promise<SaveResult[]> {
  return context.client.request<SaveResult[]>(
    `create ${sobject} collection`,
    jsonRequest(context, 'POST', '/composite/sobjects', {
      allOrNone: false,
      records: records.map((r) => ({ attributes: { type: sobject }, ...r })),
    }),
    { idempotent: options.idempotent ?? false, signal: options.signal, counters: options.counters },
  );
}

/** Upsert one record of `sobject` by the external id `key` in `field` (URL-encoded: jsforce does not). */
export function upsertByExternalId(
  context: SalesforceContext,
  sobject: string,
  field: string,
  key: string,
  body: SalesforceRecord,
  options: { signal: AbortSignal | undefined; counters?: OperationCounters },
): Promise<SaveResult | undefined> {
  if (isDotSegment(key)) return upsertOneInCollection(context, sobject, field, key, body, options);
  return context.client.request<SaveResult | undefined>(
    `upsert ${sobject}`,
    jsonRequest(context, 'PATCH', `/sobjects/${sobject}/${field}/${encodeURIComponent(key)}`, body),
    { idempotent: true, signal: options.signal, counters: options.counters },
  );
}

/**
 * `.` and `..` are dot segments: URL normalisation (WHATWG, proxies, Salesforce's front end) turns
 * `/Contact/Ext__c/..` into `/Contact`, also when percent-encoded (`%2E`), so such a key cannot be
 * put in the upsert resource's path.
 */
function isDotSegment(key: string): boolean {
  return key === '.' || key === '..';
}

/**
 * Upsert one record through sObject Collections, with the key in the body: the path holds only the
 * field name. A refused record throws, as the single-record resource does.
 */
async function upsertOneInCollection(
  context: SalesforceContext,
  sobject: string,
  field: string,
  key: string,
  body: SalesforceRecord,
  options: { signal: AbortSignal | undefined; counters?: OperationCounters },
): Promise<SaveResult> {
  const [result] = await upsertCollection(
    context,
    sobject,
    field,
    [{ ...body, [field]: key }],
    options.signal,
    options.counters,
  );
  const operation = `upsert ${sobject}`;
  if (!result) throw recordFailure(operation, { code: 'NO_RESULT', message: 'No result returned' });
  if (!result.success) throw recordFailure(operation, recordError(result.errors?.[0] ?? {}));
  return result;
}

/**
 * Upsert one `record` of `sobject` on its external id `field` (the key leaves the body for the
 * URL) and report it as the {@link CrmSyncResult} of `entityType` with external id `key`.
 */
export async function upsertRecordResult(
  context: SalesforceContext,
  entityType: CrmSyncResult['entityType'],
  sobject: string,
  field: string,
  key: string,
  record: SalesforceRecord,
  signal: AbortSignal | undefined,
): Promise<CrmSyncResult> {
  const { [field]: _key, ...body } = record;
  const response = await upsertByExternalId(context, sobject, field, key, body, { signal });
  return syncResult(
    entityType,
    key,
    { crmId: response?.id, created: response?.created ?? false },
    context.clock.now(),
  );
}
