import type { CrmChangeEvent, CrmChangeEventFields } from '../core/change-event.js';
import { isWildcardCrmId } from '../core/change-event.js';
import type { CrmContact } from '../core/models.js';
import { CLEARABLE_CONTACT_FIELDS, CONTACT_DATA_FIELDS } from '../internal/contact-fields.js';
import type { CrmSyncStatusRow, CrmSyncType } from '../storage/types.js';
import { fromCrmStatusRow, mergeContactFields } from './contact-merge.js';
import { getStatusRowsByCrmId, type SyncRunContext } from './context.js';
import { normalizeFieldValue, readPath, type SyncHostRecord } from './mapping.js';
import { runPull, type SyncPulledContact, type SyncPulledDeletion, type SyncPullOptions } from './pull.js';
import { progressOf } from './push.js';
import { type ContactSyncState, readContactState, writeContactState } from './state.js';

/** Options of `SyncEngine.handleChangeEvent`: the same hooks as `pullContacts`. */
export interface SyncChangeEventOptions extends Omit<SyncPullOptions, 'syncType'> {
  /** Recorded in the sync log. @default 'webhook' */
  syncType?: CrmSyncType;
}

/** What the engine needs beyond the run context. */
export interface ChangeEventSettings {
  /** The engine's own client tag: events carrying it are echoes. */
  clientTag: string | undefined;
  /** Cursor stream of the incremental pull used to re-read records. */
  pullStream: string;
}

type PendingRow = Omit<CrmSyncStatusRow, 'externalId'> & { externalId: string | null };

/**
 * Applies one real-time change. Per record: drop it when it is not newer than what was applied
 * (duplicates, out-of-order deliveries), record only the time of echoes, otherwise three-way merge
 * the fields the event carries, hand the result to `apply`, then write status rows. Events that
 * carry no usable values (`resync`, wildcard ids, a partial update of a record the engine has never
 * seen) are re-read through an incremental pull from the engine's cursor, in the same run.
 */
export async function runChangeEvent(
  ctx: SyncRunContext,
  event: CrmChangeEvent,
  options: SyncChangeEventOptions,
  settings: ChangeEventSettings,
): Promise<void> {
  const report = ctx.report.report;
  const ids = [...new Set(event.crmIds)];
  if (event.entityType !== 'contact') {
    // The engine syncs contacts only; counted so the log shows the event was seen.
    report.processed += ids.length;
    report.unchanged += ids.length;
    return;
  }
  if (event.kind === 'resync' || ids.length === 0 || ids.some(isWildcardCrmId)) {
    await runPull(ctx, settings.pullStream, options);
    return;
  }
  const stamp = event.changedAt.toISOString();
  const echo = settings.clientTag !== undefined && event.origin === settings.clientTag;
  const now = ctx.clock.now();
  const fields = event.fields ?? {};
  const externalIdInEvent =
    typeof fields.externalId === 'string' && fields.externalId !== '' ? fields.externalId : null;

  const rows = await getStatusRowsByCrmId(
    ctx,
    ids.map((crmId) => ({ integrationId: ctx.integrationId, entityType: 'contact' as const, crmId })),
  );
  // The host id in the event's fields belongs to its record only when the event names one.
  if (ids.length === 1 && rows[0] == null && externalIdInEvent !== null) {
    rows[0] = await ctx.storage.syncStatus.get({
      integrationId: ctx.integrationId,
      entityType: 'contact',
      externalId: externalIdInEvent,
    });
  }

  const merging = !echo && (event.kind === 'upsert' || event.kind === 'undelete');
  const hostRecords = new Map<string, SyncHostRecord>();
  if (merging && options.getHostContacts) {
    const hostIds = rows.flatMap((r) => (r ? [r.externalId] : []));
    if (hostIds.length > 0) {
      for await (const record of await options.getHostContacts(hostIds, { signal: ctx.signal })) {
        const id = ctx.mapper.hostId(record);
        if (id !== null) hostRecords.set(id, record);
      }
    }
  }
  const modifiedField = options.hostModifiedAtField ?? 'lastModifiedAt';
  const present = presentCrmFields(ctx, fields);

  const delivered: SyncPulledContact[] = [];
  const deleted: SyncPulledDeletion[] = [];
  const pending: Array<{ crmId: string; row: PendingRow }> = [];
  let needsPull = false;

  ids.forEach((crmId, index) => {
    report.processed += 1;
    const row = rows[index] ?? null;
    const state = readContactState(row?.state);
    const snapshot = state.crmSnapshotAt ?? (state.crmFieldModifiedAt ? undefined : state.crmModifiedAt);
    const partial = event.partial && event.kind === 'upsert';
    // Fields this event may still change: for a partial update, those no newer event changed;
    // for a complete state, all of them, but only if it is newer than anything applied.
    const wholeRecordNewer = !row || newer(stamp, state.crmModifiedAt);
    const applicable = partial
      ? [...present.keys()].filter((f) => newer(stamp, maxStamp(snapshot, state.crmFieldModifiedAt?.[f])))
      : wholeRecordNewer
        ? [...present.keys()]
        : [];
    const fresh = partial ? applicable.length > 0 || !row : wholeRecordNewer;
    if (!fresh) {
      // A duplicate, or older than what was applied: never let it regress the host.
      report.unchanged += 1;
      return;
    }
    const nextState: ContactSyncState = { ...state };
    const stampState = () => {
      if (!newer(stamp, state.crmModifiedAt)) return;
      nextState.crmModifiedAt = stamp;
    };

    if (echo) {
      // The engine's own write coming back: the host already has it. Remember its time so an
      // older delivery cannot be applied after it.
      report.unchanged += 1;
      if (!row) return;
      stampState();
      if (partial) stampFields(nextState, snapshot, applicable, stamp);
      else nextState.crmSnapshotAt = stamp;
      pending.push({ crmId, row: { ...row, state: writeContactState(nextState) } });
      return;
    }

    if (event.kind === 'delete') {
      if (row?.status === 'deleted') {
        report.unchanged += 1;
        return;
      }
      report.deleted += 1;
      deleted.push({ crmId, externalId: row?.externalId ?? null });
      if (row) {
        stampState();
        pending.push({
          crmId,
          row: {
            ...row,
            status: 'deleted',
            direction: 'from_crm',
            lastSyncedAt: now,
            lastError: null,
            state: writeContactState(nextState),
          },
        });
      }
      return;
    }

    if (!row && (partial || typeof fields.email !== 'string' || fields.email === '')) {
      // Unknown to the engine and the event does not hold the whole record: re-read it (the pull
      // counts it).
      report.processed -= 1;
      needsPull = true;
      return;
    }

    const externalId = row?.externalId ?? externalIdInEvent;
    const host = externalId !== null ? hostRecords.get(externalId) : undefined;
    const hostValues = host ? ctx.mapper.hostValues(host) : undefined;
    const hostModifiedAt = host ? toDate(readPath(host, modifiedField)) : null;
    const previousConflicts = new Map((state.conflicts ?? []).map((c) => [c.crmField, c]));
    const isNew = row === null;
    const { changes, conflicts, nextFields } = mergeContactFields(ctx, {
      offers: applicable.map((crmField) => {
        const raw = present.get(crmField);
        return {
          crmField,
          crmValue: normalizeFieldValue(raw, ctx.mapper.ruleFor(crmField).fieldType),
          raw: raw ?? null,
        };
      }),
      baseFields: state.fields,
      hostValues,
      previousConflicts,
      hostModifiedAt,
      crmModifiedAt: event.changedAt,
      isNew,
      now,
    });
    // Conflicts on fields this event did not touch stay recorded.
    for (const [crmField, conflict] of previousConflicts) {
      if (!present.has(crmField)) conflicts.push(conflict);
    }

    stampState();
    if (partial) {
      stampFields(nextState, snapshot, applicable, stamp);
    } else {
      nextState.crmSnapshotAt = stamp;
      delete nextState.crmFieldModifiedAt;
    }
    nextState.fields = nextFields;
    delete nextState.retry;
    if (conflicts.length > 0) nextState.conflicts = conflicts;
    else delete nextState.conflicts;

    const changed = Object.keys(changes).length > 0;
    const restored = row?.status === 'deleted';
    if (!changed && conflicts.length === 0 && !isNew && !restored) {
      report.unchanged += 1;
    } else {
      if (isNew || restored) report.created += 1;
      else if (changed) report.updated += 1;
      if (conflicts.length > 0) report.conflicts += 1;
      delivered.push({
        crmId,
        externalId,
        isNew,
        contact: eventContact(crmId, externalId, fields, nextFields, event.changedAt),
        changes,
        conflicts,
      });
    }
    pending.push({
      crmId,
      row: fromCrmStatusRow(ctx, { externalId, crmId, conflicts, state: nextState, now }),
    });
  });

  let linked: Record<string, string> = {};
  if (delivered.length > 0 || deleted.length > 0) {
    const result = await options.apply({ upserted: delivered, deleted }, { signal: ctx.signal });
    linked = result?.externalIds || {};
  }
  const out: CrmSyncStatusRow[] = [];
  for (const { crmId, row } of pending) {
    const externalId = linked[crmId] ?? row.externalId ?? null;
    if (externalId === null) continue;
    const state = readContactState(row.state);
    const contentHash =
      row.status === 'deleted' || (echo && row.contentHash !== null)
        ? row.contentHash
        : ctx.mapper.hash(externalId, state.fields);
    out.push({ ...row, externalId, contentHash });
  }
  if (out.length > 0) await ctx.storage.syncStatus.upsertMany(out);
  options.onProgress?.(progressOf(report));
  if (needsPull) await runPull(ctx, settings.pullStream, options);
}

/** CRM field name → raw CRM value of every mapped, CRM-readable field present in the event. */
function presentCrmFields(ctx: SyncRunContext, fields: CrmChangeEventFields): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const rule of ctx.mapper.rules) {
    if (rule.direction === 'to_crm') continue;
    if (CONTACT_DATA_FIELDS.has(rule.crmField)) {
      const value = (fields as Record<string, unknown>)[rule.crmField];
      if (value !== undefined) out.set(rule.crmField, value);
    } else if (fields.customFields && Object.hasOwn(fields.customFields, rule.crmField)) {
      const value = fields.customFields[rule.crmField];
      if (value !== undefined) out.set(rule.crmField, value);
    }
  }
  return out;
}

function stampFields(
  state: ContactSyncState,
  snapshot: string | undefined,
  applied: string[],
  stamp: string,
): void {
  const stamps: Record<string, string> = { ...(state.crmFieldModifiedAt ?? {}) };
  for (const field of applied) stamps[field] = stamp;
  state.crmFieldModifiedAt = stamps;
  // Keep the snapshot readable once field stamps exist (rows written before snapshots existed).
  if (snapshot !== undefined && state.crmSnapshotAt === undefined) state.crmSnapshotAt = snapshot;
}

/** `a` later than `b` (ISO strings of the same format compare as times); anything beats nothing. */
function newer(a: string, b: string | undefined): boolean {
  return b === undefined || a > b;
}

function maxStamp(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/** The contact handed to `apply`: the merge base overlaid with the event's values. */
function eventContact(
  crmId: string,
  externalId: string | null,
  fields: CrmChangeEventFields,
  base: Record<string, unknown>,
  changedAt: Date,
): CrmContact {
  const pick = (key: string): unknown => {
    const value = (fields as Record<string, unknown>)[key];
    return value !== undefined ? value : base[key];
  };
  const contact: Record<string, unknown> = {
    id: crmId,
    externalId: externalId ?? crmId,
    email: typeof pick('email') === 'string' ? pick('email') : '',
    tags: Array.isArray(fields.tags) ? [...fields.tags] : [],
    customFields: { ...(fields.customFields ?? {}) },
    lastModifiedAt: changedAt,
  };
  for (const key of CLEARABLE_CONTACT_FIELDS) {
    const value = pick(key);
    if (typeof value === 'string' && value !== '') contact[key] = value;
  }
  const optOut = pick('emailOptOut');
  if (typeof optOut === 'boolean') contact.emailOptOut = optOut;
  return contact as CrmContact;
}

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}
