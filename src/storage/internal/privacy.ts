/**
 * Input checks and the log-detail scrubbing shared by the built-in adapters' `privacy` stores, so
 * memory, SQLite and PostgreSQL erase, audit and prune exactly alike. Not exported.
 */
import {
  type CrmEraseTarget,
  type CrmPrivacyAction,
  type CrmPrivacyAuditInput,
  type CrmPruneRequest,
  type CrmSuppressionKeys,
  ERASED,
} from '../privacy.js';
import { Issues, jsonCopy } from './validate.js';

const ACTIONS: ReadonlySet<string> = new Set<CrmPrivacyAction>(['forget', 'restore', 'export']);

function stringList(issues: Issues, field: string, value: unknown): void {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    issues.add(field, 'must be an array of non-empty strings', 'invalid_type');
  }
}

/** @throws CrmDataConversionError */
export function normaliseEraseTarget(target: CrmEraseTarget): CrmEraseTarget {
  const issues = new Issues();
  issues.nonEmpty('integrationId', target?.integrationId);
  stringList(issues, 'externalIds', target?.externalIds);
  stringList(issues, 'crmIds', target?.crmIds);
  stringList(issues, 'values', target?.values);
  issues.throwIfAny('erase target');
  return {
    integrationId: target.integrationId,
    externalIds: [...new Set(target.externalIds)],
    crmIds: [...new Set(target.crmIds)],
    values: [...new Set([...target.values, ...target.externalIds, ...target.crmIds])],
  };
}

/** A validated audit entry with defaults applied. */
export interface NormalisedAuditInput {
  integrationId: string;
  action: CrmPrivacyAction;
  subjectHash: string;
  reason: string | null;
  occurredAt: Date;
  outcome: Record<string, unknown>;
}

/** @throws CrmDataConversionError */
export function normaliseAuditInput(entry: CrmPrivacyAuditInput, now: Date): NormalisedAuditInput {
  const issues = new Issues();
  issues.nonEmpty('integrationId', entry?.integrationId);
  issues.oneOf('action', entry?.action, ACTIONS);
  issues.nonEmpty('subjectHash', entry?.subjectHash);
  if (entry?.reason !== undefined) issues.stringOrNull('reason', entry.reason);
  if (entry?.occurredAt !== undefined) issues.dateOrNull('occurredAt', entry.occurredAt);
  issues.object('outcome', entry?.outcome);
  issues.throwIfAny('privacy audit entry');
  return {
    integrationId: entry.integrationId,
    action: entry.action,
    subjectHash: entry.subjectHash,
    reason: entry.reason ?? null,
    occurredAt: new Date((entry.occurredAt ?? now).getTime()),
    outcome: jsonCopy(entry.outcome),
  };
}

/** @throws CrmDataConversionError */
export function normaliseAuditListLimit(options: { limit?: number } | undefined): number {
  const issues = new Issues();
  const limit = options?.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    issues.add('limit', 'must be a positive integer', 'invalid_type');
  }
  issues.throwIfAny('privacy audit list options');
  return limit ?? 100;
}

/** @throws CrmDataConversionError */
export function normaliseSuppressionKeys(keys: CrmSuppressionKeys): {
  integrationId: string;
  hashes: string[];
} {
  const issues = new Issues();
  issues.nonEmpty('integrationId', keys?.integrationId);
  stringList(issues, 'subjectHashes', keys?.subjectHashes);
  issues.throwIfAny('suppression keys');
  return { integrationId: keys.integrationId, hashes: [...new Set(keys.subjectHashes)] };
}

/** A validated prune request. */
export interface NormalisedPruneRequest {
  integrationId: string | undefined;
  syncLogs: { before: Date | undefined; keepLatest: number | undefined } | undefined;
  auditEntries: { before: Date | undefined; keepLatest: number | undefined } | undefined;
  streamRecords: { prefixes: string[]; before: Date } | undefined;
}

function retentionPart(
  issues: Issues,
  field: string,
  part: { before?: Date; keepLatest?: number } | undefined,
): { before: Date | undefined; keepLatest: number | undefined } | undefined {
  if (part === undefined) return undefined;
  if (part.before !== undefined) issues.dateOrNull(`${field}.before`, part.before);
  if (part.keepLatest !== undefined) issues.count(`${field}.keepLatest`, part.keepLatest);
  return { before: part.before, keepLatest: part.keepLatest };
}

/** @throws CrmDataConversionError */
export function normalisePruneRequest(request: CrmPruneRequest): NormalisedPruneRequest {
  const issues = new Issues();
  if (request?.integrationId !== undefined) issues.nonEmpty('integrationId', request.integrationId);
  const syncLogs = retentionPart(issues, 'syncLogs', request?.syncLogs);
  const auditEntries = retentionPart(issues, 'auditEntries', request?.auditEntries);
  const stream = request?.streamRecords;
  if (stream !== undefined) {
    stringList(issues, 'streamRecords.prefixes', stream.prefixes);
    issues.dateOrNull('streamRecords.before', stream.before);
    if (stream.before === null) issues.add('streamRecords.before', 'is required', 'required');
  }
  issues.throwIfAny('prune request');
  return {
    integrationId: request.integrationId,
    syncLogs,
    auditEntries,
    streamRecords: stream ? { prefixes: [...stream.prefixes], before: stream.before } : undefined,
  };
}

/**
 * Remove `values` from JSON log details: an array element equal to one (case-insensitively) is
 * dropped; any other string containing one becomes {@link ERASED}; object keys equal to one are
 * dropped. Returns `changed: false` when nothing matched, so adapters rewrite only touched rows.
 */
export function scrubDetails(
  details: Record<string, unknown>,
  values: ReadonlyArray<string>,
): { details: Record<string, unknown>; changed: boolean } {
  const needles = values.map((v) => v.toLowerCase()).filter((v) => v.length > 0);
  let changed = false;
  const matches = (text: string) => {
    const lower = text.toLowerCase();
    return needles.some((n) => lower.includes(n));
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!matches(value)) return value;
      changed = true;
      return ERASED;
    }
    if (Array.isArray(value)) {
      const kept = value.filter((item) => typeof item !== 'string' || !matches(item));
      if (kept.length !== value.length) changed = true;
      return kept.map(walk);
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (matches(key)) {
          changed = true;
          continue;
        }
        out[key] = walk(item);
      }
      return out;
    }
    return value;
  };
  const scrubbed = walk(details) as Record<string, unknown>;
  return { details: scrubbed, changed };
}
