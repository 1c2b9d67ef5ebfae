import type { CrmClock } from '../core/clock.js';
import type { CrmConflictPolicy } from '../core/conflict-policy.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmProvider } from '../core/provider.js';
import { mapLimit } from '../internal/pool.js';
import type { CrmStorage, CrmSyncStatusKey, CrmSyncStatusRow } from '../storage/types.js';
import type { ApiBudgetGuard } from './api-budget.js';
import type { ContactFieldMapper } from './mapping.js';
import type { OpenJobLedger } from './open-jobs.js';
import type { SyncReportBuilder } from './report.js';
import type { RetryPlanner } from './retry-policy.js';

/** Everything one run needs; built by the engine for each run. Internal. */
export interface SyncRunContext {
  provider: CrmProvider;
  storage: CrmStorage;
  integrationId: string;
  mapper: ContactFieldMapper;
  policy: CrmConflictPolicy;
  retry: RetryPlanner;
  budget: ApiBudgetGuard;
  clock: CrmClock;
  logger: CrmLogger;
  batchSize: number;
  /** Most changed records handed to the provider in one `bulkSyncContacts` call. */
  maxRecordsPerCall: number;
  bulkMode: 'auto' | 'rest' | 'bulk';
  optOutFields: ReadonlySet<string>;
  lookupConcurrency: number;
  signal: AbortSignal;
  report: SyncReportBuilder;
  dryRun: boolean;
  /** How long a write whose answer never came may still land, ms (see `SyncEngineOptions.uncertainSettleMs`). */
  uncertainSettleMs: number;
  /** Server-side jobs this run has open, recorded so a killed run's jobs can be aborted. */
  openJobs: OpenJobLedger;
  /** Host ids among `records` whose person was forgotten (see `SyncEngine.forgetContact`). */
  forgotten?: (
    records: ReadonlyArray<{ externalId: string; email?: string | undefined }>,
  ) => Promise<Set<string>>;
}

/**
 * Status rows for many keys, in key order. Uses the storage's optional batch read `getMany` (one
 * call per integration and entity type) when it has one, else `get` per key.
 */
export async function getStatusRows(
  ctx: SyncRunContext,
  keys: ReadonlyArray<CrmSyncStatusKey>,
): Promise<Array<CrmSyncStatusRow | null>> {
  const status = ctx.storage.syncStatus;
  if (typeof status.getMany !== 'function') {
    return mapLimit(keys, ctx.lookupConcurrency, (key) => status.get(key));
  }
  const groups = new Map<
    string,
    { integrationId: string; entityType: CrmSyncStatusKey['entityType']; externalIds: string[] }
  >();
  for (const { integrationId, entityType, externalId } of keys) {
    const group = `${integrationId}\u0000${entityType}`;
    const entry = groups.get(group) ?? { integrationId, entityType, externalIds: [] };
    entry.externalIds.push(externalId);
    groups.set(group, entry);
  }
  const found = new Map<string, CrmSyncStatusRow>();
  for (const [group, entry] of groups) {
    for (const [externalId, row] of await status.getMany(entry))
      found.set(`${group}\u0000${externalId}`, row);
  }
  return keys.map((k) => found.get(`${k.integrationId}\u0000${k.entityType}\u0000${k.externalId}`) ?? null);
}

/** A status lookup by CRM id; the key of `syncStatus.getByCrmId`. */
export interface SyncStatusCrmKey {
  integrationId: string;
  entityType: CrmSyncStatusKey['entityType'];
  crmId: string;
}

/**
 * Status rows for many CRM ids, in key order. Uses the storage's optional batch read
 * `getManyByCrmId` (one call per integration and entity type) when it has one, else `getByCrmId`
 * per key. Both pick the row with the lowest externalId when several rows share a CRM id.
 */
export async function getStatusRowsByCrmId(
  ctx: SyncRunContext,
  keys: ReadonlyArray<SyncStatusCrmKey>,
): Promise<Array<CrmSyncStatusRow | null>> {
  const status = ctx.storage.syncStatus;
  if (typeof status.getManyByCrmId !== 'function') {
    return mapLimit(keys, ctx.lookupConcurrency, (key) => status.getByCrmId(key));
  }
  const groups = new Map<
    string,
    { integrationId: string; entityType: CrmSyncStatusKey['entityType']; crmIds: string[] }
  >();
  for (const { integrationId, entityType, crmId } of keys) {
    const group = `${integrationId}\u0000${entityType}`;
    const entry = groups.get(group) ?? { integrationId, entityType, crmIds: [] };
    entry.crmIds.push(crmId);
    groups.set(group, entry);
  }
  const found = new Map<string, CrmSyncStatusRow>();
  for (const [group, entry] of groups) {
    for (const [crmId, row] of await status.getManyByCrmId(entry)) found.set(`${group}\u0000${crmId}`, row);
  }
  return keys.map((k) => found.get(`${k.integrationId}\u0000${k.entityType}\u0000${k.crmId}`) ?? null);
}

/**
 * Let timers and I/O run. Called once per batch so the lease-renewal timer fires even when both
 * the provider and the storage answer synchronously (an in-memory double, SQLite).
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
