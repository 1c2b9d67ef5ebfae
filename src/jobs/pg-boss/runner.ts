import { CrmConfigurationError } from '../../core/errors.js';
import { loadPeer } from '../../internal/load-peer.js';
import { resolveRunnerOptions } from '../internal/options.js';
import { createSyncJobRunner } from '../internal/sync-job-runner.js';
import type { SyncRunner, SyncRunnerOptions } from '../types.js';
import type { PgBossClient } from './client.js';
import { createPgBossTransport } from './transport.js';

/** Options of {@link createPgBossSyncRunner}: the shared runner options plus where pg-boss lives. */
export interface PgBossSyncRunnerOptions extends SyncRunnerOptions {
  /**
   * A started `PgBoss` (pg-boss 12) the host owns; not stopped by `stop()`. Create it with
   * {@link RECOMMENDED_PG_BOSS_OPTIONS} so a killed worker's job is retried within seconds.
   * Give exactly one of `boss` and `connectionString`.
   */
  boss?: PgBossClient;
  /**
   * PostgreSQL URL: the runner loads the optional peer `pg-boss` on `start()`, creates and starts
   * its own `PgBoss` (schema `schema`, {@link RECOMMENDED_PG_BOSS_OPTIONS}) and stops it on `stop()`.
   */
  connectionString?: string;
  /**
   * Schema of pg-boss's tables (when the runner creates it) and of the runner's schedule table
   * `crm_sync_schedules`. Letters, digits and `_`.
   * @default 'pgboss'
   */
  schema?: string;
  /**
   * Queue name; its dead letters go to `<queue>-dead-letter`. Partition integrations across several
   * queues (one runner per queue) to spread load.
   * @default 'crm-sync'
   */
  queue?: string;
  /**
   * Longest legitimate run, in seconds: pg-boss fails (and retries) a job active for longer.
   * @default 14400 (4 hours)
   */
  maxRunSeconds?: number;
}

/**
 * pg-boss settings a runner's `PgBoss` should have: its supervisor checks heartbeats every 2 s
 * (default 60 s), so a killed worker's job is failed and retried ~12 s after the kill instead of
 * ~70 s. Used when the runner creates the client; spread them into your own `new PgBoss({ … })`.
 */
export const RECOMMENDED_PG_BOSS_OPTIONS = Object.freeze({
  superviseIntervalSeconds: 2,
  monitorIntervalSeconds: 2,
});

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const FACTORY = 'createPgBossSyncRunner';

/**
 * A sync runner on pg-boss: every worker process creates one with the same options and calls
 * `start()`; any process (worker or web) can `requestSync` and `setSchedule`.
 *
 * Guarantees: never two active runs of one integration across processes (pg-boss `stately` queue
 * keyed by integration id, plus a fenced run lease in `storage.leases`); requests arriving mid-run
 * coalesce into one follow-up run; `perOrgConcurrency` is a hard limit across workers (lease slots
 * in storage); schedules are a due-scan over `next_run_at` with jitter, not one cron per
 * integration; failed runs retry with exponential backoff, then land in a dead-letter queue
 * ({@link SyncRunner.deadLetters}); a killed worker's run is picked up again within ~15 s.
 *
 * @throws {CrmConfigurationError} for invalid options; `start()` throws it when `pg-boss` is not
 * installed and `connectionString` was given.
 * @example
 * const runner = createPgBossSyncRunner({
 *   connectionString: process.env.DATABASE_URL,
 *   storage,
 *   perOrgConcurrency: 2,
 *   runSync: (integration, { signal }) => syncOne(integration, signal),
 * });
 * await runner.start();
 * await runner.setSchedule(integration.id, { everyMs: 15 * 60_000 });
 * await runner.requestSync(integration.id, { reason: 'webhook' });
 * // on SIGTERM:
 * await runner.stop({ graceful: true });
 */
export function createPgBossSyncRunner(options: PgBossSyncRunnerOptions): SyncRunner {
  const resolved = resolveRunnerOptions(options, FACTORY, [
    'boss',
    'connectionString',
    'schema',
    'queue',
    'maxRunSeconds',
  ]);
  const { boss, connectionString } = options;
  if ((boss === undefined) === (connectionString === undefined)) {
    throw new CrmConfigurationError(`${FACTORY} needs exactly one of boss (a PgBoss) and connectionString`);
  }
  if (boss !== undefined && (typeof boss.fetch !== 'function' || typeof boss.getDb !== 'function')) {
    throw new CrmConfigurationError(`${FACTORY}: boss must be a pg-boss 12 PgBoss instance`);
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new CrmConfigurationError(`${FACTORY}: connectionString must be a non-empty string`);
  }
  const schema = options.schema ?? 'pgboss';
  if (!SCHEMA_NAME.test(schema)) {
    throw new CrmConfigurationError(`${FACTORY}: schema must be letters, digits and _ (got an invalid name)`);
  }
  const queue = options.queue ?? 'crm-sync';
  if (!QUEUE_NAME.test(queue)) {
    throw new CrmConfigurationError(`${FACTORY}: queue must be letters, digits, '_', '.', '-'`);
  }
  const maxRunSeconds = options.maxRunSeconds ?? 4 * 3600;
  if (!Number.isInteger(maxRunSeconds) || maxRunSeconds < 1) {
    throw new CrmConfigurationError(`${FACTORY}: maxRunSeconds must be a positive integer`);
  }
  let owned: PgBossClient | null = null;
  const transport = createPgBossTransport({
    queue,
    schema,
    maxRunSeconds,
    options: resolved,
    logger: resolved.logger,
    async boss() {
      if (boss) return boss;
      const mod = await loadPeer('pg-boss', FACTORY, () => import('pg-boss'));
      const PgBoss = (mod as unknown as { PgBoss: new (config: object) => PgBossClient }).PgBoss;
      owned = new PgBoss({ connectionString, schema, ...RECOMMENDED_PG_BOSS_OPTIONS });
      owned.on('error', (error) => resolved.logger.error('pg-boss error', { error: error.message }));
      await owned.start();
      return owned;
    },
    async release() {
      const client = owned;
      owned = null;
      await client?.stop({ graceful: false, close: true });
    },
  });
  return createSyncJobRunner(transport, resolved);
}
