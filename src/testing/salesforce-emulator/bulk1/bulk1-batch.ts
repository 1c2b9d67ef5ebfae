import { parse } from 'csv-parse/sync';
import type { EmulatorModuleContext } from '../module.js';
import type { StoreWriteOperation } from '../store/org-store.js';
import type { EmulatorSaveError, EmulatorSaveResult } from '../store/record-error.js';
import type { ObjectSchema } from '../store/schema.js';
import { AsyncApiError, parseXmlDocument } from './bulk1-wire.js';

/** Bulk API 1.0 limit: records per batch. */
export const MAX_BATCH_RECORDS = 10_000;

export type Bulk1Operation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete' | 'query' | 'queryAll';
export type Bulk1ContentType = 'CSV' | 'XML' | 'JSON';

/** What a batch needs from its job. */
export interface Bulk1JobSpec {
  object: string;
  operation: Bulk1Operation;
  externalIdFieldName: string | undefined;
  contentType: Bulk1ContentType;
  apiVersion: number;
}

/** One ingest result row (`Id, Success, Created, Error`). */
export interface Bulk1RowResult {
  id: string;
  success: boolean;
  created: boolean;
  errors: EmulatorSaveError[];
}

/** A processed batch: per-row results, or the query's result set. */
export type Bulk1BatchOutcome =
  | { kind: 'ingest'; rows: Bulk1RowResult[] }
  | { kind: 'query'; columns: string[]; records: Array<Record<string, unknown>> };

/** A batch that fails as a whole (state `Failed`, `stateMessage`). */
export class BatchFailure extends Error {
  override readonly name = 'BatchFailure';
}

/**
 * Reads a batch request into records (string values for CSV and XML, JSON values for JSON).
 *
 * @throws {AsyncApiError} `ClientInputError` for an empty body (Salesforce refuses the batch).
 */
export function readBatchRecords(job: Bulk1JobSpec, body: string): Array<Record<string, unknown>> {
  if (body.trim() === '')
    throw new AsyncApiError('ClientInputError', 'Stream is empty: the batch has no data');
  if (job.contentType === 'JSON') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new AsyncApiError('InvalidBatch', `Failed to parse JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed))
      throw new AsyncApiError('InvalidBatch', 'A JSON batch must be an array of records');
    return parsed as Array<Record<string, unknown>>;
  }
  if (job.contentType === 'XML') {
    const root = parseXmlDocument(body, 'sObjects');
    const items = (root.sObject as unknown[] | undefined) ?? [];
    return items.map((item) => flattenXmlRecord(item as Record<string, unknown>));
  }
  const rows = parse(body, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  const [header, ...data] = rows;
  if (!header) throw new AsyncApiError('ClientInputError', 'Stream is empty: the batch has no data');
  return data.map((row) => {
    const record: Record<string, unknown> = {};
    header.forEach((name, i) => {
      record[name] = row[i] ?? '';
    });
    return record;
  });
}

/** `<Account><Ext__c>x</Ext__c></Account>` → `Account.Ext__c: 'x'`; `fieldsToNull` → `#N/A`. */
function flattenXmlRecord(item: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('@')) continue;
    if (name === 'fieldsToNull') {
      for (const field of value as string[]) record[field] = '#N/A';
    } else if (typeof value === 'object' && value !== null) {
      for (const [child, childValue] of Object.entries(value as Record<string, unknown>)) {
        if (!child.startsWith('@') && child !== 'type') record[`${name}.${child}`] = String(childValue);
      }
    } else {
      record[name] = value === undefined ? '' : String(value);
    }
  }
  return record;
}

/** Checks CSV/XML column names the way Bulk API does before touching any record. */
function checkColumns(
  job: Bulk1JobSpec,
  schema: ObjectSchema,
  names: Iterable<string>,
  context: EmulatorModuleContext,
): void {
  const deleting = job.operation === 'delete' || job.operation === 'hardDelete';
  const seen = new Set<string>();
  for (const name of names) {
    seen.add(name.toLowerCase());
    if (name.toLowerCase() === 'id' || deleting || schema.field(name)) continue;
    const dot = name.indexOf('.');
    const reference = dot > 0 ? schema.relationship(name.slice(0, dot)) : undefined;
    const target = reference?.referenceTo[0] ? context.store.schema(reference.referenceTo[0]) : undefined;
    if (target?.field(name.slice(dot + 1))) continue;
    throw new BatchFailure(`InvalidBatch : Field name not found : ${name}`);
  }
  if ((deleting || job.operation === 'update') && !seen.has('id')) {
    throw new BatchFailure('InvalidBatch : Field name not found : Id');
  }
  if (
    job.operation === 'upsert' &&
    job.externalIdFieldName?.toLowerCase() !== 'id' &&
    !seen.has(job.externalIdFieldName?.toLowerCase() ?? '')
  ) {
    throw new BatchFailure(`InvalidBatch : Field name not found : ${job.externalIdFieldName}`);
  }
}

/**
 * Applies an ingest batch to the store (one result per record, in order) or runs a query batch.
 *
 * @throws {BatchFailure} when the batch fails as a whole (unknown column, too many records, bad SOQL).
 */
export function processBatch(
  context: EmulatorModuleContext,
  job: Bulk1JobSpec,
  body: string,
): Bulk1BatchOutcome {
  if (job.operation === 'query' || job.operation === 'queryAll') {
    try {
      const result = context.query(body.trim(), {
        includeDeleted: job.operation === 'queryAll',
        apiVersion: job.apiVersion,
      });
      if (result.isCount)
        throw new BatchFailure('InvalidBatch : Aggregate queries are not supported by the Bulk API');
      return { kind: 'query', columns: result.columns, records: result.records };
    } catch (error) {
      if (error instanceof BatchFailure) throw error;
      const { errorCode, message } = error as { errorCode?: string; message: string };
      throw new BatchFailure(`${errorCode ?? 'InvalidBatch'} : ${message}`);
    }
  }
  const schema = context.store.schema(job.object) as ObjectSchema;
  const records = readBatchRecords(job, body);
  if (records.length > MAX_BATCH_RECORDS) {
    throw new BatchFailure(
      `InvalidBatch : Records in a single batch exceeds ${MAX_BATCH_RECORDS}: ${records.length}`,
    );
  }
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record)) names.add(name);
  if (job.contentType !== 'JSON') checkColumns(job, schema, names, context);
  const valueFormat = job.contentType === 'JSON' ? undefined : ('csv' as const);
  const operations: StoreWriteOperation[] = records.map((record) => {
    const idKey = Object.keys(record).find((k) => k.toLowerCase() === 'id');
    const id = idKey === undefined ? '' : String(record[idKey] ?? '');
    const values = { ...record };
    if (idKey !== undefined && id === '') delete values[idKey];
    switch (job.operation) {
      case 'insert':
        return { kind: 'insert', sobject: schema.name, values };
      case 'update':
        if (idKey !== undefined) delete values[idKey];
        return { kind: 'update', sobject: schema.name, id, values };
      case 'upsert':
        return {
          kind: 'upsert',
          sobject: schema.name,
          externalIdField: job.externalIdFieldName as string,
          values,
        };
      default:
        return { kind: job.operation as 'delete' | 'hardDelete', sobject: schema.name, id };
    }
  });
  const results: EmulatorSaveResult[] = context.store.apply(operations, valueFormat ? { valueFormat } : {});
  return {
    kind: 'ingest',
    rows: results.map((result, i) => {
      const operation = operations[i] as StoreWriteOperation;
      const rowId = 'id' in operation ? operation.id : '';
      return {
        id: result.success
          ? (result.id ?? '')
          : job.operation === 'insert' || job.operation === 'upsert'
            ? ''
            : rowId,
        success: result.success,
        created:
          result.success &&
          (job.operation === 'insert' || (job.operation === 'upsert' && result.created === true)),
        errors: result.errors,
      };
    }),
  };
}
