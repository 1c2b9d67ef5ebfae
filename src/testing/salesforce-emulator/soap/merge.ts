import type { OrgStore } from '../store/org-store.js';
import { SoapFault } from './soap-envelope.js';

/** Objects the SOAP API `merge()` accepts. */
const MERGEABLE = new Set(['Lead', 'Contact', 'Account', 'Individual']);

/** Elements of a `MergeRequest.masterRecord` that are not field values. */
const NON_FIELDS = new Set(['type', 'Id', 'fieldsToNull']);

/** The outcome of one merge request (partner `MergeResult`). */
export interface MergeOutcome {
  id: string | null;
  success: boolean;
  mergedRecordIds: string[];
  updatedRelatedIds: string[];
  errors: Array<{ fields: string[]; message: string; statusCode: string }>;
}

class MergeFailure extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
  ) {
    super(message);
  }
}

const many = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The `mergeRequests` of a `merge` call (at most 200, as every partner write call). */
export function readMergeRequests(body: Record<string, unknown>): Array<Record<string, unknown>> {
  const requests = many(body.mergeRequests).filter(
    (r): r is Record<string, unknown> => typeof r === 'object' && r !== null,
  );
  if (requests.length > 200) {
    throw new SoapFault(
      'EXCEEDED_ID_LIMIT',
      'record limit reached. cannot submit more than 200 records into this call',
    );
  }
  return requests;
}

/**
 * SOAP API `merge()`: the master record (updated with the request's field values) absorbs up to two
 * records of the same type; their child records are re-parented to the master (`updatedRelatedIds`),
 * then they are deleted to the recycle bin with `MasterRecordId` set to the master. All or nothing
 * per request.
 */
export function mergeRecords(store: OrgStore, request: Record<string, unknown>): MergeOutcome {
  const transaction = store.beginTransaction();
  try {
    const outcome = merge(store, request);
    transaction.end();
    return outcome;
  } catch (error) {
    transaction.rollback();
    if (!(error instanceof MergeFailure)) throw error;
    return {
      id: null,
      success: false,
      mergedRecordIds: [],
      updatedRelatedIds: [],
      errors: [{ fields: [], message: error.message, statusCode: error.statusCode }],
    };
  }
}

function merge(store: OrgStore, request: Record<string, unknown>): MergeOutcome {
  const master = (request.masterRecord ?? {}) as Record<string, unknown>;
  const type = String(master.type ?? '').trim();
  const masterId = String(master.Id ?? '').trim();
  const schema = store.schema(type);
  if (!schema || !MERGEABLE.has(schema.name)) {
    throw new MergeFailure('INVALID_TYPE', `Cannot merge records of type ${type || '(none)'}`);
  }
  const mergeIds = many(request.recordToMergeIds).map((id) => String(id).trim());
  if (mergeIds.length === 0 || mergeIds.length > 2) {
    throw new MergeFailure(
      'INVALID_ARGUMENT',
      'A merge request needs one or two records to merge into the master',
    );
  }
  const masterRow = store.get(masterId);
  if (!masterRow || store.schemaForId(masterId) !== schema) {
    throw new MergeFailure('INVALID_ID_FIELD', `invalid record id: ${masterId}`);
  }
  const canonicalMaster = masterRow.Id as string;
  const victims: string[] = [];
  for (const id of mergeIds) {
    const row = store.get(id);
    if (!row || store.schemaForId(id) !== schema)
      throw new MergeFailure('INVALID_ID_FIELD', `invalid record id: ${id}`);
    if (row.Id === canonicalMaster) {
      throw new MergeFailure('INVALID_ID_FIELD', 'Cannot merge a record with itself');
    }
    victims.push(row.Id as string);
  }

  const values: Record<string, unknown> = { Id: canonicalMaster };
  for (const [name, value] of Object.entries(master)) {
    if (!NON_FIELDS.has(name)) values[name] = typeof value === 'string' ? value : '';
  }
  for (const name of many(master.fieldsToNull)) values[String(name)] = '#N/A';
  failOn(store.update(schema.name, [values], { valueFormat: 'csv' })[0]);

  // Children of the merged records move to the master before the delete could cascade to them.
  const updatedRelatedIds: string[] = [];
  const victimSet = new Set(victims);
  for (const child of schema.childRelationships) {
    const moves = [...store.rows(child.childSObject)]
      .filter((row) => victimSet.has(row[child.field] as string))
      .map((row) => ({ Id: row.Id, [child.field]: canonicalMaster }));
    if (moves.length === 0) continue;
    for (const result of store.update(child.childSObject, moves, { bypassFieldPermissions: true })) {
      failOn(result);
      updatedRelatedIds.push(result.id as string);
    }
  }
  if (schema.field('MasterRecordId')) {
    const marks = victims.map((Id) => ({ Id, MasterRecordId: canonicalMaster }));
    for (const result of store.update(schema.name, marks, { bypassFieldPermissions: true })) failOn(result);
  }
  for (const result of store.delete(victims)) failOn(result);
  return { id: canonicalMaster, success: true, mergedRecordIds: victims, updatedRelatedIds, errors: [] };
}

function failOn(
  result: { success: boolean; errors: Array<{ message: string; statusCode: string }> } | undefined,
): void {
  const error = result?.errors[0];
  if (result && !result.success)
    throw new MergeFailure(error?.statusCode ?? 'UNKNOWN_EXCEPTION', error?.message ?? 'merge failed');
}
