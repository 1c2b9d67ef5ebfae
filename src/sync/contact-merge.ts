import type { CrmSyncStatusRow } from '../storage/types.js';
import { mergeField } from './conflict.js';
import { stableEqual } from './content-hash.js';
import type { SyncRunContext } from './context.js';
import type { SyncFieldValues } from './mapping.js';
import { type ContactSyncState, type SyncFieldConflict, writeContactState } from './state.js';
import { outstandingWrites } from './uncertain.js';

/** One CRM field value offered to {@link mergeContactFields}. */
export interface CrmFieldOffer {
  /** CRM-neutral field name (`email`, `firstName`, a custom field). */
  crmField: string;
  /** The value normalised for comparison with the last-synced base. */
  crmValue: unknown;
  /** The value as the CRM sent it; what the host receives when the CRM side wins. */
  raw: unknown;
}

/** What the per-field three-way merge of one contact needs. */
export interface ContactMergeInput {
  offers: Iterable<CrmFieldOffer>;
  /** Last-synced values (the merge base) from the record's sync state. */
  baseFields: SyncFieldValues;
  /** The host's current values, when the host supplied them; otherwise the base stands in. */
  hostValues: Record<string, unknown> | undefined;
  /** Conflicts recorded earlier: their host value stands in when the host supplied none. */
  previousConflicts: ReadonlyMap<string, SyncFieldConflict>;
  hostModifiedAt: Date | null;
  crmModifiedAt: Date | null;
  /** The host has no record yet: every non-empty CRM value is a change. */
  isNew: boolean;
  now: Date;
}

/** Outcome of {@link mergeContactFields}. */
export interface ContactMergeResult {
  /** Host field → value the host should write. */
  changes: Record<string, unknown>;
  /** Fields left untouched because their conflict could not be resolved. */
  conflicts: SyncFieldConflict[];
  /** The new merge base. */
  nextFields: SyncFieldValues;
}

/**
 * Three-way merge of the offered CRM fields of one contact against the last-synced values and the
 * host's, field by field, under the engine's policy, per-field directions and opt-out rule. Shared
 * by the pull and by real-time change events so both decide alike.
 */
export function mergeContactFields(
  ctx: Pick<SyncRunContext, 'mapper' | 'policy' | 'optOutFields'>,
  input: ContactMergeInput,
): ContactMergeResult {
  const { baseFields, hostValues, previousConflicts } = input;
  const changes: Record<string, unknown> = {};
  const conflicts: SyncFieldConflict[] = [];
  const nextFields = { ...baseFields };

  for (const { crmField, crmValue, raw } of input.offers) {
    const rule = ctx.mapper.ruleFor(crmField);
    const base = baseFields[crmField] ?? null;
    // Without the host's current record, assume it still holds what was last synced (or what it
    // had when the conflict was recorded).
    const hostValue = hostValues
      ? (hostValues[crmField] ?? null)
      : previousConflicts.has(crmField)
        ? previousConflicts.get(crmField)?.hostValue
        : base;
    const merged = mergeField({
      base,
      host: hostValue,
      crm: crmValue,
      direction: rule.direction,
      policy: ctx.policy,
      hostModifiedAt: input.hostModifiedAt,
      crmModifiedAt: input.crmModifiedAt,
      stickyOptOut: ctx.optOutFields.has(crmField),
    });
    nextFields[crmField] = merged.base;
    if (merged.conflict && !merged.resolved) {
      conflicts.push({
        crmField,
        hostField: rule.hostField,
        baseValue: base,
        hostValue,
        crmValue,
        detectedAt: input.now.toISOString(),
      });
      continue;
    }
    const value = merged.source === 'crm' ? raw : merged.value;
    if (input.isNew ? crmValue !== null && crmValue !== false : !stableEqual(merged.value, hostValue)) {
      changes[rule.hostField] = value ?? null;
    }
  }
  return { changes, conflicts, nextFields };
}

/**
 * The status row recorded after a CRM-side change was handed to the host (pull or change event).
 * `externalId` may still be `null` for a contact new to the host until `apply` links it.
 */
export function fromCrmStatusRow<ExternalId extends string | null>(
  ctx: Pick<SyncRunContext, 'integrationId'>,
  input: {
    externalId: ExternalId;
    crmId: string;
    conflicts: SyncFieldConflict[];
    state: ContactSyncState;
    now: Date;
  },
): Omit<CrmSyncStatusRow, 'externalId'> & { externalId: ExternalId } {
  return {
    integrationId: ctx.integrationId,
    entityType: 'contact',
    externalId: input.externalId,
    crmId: input.crmId,
    status:
      input.conflicts.length > 0
        ? 'conflict'
        : // A push's write of unknown outcome may still land over what was just pulled.
          outstandingWrites(input.state.uncertain, input.now, '')
          ? 'uncertain'
          : 'synced',
    direction: 'from_crm',
    contentHash: null,
    lastSyncedAt: input.now,
    lastError: null,
    state: writeContactState(input.state),
  };
}
