import { CrmApiError, type CrmFieldIssue } from '../../core/errors.js';
import type { CrmBulkSyncResult, CrmRecordError, CrmSyncResult } from '../../core/models.js';
import { SALESFORCE_PROVIDER } from '../errors.js';
import type { OperationCounters } from '../transport.js';

/** One element of an sObject Collections (or single-record save) response. */
export interface SaveResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors?: SaveError[];
}

/** An error of a {@link SaveResult}. */
export interface SaveError {
  statusCode?: string;
  errorCode?: string;
  message?: string;
  fields?: string[];
}

/** Salesforce's code of a save error (REST says `statusCode`, some APIs `errorCode`). */
export function saveErrorCode(result: SaveResult | undefined): string | undefined {
  return result?.errors?.[0]?.statusCode ?? result?.errors?.[0]?.errorCode;
}

/** A Salesforce save error as a {@link CrmRecordError}. */
export function recordError(error: SaveError): CrmRecordError {
  const out: CrmRecordError = {
    code: error.statusCode ?? error.errorCode ?? 'UNKNOWN',
    message: error.message ?? 'Record failed',
  };
  if (error.fields?.length) out.fields = [...error.fields];
  return out;
}

/** Validation issues of one input record as its {@link CrmRecordError}. */
export function issuesError(issues: CrmFieldIssue[]): CrmRecordError {
  return {
    code: 'INVALID_DATA',
    message: issues.map((i) => `${i.field} ${i.message}`).join('; '),
    fields: issues.map((i) => i.field),
  };
}

/** Thrown by single-record methods when Salesforce refuses the record. */
export function recordFailure(operation: string, error: CrmRecordError): CrmApiError {
  return new CrmApiError(`Salesforce ${operation} failed: ${error.code}`, {
    provider: SALESFORCE_PROVIDER,
    providerCode: error.code,
    fields: error.fields ?? [],
    details: { message: error.message },
  });
}

/** The `externalId` of raw input that failed validation, when it has a usable one. */
export function rawExternalId(raw: unknown): string {
  const value = (raw as { externalId?: unknown } | null | undefined)?.externalId;
  return typeof value === 'string' ? value : '';
}

/** A {@link CrmSyncResult}; `success` follows from whether `outcome.error` is set. */
export function syncResult(
  entityType: CrmSyncResult['entityType'],
  externalId: string,
  outcome: {
    crmId?: string | undefined;
    created?: boolean | undefined;
    error?: CrmRecordError | undefined;
  },
  syncedAt: Date,
): CrmSyncResult {
  const result: CrmSyncResult = {
    entityType,
    externalId,
    success: outcome.error === undefined,
    syncedAt,
  };
  if (outcome.crmId) result.crmId = outcome.crmId;
  if (outcome.created !== undefined) result.created = outcome.created;
  if (outcome.error) result.error = outcome.error;
  return result;
}

/** Totals of `results` as a {@link CrmBulkSyncResult}. */
export function bulkSyncResult(
  results: CrmSyncResult[],
  counters: OperationCounters,
  route: CrmBulkSyncResult['mode'],
): CrmBulkSyncResult {
  return {
    total: results.length,
    success: results.filter((r) => r.success).length,
    failed: results.filter((r) => !r.success).length,
    results,
    apiCalls: counters.apiCalls,
    retries: counters.retries ?? 0,
    mode: route,
  };
}
