/**
 * Input checks and normalisation shared by the built-in storage adapters, so that memory, SQLite
 * and PostgreSQL accept and reject exactly the same inputs. Not exported from the package.
 */
import { CrmDataConversionError, type CrmFieldIssue, CrmStorageError } from '../../core/errors.js';
import { CrmEntityTypeSchema, type CrmFieldMappingInput } from '../../core/models.js';
import type {
  CrmIntegrationInput,
  CrmIntegrationPatch,
  CrmSyncLogCompletion,
  CrmSyncLogStart,
  CrmSyncStatusListOptions,
  CrmSyncStatusRow,
  CrmSyncStatusState,
  CrmSyncType,
} from '../types.js';

const ENTITY_TYPES: ReadonlySet<string> = new Set(CrmEntityTypeSchema.options);
const STATUSES: ReadonlySet<string> = new Set<CrmSyncStatusState>([
  'synced',
  'pending',
  'failed',
  'conflict',
  'deleted',
  'uncertain',
]);
const DIRECTIONS: ReadonlySet<string> = new Set(['to_crm', 'from_crm']);
const SYNC_TYPES: ReadonlySet<string> = new Set<CrmSyncType>(['manual', 'scheduled', 'webhook', 'bulk']);

/** Why a storage operation failed, in `CrmStorageError.details.reason`. */
export type StorageErrorReason =
  | 'duplicate'
  | 'not_found'
  | 'credentials_conflict'
  | 'not_migrated'
  | 'closed'
  | 'driver';

/** A `CrmStorageError` whose `details.reason` callers can switch on. */
export function storageError(
  reason: StorageErrorReason,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
): CrmStorageError {
  return new CrmStorageError(message, {
    details: { reason, ...options.details },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    ...(options.retryable === undefined ? {} : { retryable: options.retryable }),
  });
}

/** Deep copy through JSON, exactly what a database JSON column does (functions and `undefined` vanish, dates become strings). */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * Compare strings by Unicode code point, the order of SQLite's BINARY collation and PostgreSQL's
 * `COLLATE "C"` on UTF-8. Plain `<` compares UTF-16 code units, which sorts astral characters
 * before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** Collects field issues and throws them as one `CrmDataConversionError`. */
export class Issues {
  readonly list: CrmFieldIssue[] = [];
  add(field: string, message: string, code = 'invalid'): void {
    this.list.push({ field, message, code });
  }
  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const names = this.list.map((i) => `${i.field} ${i.message}`).join('; ');
    throw new CrmDataConversionError(`Invalid ${what}: ${names}`, { fields: this.list });
  }
  nonEmpty(field: string, value: unknown): void {
    if (typeof value !== 'string' || value.length === 0)
      this.add(field, 'must be a non-empty string', 'required');
  }
  string(field: string, value: unknown): void {
    if (typeof value !== 'string') this.add(field, 'must be a string', 'invalid_type');
  }
  stringOrNull(field: string, value: unknown): void {
    if (value !== null && typeof value !== 'string')
      this.add(field, 'must be a string or null', 'invalid_type');
  }
  dateOrNull(field: string, value: unknown): void {
    if (value === null) return;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      this.add(field, 'must be a valid Date or null', 'invalid_type');
    }
  }
  object(field: string, value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(field, 'must be a plain object', 'invalid_type');
    }
  }
  boolean(field: string, value: unknown): void {
    if (typeof value !== 'boolean') this.add(field, 'must be a boolean', 'invalid_type');
  }
  count(field: string, value: unknown): void {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      this.add(field, 'must be a non-negative integer', 'invalid_type');
    }
  }
  oneOf(field: string, value: unknown, allowed: ReadonlySet<string>): void {
    if (typeof value !== 'string' || !allowed.has(value)) {
      this.add(field, `must be one of ${[...allowed].join(', ')}`, 'invalid_enum');
    }
  }
}

/** A fully defaulted integration, minus the storage-assigned id and timestamps. */
export interface NormalisedIntegrationInput {
  userId: string;
  provider: string;
  orgId: string;
  instanceUrl: string;
  credentials: string;
  settings: Record<string, unknown>;
  providerSettings: Record<string, unknown>;
  fieldMappings: CrmFieldMappingInput[];
  syncEnabled: boolean;
  lastSyncAt: Date | null;
}

/** Validate and default `integrations.create` input. @throws CrmDataConversionError */
export function normaliseIntegrationInput(input: CrmIntegrationInput): NormalisedIntegrationInput {
  const issues = new Issues();
  if (typeof input !== 'object' || input === null) {
    issues.add('input', 'must be an object');
    issues.throwIfAny('integration');
  }
  issues.nonEmpty('userId', input.userId);
  issues.nonEmpty('provider', input.provider);
  issues.nonEmpty('orgId', input.orgId);
  issues.string('instanceUrl', input.instanceUrl);
  issues.string('credentials', input.credentials);
  if (input.settings !== undefined) issues.object('settings', input.settings);
  if (input.providerSettings !== undefined) issues.object('providerSettings', input.providerSettings);
  if (input.fieldMappings !== undefined && !Array.isArray(input.fieldMappings)) {
    issues.add('fieldMappings', 'must be an array', 'invalid_type');
  }
  if (input.syncEnabled !== undefined) issues.boolean('syncEnabled', input.syncEnabled);
  if (input.lastSyncAt !== undefined) issues.dateOrNull('lastSyncAt', input.lastSyncAt);
  issues.throwIfAny('integration');
  return {
    userId: input.userId,
    provider: input.provider,
    orgId: input.orgId,
    instanceUrl: input.instanceUrl,
    credentials: input.credentials,
    settings: jsonCopy(input.settings ?? {}),
    providerSettings: jsonCopy(input.providerSettings ?? {}),
    fieldMappings: jsonCopy(input.fieldMappings ?? []),
    syncEnabled: input.syncEnabled ?? true,
    lastSyncAt: input.lastSyncAt ? new Date(input.lastSyncAt.getTime()) : null,
  };
}

const PATCH_KEYS = new Set([
  'instanceUrl',
  'credentials',
  'settings',
  'providerSettings',
  'fieldMappings',
  'syncEnabled',
  'lastSyncAt',
  'orgId',
]);

/**
 * Validate an integration patch; keys whose value is `undefined` are dropped. Unknown keys (such
 * as `userId` or `id`, which cannot change) are an error rather than silently ignored.
 * @throws CrmDataConversionError
 */
export function normalisePatch(patch: CrmIntegrationPatch): CrmIntegrationPatch {
  const issues = new Issues();
  if (typeof patch !== 'object' || patch === null) {
    issues.add('patch', 'must be an object');
    issues.throwIfAny('integration patch');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!PATCH_KEYS.has(key)) {
      issues.add(key, 'cannot be updated', 'unknown_key');
      continue;
    }
    switch (key) {
      case 'orgId':
        issues.nonEmpty(key, value);
        break;
      case 'instanceUrl':
      case 'credentials':
        issues.string(key, value);
        break;
      case 'settings':
      case 'providerSettings':
        issues.object(key, value);
        break;
      case 'fieldMappings':
        if (!Array.isArray(value)) issues.add(key, 'must be an array', 'invalid_type');
        break;
      case 'syncEnabled':
        issues.boolean(key, value);
        break;
      case 'lastSyncAt':
        issues.dateOrNull(key, value);
        break;
    }
    out[key] = value instanceof Date ? new Date(value.getTime()) : jsonCopy(value);
  }
  issues.throwIfAny('integration patch');
  return out as CrmIntegrationPatch;
}

/** A status row with every optional part made explicit. */
export type NormalisedStatusRow = Required<Omit<CrmSyncStatusRow, 'state'>> & {
  state: Record<string, unknown> | null;
};

/**
 * Validate status rows and collapse duplicates of one key to the last occurrence (what a
 * sequence of single upserts would leave behind; PostgreSQL's ON CONFLICT refuses to touch a row
 * twice in one statement). Validation runs before anything is written, so a bad row leaves the
 * whole batch unapplied.
 *
 * @param copyState deep-copy `state` (for adapters that keep the object); SQL adapters serialise it
 *   immediately and skip the copy.
 * @throws CrmDataConversionError naming the row index and field
 */
export function normaliseStatusRows(
  rows: ReadonlyArray<CrmSyncStatusRow>,
  copyState = true,
): NormalisedStatusRow[] {
  if (!Array.isArray(rows)) {
    throw new CrmDataConversionError('Invalid sync status rows: rows must be an array', {
      fields: [{ field: 'rows', message: 'must be an array', code: 'invalid_type' }],
    });
  }
  const byKey = new Map<string, NormalisedStatusRow>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    // Fast path: this runs for every row of 100,000-row batches; issues are only named on failure.
    if (!isValidStatusRow(row)) throwStatusRowIssues(rows, i);
    byKey.set(statusKey(row), {
      integrationId: row.integrationId,
      entityType: row.entityType,
      externalId: row.externalId,
      crmId: row.crmId,
      status: row.status,
      direction: row.direction,
      contentHash: row.contentHash,
      lastSyncedAt: row.lastSyncedAt === null ? null : new Date(row.lastSyncedAt.getTime()),
      lastError: row.lastError,
      state: row.state == null ? null : copyState ? jsonCopy(row.state) : row.state,
    });
  }
  return [...byKey.values()];
}

const isNullableString = (value: unknown): boolean => value === null || typeof value === 'string';

function isValidStatusRow(row: CrmSyncStatusRow): boolean {
  return (
    typeof row === 'object' &&
    row !== null &&
    typeof row.integrationId === 'string' &&
    row.integrationId.length > 0 &&
    ENTITY_TYPES.has(row.entityType) &&
    typeof row.externalId === 'string' &&
    row.externalId.length > 0 &&
    isNullableString(row.crmId) &&
    STATUSES.has(row.status) &&
    DIRECTIONS.has(row.direction) &&
    isNullableString(row.contentHash) &&
    (row.lastSyncedAt === null ||
      (row.lastSyncedAt instanceof Date && !Number.isNaN(row.lastSyncedAt.getTime()))) &&
    isNullableString(row.lastError) &&
    (row.state == null || (typeof row.state === 'object' && !Array.isArray(row.state)))
  );
}

function throwStatusRowIssues(rows: ReadonlyArray<CrmSyncStatusRow>, from: number): never {
  const issues = new Issues();
  for (let i = from; i < rows.length && issues.list.length <= 20; i++) {
    const row = rows[i];
    const at = (field: string) => `[${i}].${field}`;
    if (typeof row !== 'object' || row === null) {
      issues.add(`[${i}]`, 'must be an object');
      continue;
    }
    issues.nonEmpty(at('integrationId'), row.integrationId);
    issues.oneOf(at('entityType'), row.entityType, ENTITY_TYPES);
    issues.nonEmpty(at('externalId'), row.externalId);
    issues.stringOrNull(at('crmId'), row.crmId);
    issues.oneOf(at('status'), row.status, STATUSES);
    issues.oneOf(at('direction'), row.direction, DIRECTIONS);
    issues.stringOrNull(at('contentHash'), row.contentHash);
    issues.dateOrNull(at('lastSyncedAt'), row.lastSyncedAt);
    issues.stringOrNull(at('lastError'), row.lastError);
    if (row.state !== undefined && row.state !== null) issues.object(at('state'), row.state);
  }
  issues.throwIfAny('sync status rows');
  throw new Error('unreachable: a row failed the fast check but no issue was found');
}

/** Map key of a status row. NUL cannot occur in SQL text keys, so it is a safe separator. */
export function statusKey(key: { integrationId: string; entityType: string; externalId: string }): string {
  return `${key.integrationId}\u0000${key.entityType}\u0000${key.externalId}`;
}

/**
 * Validate the keys of `syncStatus.getMany` / `getManyByCrmId` and drop duplicate ids (first
 * occurrence kept), so adapters query each id once.
 * @throws CrmDataConversionError
 */
export function normaliseManyKeys(
  keys: { integrationId: string; entityType: string },
  field: 'externalIds' | 'crmIds',
  ids: unknown,
): string[] {
  const issues = new Issues();
  issues.nonEmpty('integrationId', keys?.integrationId);
  issues.oneOf('entityType', keys?.entityType, ENTITY_TYPES);
  if (!Array.isArray(ids)) issues.add(field, 'must be an array of strings', 'invalid_type');
  else if (ids.some((id) => typeof id !== 'string'))
    issues.add(field, 'must contain only strings', 'invalid_type');
  issues.throwIfAny('sync status keys');
  return [...new Set(ids as string[])];
}

/**
 * Put `row` into a crmId → row map unless a row with a lower externalId (by code point) is there:
 * the tie-break `getByCrmId` uses when several rows claim one CRM id.
 */
export function keepLowest(byCrmId: Map<string, CrmSyncStatusRow>, row: CrmSyncStatusRow): void {
  if (row.crmId === null) return;
  const held = byCrmId.get(row.crmId);
  if (!held || compareCodePoints(row.externalId, held.externalId) < 0) byCrmId.set(row.crmId, row);
}

/** Validated `syncStatus.list` options with defaults applied. */
export interface NormalisedListOptions {
  integrationId: string;
  status: CrmSyncStatusState | undefined;
  entityType: CrmSyncStatusListOptions['entityType'];
  limit: number;
  after: string | undefined;
}

/** @throws CrmDataConversionError */
export function normaliseListOptions(options: CrmSyncStatusListOptions): NormalisedListOptions {
  const issues = new Issues();
  issues.nonEmpty('integrationId', options?.integrationId);
  if (options?.status !== undefined) issues.oneOf('status', options.status, STATUSES);
  if (options?.entityType !== undefined) issues.oneOf('entityType', options.entityType, ENTITY_TYPES);
  if (options?.limit !== undefined) positiveLimit(issues, options.limit);
  if (options?.after !== undefined) issues.string('after', options.after);
  issues.throwIfAny('sync status list options');
  return {
    integrationId: options.integrationId,
    status: options.status,
    entityType: options.entityType,
    limit: options.limit ?? 100,
    after: options.after,
  };
}

function positiveLimit(issues: Issues, limit: unknown): void {
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    issues.add('limit', 'must be a positive integer', 'invalid_type');
  }
}

/** @throws CrmDataConversionError */
export function normaliseLogListLimit(options: { limit?: number } | undefined): number {
  const issues = new Issues();
  if (options?.limit !== undefined) positiveLimit(issues, options.limit);
  issues.throwIfAny('sync log list options');
  return options?.limit ?? 50;
}

/** @throws CrmDataConversionError */
export function normaliseLogStart(
  input: CrmSyncLogStart,
  now: Date,
): Required<CrmSyncLogStart> & { startedAt: Date } {
  const issues = new Issues();
  issues.nonEmpty('integrationId', input?.integrationId);
  issues.oneOf('syncType', input?.syncType, SYNC_TYPES);
  issues.oneOf('entityType', input?.entityType, ENTITY_TYPES);
  if (input?.entityCount !== undefined) issues.count('entityCount', input.entityCount);
  if (input?.startedAt !== undefined) issues.dateOrNull('startedAt', input.startedAt);
  issues.throwIfAny('sync log start');
  return {
    integrationId: input.integrationId,
    syncType: input.syncType,
    entityType: input.entityType,
    entityCount: input.entityCount ?? 0,
    startedAt: new Date((input.startedAt ?? now).getTime()),
  };
}

/** Validated `syncLogs.complete` input; `entityCount` stays undefined when not given. */
export interface NormalisedLogCompletion {
  successCount: number;
  errorCount: number;
  errorDetails: Record<string, unknown> | null;
  entityCount: number | undefined;
  completedAt: Date;
}

/** @throws CrmDataConversionError */
export function normaliseLogCompletion(completion: CrmSyncLogCompletion, now: Date): NormalisedLogCompletion {
  const issues = new Issues();
  issues.count('successCount', completion?.successCount);
  issues.count('errorCount', completion?.errorCount);
  if (completion?.entityCount !== undefined) issues.count('entityCount', completion.entityCount);
  if (completion?.errorDetails != null) issues.object('errorDetails', completion.errorDetails);
  if (completion?.completedAt !== undefined) issues.dateOrNull('completedAt', completion.completedAt);
  issues.throwIfAny('sync log completion');
  return {
    successCount: completion.successCount,
    errorCount: completion.errorCount,
    errorDetails: completion.errorDetails == null ? null : jsonCopy(completion.errorDetails),
    entityCount: completion.entityCount,
    completedAt: new Date((completion.completedAt ?? now).getTime()),
  };
}

/** @throws CrmDataConversionError */
export function checkCursorArgs(integrationId: unknown, stream: unknown, ...value: [unknown?]): void {
  const issues = new Issues();
  issues.nonEmpty('integrationId', integrationId);
  issues.nonEmpty('stream', stream);
  if (value.length > 0) issues.string('value', value[0]);
  issues.throwIfAny('cursor');
}

/** @throws CrmDataConversionError */
export function checkLeaseArgs(key: unknown, ttlMs: unknown): void {
  const issues = new Issues();
  issues.nonEmpty('key', key);
  if (!Number.isSafeInteger(ttlMs) || (ttlMs as number) < 1) {
    issues.add('ttlMs', 'must be a positive integer (milliseconds)', 'invalid_type');
  }
  issues.throwIfAny('lease');
}

/** @throws CrmDataConversionError */
export function checkLease(lease: unknown): asserts lease is { key: string; token: string } {
  const issues = new Issues();
  const value = lease as { key?: unknown; token?: unknown } | null;
  issues.nonEmpty('lease.key', value?.key);
  issues.nonEmpty('lease.token', value?.token);
  issues.throwIfAny('lease');
}
