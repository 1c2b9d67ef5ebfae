/**
 * `@markmail/crm` core: models, the provider contract, errors, the storage contract, the sync
 * engine and credential encryption. Imports no CRM SDK or database driver.
 *
 * @packageDocumentation
 */

import { assertSupportedNode } from './internal/node-floor.js';

// First, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

export { applyBulkResultOptions } from './core/bulk-results.js';
export type { CrmChangeEvent, CrmChangeEventFields } from './core/change-event.js';
export type { CrmClock } from './core/clock.js';
export * from './core/conflict-policy.js';
export * from './core/errors.js';
export {
  type CrmFieldSuggestion,
  type CrmSuggestionCrmField,
  type CrmSuggestionHostField,
  type SuggestFieldMappingsInput,
  suggestFieldMappings,
} from './core/field-suggestions.js';
export * from './core/logger.js';
// Explicit: the schemas' helpers (`isValidEmail`, `toFieldIssues`) are internal.
export {
  CRM_FIELD_LIMITS,
  type CrmBulkSyncResult,
  CrmBulkSyncResultSchema,
  type CrmCampaign,
  type CrmCampaignInput,
  CrmCampaignSchema,
  type CrmContact,
  type CrmContactInput,
  CrmContactSchema,
  type CrmCustomField,
  CrmCustomFieldSchema,
  CrmDateSchema,
  type CrmEmailActivity,
  type CrmEmailActivityInput,
  CrmEmailActivitySchema,
  type CrmEmailActivityType,
  CrmEmailActivityTypeSchema,
  CrmEmailSchema,
  type CrmEmailStats,
  CrmEmailStatsSchema,
  type CrmEntityType,
  CrmEntityTypeSchema,
  type CrmFieldMapping,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmFieldType,
  CrmFieldTypeSchema,
  type CrmLead,
  type CrmLeadInput,
  CrmLeadSchema,
  type CrmList,
  type CrmListInput,
  CrmListSchema,
  type CrmRecordError,
  CrmRecordErrorSchema,
  type CrmSyncDirection,
  CrmSyncDirectionSchema,
  type CrmSyncResult,
  CrmSyncResultSchema,
  parseModel,
} from './core/models.js';
export * from './core/privacy.js';
export * from './core/provider.js';
export * from './core/registry.js';
export * from './core/sleep.js';
export * from './security/cipher.js';
export { REDACTED, redactText, redactValue } from './security/redact.js';
export * from './storage/memory.js';
export * from './storage/privacy.js';
export * from './storage/retention.js';
export * from './storage/types.js';
export type { SyncApiBudget } from './sync/api-budget.js';
export { contentHash } from './sync/content-hash.js';
export {
  getSyncReport,
  type SyncCallOptions,
  SyncEngine,
  type SyncEngineOptions,
  type SyncPushOptions,
  type SyncRedriveFilter,
} from './sync/engine.js';
export { isSyncLeaseHeldError } from './sync/lease.js';
export type { SyncFieldRule, SyncHostRecord } from './sync/mapping.js';
export type {
  SyncContactExport,
  SyncExportOptions,
  SyncForgetOptions,
  SyncForgetReport,
  SyncLocalExport,
} from './sync/privacy.js';
export type {
  SyncApplyResult,
  SyncPullBatch,
  SyncPulledContact,
  SyncPulledDeletion,
  SyncPullOptions,
  SyncReconcileOptions,
} from './sync/pull.js';
export type { SyncProgress } from './sync/push.js';
export type { SyncChangeEventOptions } from './sync/realtime.js';
export type { SyncErrorGroup, SyncRecordError, SyncReport, SyncStopReason } from './sync/report.js';
export { DEFAULT_RETRYABLE_CODES, type SyncRetryPolicy, type SyncRetryState } from './sync/retry-policy.js';
export {
  SyncScheduler,
  type SyncSchedulerOptions,
  type SyncTask,
  type SyncTaskRun,
  type SyncTimers,
} from './sync/scheduler.js';
export type { SyncFieldConflict } from './sync/state.js';
