import {
  CrmConfigurationError,
  CrmDataConversionError,
  CrmErrorReasons,
  CrmStorageError,
  CrmUnsupportedFeatureError,
  isCrmError,
} from '../core/errors.js';
import type { CrmSyncStatusRow } from '../storage/types.js';
import type { SyncRunContext } from './context.js';
import type { SyncMappedContact } from './mapping.js';
import { storedError } from './report.js';
import { readContactState, writeContactState } from './state.js';
import { addPendingWrite, type UncertainVerdict, verifyUncertainRecords } from './uncertain.js';

/**
 * Read back the chunk's records whose status is `uncertain` and settle each against what the CRM
 * holds; the verdicts are keyed by the record's index in `mapped`.
 */
export async function verifyUncertainRows(
  ctx: SyncRunContext,
  mapped: ReadonlyArray<SyncMappedContact>,
  rows: ReadonlyArray<CrmSyncStatusRow | null>,
  now: Date,
): Promise<Map<number, UncertainVerdict>> {
  const indexes: number[] = [];
  rows.forEach((row, i) => {
    if (row?.status === 'uncertain') indexes.push(i);
  });
  if (indexes.length === 0) return new Map();
  const verdicts = await verifyUncertainRecords(
    ctx,
    indexes.map((i) => {
      const record = mapped[i] as SyncMappedContact;
      const row = rows[i] as CrmSyncStatusRow;
      return {
        externalId: record.externalId,
        crmId: row.crmId,
        email: record.contact.email,
        state: readContactState(row.state).uncertain,
        current: { hash: record.hash, fields: record.fields },
      };
    }),
    now,
  );
  return new Map(indexes.map((index, i) => [index, verdicts[i] as UncertainVerdict]));
}

/**
 * The row of an uncertain record that needs no sending: `synced` when the CRM holds the host's
 * version and nothing else can land (counted in `verified`), still `uncertain` when it holds it
 * but an older write of other content may yet land. `null`: the record must be sent.
 */
export function settleUncertainRow(
  ctx: SyncRunContext,
  mapped: SyncMappedContact,
  row: CrmSyncStatusRow,
  verdict: UncertainVerdict,
  now: Date,
): CrmSyncStatusRow | null {
  if (!verdict.holdsCurrent) return null;
  const report = ctx.report.report;
  const state = readContactState(row.state);
  const next = { ...state, fields: { ...state.fields, ...mapped.fields } };
  delete next.retry;
  delete next.uncertain;
  if (verdict.outstanding) {
    next.uncertain = verdict.outstanding;
    report.uncertain += 1;
  } else {
    next.pushedAt = now.toISOString();
    report.verified += 1;
  }
  return {
    ...row,
    crmId: verdict.crmId ?? row.crmId,
    status: verdict.outstanding ? 'uncertain' : 'synced',
    direction: 'to_crm',
    contentHash: mapped.hash,
    lastSyncedAt: verdict.outstanding ? row.lastSyncedAt : now,
    lastError: verdict.outstanding ? row.lastError : null,
    state: writeContactState(next),
  };
}

/** The row an uncertain record is sent with: only the writes that can still land stay pending. */
export function pendingRow(row: CrmSyncStatusRow, verdict: UncertainVerdict): CrmSyncStatusRow {
  const state = readContactState(row.state);
  delete state.uncertain;
  if (verdict.outstanding) state.uncertain = verdict.outstanding;
  return { ...row, crmId: verdict.crmId ?? row.crmId, state: writeContactState(state) };
}

/**
 * A batch whose answer never came (abort, timeout, dropped connection, a failure after some of it
 * may have been processed): its records become `uncertain`, with the version sent kept for the
 * next run to read back. Errors raised before anything was sent (invalid input, configuration)
 * leave the rows alone. Written with `otherRows` (the chunk's other outcomes); a storage failure
 * here is logged, so the batch's own error is the one thrown.
 */
export async function recordUncertain(
  ctx: SyncRunContext,
  batch: ReadonlyArray<{ mapped: SyncMappedContact; row: CrmSyncStatusRow | null }>,
  otherRows: Map<string, CrmSyncStatusRow>,
  error: unknown,
  now: Date,
): Promise<void> {
  if (ctx.dryRun || !mayHaveLanded(error)) return;
  // The lease is gone: another worker may already hold it and be writing these rows; writing over
  // them could hide its confirmed results. Its own run reads the CRM's truth anyway.
  if (leaseLost(ctx.signal.reason)) return;
  const code = ctx.signal.aborted
    ? 'ABORTED'
    : isCrmError(error)
      ? (error.providerCode ?? error.code)
      : 'UNKNOWN';
  const rows = new Map(otherRows);
  for (const candidate of batch) {
    rows.set(candidate.mapped.externalId, uncertainRow(ctx, candidate, code, now));
    ctx.report.report.uncertain += 1;
  }
  try {
    await ctx.storage.syncStatus.upsertMany([...rows.values()]);
  } catch (storageError) {
    ctx.logger.error('could not record records whose write is uncertain', {
      count: batch.length,
      error: String(storageError),
    });
  }
}

/**
 * Per-record result codes that mean the provider never got an answer for the record (a batch lost
 * to a dropped connection or a timeout that the provider reported record by record instead of
 * throwing): its write may have landed.
 */
const UNKNOWN_OUTCOME_CODES: ReadonlySet<string> = new Set(['CONNECTION', 'TIMEOUT']);

/**
 * The `uncertain` row of a record whose per-record result says its write's outcome is unknown, or
 * `null` for any other result. Counted as failed for this run (with its code) and as uncertain.
 */
export function uncertainResultRow(
  ctx: SyncRunContext,
  candidate: { mapped: SyncMappedContact; row: CrmSyncStatusRow | null },
  result: { success: boolean; error?: { code: string; message: string } | undefined } | undefined,
  now: Date,
): CrmSyncStatusRow | null {
  if (ctx.dryRun || !result || result.success || !UNKNOWN_OUTCOME_CODES.has(result.error?.code ?? ''))
    return null;
  const { mapped } = candidate;
  const code = result.error?.code ?? 'CONNECTION';
  ctx.report.fail({
    externalId: mapped.externalId,
    code,
    message: result.error?.message ?? 'No answer for this record',
    retryable: true,
    attempts: 1,
    needsAttention: false,
  });
  ctx.report.report.uncertain += 1;
  return uncertainRow(ctx, candidate, code, now);
}

/** The `uncertain` status row of a record whose write may have landed: the version sent is kept. */
function uncertainRow(
  ctx: SyncRunContext,
  { mapped, row }: { mapped: SyncMappedContact; row: CrmSyncStatusRow | null },
  code: string,
  now: Date,
): CrmSyncStatusRow {
  const state = readContactState(row?.state);
  state.uncertain = addPendingWrite(
    state.uncertain,
    { hash: mapped.hash, fields: mapped.fields },
    now,
    ctx.uncertainSettleMs,
  );
  return {
    integrationId: ctx.integrationId,
    entityType: 'contact',
    externalId: mapped.externalId,
    crmId: row?.crmId ?? null,
    status: 'uncertain',
    direction: 'to_crm',
    contentHash: mapped.hash,
    lastSyncedAt: row?.lastSyncedAt ?? null,
    lastError: storedError(code, 'The write was sent but its answer never came', mapped.contact),
    state: writeContactState(state),
  };
}

function leaseLost(reason: unknown): boolean {
  return CrmStorageError.isInstance(reason) && reason.details?.reason === CrmErrorReasons.LEASE_LOST;
}

/** False for errors raised before anything was sent. */
function mayHaveLanded(error: unknown): boolean {
  return !(
    error instanceof CrmDataConversionError ||
    error instanceof CrmConfigurationError ||
    error instanceof CrmUnsupportedFeatureError
  );
}
