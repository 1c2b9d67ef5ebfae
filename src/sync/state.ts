import type { SyncFieldValues } from './mapping.js';
import type { SyncRetryState } from './retry-policy.js';
import { readUncertainState, type SyncUncertainState } from './uncertain.js';

/** A field changed on both sides that the policy could not settle, kept for review. */
export interface SyncFieldConflict {
  /** CRM-side field name. */
  crmField: string;
  /** Host field path. */
  hostField: string;
  /** Value at the last sync. */
  baseValue: unknown;
  hostValue: unknown;
  crmValue: unknown;
  /** ISO time the conflict was found. */
  detectedAt: string;
}

/**
 * The engine's JSON state in a status row (`CrmSyncStatusRow.state`). Versioned so later releases
 * can read rows written by earlier ones.
 */
export interface ContactSyncState {
  v: 1;
  /** Merge base: normalised value of each mapped field as both sides last agreed on it. */
  fields: SyncFieldValues;
  /**
   * ISO time of the newest CRM change applied to (or recognised as an echo for) this record, by a
   * pull or a change event: older deliveries are never applied over it.
   */
  crmModifiedAt?: string;
  /** ISO time of the last complete CRM state applied (a pull, a full change event). */
  crmSnapshotAt?: string;
  /**
   * ISO time of the last partial change event applied, per CRM field: a partial event delivered
   * out of order still applies the fields no newer event changed.
   */
  crmFieldModifiedAt?: Record<string, string>;
  /** ISO time of the last successful push. */
  pushedAt?: string;
  /** Retry bookkeeping of a failed record. */
  retry?: SyncRetryState;
  /** Unresolved conflicts. */
  conflicts?: SyncFieldConflict[];
  /** Writes whose answer never came, while the row's status is `uncertain`. */
  uncertain?: SyncUncertainState;
}

/** Read a row's state, tolerating rows written by hosts or older versions. */
export function readContactState(state: Record<string, unknown> | null | undefined): ContactSyncState {
  const fields =
    state && typeof state.fields === 'object' && state.fields !== null && !Array.isArray(state.fields)
      ? (state.fields as SyncFieldValues)
      : {};
  const out: ContactSyncState = { v: 1, fields: { ...fields } };
  if (state && typeof state.crmModifiedAt === 'string') out.crmModifiedAt = state.crmModifiedAt;
  if (state && typeof state.crmSnapshotAt === 'string') out.crmSnapshotAt = state.crmSnapshotAt;
  if (
    state &&
    typeof state.crmFieldModifiedAt === 'object' &&
    state.crmFieldModifiedAt !== null &&
    !Array.isArray(state.crmFieldModifiedAt)
  ) {
    out.crmFieldModifiedAt = { ...(state.crmFieldModifiedAt as Record<string, string>) };
  }
  if (state && typeof state.pushedAt === 'string') out.pushedAt = state.pushedAt;
  if (state && isRetryState(state.retry)) out.retry = state.retry;
  if (state && Array.isArray(state.conflicts)) out.conflicts = state.conflicts as SyncFieldConflict[];
  const uncertain = readUncertainState(state?.uncertain);
  if (uncertain) out.uncertain = uncertain;
  return out;
}

function isRetryState(value: unknown): value is SyncRetryState {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SyncRetryState).attempts === 'number' &&
    typeof (value as SyncRetryState).code === 'string'
  );
}

/** The state as the plain JSON object storage keeps. */
export function writeContactState(state: ContactSyncState): Record<string, unknown> {
  return JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
}
