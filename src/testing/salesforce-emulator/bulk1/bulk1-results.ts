import { csvLine } from '../bulk/csv-format.js';
import type { EmulatorResponse } from '../http/types.js';
import type { Bulk1BatchOutcome, Bulk1ContentType, Bulk1RowResult } from './bulk1-batch.js';
import { encode, toXml } from './bulk1-wire.js';

const CSV = { columnDelimiter: 'COMMA', lineEnding: 'LF' } as const;

/** `STATUS_CODE:message:field1,field2 --`, the shape of Bulk API result errors. */
function errorText(row: Bulk1RowResult): string {
  return row.errors.map((e) => `${e.statusCode}:${e.message}:${e.fields.join(',')} --`).join(' ');
}

/** Ingest batch results: CSV `"Id","Success","Created","Error"` (every cell quoted), XML or JSON. */
export function bulk1Results(contentType: Bulk1ContentType, rows: Bulk1RowResult[]): EmulatorResponse {
  if (contentType === 'CSV') {
    let body = csvLine(['Id', 'Success', 'Created', 'Error'], CSV, true);
    for (const row of rows)
      body += csvLine([row.id, String(row.success), String(row.created), errorText(row)], CSV, true);
    return { status: 200, headers: { 'Content-Type': 'text/csv; charset=UTF-8' }, body };
  }
  const results = rows.map((row) => ({
    ...(row.id ? { id: row.id } : {}),
    success: row.success,
    created: row.created,
    errors: row.errors.map((e) => ({ fields: e.fields, message: e.message, statusCode: e.statusCode })),
  }));
  if (contentType === 'JSON')
    return { status: 200, ...encode('json', 'results', results as unknown as Record<string, unknown>) };
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml' },
    body: toXml('results', { result: results }),
  };
}

/** A query batch's result list: one result id. */
export function queryResultList(contentType: Bulk1ContentType, resultId: string): EmulatorResponse {
  if (contentType === 'JSON') {
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([resultId]) };
  }
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml' },
    body: toXml('result-list', { result: resultId }),
  };
}

/** Flattens `Account: {Name}` into `Account.Name` cells, as the CSV result columns name them. */
function cell(record: Record<string, unknown>, path: string): string {
  let value: unknown = record;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | null | undefined)?.[part];
  return value === null || value === undefined ? '' : String(value);
}

/** A query result set: CSV (header + rows, every cell quoted, null = empty) or JSON records. */
export function queryResultBody(
  contentType: Bulk1ContentType,
  outcome: Extract<Bulk1BatchOutcome, { kind: 'query' }>,
): EmulatorResponse {
  if (contentType === 'JSON') {
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(outcome.records),
    };
  }
  if (contentType === 'XML') {
    const records = outcome.records.map(({ attributes, ...fields }) => ({
      type: (attributes as { type?: string } | undefined)?.type,
      ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v ?? ''])),
    }));
    return {
      status: 200,
      headers: { 'Content-Type': 'application/xml' },
      body: toXml('queryResult', { records }),
    };
  }
  if (outcome.records.length === 0) {
    return {
      status: 200,
      headers: { 'Content-Type': 'text/csv; charset=UTF-8' },
      body: 'Records not found for this query',
    };
  }
  let body = csvLine(outcome.columns, CSV, true);
  for (const record of outcome.records)
    body += csvLine(
      outcome.columns.map((c) => cell(record, c)),
      CSV,
      true,
    );
  return { status: 200, headers: { 'Content-Type': 'text/csv; charset=UTF-8' }, body };
}
