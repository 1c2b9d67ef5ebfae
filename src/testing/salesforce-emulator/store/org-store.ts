import type { CrmClock } from '../../../core/clock.js';
import { formatDateTime } from '../dates.js';
import { type IdGenerator, isSalesforceIdShape, toId18 } from '../ids.js';
import { checkPushTopicQuery } from './objects/push-topic-query.js';
import { type EmulatorSaveResult, RecordFailure } from './record-error.js';
import {
  type EmulatorFieldDefinition,
  type EmulatorObjectDefinition,
  type EmulatorRecord,
  type EmulatorValue,
  isUpsertKey,
  ObjectSchema,
  type ResolvedField,
} from './schema.js';
import { coerceValue, type EmulatorValueFormat, SKIP } from './values.js';

/**
 * Clock the store stamps records with.
 * @deprecated The same type as `CrmClock`; use that.
 */
export type EmulatorClock = CrmClock;

/** Options for a batch of writes. */
export interface StoreWriteOptions {
  /** Roll back the whole batch when one record fails. @default false */
  allOrNone?: boolean;
  /** `csv`: values are strings, `''` leaves a field unchanged and `#N/A` sets null. @default 'json' */
  valueFormat?: EmulatorValueFormat;
  /** Write read-only fields too (seeding, lead conversion). @default false */
  bypassFieldPermissions?: boolean;
}

/** One write in a batch (see {@link OrgStore.apply}). */
export type StoreWriteOperation =
  | { kind: 'insert'; sobject: string; values: Record<string, unknown> }
  | { kind: 'update'; sobject?: string; id: string; values: Record<string, unknown> }
  | { kind: 'upsert'; sobject: string; externalIdField: string; values: Record<string, unknown> }
  | { kind: 'delete'; sobject?: string; id: string }
  | { kind: 'hardDelete'; sobject?: string; id: string }
  | { kind: 'undelete'; sobject?: string; id: string };

/** A committed record change, as {@link OrgStore.onChange} observers see it. */
export interface StoreChange {
  /** `hardDelete` includes purging a recycle-bin row (then `before.IsDeleted` is true). */
  kind: 'create' | 'update' | 'delete' | 'undelete' | 'hardDelete';
  /** API name of the object. */
  sobject: string;
  /** 18-character id. */
  id: string;
  /** The row before the write batch (copy), `undefined` for a create. */
  before: EmulatorRecord | undefined;
  /** The row after the write batch (copy), `undefined` after a hard delete. */
  after: EmulatorRecord | undefined;
  /** The origin set with {@link OrgStore.withOrigin} around the write, e.g. `com/salesforce/api/rest/62.0;client=x`. */
  origin: string | undefined;
}

/** Receives the changes of one synchronous write batch, in write order. */
export type StoreChangeListener = (changes: readonly StoreChange[]) => void;

interface PendingChange {
  sobject: string;
  id: string;
  before: EmulatorRecord | undefined;
  origin: string | undefined;
  rows: Map<string, EmulatorRecord>;
}

/** A deletion kept for `sobjects/X/deleted`. */
export interface DeletionEntry {
  id: string;
  deletedDate: Date;
}

interface Table {
  schema: ObjectSchema;
  /** Live and recycle-bin rows by 18-character id, in insertion order. */
  rows: Map<string, EmulatorRecord>;
  /** Index name (field, or `A+B` for unique-together) → index of normalised value → ids. */
  indexes: Map<string, RowIndex>;
  deletions: DeletionEntry[];
  plan: InsertPlan | undefined;
}

/** One secondary index: unique, external-id or unique-together key → ids holding it. */
interface RowIndex {
  fields: string[];
  caseSensitive: boolean;
  /** Set for unique-together indexes: the DUPLICATE_VALUE message. */
  comboMessage: string | undefined;
  /** Whether a clash is an error (unique) or allowed (non-unique external id). */
  enforced: boolean;
  entries: Map<string, Set<string>>;
}

function fieldIndex(field: ResolvedField): RowIndex {
  return {
    fields: [field.name],
    caseSensitive: field.caseSensitive,
    comboMessage: undefined,
    enforced: field.unique,
    entries: new Map(),
  };
}

/** A lookup index used to find children to cascade-delete (never enforced). */
function referenceIndex(field: ResolvedField): RowIndex {
  return {
    fields: [field.name],
    caseSensitive: true,
    comboMessage: undefined,
    enforced: false,
    entries: new Map(),
  };
}

/** Per-object data every insert needs, computed once per schema change. */
interface InsertPlan {
  defaults: Array<[string, EmulatorValue]>;
  required: ResolvedField[];
  hasOwner: boolean;
}

interface JournalEntry {
  table: Table;
  id: string;
  before: EmulatorRecord | undefined;
  deletionCount: number;
}

const SYSTEM_FIELDS = new Set([
  'IsDeleted',
  'CreatedDate',
  'CreatedById',
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
]);

/**
 * The in-memory org: object schemas plus records, with indexes by id and by every unique or
 * external-id field so single-record lookups and upserts stay O(1) at 100k+ records.
 *
 * Writes go through {@link apply} (or the convenience wrappers), which validates like a real org
 * and returns Salesforce-shaped per-record results; with `allOrNone` a journal rolls back.
 */
export class OrgStore {
  private readonly tables = new Map<string, Table>();
  private readonly byPrefix = new Map<string, Table>();
  /** Parent object (lower case) → child tables and the index of their cascade-delete lookup. */
  private cascades = new Map<string, Array<{ table: Table; indexName: string }>>();
  // Change observation (CDC, outbound messages): setRow records, a microtask flushes the batch.
  private readonly changeListeners = new Set<StoreChangeListener>();
  private pendingChanges: Map<string, PendingChange> | undefined;
  private currentOrigin: string | undefined;

  /**
   * @param ids id generator of this org.
   * @param clock source of CreatedDate/LastModifiedDate/SystemModstamp.
   * @param currentUserId user stamped into CreatedById/LastModifiedById/OwnerId.
   */
  constructor(
    private readonly ids: IdGenerator,
    private readonly clock: EmulatorClock,
    private readonly currentUserId: () => string,
  ) {}

  /**
   * Observes record writes. Every write of one synchronous batch (a REST call, a collection, a
   * Bulk batch) arrives in one call, after the batch, one entry per record (first state → last);
   * rolled-back writes and `clear()` are not reported. A listener that throws is ignored.
   *
   * @returns a function that removes the listener.
   */
  onChange(listener: StoreChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /**
   * Runs `write` with `origin` attached to the changes it makes (the CDC `changeOrigin`, e.g.
   * `com/salesforce/api/rest/62.0;client=<Sforce-Call-Options client>`).
   */
  withOrigin<T>(origin: string | undefined, write: () => T): T {
    const previous = this.currentOrigin;
    this.currentOrigin = origin;
    try {
      return write();
    } finally {
      this.currentOrigin = previous;
    }
  }

  private recordChange(table: Table, id: string, old: EmulatorRecord | undefined): void {
    if (this.changeListeners.size === 0) return;
    if (!this.pendingChanges) {
      this.pendingChanges = new Map();
      queueMicrotask(() => this.flushChanges());
    }
    if (this.pendingChanges.has(id)) return;
    this.pendingChanges.set(id, {
      sobject: table.schema.name,
      id,
      before: old,
      origin: this.currentOrigin,
      rows: table.rows,
    });
  }

  private flushChanges(): void {
    const pending = this.pendingChanges;
    this.pendingChanges = undefined;
    if (!pending) return;
    const changes: StoreChange[] = [];
    for (const entry of pending.values()) {
      const { before } = entry;
      const after = entry.rows.get(entry.id);
      // A rollback restores the very same row object: nothing changed.
      if (before === after) continue;
      let kind: StoreChange['kind'];
      if (!before) kind = 'create';
      else if (!after) kind = 'hardDelete';
      else if (before.IsDeleted !== true && after.IsDeleted === true) kind = 'delete';
      else if (before.IsDeleted === true && after.IsDeleted !== true) kind = 'undelete';
      else kind = 'update';
      changes.push({
        kind,
        sobject: entry.sobject,
        id: entry.id,
        before: before ? { ...before } : undefined,
        after: after ? { ...after } : undefined,
        origin: entry.origin,
      });
    }
    if (changes.length === 0) return;
    for (const listener of this.changeListeners) {
      try {
        listener(changes);
      } catch {
        // Observers are test tooling; a broken one must not break the org.
      }
    }
  }

  /** When an object or field was last added (describe's `If-Modified-Since` compares with it). */
  schemaModifiedAt: Date = new Date(0);

  /** Registers an object type. */
  addObject(definition: EmulatorObjectDefinition): ObjectSchema {
    this.schemaModifiedAt = this.clock.now();
    const schema = new ObjectSchema(definition);
    const table: Table = { schema, rows: new Map(), indexes: new Map(), deletions: [], plan: undefined };
    for (const field of schema.indexedFields())
      if (field.type !== 'id') table.indexes.set(field.name, fieldIndex(field));
    for (const field of schema.fields)
      if (field.cascadeDelete) table.indexes.set(`ref:${field.name}`, referenceIndex(field));
    for (const combo of schema.uniqueTogether) {
      table.indexes.set(combo.fields.join('+'), {
        fields: combo.fields,
        caseSensitive: true,
        comboMessage: combo.message,
        enforced: true,
        entries: new Map(),
      });
    }
    this.tables.set(schema.name.toLowerCase(), table);
    // Views such as ActivityHistory have no key prefix of their own (their rows are tasks).
    if (schema.keyPrefix !== '') this.byPrefix.set(schema.keyPrefix, table);
    this.linkChildRelationships();
    return schema;
  }

  /**
   * Renames or relabels an object (Metadata API `renameMetadata` / `updateMetadata` of a
   * `CustomObject`): records, ids and indexes stay; lookups of other objects follow the new name.
   *
   * @throws {Error} for an unknown object or a new name that is taken.
   */
  redefineObject(
    sobject: string,
    changes: { name?: string; label?: string; labelPlural?: string },
  ): ObjectSchema {
    const table = this.requireTable(sobject);
    const old = table.schema;
    const name = changes.name ?? old.name;
    if (name.toLowerCase() !== old.name.toLowerCase() && this.tables.has(name.toLowerCase()))
      throw new Error(`sObject type ${name} already exists`);
    const schema = new ObjectSchema({
      name,
      label: changes.label ?? old.label,
      labelPlural: changes.labelPlural ?? old.labelPlural,
      keyPrefix: old.keyPrefix,
      createable: old.createable,
      updateable: old.updateable,
      deletable: old.deletable,
      uniqueTogether: old.uniqueTogether,
      ...(old.derive ? { derive: old.derive } : {}),
      fields: old.fields.map((field) => ({ ...field }) as EmulatorFieldDefinition),
    });
    this.schemaModifiedAt = this.clock.now();
    this.tables.delete(old.name.toLowerCase());
    table.schema = schema;
    table.plan = undefined;
    this.tables.set(name.toLowerCase(), table);
    if (schema.keyPrefix !== '') this.byPrefix.set(schema.keyPrefix, table);
    for (const other of this.tables.values())
      for (const field of other.schema.fields)
        for (const [i, target] of field.referenceTo.entries())
          if (target.toLowerCase() === old.name.toLowerCase()) field.referenceTo[i] = name;
    this.linkChildRelationships();
    return schema;
  }

  /**
   * Removes an object with its records (Metadata API `deleteMetadata` of a `CustomObject`).
   *
   * @throws {Error} for an unknown object.
   */
  removeObject(sobject: string): void {
    const table = this.requireTable(sobject);
    this.schemaModifiedAt = this.clock.now();
    this.tables.delete(table.schema.name.toLowerCase());
    if (this.byPrefix.get(table.schema.keyPrefix) === table) this.byPrefix.delete(table.schema.keyPrefix);
    this.linkChildRelationships();
  }

  /**
   * Adds a field to an object (e.g. a custom field a test needs). Existing records read `null`.
   *
   * @throws {Error} for an unknown object or an existing field name.
   */
  addField(sobject: string, definition: EmulatorFieldDefinition): void {
    const table = this.requireTable(sobject);
    const field = table.schema.addField(definition);
    this.schemaModifiedAt = this.clock.now();
    table.plan = undefined;
    if (field.unique || isUpsertKey(field)) table.indexes.set(field.name, fieldIndex(field));
    if (field.cascadeDelete) table.indexes.set(`ref:${field.name}`, referenceIndex(field));
    this.linkChildRelationships();
  }

  /** Schema of an object, case-insensitively. */
  schema(sobject: string): ObjectSchema | undefined {
    return this.tables.get(sobject.toLowerCase())?.schema;
  }

  /** Every object schema. */
  schemas(): ObjectSchema[] {
    return [...this.tables.values()].map((t) => t.schema);
  }

  /** The object an id belongs to, from its key prefix. */
  schemaForId(id: string): ObjectSchema | undefined {
    return this.byPrefix.get(id.slice(0, 3))?.schema;
  }

  /** Removes every record of every object except those listed in `keep` (schemas stay). */
  clear(options: { keep?: string[] } = {}): void {
    const keep = new Set((options.keep ?? []).map((name) => name.toLowerCase()));
    for (const [name, table] of this.tables) {
      if (keep.has(name)) continue;
      table.rows.clear();
      table.deletions = [];
      for (const index of table.indexes.values()) index.entries.clear();
    }
  }

  /** A record by id (15 or 18 characters); deleted rows only with `includeDeleted`. */
  get(id: string, options: { includeDeleted?: boolean } = {}): EmulatorRecord | undefined {
    const id18 = toId18(id);
    if (!id18) return undefined;
    const row = this.byPrefix.get(id18.slice(0, 3))?.rows.get(id18);
    if (!row || (row.IsDeleted === true && !options.includeDeleted)) return undefined;
    return row;
  }

  /** Live rows of an object, in insertion order (do not mutate). */
  *rows(sobject: string, options: { includeDeleted?: boolean } = {}): IterableIterator<EmulatorRecord> {
    const table = this.requireTable(sobject);
    for (const row of table.rows.values()) if (options.includeDeleted || row.IsDeleted !== true) yield row;
  }

  /**
   * SOQL `FOR VIEW` (stamps `LastViewedDate` and `LastReferencedDate`) or `FOR REFERENCE` (only
   * `LastReferencedDate`): not an edit, so audit fields, change events and journals are untouched,
   * as on Salesforce. Objects without those fields are skipped.
   */
  markViewed(ids: Iterable<string>, kind: 'view' | 'reference'): void {
    const stamp = formatDateTime(this.clock.now());
    for (const id of ids) {
      const table = this.byPrefix.get(id.slice(0, 3));
      const row = table?.rows.get(id);
      if (!table || !row || row.IsDeleted === true) continue;
      if (kind === 'view' && table.schema.field('LastViewedDate')) row.LastViewedDate = stamp;
      if (table.schema.field('LastReferencedDate')) row.LastReferencedDate = stamp;
    }
  }

  /** Number of live rows of an object. */
  count(sobject: string): number {
    let n = 0;
    for (const _ of this.rows(sobject)) n++;
    return n;
  }

  /** Ids of live records whose indexed field equals `value` (external-id lookup, O(1)). */
  findByExternalId(sobject: string, fieldName: string, value: unknown): string[] {
    const table = this.requireTable(sobject);
    const field = table.schema.field(fieldName);
    if (!field) return [];
    if (field.type === 'id') {
      const row = typeof value === 'string' ? this.get(value) : undefined;
      return row && row.IsDeleted !== true && this.schemaForId(row.Id as string) === table.schema
        ? [row.Id as string]
        : [];
    }
    const index = table.indexes.get(field.name);
    if (!index || value === null || value === undefined) return [];
    return [...(index.entries.get(indexKey(field, value)) ?? [])];
  }

  /** Deletions of an object between two instants (for `sobjects/X/deleted`). */
  deletions(sobject: string): readonly DeletionEntry[] {
    return this.requireTable(sobject).deletions;
  }

  /** Inserts records of one type. */
  insert(
    sobject: string,
    records: Record<string, unknown>[],
    options: StoreWriteOptions = {},
  ): EmulatorSaveResult[] {
    return this.apply(
      records.map((values) => ({ kind: 'insert', sobject, values })),
      options,
    );
  }

  /** Updates records by their `Id` value. */
  update(
    sobject: string,
    records: Record<string, unknown>[],
    options: StoreWriteOptions = {},
  ): EmulatorSaveResult[] {
    return this.apply(
      records.map((values) => ({
        kind: 'update',
        sobject,
        id: String(values.Id ?? values.id ?? ''),
        values,
      })),
      options,
    );
  }

  /** Upserts records keyed by an external-id field (or `Id`). Results carry `created`. */
  upsert(
    sobject: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    options: StoreWriteOptions = {},
  ): EmulatorSaveResult[] {
    return this.apply(
      records.map((values) => ({ kind: 'upsert', sobject, externalIdField, values })),
      options,
    );
  }

  /** Moves records to the recycle bin (`IsDeleted = true`, visible to queryAll). */
  delete(ids: string[], options: StoreWriteOptions = {}): EmulatorSaveResult[] {
    return this.apply(
      ids.map((id) => ({ kind: 'delete', id })),
      options,
    );
  }

  /**
   * Restores records from the recycle bin (SOAP `undelete()`): `IsDeleted` back to false, unique
   * values checked again; records deleted with them by a cascade stay deleted.
   */
  undelete(ids: string[], options: StoreWriteOptions = {}): EmulatorSaveResult[] {
    return this.apply(
      ids.map((id) => ({ kind: 'undelete', id })),
      options,
    );
  }

  /** Removes records for good (Bulk `hardDelete`). */
  hardDelete(ids: string[], options: StoreWriteOptions = {}): EmulatorSaveResult[] {
    return this.apply(
      ids.map((id) => ({ kind: 'hardDelete', id })),
      options,
    );
  }

  /**
   * Runs a batch of writes in order. Each failure becomes a result with `success:false` and a
   * `statusCode` error; with `allOrNone` any failure rolls every write back and the other
   * records report `ALL_OR_NONE_OPERATION_ROLLED_BACK`.
   */
  apply(operations: StoreWriteOperation[], options: StoreWriteOptions = {}): EmulatorSaveResult[] {
    // Only an all-or-none batch can roll back; skipping the journal keeps 100k-row batches lean.
    const journal: JournalEntry[] | undefined = options.allOrNone ? [] : undefined;
    const results: EmulatorSaveResult[] = [];
    let failed = false;
    for (const operation of operations) {
      try {
        results.push(this.applyOne(operation, options, journal));
      } catch (error) {
        if (!(error instanceof RecordFailure)) throw error;
        failed = true;
        const result: EmulatorSaveResult = { success: false, errors: [error.toSaveError()] };
        if (
          operation.kind === 'update' ||
          operation.kind === 'delete' ||
          operation.kind === 'hardDelete' ||
          operation.kind === 'undelete'
        ) {
          const id = toId18(operation.id);
          if (id) result.id = id;
        }
        if (operation.kind === 'upsert') result.created = error.wouldCreate;
        results.push(result);
      }
    }
    if (failed && journal) {
      this.rollback(journal);
      return results.map((result) => {
        if (!result.success) return result;
        const rolled: EmulatorSaveResult = {
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message:
                'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
        };
        // A rolled-back upsert keeps what it would have been (created: true for inserts), as a
        // real org reports on API ≥ 46.
        if (result.created !== undefined) rolled.created = result.created;
        return rolled;
      });
    }
    return results;
  }

  /**
   * Runs one write and throws {@link RecordFailure} instead of returning a failed result (for
   * single-record REST calls, whose errors use `errorCode` and a status).
   */
  applySingle(operation: StoreWriteOperation, options: StoreWriteOptions = {}): EmulatorSaveResult {
    return this.applyOne(operation, options, undefined);
  }

  private applyOne(
    operation: StoreWriteOperation,
    options: StoreWriteOptions,
    journal: JournalEntry[] | undefined,
  ): EmulatorSaveResult {
    switch (operation.kind) {
      case 'insert': {
        const table = this.tableForWrite(operation.sobject);
        if (!table.schema.createable && !options.bypassFieldPermissions) {
          throw new RecordFailure(
            'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
            `${table.schema.name}: insert not allowed`,
          );
        }
        const id = this.insertRow(table, operation.values, options, journal);
        return { id, success: true, errors: [] };
      }
      case 'update': {
        const { table, id } = this.locate(operation.id, operation.sobject);
        this.updateRow(table, id, operation.values, options, journal);
        return { id, success: true, errors: [] };
      }
      case 'upsert': {
        const table = this.tableForWrite(operation.sobject);
        const field = table.schema.field(operation.externalIdField);
        if (!field || !isUpsertKey(field)) {
          throw new RecordFailure(
            'INVALID_FIELD',
            `Field name provided, ${operation.externalIdField} is not an External ID or indexed field for ${table.schema.name}`,
            [],
            404,
          );
        }
        const key = lookupValue(operation.values, field.name);
        const matches =
          key === undefined || key === null || key === ''
            ? []
            : this.findByExternalId(table.schema.name, field.name, key);
        if (matches.length > 1) {
          throw new RecordFailure(
            'DUPLICATE_EXTERNAL_ID',
            `${field.name}: more than one record found for external id field: [${matches.join(', ')}]`,
            [field.name],
            300,
            matches,
          );
        }
        const existing = matches[0];
        if (existing !== undefined) {
          const values = withoutKey(operation.values, field.name);
          const bodyId = lookupValue(values, 'Id');
          if (bodyId !== undefined && bodyId !== null && toId18(String(bodyId)) !== existing) {
            throw new RecordFailure(
              'INVALID_FIELD_FOR_INSERT_UPDATE',
              `Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
              ['Id'],
            );
          }
          this.updateRow(table, existing, withoutKey(values, 'Id'), options, journal);
          return { id: existing, success: true, errors: [], created: false };
        }
        if (field.type === 'id' && key !== undefined && key !== null && key !== '') {
          throw new RecordFailure('NOT_FOUND', 'The requested resource does not exist', [], 404);
        }
        const values = field.type === 'id' ? withoutKey(operation.values, 'Id') : operation.values;
        try {
          const id = this.insertRow(table, values, options, journal);
          return { id, success: true, errors: [], created: true };
        } catch (error) {
          if (error instanceof RecordFailure) error.wouldCreate = true;
          throw error;
        }
      }
      case 'delete': {
        const { table, id } = this.locate(operation.id, operation.sobject);
        // System writes (e.g. the Analytics API deleting a read-only Dashboard) skip the API check.
        if (!table.schema.deletable && !options.bypassFieldPermissions) {
          throw new RecordFailure(
            'INSUFFICIENT_ACCESS_OR_READONLY',
            'insufficient access rights on object id',
            [],
            403,
          );
        }
        const before = table.rows.get(id) as EmulatorRecord;
        const now = this.clock.now();
        this.journal(journal, table, id);
        this.setRow(table, id, { ...before, IsDeleted: true, SystemModstamp: formatDateTime(now) });
        table.deletions.push({ id, deletedDate: now });
        this.cascadeDelete(table, id, now, journal);
        return { id, success: true, errors: [] };
      }
      case 'undelete': {
        const id18 = isSalesforceIdShape(operation.id) ? toId18(operation.id) : undefined;
        if (!id18) throw new RecordFailure('MALFORMED_ID', `bad id ${operation.id}`, []);
        const table = this.byPrefix.get(id18.slice(0, 3));
        const before = table?.rows.get(id18);
        if (!table || !before || before.IsDeleted !== true) {
          throw new RecordFailure('UNDELETE_FAILED', 'Entity is not in the recycle bin', []);
        }
        const row: EmulatorRecord = {
          ...before,
          IsDeleted: false,
          SystemModstamp: formatDateTime(this.clock.now()),
        };
        this.checkUnique(table, id18, row);
        this.journal(journal, table, id18);
        this.setRow(table, id18, row);
        return { id: id18, success: true, errors: [] };
      }
      case 'hardDelete': {
        const id18 = toId18(operation.id);
        const table = id18 ? this.byPrefix.get(id18.slice(0, 3)) : undefined;
        if (!id18 || !table?.rows.has(id18)) {
          throw new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted', [], 404);
        }
        const wasLive = table.rows.get(id18)?.IsDeleted !== true;
        this.journal(journal, table, id18);
        this.setRow(table, id18, undefined);
        if (wasLive) {
          const now = this.clock.now();
          table.deletions.push({ id: id18, deletedDate: now });
          this.cascadeDelete(table, id18, now, journal);
        }
        return { id: id18, success: true, errors: [] };
      }
    }
  }

  private locate(rawId: string, sobject: string | undefined): { table: Table; id: string } {
    const id = isSalesforceIdShape(rawId) ? toId18(rawId) : undefined;
    const table = id ? this.byPrefix.get(id.slice(0, 3)) : undefined;
    if (!id || !table) {
      throw new RecordFailure(
        'MALFORMED_ID',
        `${sobject ?? 'Record'} ID: id value of incorrect type: ${rawId}`,
        ['Id'],
        400,
      );
    }
    if (sobject !== undefined && table.schema.name.toLowerCase() !== sobject.toLowerCase()) {
      throw new RecordFailure(
        'MALFORMED_ID',
        `${sobject} ID: id value of incorrect type: ${rawId}`,
        ['Id'],
        400,
      );
    }
    const row = table.rows.get(id);
    if (!row) throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [], 404);
    if (row.IsDeleted === true) throw new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted', [], 404);
    return { table, id };
  }

  private insertRow(
    table: Table,
    values: Record<string, unknown>,
    options: StoreWriteOptions,
    journal: JournalEntry[] | undefined,
  ): string {
    const { schema } = table;
    const explicitId = lookupValue(values, 'Id');
    if (explicitId !== undefined && explicitId !== null && explicitId !== '') {
      throw new RecordFailure('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
    }
    const written = this.coerceAll(schema, values, options, 'create');
    const plan = this.insertPlan(table);
    const userId = this.currentUserId();
    // Built in one pass: Id and IsDeleted first, like the field order describe reports.
    const stored: EmulatorRecord = { Id: '', IsDeleted: false };
    for (const [name, fallback] of plan.defaults) stored[name] = fallback;
    for (const [name, value] of written) if (value !== null) stored[name] = value;
    if (plan.hasOwner && (stored.OwnerId === null || stored.OwnerId === undefined)) stored.OwnerId = userId;
    this.computeFields(schema, stored);
    this.checkRequired(schema, stored, plan.required);
    this.checkRecordRules(schema, stored);
    this.checkReferences(schema, stored, written);
    const id = this.ids.next(schema.keyPrefix);
    this.checkUnique(table, id, stored);
    const now = this.timestamp();
    stored.Id = id;
    stored.CreatedDate = now;
    stored.CreatedById = userId;
    stored.LastModifiedDate = now;
    stored.LastModifiedById = userId;
    stored.SystemModstamp = now;
    if (options.bypassFieldPermissions) {
      for (const [name, value] of written) if (SYSTEM_FIELDS.has(name)) stored[name] = value;
    }
    this.journal(journal, table, id);
    this.setRow(table, id, stored);
    return id;
  }

  /**
   * Deletes the children whose cascade-delete lookup points at a deleted parent (an Account's
   * Contacts, a Contact's campaign memberships), as Salesforce does.
   */
  private cascadeDelete(
    parent: Table,
    parentId: string,
    now: Date,
    journal: JournalEntry[] | undefined,
  ): void {
    for (const { table, indexName } of this.cascades.get(parent.schema.name.toLowerCase()) ?? []) {
      const holders = table.indexes.get(indexName)?.entries.get(parentId);
      if (!holders) continue;
      for (const childId of [...holders]) {
        const row = table.rows.get(childId);
        if (!row || row.IsDeleted === true) continue;
        this.journal(journal, table, childId);
        this.setRow(table, childId, { ...row, IsDeleted: true, SystemModstamp: formatDateTime(now) });
        table.deletions.push({ id: childId, deletedDate: now });
        this.cascadeDelete(table, childId, now, journal);
      }
    }
  }

  private lastStamp: { ms: number; text: string } = { ms: Number.NaN, text: '' };

  /** The current datetime string, formatted once per clock millisecond. */
  private timestamp(): string {
    const ms = this.clock.now().getTime();
    if (ms !== this.lastStamp.ms) this.lastStamp = { ms, text: formatDateTime(new Date(ms)) };
    return this.lastStamp.text;
  }

  private insertPlan(table: Table): InsertPlan {
    if (table.plan) return table.plan;
    const fields = table.schema.fields.filter((f) => !SYSTEM_FIELDS.has(f.name) && f.type !== 'id');
    table.plan = {
      // Null fields are not stored (readers treat a missing key as null): 100k rows stay small.
      defaults: fields
        .map((f): [string, EmulatorValue] => [
          f.name,
          f.defaultValue ?? (f.type === 'boolean' ? false : null),
        ])
        .filter(([, value]) => value !== null),
      required: table.schema.fields.filter((f) => f.required),
      hasOwner: table.schema.field('OwnerId') !== undefined,
    };
    return table.plan;
  }

  private updateRow(
    table: Table,
    id: string,
    values: Record<string, unknown>,
    options: StoreWriteOptions,
    journal: JournalEntry[] | undefined,
  ): void {
    const { schema } = table;
    if (!schema.updateable && !options.bypassFieldPermissions) {
      throw new RecordFailure('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', `${schema.name}: update not allowed`);
    }
    const bodyId = lookupValue(values, 'Id');
    if (bodyId !== undefined && bodyId !== null && toId18(String(bodyId)) !== id) {
      throw new RecordFailure(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        'Record ID in the body does not match the URL',
        ['Id'],
      );
    }
    const written = this.coerceAll(schema, withoutKey(values, 'Id'), options, 'update');
    const before = table.rows.get(id) as EmulatorRecord;
    const row: EmulatorRecord = { ...before };
    for (const [name, value] of written) row[name] = value;
    this.computeFields(schema, row);
    this.checkRequired(
      schema,
      row,
      [...written.keys()].map((name) => schema.field(name) as ResolvedField).filter((f) => f.required),
    );
    this.checkRecordRules(schema, row);
    this.checkReferences(schema, row, written);
    this.checkUnique(table, id, row);
    const now = this.timestamp();
    row.LastModifiedDate = now;
    row.LastModifiedById = this.currentUserId();
    row.SystemModstamp = now;
    for (const [name, value] of written) if (SYSTEM_FIELDS.has(name)) row[name] = value;
    this.journal(journal, table, id);
    this.setRow(table, id, row);
  }

  /** Validates and converts every key of an incoming record; unknown or read-only fields fail. */
  private coerceAll(
    schema: ObjectSchema,
    values: Record<string, unknown>,
    options: StoreWriteOptions,
    mode: 'create' | 'update',
  ): Map<string, EmulatorValue> {
    const written = new Map<string, EmulatorValue>();
    const readOnly: string[] = [];
    for (const [key, raw] of Object.entries(values)) {
      if (key === 'attributes' || key === 'Id' || key === 'id') continue;
      // An empty CSV cell writes nothing, so an empty read-only column is no attempt to write it
      // (a real org loads exports that carry read-only columns such as JigsawCompanyId).
      if (options.valueFormat === 'csv' && raw === '' && schema.field(key)) continue;
      const foreign = this.foreignKey(schema, key, raw, options);
      if (foreign) {
        const allowed = mode === 'create' ? foreign.field.createable : foreign.field.updateable;
        if (!allowed && !options.bypassFieldPermissions) readOnly.push(foreign.field.name);
        else if (foreign.value !== SKIP) written.set(foreign.field.name, foreign.value);
        continue;
      }
      const field = schema.field(key);
      if (!field) {
        throw new RecordFailure(
          'INVALID_FIELD',
          `No such column '${key}' on sobject of type ${schema.name}`,
          [key],
        );
      }
      const allowed = mode === 'create' ? field.createable : field.updateable;
      if (!allowed && !options.bypassFieldPermissions) {
        readOnly.push(field.name);
        continue;
      }
      const value = coerceValue(field, raw, options.valueFormat ?? 'json');
      if (value === SKIP) continue;
      written.set(field.name, value);
    }
    if (readOnly.length > 0) {
      throw new RecordFailure(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        readOnly,
      );
    }
    return written;
  }

  /**
   * A parent set by its external id: `{"Account": {"Ext__c": "x"}}` (REST) or an `Account.Ext__c`
   * column (Bulk CSV). Resolves to the parent's id; `undefined` when `key` is not such a reference.
   */
  private foreignKey(
    schema: ObjectSchema,
    key: string,
    raw: unknown,
    options: StoreWriteOptions,
  ): { field: ResolvedField; value: EmulatorValue | typeof SKIP } | undefined {
    let relationshipName: string;
    let externalField: string;
    let externalValue: unknown;
    let explicitType: string | undefined;
    const dot = key.indexOf('.');
    if (dot > 0) {
      relationshipName = key.slice(0, dot);
      externalField = key.slice(dot + 1);
      externalValue = raw;
    } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && schema.relationship(key)) {
      const entries = Object.entries(raw as Record<string, unknown>).filter(
        ([name]) => name !== 'attributes',
      );
      const attributes = (raw as { attributes?: { type?: unknown } }).attributes;
      explicitType = typeof attributes?.type === 'string' ? attributes.type : undefined;
      if (entries.length !== 1) {
        throw new RecordFailure(
          'INVALID_FIELD',
          `A foreign key reference must name exactly one external ID field: ${key}`,
          [key],
        );
      }
      relationshipName = key;
      [externalField, externalValue] = entries[0] as [string, unknown];
    } else {
      return undefined;
    }
    const reference = schema.relationship(relationshipName);
    if (!reference) {
      throw new RecordFailure('INVALID_FIELD', `No such column '${key}' on sobject of type ${schema.name}`, [
        key,
      ]);
    }
    if (options.valueFormat === 'csv' && externalValue === '') return { field: reference, value: SKIP };
    if (externalValue === null || externalValue === '#N/A') return { field: reference, value: null };
    const targetName = explicitType ?? (reference.referenceTo[0] as string);
    const target = this.schema(targetName);
    const targetField = target?.field(externalField);
    if (
      !target ||
      !targetField ||
      !(targetField.externalId || targetField.type === 'id') ||
      !reference.referenceTo.includes(target.name)
    ) {
      throw new RecordFailure(
        'INVALID_FIELD',
        `Invalid foreign key relationship name ${relationshipName}.${externalField}`,
        [key],
      );
    }
    const matches = this.findByExternalId(target.name, targetField.name, externalValue);
    if (matches.length !== 1) {
      throw new RecordFailure(
        'INVALID_FIELD',
        matches.length === 0
          ? `Foreign key external ID: ${String(externalValue)} not found for field ${targetField.name} in entity ${target.name}`
          : `More than 1 record found for External ID field ${targetField.name} in entity ${target.name}`,
        [reference.name],
      );
    }
    return { field: reference, value: matches[0] as string };
  }

  private computeFields(schema: ObjectSchema, row: EmulatorRecord): void {
    schema.derive?.(row);
    const name = schema.field('Name');
    if (name?.calculated && schema.field('LastName')) {
      row.Name =
        [row.FirstName, row.LastName].filter((v) => v !== null && v !== undefined && v !== '').join(' ') ||
        null;
    }
  }

  private checkRequired(schema: ObjectSchema, row: EmulatorRecord, fields: ResolvedField[]): void {
    const missing = fields
      .filter((f) => row[f.name] === null || row[f.name] === undefined)
      .map((f) => f.name);
    if (missing.length > 0) {
      throw new RecordFailure(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      );
    }
    void schema;
  }

  /** Object-specific rules real orgs enforce beyond field metadata. */
  private checkRecordRules(schema: ObjectSchema, row: EmulatorRecord): void {
    if (schema.name === 'PushTopic' && typeof row.Query === 'string')
      checkPushTopicQuery(this, row.Query, this.clock.now());
    if (schema.name === 'CampaignMember' && !row.ContactId && !row.LeadId) {
      throw new RecordFailure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ContactId, LeadId]', [
        'ContactId',
        'LeadId',
      ]);
    }
  }

  private checkReferences(
    schema: ObjectSchema,
    row: EmulatorRecord,
    written: Map<string, EmulatorValue>,
  ): void {
    for (const name of written.keys()) {
      const field = schema.field(name) as ResolvedField;
      const value = row[field.name];
      if (field.type !== 'reference' || typeof value !== 'string') continue;
      const target = this.byPrefix.get(value.slice(0, 3));
      if (!target || !field.referenceTo.includes(target.schema.name)) {
        throw new RecordFailure(
          'FIELD_INTEGRITY_EXCEPTION',
          `${field.label}: id value of incorrect type: ${value}`,
          [field.name],
        );
      }
      const referenced = target.rows.get(value);
      if (!referenced) {
        throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [field.name]);
      }
      if (referenced.IsDeleted === true)
        throw new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted', [field.name]);
    }
  }

  private checkUnique(table: Table, id: string, row: EmulatorRecord): void {
    for (const [name, index] of table.indexes) {
      if (!index.enforced) continue;
      const key = rowKey(index, row);
      if (key === undefined) continue;
      const holders = index.entries.get(key);
      if (!holders) continue;
      let other: string | undefined;
      for (const holder of holders) {
        if (holder !== id) {
          other = holder;
          break;
        }
      }
      if (other === undefined) continue;
      if (index.comboMessage !== undefined)
        throw new RecordFailure('DUPLICATE_VALUE', index.comboMessage, []);
      throw new RecordFailure(
        'DUPLICATE_VALUE',
        `duplicate value found: ${name} duplicates value on record with id: ${other}`,
        [],
      );
    }
  }

  private journal(journal: JournalEntry[] | undefined, table: Table, id: string): void {
    if (!journal && !this.transactionJournal) return;
    const entry = { table, id, before: table.rows.get(id), deletionCount: table.deletions.length };
    journal?.push(entry);
    this.transactionJournal?.push(entry);
  }

  private transactionJournal: JournalEntry[] | undefined;

  /**
   * Starts recording every write so a multi-call unit (composite `allOrNone`) can be undone.
   * Only one transaction at a time; call `end()` (keep) or `rollback()` (undo) exactly once.
   *
   * @throws {Error} when a transaction is already open.
   */
  beginTransaction(): { rollback(): void; end(): void } {
    if (this.transactionJournal) throw new Error('A store transaction is already open');
    const journal: JournalEntry[] = [];
    this.transactionJournal = journal;
    return {
      rollback: () => {
        this.transactionJournal = undefined;
        this.rollback(journal);
      },
      end: () => {
        this.transactionJournal = undefined;
      },
    };
  }

  private rollback(journal: JournalEntry[]): void {
    for (let i = journal.length - 1; i >= 0; i--) {
      const entry = journal[i] as JournalEntry;
      this.setRow(entry.table, entry.id, entry.before);
      entry.table.deletions.length = entry.deletionCount;
    }
  }

  /** Replaces a row and keeps every index in step; `undefined` removes it. */
  private setRow(table: Table, id: string, row: EmulatorRecord | undefined): void {
    const old = table.rows.get(id);
    this.recordChange(table, id, old);
    if (old && old.IsDeleted !== true) {
      for (const index of table.indexes.values()) {
        const key = rowKey(index, old);
        if (key === undefined) continue;
        const holders = index.entries.get(key);
        if (!holders) continue;
        holders.delete(id);
        if (holders.size === 0) index.entries.delete(key);
      }
    }
    if (!row) {
      table.rows.delete(id);
      return;
    }
    table.rows.set(id, row);
    if (row.IsDeleted === true) return;
    for (const index of table.indexes.values()) {
      const key = rowKey(index, row);
      if (key === undefined) continue;
      const holders = index.entries.get(key);
      if (holders) holders.add(id);
      else index.entries.set(key, new Set([id]));
    }
  }

  private tableForWrite(sobject: string): Table {
    const table = this.tables.get(sobject.toLowerCase());
    if (!table)
      throw new RecordFailure('INVALID_TYPE', `sObject type '${sobject}' is not supported.`, [], 404);
    return table;
  }

  private requireTable(sobject: string): Table {
    const table = this.tables.get(sobject.toLowerCase());
    if (!table) throw new Error(`Unknown sObject type ${sobject}`);
    return table;
  }

  private linkChildRelationships(): void {
    for (const table of this.tables.values()) table.schema.childRelationships.length = 0;
    this.cascades = new Map();
    for (const child of this.tables.values()) {
      for (const field of child.schema.fields) {
        if (field.type !== 'reference' || !field.relationshipName) continue;
        for (const parentName of field.referenceTo) {
          const parent = this.tables.get(parentName.toLowerCase());
          // Owner and lead-conversion lookups have no child relationship worth querying here.
          if (
            !parent ||
            SYSTEM_FIELDS.has(field.name) ||
            field.name === 'OwnerId' ||
            field.name === 'MasterRecordId' ||
            field.name.startsWith('Converted')
          ) {
            continue;
          }
          const relationshipName =
            field.name === 'ParentId'
              ? `Child${child.schema.labelPlural.replace(/\s+/g, '')}`
              : child.schema.labelPlural.replace(/\s+/g, '');
          // One name per parent: the first lookup wins (Task.WhatId's `Tasks`, not Task.AccountId).
          if (parent.schema.childRelationships.some((r) => r.relationshipName === relationshipName)) continue;
          parent.schema.childRelationships.push({
            childSObject: child.schema.name,
            field: field.name,
            relationshipName,
            cascadeDelete: field.cascadeDelete,
          });
          if (field.cascadeDelete) {
            const key = parent.schema.name.toLowerCase();
            this.cascades.set(key, [
              ...(this.cascades.get(key) ?? []),
              { table: child, indexName: `ref:${field.name}` },
            ]);
          }
        }
      }
    }
  }
}

/** The normalised key of a row in an index; `undefined` while any part is null. */
function rowKey(index: RowIndex, row: EmulatorRecord): string | undefined {
  if (index.fields.length === 1) {
    const value = row[index.fields[0] as string];
    if (value === null || value === undefined) return undefined;
    const text = String(value);
    return index.caseSensitive ? text : text.toLowerCase();
  }
  let key = '';
  for (const name of index.fields) {
    const value = row[name];
    if (value === null || value === undefined) return undefined;
    key += `${String(value)}\u0000`;
  }
  return key;
}

function indexKey(field: ResolvedField, value: unknown): string {
  const text = String(value);
  return field.caseSensitive ? text : text.toLowerCase();
}

/** Case-insensitive property read, as Salesforce matches field names. */
function lookupValue(values: Record<string, unknown>, name: string): unknown {
  if (name in values) return values[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(values)) if (key.toLowerCase() === lower) return values[key];
  return undefined;
}

function withoutKey(values: Record<string, unknown>, name: string): Record<string, unknown> {
  const lower = name.toLowerCase();
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) if (key.toLowerCase() !== lower) copy[key] = value;
  return copy;
}
