import { randomUUID } from 'node:crypto';
import { type CrmClock, systemClock } from '../core/clock.js';
import { CrmConfigurationError } from '../core/errors.js';
import { assertKnownOptions } from '../internal/options.js';
import {
  normaliseAuditInput,
  normaliseAuditListLimit,
  normaliseEraseTarget,
  normalisePruneRequest,
  normaliseSuppressionKeys,
  scrubDetails,
} from './internal/privacy.js';
import {
  checkCursorArgs,
  checkLease,
  checkLeaseArgs,
  compareCodePoints,
  jsonCopy,
  type NormalisedStatusRow,
  normaliseIntegrationInput,
  normaliseListOptions,
  normaliseLogCompletion,
  normaliseLogListLimit,
  normaliseLogStart,
  normaliseManyKeys,
  normalisePatch,
  normaliseStatusRows,
  statusKey,
  storageError,
} from './internal/validate.js';
import type {
  CrmEraseCounts,
  CrmEraseTarget,
  CrmPrivacyAuditEntry,
  CrmPrivacyAuditInput,
  CrmPrivacyStore,
  CrmPruneCounts,
  CrmPruneRequest,
  CrmSuppressionKeys,
} from './privacy.js';
import type {
  CrmCursorStore,
  CrmIntegration,
  CrmIntegrationInput,
  CrmIntegrationPatch,
  CrmIntegrationStore,
  CrmIntegrationUpdateOptions,
  CrmLease,
  CrmLeaseStore,
  CrmStorage,
  CrmSyncLog,
  CrmSyncLogCompletion,
  CrmSyncLogStart,
  CrmSyncLogStore,
  CrmSyncStatusKey,
  CrmSyncStatusListOptions,
  CrmSyncStatusManyCrmIds,
  CrmSyncStatusManyKeys,
  CrmSyncStatusRow,
  CrmSyncStatusStore,
} from './types.js';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Source of "now" for timestamps and lease expiry; inject one to control time in tests.
   * @default the system clock
   */
  clock?: CrmClock;
}

interface StoredIntegration extends CrmIntegration {
  seq: number;
}

interface StoredLog extends CrmSyncLog {
  seq: number;
}

interface State {
  closed: boolean;
  seq: number;
  integrations: Map<string, StoredIntegration>;
  logs: Map<string, StoredLog>;
  status: Map<string, NormalisedStatusRow>;
  /** integrationId → set of status keys, so per-integration scans and cascades avoid a full sweep. */
  statusByIntegration: Map<string, Set<string>>;
  /**
   * (integrationId, entityType, crmId) → status keys of the rows with that CRM id, kept in step
   * with `status` on every write and delete, so `getByCrmId` is a lookup, not a scan (a pull calls
   * it once per record). Usually one key; several only after a merge in the CRM.
   */
  statusByCrmId: Map<string, Set<string>>;
  cursors: Map<string, string>;
  /** Cursor key → when it was last set (for retention of dedupe and change-event records). */
  cursorTimes: Map<string, Date>;
  audit: Map<string, CrmPrivacyAuditEntry & { seq: number }>;
  /** integrationId → suppressed subject hashes. */
  suppressions: Map<string, Set<string>>;
  leases: Map<string, { token: string; expiresAt: Date }>;
}

/**
 * `CrmStorage` in process memory: for tests, examples and single-process hosts that do not need
 * durability. It behaves like the database adapters (it passes the same conformance suite):
 * values go in and come out as copies, JSON columns round-trip through JSON, strings sort by code
 * point. Leases only exclude callers within this process.
 *
 * @example
 * ```ts
 * const storage = new MemoryStorage();
 * const integration = await storage.integrations.create({
 *   userId: 'user-1', provider: 'salesforce', orgId: '00D000000000001',
 *   instanceUrl: 'https://example.my.salesforce.com', credentials: cipher.encrypt(tokens),
 * });
 * ```
 */
export class MemoryStorage implements CrmStorage {
  readonly integrations: CrmIntegrationStore;
  readonly syncLogs: CrmSyncLogStore;
  /** Includes the optional batch reads `getMany` and `getManyByCrmId`. */
  readonly syncStatus: Required<CrmSyncStatusStore>;
  readonly cursors: CrmCursorStore;
  readonly leases: CrmLeaseStore;
  readonly privacy: CrmPrivacyStore;
  readonly #state: State;

  /** @throws CrmConfigurationError for an unknown option or a clock without `now()`. */
  constructor(options: MemoryStorageOptions = {}) {
    assertKnownOptions('MemoryStorage', options, ['clock']);
    const clock = options.clock ?? systemClock;
    if (typeof clock.now !== 'function') {
      throw new CrmConfigurationError('MemoryStorage: `clock` must have a now() method', {
        details: { reason: 'invalid_option', option: 'clock' },
      });
    }
    const state: State = {
      closed: false,
      seq: 0,
      integrations: new Map(),
      logs: new Map(),
      status: new Map(),
      statusByIntegration: new Map(),
      statusByCrmId: new Map(),
      cursors: new Map(),
      cursorTimes: new Map(),
      audit: new Map(),
      suppressions: new Map(),
      leases: new Map(),
    };
    this.#state = state;
    const now = (): Date => new Date(clock.now().getTime());
    const open = (): void => {
      if (state.closed) throw storageError('closed', 'MemoryStorage: the storage was closed');
    };
    this.integrations = new MemoryIntegrations(state, now, open);
    this.syncLogs = new MemoryLogs(state, now, open);
    this.syncStatus = new MemoryStatus(state, open);
    this.cursors = new MemoryCursors(state, now, open);
    this.privacy = new MemoryPrivacy(state, now, open);
    this.leases = new MemoryLeases(state, now, open);
  }

  /** Drop all data. Idempotent; later calls on the stores throw `CrmStorageError` (`closed`). */
  async close(): Promise<void> {
    const s = this.#state;
    s.closed = true;
    s.integrations.clear();
    s.logs.clear();
    s.status.clear();
    s.statusByIntegration.clear();
    s.statusByCrmId.clear();
    s.cursors.clear();
    s.cursorTimes.clear();
    s.audit.clear();
    s.suppressions.clear();
    s.leases.clear();
  }
}

function copyIntegration(record: StoredIntegration): CrmIntegration {
  return {
    id: record.id,
    userId: record.userId,
    provider: record.provider,
    orgId: record.orgId,
    instanceUrl: record.instanceUrl,
    credentials: record.credentials,
    settings: jsonCopy(record.settings),
    providerSettings: jsonCopy(record.providerSettings),
    fieldMappings: jsonCopy(record.fieldMappings),
    syncEnabled: record.syncEnabled,
    lastSyncAt: record.lastSyncAt ? new Date(record.lastSyncAt.getTime()) : null,
    createdAt: new Date(record.createdAt.getTime()),
    updatedAt: new Date(record.updatedAt.getTime()),
  };
}

function copyLog(log: StoredLog): CrmSyncLog {
  return {
    id: log.id,
    integrationId: log.integrationId,
    syncType: log.syncType,
    entityType: log.entityType,
    entityCount: log.entityCount,
    successCount: log.successCount,
    errorCount: log.errorCount,
    startedAt: new Date(log.startedAt.getTime()),
    completedAt: log.completedAt ? new Date(log.completedAt.getTime()) : null,
    errorDetails: log.errorDetails === null ? null : jsonCopy(log.errorDetails),
  };
}

function copyStatus(row: NormalisedStatusRow): CrmSyncStatusRow {
  return {
    ...row,
    lastSyncedAt: row.lastSyncedAt ? new Date(row.lastSyncedAt.getTime()) : null,
    state: row.state === null ? null : jsonCopy(row.state),
  };
}

function crmIdKey(integrationId: string, entityType: string, crmId: string): string {
  return `${integrationId}\u0000${entityType}\u0000${crmId}`;
}

/** Drop `key` from the CRM id index entry of `row`, if the row has a CRM id. */
function unindexCrmId(state: State, key: string, row: NormalisedStatusRow): void {
  if (row.crmId === null) return;
  const index = crmIdKey(row.integrationId, row.entityType, row.crmId);
  const keys = state.statusByCrmId.get(index);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) state.statusByCrmId.delete(index);
}

function cursorKey(integrationId: string, stream: string): string {
  return `${integrationId}\u0000${stream}`;
}

class MemoryIntegrations implements CrmIntegrationStore {
  constructor(
    private readonly state: State,
    private readonly now: () => Date,
    private readonly open: () => void,
  ) {}

  private assertUnique(userId: string, provider: string, orgId: string, exceptId?: string): void {
    for (const other of this.state.integrations.values()) {
      if (
        other.id !== exceptId &&
        other.userId === userId &&
        other.provider === provider &&
        other.orgId === orgId
      ) {
        throw storageError(
          'duplicate',
          'MemoryStorage: an integration for this user, provider and org exists',
        );
      }
    }
  }

  async create(input: CrmIntegrationInput): Promise<CrmIntegration> {
    this.open();
    const values = normaliseIntegrationInput(input);
    this.assertUnique(values.userId, values.provider, values.orgId);
    const at = this.now();
    const record: StoredIntegration = {
      id: randomUUID(),
      ...values,
      createdAt: at,
      updatedAt: new Date(at.getTime()),
      seq: ++this.state.seq,
    };
    this.state.integrations.set(record.id, record);
    return copyIntegration(record);
  }

  async get(id: string): Promise<CrmIntegration | null> {
    this.open();
    const record = this.state.integrations.get(id);
    return record ? copyIntegration(record) : null;
  }

  async findByUser(userId: string, provider?: string): Promise<CrmIntegration[]> {
    this.open();
    return this.sorted().filter(
      (r) => r.userId === userId && (provider === undefined || r.provider === provider),
    );
  }

  async list(): Promise<CrmIntegration[]> {
    this.open();
    return this.sorted();
  }

  private sorted(): CrmIntegration[] {
    return [...this.state.integrations.values()]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq)
      .map(copyIntegration);
  }

  async update(
    id: string,
    patch: CrmIntegrationPatch,
    options: CrmIntegrationUpdateOptions = {},
  ): Promise<CrmIntegration> {
    this.open();
    const changes = normalisePatch(patch);
    const record = this.state.integrations.get(id);
    if (!record) throw storageError('not_found', 'MemoryStorage: integration not found', { details: { id } });
    if (options.expectedCredentials !== undefined && record.credentials !== options.expectedCredentials) {
      throw storageError('credentials_conflict', 'MemoryStorage: credentials changed since they were read', {
        details: { id },
      });
    }
    if (changes.orgId !== undefined) this.assertUnique(record.userId, record.provider, changes.orgId, id);
    Object.assign(record, changes, { updatedAt: this.now() });
    return copyIntegration(record);
  }

  async delete(id: string): Promise<void> {
    this.open();
    if (!this.state.integrations.delete(id)) return;
    for (const [logId, log] of this.state.logs) if (log.integrationId === id) this.state.logs.delete(logId);
    for (const key of this.state.statusByIntegration.get(id) ?? []) {
      const row = this.state.status.get(key);
      if (row) unindexCrmId(this.state, key, row);
      this.state.status.delete(key);
    }
    this.state.statusByIntegration.delete(id);
    const prefix = `${id}\u0000`;
    for (const key of this.state.cursors.keys()) {
      if (!key.startsWith(prefix)) continue;
      this.state.cursors.delete(key);
      this.state.cursorTimes.delete(key);
    }
    for (const [auditId, entry] of this.state.audit)
      if (entry.integrationId === id) this.state.audit.delete(auditId);
    this.state.suppressions.delete(id);
  }
}

class MemoryLogs implements CrmSyncLogStore {
  constructor(
    private readonly state: State,
    private readonly now: () => Date,
    private readonly open: () => void,
  ) {}

  async start(input: CrmSyncLogStart): Promise<CrmSyncLog> {
    this.open();
    const values = normaliseLogStart(input, this.now());
    const log: StoredLog = {
      id: randomUUID(),
      ...values,
      successCount: 0,
      errorCount: 0,
      completedAt: null,
      errorDetails: null,
      seq: ++this.state.seq,
    };
    this.state.logs.set(log.id, log);
    return copyLog(log);
  }

  async complete(id: string, completion: CrmSyncLogCompletion): Promise<CrmSyncLog> {
    this.open();
    const values = normaliseLogCompletion(completion, this.now());
    const log = this.state.logs.get(id);
    if (!log) throw storageError('not_found', 'MemoryStorage: sync log not found', { details: { id } });
    log.successCount = values.successCount;
    log.errorCount = values.errorCount;
    log.errorDetails = values.errorDetails;
    log.completedAt = values.completedAt;
    if (values.entityCount !== undefined) log.entityCount = values.entityCount;
    return copyLog(log);
  }

  async list(integrationId: string, options?: { limit?: number }): Promise<CrmSyncLog[]> {
    this.open();
    const limit = normaliseLogListLimit(options);
    return [...this.state.logs.values()]
      .filter((log) => log.integrationId === integrationId)
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.seq - a.seq)
      .slice(0, limit)
      .map(copyLog);
  }
}

class MemoryStatus implements CrmSyncStatusStore {
  constructor(
    private readonly state: State,
    private readonly open: () => void,
  ) {}

  async upsertMany(rows: ReadonlyArray<CrmSyncStatusRow>): Promise<void> {
    this.open();
    // Validate everything before writing anything, so a bad row leaves the batch unapplied.
    const normalised = normaliseStatusRows(rows);
    for (const row of normalised) {
      const key = statusKey(row);
      const previous = this.state.status.get(key);
      if (previous) unindexCrmId(this.state, key, previous);
      this.state.status.set(key, row);
      if (row.crmId !== null) {
        const index = crmIdKey(row.integrationId, row.entityType, row.crmId);
        let byCrm = this.state.statusByCrmId.get(index);
        if (!byCrm) {
          byCrm = new Set();
          this.state.statusByCrmId.set(index, byCrm);
        }
        byCrm.add(key);
      }
      let keys = this.state.statusByIntegration.get(row.integrationId);
      if (!keys) {
        keys = new Set();
        this.state.statusByIntegration.set(row.integrationId, keys);
      }
      keys.add(key);
    }
  }

  async get(key: CrmSyncStatusKey): Promise<CrmSyncStatusRow | null> {
    this.open();
    const row = this.state.status.get(statusKey(key));
    return row ? copyStatus(row) : null;
  }

  async getByCrmId(key: {
    integrationId: string;
    entityType: CrmSyncStatusRow['entityType'];
    crmId: string;
  }): Promise<CrmSyncStatusRow | null> {
    this.open();
    const found = this.findByCrmId(key.integrationId, key.entityType, key.crmId);
    return found ? copyStatus(found) : null;
  }

  async getMany(keys: CrmSyncStatusManyKeys): Promise<Map<string, CrmSyncStatusRow>> {
    this.open();
    const ids = normaliseManyKeys(keys, 'externalIds', keys?.externalIds);
    const out = new Map<string, CrmSyncStatusRow>();
    for (const externalId of ids) {
      const row = this.state.status.get(
        statusKey({ integrationId: keys.integrationId, entityType: keys.entityType, externalId }),
      );
      if (row) out.set(externalId, copyStatus(row));
    }
    return out;
  }

  async getManyByCrmId(keys: CrmSyncStatusManyCrmIds): Promise<Map<string, CrmSyncStatusRow>> {
    this.open();
    const ids = normaliseManyKeys(keys, 'crmIds', keys?.crmIds);
    const out = new Map<string, CrmSyncStatusRow>();
    for (const crmId of ids) {
      const row = this.findByCrmId(keys.integrationId, keys.entityType, crmId);
      if (row) out.set(crmId, copyStatus(row));
    }
    return out;
  }

  private findByCrmId(
    integrationId: string,
    entityType: string,
    crmId: string,
  ): NormalisedStatusRow | undefined {
    let found: NormalisedStatusRow | undefined;
    for (const k of this.state.statusByCrmId.get(crmIdKey(integrationId, entityType, crmId)) ?? []) {
      const row = this.state.status.get(k);
      // Several rows could claim one CRM id after a merge in the CRM; pick deterministically.
      if (row && (!found || compareCodePoints(row.externalId, found.externalId) < 0)) found = row;
    }
    return found;
  }

  async list(options: CrmSyncStatusListOptions): Promise<CrmSyncStatusRow[]> {
    this.open();
    const o = normaliseListOptions(options);
    const matches: NormalisedStatusRow[] = [];
    for (const k of this.state.statusByIntegration.get(o.integrationId) ?? []) {
      const row = this.state.status.get(k);
      if (!row) continue;
      if (o.status !== undefined && row.status !== o.status) continue;
      if (o.entityType !== undefined && row.entityType !== o.entityType) continue;
      if (o.after !== undefined && compareCodePoints(row.externalId, o.after) <= 0) continue;
      matches.push(row);
    }
    // Same externalId under two entity types: entityType breaks the tie, like the SQL adapters.
    matches.sort(
      (a, b) =>
        compareCodePoints(a.externalId, b.externalId) || compareCodePoints(a.entityType, b.entityType),
    );
    return matches.slice(0, o.limit).map(copyStatus);
  }
}

class MemoryCursors implements CrmCursorStore {
  constructor(
    private readonly state: State,
    private readonly now: () => Date,
    private readonly open: () => void,
  ) {}

  async get(integrationId: string, stream: string): Promise<string | null> {
    this.open();
    checkCursorArgs(integrationId, stream);
    return this.state.cursors.get(cursorKey(integrationId, stream)) ?? null;
  }

  async set(integrationId: string, stream: string, value: string): Promise<void> {
    this.open();
    checkCursorArgs(integrationId, stream, value);
    this.state.cursors.set(cursorKey(integrationId, stream), value);
    this.state.cursorTimes.set(cursorKey(integrationId, stream), this.now());
  }
}

class MemoryLeases implements CrmLeaseStore {
  constructor(
    private readonly state: State,
    private readonly now: () => Date,
    private readonly open: () => void,
  ) {}

  async acquire(key: string, ttlMs: number): Promise<CrmLease | null> {
    this.open();
    checkLeaseArgs(key, ttlMs);
    const now = this.now();
    const held = this.state.leases.get(key);
    if (held && held.expiresAt.getTime() > now.getTime()) return null;
    const lease = { token: randomUUID(), expiresAt: new Date(now.getTime() + ttlMs) };
    this.state.leases.set(key, lease);
    return { key, token: lease.token, expiresAt: new Date(lease.expiresAt.getTime()) };
  }

  async renew(lease: CrmLease, ttlMs: number): Promise<boolean> {
    this.open();
    checkLease(lease);
    checkLeaseArgs(lease.key, ttlMs);
    const held = this.state.leases.get(lease.key);
    // An expired lease nobody took is still ours: no one else can have run in between.
    if (!held || held.token !== lease.token) return false;
    held.expiresAt = new Date(this.now().getTime() + ttlMs);
    return true;
  }

  async release(lease: CrmLease): Promise<void> {
    this.open();
    checkLease(lease);
    const held = this.state.leases.get(lease.key);
    if (held && held.token === lease.token) this.state.leases.delete(lease.key);
  }
}

/** Which of `items` a retention rule removes: older than `before`, or beyond the newest `keepLatest` per group. */
function expired<T>(
  items: T[],
  rule: { before: Date | undefined; keepLatest: number | undefined },
  group: (item: T) => string,
  time: (item: T) => number,
  seq: (item: T) => number,
): T[] {
  const out = new Set<T>();
  const groups = new Map<string, T[]>();
  for (const item of items) {
    if (rule.before !== undefined && time(item) < rule.before.getTime()) out.add(item);
    const list = groups.get(group(item)) ?? [];
    list.push(item);
    groups.set(group(item), list);
  }
  if (rule.keepLatest !== undefined) {
    for (const list of groups.values()) {
      list.sort((a, b) => time(b) - time(a) || seq(b) - seq(a));
      for (const item of list.slice(rule.keepLatest)) out.add(item);
    }
  }
  return [...out];
}

class MemoryPrivacy implements CrmPrivacyStore {
  constructor(
    private readonly state: State,
    private readonly now: () => Date,
    private readonly open: () => void,
  ) {}

  async erase(target: CrmEraseTarget): Promise<CrmEraseCounts> {
    this.open();
    const t = normaliseEraseTarget(target);
    const externalIds = new Set(t.externalIds);
    const crmIds = new Set(t.crmIds);
    let statusRows = 0;
    const keys = this.state.statusByIntegration.get(t.integrationId) ?? new Set<string>();
    for (const key of [...keys]) {
      const row = this.state.status.get(key);
      if (!row || !(externalIds.has(row.externalId) || (row.crmId !== null && crmIds.has(row.crmId))))
        continue;
      unindexCrmId(this.state, key, row);
      this.state.status.delete(key);
      keys.delete(key);
      statusRows += 1;
    }
    let syncLogs = 0;
    for (const log of this.state.logs.values()) {
      if (log.integrationId !== t.integrationId || log.errorDetails === null) continue;
      const scrubbed = scrubDetails(log.errorDetails, t.values);
      if (!scrubbed.changed) continue;
      log.errorDetails = scrubbed.details;
      syncLogs += 1;
    }
    return { statusRows, syncLogs };
  }

  async appendAudit(entry: CrmPrivacyAuditInput): Promise<CrmPrivacyAuditEntry> {
    this.open();
    const values = normaliseAuditInput(entry, this.now());
    const stored = { id: randomUUID(), ...values, seq: ++this.state.seq };
    this.state.audit.set(stored.id, stored);
    return copyAudit(stored);
  }

  async listAudit(integrationId: string, options?: { limit?: number }): Promise<CrmPrivacyAuditEntry[]> {
    this.open();
    const limit = normaliseAuditListLimit(options);
    return [...this.state.audit.values()]
      .filter((entry) => entry.integrationId === integrationId)
      .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || b.seq - a.seq)
      .slice(0, limit)
      .map(copyAudit);
  }

  async suppress(keys: CrmSuppressionKeys): Promise<void> {
    this.open();
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    const set = this.state.suppressions.get(integrationId) ?? new Set<string>();
    for (const hash of hashes) set.add(hash);
    this.state.suppressions.set(integrationId, set);
  }

  async unsuppress(keys: CrmSuppressionKeys): Promise<void> {
    this.open();
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    const set = this.state.suppressions.get(integrationId);
    for (const hash of hashes) set?.delete(hash);
  }

  async findSuppressed(keys: CrmSuppressionKeys): Promise<Set<string>> {
    this.open();
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    const set = this.state.suppressions.get(integrationId);
    return new Set(hashes.filter((hash) => set?.has(hash)));
  }

  async prune(request: CrmPruneRequest): Promise<CrmPruneCounts> {
    this.open();
    const r = normalisePruneRequest(request);
    const inScope = (integrationId: string) =>
      r.integrationId === undefined || r.integrationId === integrationId;
    const counts: CrmPruneCounts = { syncLogs: 0, auditEntries: 0, streamRecords: 0 };
    if (r.syncLogs) {
      const logs = [...this.state.logs.values()].filter((log) => inScope(log.integrationId));
      for (const log of expired(
        logs,
        r.syncLogs,
        (l) => l.integrationId,
        (l) => l.startedAt.getTime(),
        (l) => l.seq,
      )) {
        this.state.logs.delete(log.id);
        counts.syncLogs += 1;
      }
    }
    if (r.auditEntries) {
      const entries = [...this.state.audit.values()].filter((e) => inScope(e.integrationId));
      for (const entry of expired(
        entries,
        r.auditEntries,
        (e) => e.integrationId,
        (e) => e.occurredAt.getTime(),
        (e) => e.seq,
      )) {
        this.state.audit.delete(entry.id);
        counts.auditEntries += 1;
      }
    }
    if (r.streamRecords) {
      const { prefixes, before } = r.streamRecords;
      for (const [key, at] of this.state.cursorTimes) {
        const [integrationId = '', stream = ''] = key.split('\u0000');
        if (!inScope(integrationId) || !prefixes.some((p) => stream.startsWith(p))) continue;
        if (at.getTime() >= before.getTime()) continue;
        this.state.cursors.delete(key);
        this.state.cursorTimes.delete(key);
        counts.streamRecords += 1;
      }
    }
    return counts;
  }
}

function copyAudit(entry: CrmPrivacyAuditEntry): CrmPrivacyAuditEntry {
  return {
    id: entry.id,
    integrationId: entry.integrationId,
    action: entry.action,
    subjectHash: entry.subjectHash,
    reason: entry.reason,
    occurredAt: new Date(entry.occurredAt.getTime()),
    outcome: jsonCopy(entry.outcome),
  };
}
