import type { CrmEntityType, CrmFieldMappingInput } from '../../core/models.js';
import type { CrmPrivacyAction, CrmPrivacyAuditEntry } from '../privacy.js';
import type { CrmIntegration, CrmSyncLog, CrmSyncStatusRow, CrmSyncType } from '../types.js';

/** A database row keyed by column name. */
export type StorageRow = Record<string, unknown>;

/**
 * How a SQL adapter's driver returns the column kinds that differ between databases: timestamps
 * (SQLite: epoch milliseconds; PostgreSQL: `Date`), JSON (text vs parsed `jsonb`) and booleans
 * (0/1 vs `true`).
 */
export interface ColumnDecoders {
  /** A timestamp column; `null` for SQL NULL. */
  date(value: unknown): Date | null;
  /** A JSON column that is never NULL when this is called. */
  json(value: unknown): unknown;
  /** A boolean column. */
  bool(value: unknown): boolean;
}

/** Row → record conversions shared by the SQL adapters, whose tables have the same columns. */
export interface RowDecoders {
  toIntegration(row: StorageRow): CrmIntegration;
  toLog(row: StorageRow): CrmSyncLog;
  toStatus(row: StorageRow): CrmSyncStatusRow;
  toAudit(row: StorageRow): CrmPrivacyAuditEntry;
}

/** Build the row decoders of one SQL adapter from its column decoders. */
export function createRowDecoders(columns: ColumnDecoders): RowDecoders {
  const { date, json, bool } = columns;
  const record = (value: unknown) => json(value) as Record<string, unknown>;
  const nullableRecord = (value: unknown) => (value == null ? null : record(value));
  const nullableText = (value: unknown) => (value == null ? null : String(value));
  return {
    toIntegration: (row) => ({
      id: String(row.id),
      userId: String(row.user_id),
      provider: String(row.provider),
      orgId: String(row.org_id),
      instanceUrl: String(row.instance_url),
      credentials: String(row.credentials),
      settings: record(row.settings),
      providerSettings: record(row.provider_settings),
      fieldMappings: json(row.field_mappings) as CrmFieldMappingInput[],
      syncEnabled: bool(row.sync_enabled),
      lastSyncAt: date(row.last_sync_at),
      createdAt: date(row.created_at)!,
      updatedAt: date(row.updated_at)!,
    }),
    toLog: (row) => ({
      id: String(row.id),
      integrationId: String(row.integration_id),
      syncType: row.sync_type as CrmSyncType,
      entityType: row.entity_type as CrmEntityType,
      entityCount: Number(row.entity_count),
      successCount: Number(row.success_count),
      errorCount: Number(row.error_count),
      startedAt: date(row.started_at)!,
      completedAt: date(row.completed_at),
      errorDetails: nullableRecord(row.error_details),
    }),
    toStatus: (row) => ({
      integrationId: String(row.integration_id),
      entityType: row.entity_type as CrmEntityType,
      externalId: String(row.external_id),
      crmId: nullableText(row.crm_id),
      status: row.sync_status as CrmSyncStatusRow['status'],
      direction: row.sync_direction as CrmSyncStatusRow['direction'],
      contentHash: nullableText(row.content_hash),
      lastSyncedAt: date(row.last_synced_at),
      lastError: nullableText(row.last_error),
      state: nullableRecord(row.state),
    }),
    toAudit: (row) => ({
      id: String(row.id),
      integrationId: String(row.integration_id),
      action: row.action as CrmPrivacyAction,
      subjectHash: String(row.subject_hash),
      reason: nullableText(row.reason),
      occurredAt: date(row.occurred_at)!,
      outcome: record(row.outcome),
    }),
  };
}
