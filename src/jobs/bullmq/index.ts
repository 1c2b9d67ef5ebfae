/**
 * `@markmail/crm/jobs/bullmq`: run sync runs on BullMQ 6 (Redis).
 *
 * @packageDocumentation
 */

import { assertSupportedNode } from '../../internal/node-floor.js';

// First, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

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
