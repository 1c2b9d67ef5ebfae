import { throwIfAborted } from '../core/errors.js';
import type { CrmContact } from '../core/models.js';
import type { CrmSyncStatusRow } from '../storage/types.js';
import { fromCrmStatusRow, mergeContactFields } from './contact-merge.js';
import { stableEqual } from './content-hash.js';
import { getStatusRows, getStatusRowsByCrmId, type SyncRunContext, yieldToEventLoop } from './context.js';
import { readPath, type SyncHostRecord } from './mapping.js';
import { progressOf, type SyncProgress } from './push.js';
import { type ContactSyncState, readContactState, type SyncFieldConflict } from './state.js';

/** A CRM-side contact change handed to the host's `apply`. */
export interface SyncPulledContact {
  /** CRM id. */
  crmId: string;
  /** Host id when known (synced before, or carried by the CRM record); `null` for a contact new to the host. */
  externalId: string | null;
  /** True when the engine has no record of this contact: the host should create it. */
  isNew: boolean;
  /** The CRM record as received. */
  contact: CrmContact;
  /**
   * What the host should write, keyed by host field path, after the three-way merge: only fields
   * whose merged value differs from the host's. For a new contact, every mapped field the CRM has.
   */
  changes: Record<string, unknown>;
  /** Fields left untouched because the conflict could not be resolved. */
  conflicts: SyncFieldConflict[];
}

/** A CRM-side deletion handed to `apply`. */
export interface SyncPulledDeletion {
  crmId: string;
  /** Host id when known. */
  externalId: string | null;
}

/** One batch for the host's `apply`. */
export interface SyncPullBatch {
  upserted: SyncPulledContact[];
  deleted: SyncPulledDeletion[];
}

/**
 * What `apply` may return: host ids it assigned to contacts new to it (`crmId → externalId`), so
 * the engine tracks them from now on.
 */
export interface SyncApplyResult {
  externalIds?: Record<string, string>;
}

/** Options of `SyncEngine.pullContacts`. */
export interface SyncPullOptions {
  /**
   * Writes a batch to the host database. The cursor advances only after it resolves; if it throws,
   * the run ends and the same changes are delivered again next time (at least once).
   */
  apply: (
    batch: SyncPullBatch,
    context: { signal: AbortSignal },
    // biome-ignore lint/suspicious/noConfusingVoidType: lets hosts pass any `async` function returning nothing.
  ) => Promise<SyncApplyResult | undefined | void>;
  /**
   * Reads the host's current version of contacts, for the three-way merge. Without it the engine
   * assumes the host still holds the values it last synced, so CRM changes always apply.
   */
  getHostContacts?: (
    externalIds: string[],
    context: { signal: AbortSignal },
  ) => Promise<Iterable<SyncHostRecord> | AsyncIterable<SyncHostRecord>>;
  /**
   * Host record field holding its last modification time (a `Date` or ISO string), for `newest_wins`.
   * @default 'lastModifiedAt'
   */
  hostModifiedAtField?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  /** @default 'manual' */
  syncType?: import('../storage/types.js').CrmSyncType;
}

interface Prepared {
  delivered: SyncPulledContact[];
  deleted: SyncPulledDeletion[];
  /** Rows to write once apply succeeded, keyed by CRM id (new contacts get their host id later). */
  rows: Array<{ crmId: string; row: Omit<CrmSyncStatusRow, 'externalId'> & { externalId: string | null } }>;
}

/**
 * Contacts delivered as new that the host gave no id (so no status row tracks them), by CRM id →
 * `lastModifiedAt`: lets a re-delivery from the provider's lookback window be recognised.
 * Entries older than {@link UNLINKED_LEDGER_WINDOW_MS} before the newest are dropped.
 */
type UnlinkedLedger = Record<string, string>;
/** Longer than any provider lookback (the Salesforce provider allows at most 24 hours). */
const UNLINKED_LEDGER_WINDOW_MS = 24 * 60 * 60_000;
const ledgerStream = (stream: string) => `${stream}:unlinked`;

function parseLedger(value: string | null): UnlinkedLedger {
  if (!value) return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as UnlinkedLedger) : {};
  } catch {
    return {};
  }
}

function pruneLedger(ledger: UnlinkedLedger): UnlinkedLedger {
  const stamps = Object.values(ledger);
  if (stamps.length === 0) return ledger;
  // biome-ignore lint/complexity/useMathMinMax: ISO-8601 strings compare in time order; Math.max would give NaN.
  const newest = stamps.reduce((a, b) => (a > b ? a : b));
  const floor = new Date(Date.parse(newest) - UNLINKED_LEDGER_WINDOW_MS).toISOString();
  return Object.fromEntries(Object.entries(ledger).filter(([, stamp]) => stamp >= floor));
}

/** Pull loop: read changes from the stored cursor, merge, apply, persist, then advance the cursor. */
export async function runPull(ctx: SyncRunContext, stream: string, options: SyncPullOptions): Promise<void> {
  const report = ctx.report.report;
  const cursor = await ctx.storage.cursors.get(ctx.integrationId, stream);
  let ledger = parseLedger(await ctx.storage.cursors.get(ctx.integrationId, ledgerStream(stream)));
  const usageAtStart = ctx.provider.apiUsage?.used;
  let pages = 0;
  const countCalls = () => {
    const used = ctx.provider.apiUsage?.used;
    report.apiCalls = used !== undefined && usageAtStart !== undefined ? used - usageAtStart : pages;
  };
  for await (const batch of ctx.provider.listContactChanges(cursor, { signal: ctx.signal })) {
    pages += 1;
    countCalls();
    await yieldToEventLoop();
    throwIfAborted(ctx.signal);
    const prepared = await prepare(ctx, batch.upserted, batch.deleted, options, ledger);
    let linked: Record<string, string> = {};
    if (prepared.delivered.length > 0 || prepared.deleted.length > 0) {
      const result = await options.apply(
        { upserted: prepared.delivered, deleted: prepared.deleted },
        { signal: ctx.signal },
      );
      linked = result?.externalIds || {};
    }
    const rows: CrmSyncStatusRow[] = [];
    let ledgerChanged = false;
    for (const { crmId, row } of prepared.rows) {
      const externalId = linked[crmId] ?? row.externalId ?? null;
      if (externalId === null) {
        const stamp = readContactState(row.state).crmModifiedAt;
        if (stamp) {
          ledger[crmId] = stamp;
          ledgerChanged = true;
        }
        continue;
      }
      if (ledger[crmId] !== undefined) {
        delete ledger[crmId];
        ledgerChanged = true;
      }
      const state = readContactState(row.state);
      rows.push({ ...row, externalId, contentHash: ctx.mapper.hash(externalId, state.fields) });
    }
    if (rows.length > 0) await ctx.storage.syncStatus.upsertMany(rows);
    if (ledgerChanged) {
      ledger = pruneLedger(ledger);
      await ctx.storage.cursors.set(ctx.integrationId, ledgerStream(stream), JSON.stringify(ledger));
    }
    // Only now is the batch durable on both sides: a crash before this line re-delivers it.
    await ctx.storage.cursors.set(ctx.integrationId, stream, batch.cursor);
    options.onProgress?.(progressOf(report));
    const over = ctx.budget.check(ctx.provider.apiUsage, report.apiCalls, 1);
    if (over !== null) {
      ctx.report.stop('api_budget', over);
      return;
    }
  }
  countCalls();
}

async function prepare(
  ctx: SyncRunContext,
  upserted: CrmContact[],
  deleted: string[],
  options: SyncPullOptions,
  ledger: UnlinkedLedger = {},
): Promise<Prepared> {
  const report = ctx.report.report;
  const now = ctx.clock.now();
  const out: Prepared = { delivered: [], deleted: [], rows: [] };

  // A page may repeat a record (overlap at the cursor edge): keep its latest version.
  const latest = new Map<string, CrmContact>();
  for (const contact of upserted) {
    if (!contact.id) {
      report.processed += 1;
      continue;
    }
    const seen = latest.get(contact.id);
    if (seen) report.redelivered += 1;
    else report.processed += 1;
    if (!seen || time(contact.lastModifiedAt) >= time(seen.lastModifiedAt)) latest.set(contact.id, contact);
  }
  // A re-delivery (the provider's feed is at least once) is dropped silently: not processed again.
  const redelivery = () => {
    report.processed -= 1;
    report.redelivered += 1;
  };
  const contacts = [...latest.values()];
  const deletedIds = [...new Set(deleted)];
  // One status read for the whole page (upserts and deletions alike): nothing is written before
  // apply, so reading them together sees exactly what separate reads would.
  const byCrmId = await getStatusRowsByCrmId(
    ctx,
    [...contacts.map((c) => c.id as string), ...deletedIds].map((crmId) => ({
      integrationId: ctx.integrationId,
      entityType: 'contact' as const,
      crmId,
    })),
  );
  const rows = byCrmId.slice(0, contacts.length);
  const deletions = byCrmId.slice(contacts.length);
  // A contact not tracked under its CRM id may still be tracked under the host id it carries.
  const unlinked = contacts.flatMap((contact, index) =>
    rows[index] == null && contact.externalId ? [{ index, externalId: contact.externalId }] : [],
  );
  if (unlinked.length > 0) {
    const byExternalId = await getStatusRows(
      ctx,
      unlinked.map(({ externalId }) => ({
        integrationId: ctx.integrationId,
        entityType: 'contact',
        externalId,
      })),
    );
    unlinked.forEach(({ index }, i) => {
      rows[index] = byExternalId[i] ?? null;
    });
  }

  const hostRecords = new Map<string, SyncHostRecord>();
  if (options.getHostContacts) {
    const ids = rows.flatMap((r) => (r ? [r.externalId] : []));
    if (ids.length > 0) {
      for await (const record of await options.getHostContacts(ids, { signal: ctx.signal })) {
        const id = ctx.mapper.hostId(record);
        if (id !== null) hostRecords.set(id, record);
      }
    }
  }
  const modifiedField = options.hostModifiedAtField ?? 'lastModifiedAt';

  contacts.forEach((contact, index) => {
    const crmId = contact.id as string;
    const row = rows[index] ?? null;
    const state = readContactState(row?.state);
    const crmStamp = contact.lastModifiedAt?.toISOString();
    if (row && crmStamp && state.crmModifiedAt && crmStamp < state.crmModifiedAt) {
      // Older than what was already applied: a re-delivery from the cursor's lookback window.
      redelivery();
      return;
    }
    if (!row && crmStamp && !contact.externalId && ledger[crmId] === crmStamp) {
      // Delivered as new before, untracked because the host returned no id for it.
      redelivery();
      return;
    }
    const externalId = row?.externalId ?? contact.externalId ?? null;
    const host = externalId !== null ? hostRecords.get(externalId) : undefined;
    const hostValues = host ? ctx.mapper.hostValues(host) : undefined;
    const hostModifiedAt = host ? toDate(readPath(host, modifiedField)) : null;
    const previousConflicts = new Map((state.conflicts ?? []).map((c) => [c.crmField, c]));
    const { normalized, raw } = ctx.mapper.fromCrm(contact);
    const isNew = row === null;
    const { changes, conflicts, nextFields } = mergeContactFields(ctx, {
      offers: Object.entries(normalized).map(([crmField, crmValue]) => ({
        crmField,
        crmValue,
        raw: raw[crmField],
      })),
      baseFields: state.fields,
      hostValues,
      previousConflicts,
      hostModifiedAt,
      crmModifiedAt: contact.lastModifiedAt ?? null,
      isNew,
      now,
    });

    const changed = Object.keys(changes).length > 0;
    if (!changed && conflicts.length === 0 && !isNew) {
      const same = stableEqual(nextFields, state.fields) && row?.status !== 'conflict';
      if (same && crmStamp !== undefined && crmStamp === state.crmModifiedAt) {
        // The version already applied, read again (same stamp, same values).
        redelivery();
        return;
      }
      // An echo of the engine's own write, or a change that leaves the host as it is.
      report.unchanged += 1;
      if (same) return;
    } else {
      if (isNew) report.created += 1;
      else if (changed) report.updated += 1;
      if (conflicts.length > 0) report.conflicts += 1;
      out.delivered.push({ crmId, externalId, isNew, contact, changes, conflicts });
    }
    const nextState: ContactSyncState = { ...state, fields: nextFields };
    if (crmStamp) {
      nextState.crmModifiedAt = crmStamp;
      // A complete CRM state supersedes any per-field stamps of earlier partial events.
      nextState.crmSnapshotAt = crmStamp;
      delete nextState.crmFieldModifiedAt;
    }
    delete nextState.retry;
    if (conflicts.length > 0) nextState.conflicts = conflicts;
    else delete nextState.conflicts;
    out.rows.push({
      crmId,
      row: fromCrmStatusRow(ctx, { externalId, crmId, conflicts, state: nextState, now }),
    });
  });

  deletedIds.forEach((crmId, index) => {
    const row = deletions[index] ?? null;
    if (row?.status === 'deleted') {
      report.redelivered += 1;
      return;
    }
    report.processed += 1;
    report.deleted += 1;
    out.deleted.push({ crmId, externalId: row?.externalId ?? null });
    if (row) {
      out.rows.push({
        crmId,
        row: { ...row, status: 'deleted', direction: 'from_crm', lastSyncedAt: now, lastError: null },
      });
    }
  });
  return out;
}

function time(date: Date | undefined): number {
  return date ? date.getTime() : 0;
}

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

/** Options of `SyncEngine.reconcileContacts`. */
export interface SyncReconcileOptions {
  /** Receives the deletions found (`upserted` is always empty). */
  apply: SyncPullOptions['apply'];
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  /** @default 'scheduled' */
  syncType?: import('../storage/types.js').CrmSyncType;
}

/**
 * Full reconcile: scan every CRM contact, then treat each synced record whose CRM id was not seen
 * as deleted. Deletions are decided only after the scan completed: a scan cut short (abort, budget,
 * error) deletes nothing, since "not seen yet" is not "gone".
 */
export async function runReconcile(ctx: SyncRunContext, options: SyncReconcileOptions): Promise<void> {
  const report = ctx.report.report;
  const seen = new Set<string>();
  const usageAtStart = ctx.provider.apiUsage?.used;
  let pages = 0;
  for await (const batch of ctx.provider.listContactChanges(null, { signal: ctx.signal })) {
    pages += 1;
    const used = ctx.provider.apiUsage?.used;
    report.apiCalls = used !== undefined && usageAtStart !== undefined ? used - usageAtStart : pages;
    await yieldToEventLoop();
    throwIfAborted(ctx.signal);
    for (const contact of batch.upserted) if (contact.id) seen.add(contact.id);
    report.processed += batch.upserted.length;
    options.onProgress?.(progressOf(report));
    const over = ctx.budget.check(ctx.provider.apiUsage, report.apiCalls, 1);
    if (over !== null) {
      ctx.report.stop('api_budget', `${over}; the scan is incomplete, so nothing was deleted`);
      return;
    }
  }
  let after: string | undefined;
  for (;;) {
    throwIfAborted(ctx.signal);
    const rows = await ctx.storage.syncStatus.list({
      integrationId: ctx.integrationId,
      entityType: 'contact',
      limit: ctx.batchSize,
      ...(after === undefined ? {} : { after }),
    });
    if (rows.length === 0) return;
    after = rows[rows.length - 1]?.externalId;
    const gone = rows.filter((r) => r.crmId !== null && r.status !== 'deleted' && !seen.has(r.crmId));
    if (gone.length > 0) {
      await options.apply(
        { upserted: [], deleted: gone.map((r) => ({ crmId: r.crmId as string, externalId: r.externalId })) },
        { signal: ctx.signal },
      );
      const now = ctx.clock.now();
      await ctx.storage.syncStatus.upsertMany(
        gone.map((r) => ({
          ...r,
          status: 'deleted' as const,
          direction: 'from_crm' as const,
          lastSyncedAt: now,
        })),
      );
      report.deleted += gone.length;
      options.onProgress?.(progressOf(report));
    }
    if (rows.length < ctx.batchSize) return;
  }
}
