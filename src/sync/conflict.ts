import type { CrmConflictPolicy } from '../core/conflict-policy.js';
import type { CrmSyncDirection } from '../core/models.js';
import { stableEqual } from './content-hash.js';
import { isBlank } from './mapping.js';

/** One field's three values, and what decides between them. */
export interface FieldMergeInput {
  /** Value both sides agreed on at the last sync (`null` when never synced). */
  base: unknown;
  /** Host's current value. */
  host: unknown;
  /** CRM's current value. */
  crm: unknown;
  /** The field mapping's direction; wins over the policy. */
  direction: CrmSyncDirection;
  /** The integration's policy for fields changed on both sides. */
  policy: CrmConflictPolicy;
  /** When the host record last changed (for `newest_wins`). */
  hostModifiedAt?: Date | null;
  /** When the CRM record last changed (for `newest_wins`). */
  crmModifiedAt?: Date | null;
  /** Email opt-out semantics: an opt-out (`true`) on either side wins over an opt-in. */
  stickyOptOut?: boolean;
}

/** Outcome of {@link mergeField}. */
export interface FieldMergeResult {
  /** The value the host should hold after the merge. */
  value: unknown;
  /** Which side the value came from. */
  source: 'host' | 'crm';
  /** The field changed on both sides to different values. */
  conflict: boolean;
  /** False when a conflict could not be decided (`newest_wins` without usable timestamps). */
  resolved: boolean;
  /** The new merge base: the CRM value once both sides agree on it, else the old base. */
  base: unknown;
}

/**
 * Three-way merge of one field. Only a field changed on both sides (relative to `base`) to
 * different values is a conflict; a one-sided change simply wins. Rules, in order:
 *
 * 1. `direction` `to_crm`: the host value stays (CRM edits are ignored); `from_crm`: the CRM value wins.
 * 2. `bidirectional`: one-sided change wins; a conflict goes to `policy` — `crm_wins`, `host_wins`,
 *    `prefer_crm_unless_blank` (CRM unless its value is blank, also for one-sided CRM clears), or
 *    `newest_wins` (later modification time; unresolved when a time is missing or they tie).
 * 3. `stickyOptOut`: a CRM opt-out always reaches the host, and a host opt-out is never undone from
 *    the CRM side (a host re-opt-in is the host's own decision and is kept).
 */
export function mergeField(input: FieldMergeInput): FieldMergeResult {
  const { base, host, crm } = input;
  const crmChanged = !stableEqual(crm, base);
  const hostChanged = !stableEqual(host, base);
  let source: 'host' | 'crm' = 'host';
  let conflict = false;
  let resolved = true;

  if (input.direction === 'to_crm') {
    source = 'host';
  } else if (input.direction === 'from_crm') {
    source = 'crm';
  } else if (!crmChanged) {
    source = 'host';
  } else if (!hostChanged) {
    source = input.policy === 'prefer_crm_unless_blank' && isBlank(crm) && !isBlank(host) ? 'host' : 'crm';
  } else if (stableEqual(crm, host)) {
    source = 'crm';
  } else {
    conflict = true;
    switch (input.policy) {
      case 'crm_wins':
        source = 'crm';
        break;
      case 'host_wins':
        source = 'host';
        break;
      case 'prefer_crm_unless_blank':
        source = isBlank(crm) ? 'host' : 'crm';
        break;
      case 'newest_wins': {
        const h = input.hostModifiedAt?.getTime();
        const c = input.crmModifiedAt?.getTime();
        if (h === undefined || c === undefined || Number.isNaN(h) || Number.isNaN(c) || h === c) {
          resolved = false;
          source = 'host';
        } else {
          source = c > h ? 'crm' : 'host';
        }
        break;
      }
    }
  }

  let value = source === 'crm' ? crm : host;
  let nextBase = stableEqual(value, crm) ? crm : base;
  if (input.stickyOptOut && (host === true || (crmChanged && crm === true))) {
    // An opt-out settles a conflict whatever the policy, also one the policy left open.
    resolved = true;
    if (value !== true) {
      value = true;
      source = host === true ? 'host' : 'crm';
      // A CRM opt-out both sides now share is the new base. (A CRM re-opt-in the host's opt-out
      // overrode is already the base, so the next push sends the opt-out back to the CRM.)
      if (crm === true) nextBase = crm;
    }
  }
  return { value, source, conflict, resolved, base: nextBase };
}
