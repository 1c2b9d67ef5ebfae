import type { StoreChange } from '../store/org-store.js';
import type { EmulatorRecord } from '../store/schema.js';

/** `ChangeEventHeader` as the emulator publishes it (CometD JSON). */
export interface EmulatorChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: string;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
}

/** The `payload` of a change event: header plus record fields. */
export interface EmulatorChangeEventPayload {
  ChangeEventHeader: EmulatorChangeEventHeader;
  [field: string]: unknown;
}

/** Fields never sent in a change event body (the id travels in `recordIds`). */
const OMITTED = new Set(['Id', 'IsDeleted', 'SystemModstamp']);
/** Objects whose `Name` is a compound of these parts in CDC payloads. */
const COMPOUND_NAME_OBJECTS = new Set(['Contact', 'Lead', 'User']);
const NAME_PARTS = ['Salutation', 'FirstName', 'MiddleName', 'LastName', 'Suffix'];
const STORE_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

/** Transaction facts shared by the events of one write batch. */
export interface ChangeEventCommit {
  transactionKey: string;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
}

/**
 * Builds the CDC payload of one store change, as Salesforce sends it over CometD: CREATE and
 * UNDELETE carry every non-null field, UPDATE only the changed fields (nulls included) plus
 * `LastModifiedDate`, DELETE none. `undefined` for changes CDC does not report (purging the
 * recycle bin).
 */
export function changeEventPayload(
  change: StoreChange,
  sequenceNumber: number,
  commit: ChangeEventCommit,
): EmulatorChangeEventPayload | undefined {
  let changeType: string;
  let fields: Record<string, unknown> = {};
  let changedFields: string[] = [];
  let nulledFields: string[] = [];
  switch (change.kind) {
    case 'create':
    case 'undelete': {
      changeType = change.kind === 'create' ? 'CREATE' : 'UNDELETE';
      for (const [name, value] of Object.entries(change.after ?? {})) {
        if (OMITTED.has(name) || value === null || value === undefined) continue;
        fields[name] = wireValue(value);
      }
      break;
    }
    case 'update': {
      changeType = 'UPDATE';
      const before = change.before ?? {};
      const after = change.after ?? {};
      const names = new Set([...Object.keys(before), ...Object.keys(after)]);
      for (const name of names) {
        if (OMITTED.has(name)) continue;
        const old = before[name] ?? null;
        const now = after[name] ?? null;
        if (old === now) continue;
        fields[name] = now === null ? null : wireValue(now);
        changedFields.push(name);
        if (now === null) nulledFields.push(name);
      }
      if (changedFields.length === 0) return undefined;
      if (!('LastModifiedDate' in fields) && after.LastModifiedDate !== undefined) {
        fields.LastModifiedDate = wireValue(after.LastModifiedDate);
        changedFields.push('LastModifiedDate');
      }
      break;
    }
    case 'delete':
      changeType = 'DELETE';
      break;
    case 'hardDelete':
      // Purging a row already in the recycle bin is not a change CDC reports.
      if (change.before?.IsDeleted === true) return undefined;
      changeType = 'DELETE';
      break;
  }
  if (COMPOUND_NAME_OBJECTS.has(change.sobject)) {
    fields = compoundName(fields);
    changedFields = changedFields.filter((name) => name !== 'Name');
    nulledFields = nulledFields.filter((name) => name !== 'Name');
  }
  const header: EmulatorChangeEventHeader = {
    entityName: change.sobject,
    recordIds: [change.id],
    changeType,
    changeOrigin: change.origin ?? '',
    transactionKey: commit.transactionKey,
    sequenceNumber,
    commitTimestamp: commit.commitTimestamp,
    commitNumber: commit.commitNumber,
    commitUser: String(change.after?.LastModifiedById ?? commit.commitUser),
    changedFields,
    nulledFields,
    diffFields: [],
  };
  return { ChangeEventHeader: header, ...fields };
}

/** A header-only event (gap or overflow), or any hand-made event a test publishes. */
export function syntheticChangeEventPayload(
  input: { entityName: string; changeType: string; recordIds?: string[]; fields?: Record<string, unknown> },
  commit: ChangeEventCommit,
): EmulatorChangeEventPayload {
  return {
    ChangeEventHeader: {
      entityName: input.entityName,
      recordIds: input.recordIds ?? [],
      changeType: input.changeType,
      changeOrigin: '',
      transactionKey: commit.transactionKey,
      sequenceNumber: 1,
      commitTimestamp: commit.commitTimestamp,
      commitNumber: commit.commitNumber,
      commitUser: commit.commitUser,
      changedFields: [],
      nulledFields: [],
      diffFields: [],
    },
    ...(input.fields ?? {}),
  };
}

/** The store keeps `…+0000`; CDC JSON carries ISO instants ending in `Z`. */
function wireValue(value: unknown): unknown {
  if (typeof value === 'string' && STORE_DATETIME.test(value)) return `${value.slice(0, -5)}Z`;
  return value;
}

/** Folds the name parts into a compound `Name` object and drops the calculated full name. */
function compoundName(fields: Record<string, unknown>): EmulatorRecord {
  const out: Record<string, unknown> = {};
  const name: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'Name') continue;
    if (NAME_PARTS.includes(key)) name[key] = value;
    else out[key] = value;
  }
  if (Object.keys(name).length > 0) out.Name = name;
  return out as EmulatorRecord;
}
