/**
 * `@markmail/crm/jobs/bullmq`: run sync runs on BullMQ 6 (Redis).
 *
 * @packageDocumentation
 */
export type {
  SyncDeadLetter,
  SyncRequestOptions,
  SyncRunContext,
  SyncRunEvent,
  SyncRunFailure,
  SyncRunner,
  SyncRunnerOptions,
  SyncRunnerStopOptions,
  SyncRunOutcome,
  SyncRunReason,
  SyncRunSchedule,
} from '../types.js';
export { type BullMqSyncRunnerOptions, createBullMqSyncRunner } from './runner.js';
