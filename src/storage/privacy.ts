/**
 * The storage side of privacy: erasure of a person's local rows, an audit trail that holds no
 * personal data, suppression of forgotten people, and retention pruning. `CrmStorage.privacy` is
 * OPTIONAL so host adapters written before it keep compiling; `SyncEngine.forgetContact` and
 * `applyRetention` throw `CrmUnsupportedFeatureError` on a storage without it. The built-in
 * adapters implement it and `runStorageConformance` checks it (capability `privacy`).
 */

/** What {@link CrmPrivacyStore.erase} removes: everything local about one person. */
export interface CrmEraseTarget {
  integrationId: string;
  /** Host ids of the person: every status row with one of them (any entity type) is deleted. */
  externalIds: ReadonlyArray<string>;
  /** CRM ids of the person: every status row with one of them as `crmId` is deleted. */
  crmIds: ReadonlyArray<string>;
  /**
   * Every value that identifies the person (host ids, CRM ids, email, names). Stored sync log
   * details MUST NOT contain any of them afterwards: an array element equal to one is dropped, a
   * string containing one (compared case-insensitively) is replaced by {@link ERASED}.
   */
  values: ReadonlyArray<string>;
}

/** Rows touched by {@link CrmPrivacyStore.erase}. */
export interface CrmEraseCounts {
  /** Status rows deleted (with their stored errors and engine state). */
  statusRows: number;
  /** Sync log entries whose details were rewritten. */
  syncLogs: number;
}

/** What replaces an erased value inside stored log details. */
export const ERASED = '[ERASED]';

/** A privacy action, kept as an audit entry. */
export type CrmPrivacyAction = 'forget' | 'restore' | 'export';

/** An audit entry. It MUST NOT hold personal data: the subject is a salted hash. */
export interface CrmPrivacyAuditEntry {
  id: string;
  integrationId: string;
  action: CrmPrivacyAction;
  /** Salted hash of the person's key (hex), the same for every request about the same key. */
  subjectHash: string;
  /** Why, e.g. `erasure_request`. */
  reason: string | null;
  occurredAt: Date;
  /** Which systems answered what (JSON: counts, outcome names, error codes; never values). */
  outcome: Record<string, unknown>;
}

/** What {@link CrmPrivacyStore.appendAudit} takes. */
export interface CrmPrivacyAuditInput {
  integrationId: string;
  action: CrmPrivacyAction;
  subjectHash: string;
  reason?: string | null;
  /** @default now */
  occurredAt?: Date;
  outcome: Record<string, unknown>;
}

/** What {@link CrmPrivacyStore.prune} removes. Each part is optional; absent parts are kept. */
export interface CrmPruneRequest {
  /** Prune only this integration's records. @default every integration */
  integrationId?: string;
  /** Sync logs started before `before`, and all but the newest `keepLatest` per integration. */
  syncLogs?: { before?: Date; keepLatest?: number };
  /** Audit entries that occurred before `before`, and all but the newest `keepLatest` per integration. */
  auditEntries?: { before?: Date; keepLatest?: number };
  /**
   * Cursor-store records used as timestamped markers (webhook dedupe records, change-event
   * records): rows whose stream starts with one of `prefixes` and that were last set before
   * `before`. Cursor rows of other streams (pull positions, replay ids) are never touched.
   */
  streamRecords?: { prefixes: ReadonlyArray<string>; before: Date };
}

/** Rows removed by {@link CrmPrivacyStore.prune}. */
export interface CrmPruneCounts {
  syncLogs: number;
  auditEntries: number;
  streamRecords: number;
}

/** Keys of the suppression list (forgotten people whom a later push must not resurrect). */
export interface CrmSuppressionKeys {
  integrationId: string;
  /** Salted hashes of the person's keys (host id, email). */
  subjectHashes: ReadonlyArray<string>;
}

/** Erasure, audit, suppression and retention. */
export interface CrmPrivacyStore {
  /**
   * Delete every row that holds the person's data and scrub their values from stored log
   * details, in one transaction where the database has them. MUST leave other people's rows
   * untouched. Adapters on a database file SHOULD make the erased bytes unrecoverable from the
   * file (SQLite: `secure_delete`), and MUST say in their docs what they guarantee.
   */
  erase(target: CrmEraseTarget): Promise<CrmEraseCounts>;
  /** Append an audit entry; returns it with its id. */
  appendAudit(entry: CrmPrivacyAuditInput): Promise<CrmPrivacyAuditEntry>;
  /** An integration's audit entries, newest first. @default limit 100 */
  listAudit(integrationId: string, options?: { limit?: number }): Promise<CrmPrivacyAuditEntry[]>;
  /** Add hashes to the suppression list (idempotent). Suppressions are not pruned by retention. */
  suppress(keys: CrmSuppressionKeys): Promise<void>;
  /** Remove hashes from the suppression list (idempotent). */
  unsuppress(keys: CrmSuppressionKeys): Promise<void>;
  /** The subset of `subjectHashes` on the suppression list. */
  findSuppressed(keys: CrmSuppressionKeys): Promise<Set<string>>;
  /** Delete expired records as requested; returns how many of each went. */
  prune(request: CrmPruneRequest): Promise<CrmPruneCounts>;
}
