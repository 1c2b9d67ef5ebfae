/**
 * `@markmail/crm/jobs/pg-boss`: run sync runs on pg-boss 12 in the host's own PostgreSQL.
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
export type { PgBossClient } from './client.js';
export {
  createPgBossSyncRunner,
  type PgBossSyncRunnerOptions,
  RECOMMENDED_PG_BOSS_OPTIONS,
} from './runner.js';
