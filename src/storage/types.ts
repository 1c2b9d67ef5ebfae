import type { CrmEntityType, CrmFieldMappingInput } from '../core/models.js';
import type { CrmPrivacyStore } from './privacy.js';

/**
 * The storage contract. Hosts implement these small interfaces on their own database, or use
 * `MemoryStorage`, `SqliteStorage` or `PostgresStorage`. Every adapter must pass
 * `runStorageConformance` from `@markmail/crm/testing`, which is the executable specification of
 * the MUST / MUST NOT rules written here.
 *
 * All methods are async. Adapters MUST wrap driver failures in `CrmStorageError` (with the
 * driver error as `cause`) and MUST NOT store plaintext credentials: `credentials` is always
 * ciphertext produced by `CredentialCipher`.
 */

/** A connection between a host user and one CRM org. */
export interface CrmIntegration {
  /** Storage-assigned id. */
  id: string;
  /** The host's user (or workspace) id. */
  userId: string;
  /** Provider name, e.g. `salesforce`. */
  provider: string;
  /** The CRM org/portal id (Salesforce `00D…`). */
  orgId: string;
  /** Base URL of the CRM instance. */
  instanceUrl: string;
  /** Ciphertext from `CredentialCipher.encrypt`; never plaintext. */
  credentials: string;
  /** Engine settings (conflict policy, API budget, …). */
  settings: Record<string, unknown>;
  /** Provider-specific settings (external id field, API version, …). */
  providerSettings: Record<string, unknown>;
  /** Field mappings between host and CRM. */
  fieldMappings: CrmFieldMappingInput[];
  /** False when sync is paused, e.g. after the grant was revoked. */
  syncEnabled: boolean;
  /** End of the last successful sync. */
  lastSyncAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What `integrations.create` takes; optional parts get defaults. */
export interface CrmIntegrationInput {
  userId: string;
  provider: string;
  orgId: string;
  instanceUrl: string;
  credentials: string;
  settings?: Record<string, unknown>;
  providerSettings?: Record<string, unknown>;
  fieldMappings?: CrmFieldMappingInput[];
  /** @default true */
  syncEnabled?: boolean;
  lastSyncAt?: Date | null;
}

/** A partial update of an integration. */
export type CrmIntegrationPatch = Partial<
  Pick<
    CrmIntegration,
    | 'instanceUrl'
    | 'credentials'
    | 'settings'
    | 'providerSettings'
    | 'fieldMappings'
    | 'syncEnabled'
    | 'lastSyncAt'
    | 'orgId'
  >
>;

/** Options of `integrations.update`. */
export interface CrmIntegrationUpdateOptions {
  /**
   * Compare-and-swap: apply the patch only if the stored `credentials` still equal this value.
   * When they differ the update MUST NOT be applied and MUST throw `CrmStorageError` with
   * `details.reason === 'credentials_conflict'`. Used so two workers never both persist a refresh.
   */
  expectedCredentials?: string;
}

/** Integration records. */
export interface CrmIntegrationStore {
  /**
   * Create a record. MUST reject a second record with the same (userId, provider, orgId) with
   * `CrmStorageError` (`details.reason === 'duplicate'`); several orgs per user are allowed.
   */
  create(input: CrmIntegrationInput): Promise<CrmIntegration>;
  /** The record, or `null`. */
  get(id: string): Promise<CrmIntegration | null>;
  /** A user's integrations, optionally for one provider, oldest first. */
  findByUser(userId: string, provider?: string): Promise<CrmIntegration[]>;
  /** All integrations, oldest first. */
  list(): Promise<CrmIntegration[]>;
  /**
   * Apply `patch` and bump `updatedAt`; returns the updated record. MUST throw `CrmStorageError`
   * (`details.reason === 'not_found'`) for an unknown id.
   */
  update(
    id: string,
    patch: CrmIntegrationPatch,
    options?: CrmIntegrationUpdateOptions,
  ): Promise<CrmIntegration>;
  /** Delete the record and its logs, status rows, cursors. Unknown ids are a no-op. */
  delete(id: string): Promise<void>;
}

/** What started a sync run. */
export type CrmSyncType = 'manual' | 'scheduled' | 'webhook' | 'bulk';

/** One sync run's record. */
export interface CrmSyncLog {
  id: string;
  integrationId: string;
  syncType: CrmSyncType;
  entityType: CrmEntityType;
  entityCount: number;
  successCount: number;
  errorCount: number;
  startedAt: Date;
  completedAt: Date | null;
  /** Redacted, JSON-safe error details (grouped errors, reasons for stopping, …). */
  errorDetails: Record<string, unknown> | null;
}

/** What `syncLogs.start` takes. */
export interface CrmSyncLogStart {
  integrationId: string;
  syncType: CrmSyncType;
  entityType: CrmEntityType;
  /** Records the run expects to handle, when known. @default 0 */
  entityCount?: number;
  /** @default now */
  startedAt?: Date;
}

/** What `syncLogs.complete` takes. */
export interface CrmSyncLogCompletion {
  successCount: number;
  errorCount: number;
  errorDetails?: Record<string, unknown> | null;
  entityCount?: number;
  /** @default now */
  completedAt?: Date;
}

/** Sync run history. */
export interface CrmSyncLogStore {
  /** Record the start of a run; `completedAt` is `null` until `complete`. */
  start(input: CrmSyncLogStart): Promise<CrmSyncLog>;
  /** Record the end of a run. MUST throw `CrmStorageError` for an unknown id. */
  complete(id: string, completion: CrmSyncLogCompletion): Promise<CrmSyncLog>;
  /** An integration's runs, newest first. @default limit 50 */
  list(integrationId: string, options?: { limit?: number }): Promise<CrmSyncLog[]>;
}

/**
 * Per-record sync state. `uncertain`: a write of the record was sent but its answer never came
 * (abort, timeout, dropped connection), so it may or may not have landed; the next push reads the
 * record back before calling it synced.
 */
export type CrmSyncStatusState = 'synced' | 'pending' | 'failed' | 'conflict' | 'deleted' | 'uncertain';

/** One record's sync state, keyed by (integrationId, entityType, externalId). */
export interface CrmSyncStatusRow {
  integrationId: string;
  entityType: CrmEntityType;
  /** Host id. */
  externalId: string;
  /** CRM id, once known. */
  crmId: string | null;
  status: CrmSyncStatusState;
  /** Direction of the last sync of this record. */
  direction: 'to_crm' | 'from_crm';
  /** Hash of the mapped fields as last synced; equal hash means nothing to send. */
  contentHash: string | null;
  lastSyncedAt: Date | null;
  /** Redacted reason of the last failure. */
  lastError: string | null;
  /** Engine-owned JSON state (last-synced field values, retry counters, conflict values). */
  state?: Record<string, unknown> | null;
}

/** Key of a sync status row. */
export interface CrmSyncStatusKey {
  integrationId: string;
  entityType: CrmEntityType;
  externalId: string;
}

/** Options of `syncStatus.list`. */
export interface CrmSyncStatusListOptions {
  integrationId: string;
  status?: CrmSyncStatusState;
  entityType?: CrmEntityType;
  /** @default 100 */
  limit?: number;
  /** Keyset paging: return rows whose externalId sorts after this one. Rows are ordered by externalId. */
  after?: string;
}

/** What `syncStatus.getMany` takes: many host ids of one integration and entity type. */
export interface CrmSyncStatusManyKeys {
  integrationId: string;
  entityType: CrmEntityType;
  /** Host ids; duplicates are allowed and an empty list reads nothing. */
  externalIds: ReadonlyArray<string>;
}

/** What `syncStatus.getManyByCrmId` takes: many CRM ids of one integration and entity type. */
export interface CrmSyncStatusManyCrmIds {
  integrationId: string;
  entityType: CrmEntityType;
  /** CRM ids; duplicates are allowed and an empty list reads nothing. */
  crmIds: ReadonlyArray<string>;
}

/** Per-record sync state store. */
export interface CrmSyncStatusStore {
  /**
   * Insert or replace rows keyed by (integrationId, entityType, externalId). MUST be idempotent
   * and SHOULD write the batch atomically (one transaction or statement).
   */
  upsertMany(rows: ReadonlyArray<CrmSyncStatusRow>): Promise<void>;
  /** The row, or `null`. */
  get(key: CrmSyncStatusKey): Promise<CrmSyncStatusRow | null>;
  /** The row whose crmId matches, or `null`. */
  getByCrmId(key: {
    integrationId: string;
    entityType: CrmEntityType;
    crmId: string;
  }): Promise<CrmSyncStatusRow | null>;
  /** Rows ordered by externalId ascending, filtered by status, paged with `after`. */
  list(options: CrmSyncStatusListOptions): Promise<CrmSyncStatusRow[]>;
  /**
   * OPTIONAL batch form of `get`: the rows of many host ids at once, as a map from externalId to
   * row; ids without a row are absent from the map. Built-in adapters read each chunk of ids in
   * one query (`IN (…)` / `= ANY(…)`), so a push of thousands of records costs a few round trips
   * instead of one per record.
   *
   * Host adapters MAY omit it: callers (the sync engine included) MUST check that it exists and
   * otherwise fall back to `get` per key. When present it MUST return exactly what `get` would
   * return for each id, and `runStorageConformance` checks that when its `batchReads` capability
   * is set.
   *
   * @example
   * ```ts
   * const rows = storage.syncStatus.getMany
   *   ? await storage.syncStatus.getMany({ integrationId, entityType: 'contact', externalIds })
   *   : undefined; // fall back to syncStatus.get per id
   * ```
   */
  getMany?(keys: CrmSyncStatusManyKeys): Promise<Map<string, CrmSyncStatusRow>>;
  /**
   * OPTIONAL batch form of `getByCrmId`: a map from crmId to its row; ids without a row are
   * absent. When several rows claim one CRM id the row with the lowest externalId (by code point)
   * wins, as in `getByCrmId`. Host adapters MAY omit it; callers fall back to `getByCrmId`.
   */
  getManyByCrmId?(keys: CrmSyncStatusManyCrmIds): Promise<Map<string, CrmSyncStatusRow>>;
}

/** Incremental positions (pull cursors, CDC replay ids), keyed by (integrationId, stream). */
export interface CrmCursorStore {
  get(integrationId: string, stream: string): Promise<string | null>;
  set(integrationId: string, stream: string, value: string): Promise<void>;
}

/** A held lease. */
export interface CrmLease {
  key: string;
  /** Unique per acquisition; renew and release only act on the holder's own token. */
  token: string;
  expiresAt: Date;
}

/**
 * Cross-process mutual exclusion with expiry, so two workers never run the same integration's
 * sync at once.
 */
export interface CrmLeaseStore {
  /** Take the lease if it is free or expired; `null` when someone else holds it. */
  acquire(key: string, ttlMs: number): Promise<CrmLease | null>;
  /** Extend a lease still held by this token; `false` when it was lost (expired and taken). */
  renew(lease: CrmLease, ttlMs: number): Promise<boolean>;
  /** Release a lease held by this token; a lost lease is a no-op. */
  release(lease: CrmLease): Promise<void>;
}

/** Everything the package persists. */
export interface CrmStorage {
  readonly integrations: CrmIntegrationStore;
  readonly syncLogs: CrmSyncLogStore;
  readonly syncStatus: CrmSyncStatusStore;
  readonly cursors: CrmCursorStore;
  readonly leases: CrmLeaseStore;
  /**
   * OPTIONAL erasure, privacy audit, suppression and retention (`SyncEngine.forgetContact`,
   * `applyRetention`). The built-in adapters have it; see `CrmPrivacyStore`.
   */
  readonly privacy?: CrmPrivacyStore;
  /** Release connections. Idempotent. */
  close(): Promise<void>;
}
