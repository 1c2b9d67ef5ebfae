/**
 * A sync worker process for the job-runner tests and benchmarks: one `createPgBossSyncRunner` (or
 * `createBullMqSyncRunner` with `engine: 'bullmq'`) whose
 * `runSync` counts itself in the probe table (so overlap is measured across processes) and takes
 * `runMs`, or hangs until aborted when `hang` is set. Configured by the JSON in `JOBS_WORKER`;
 * prints `ready`, `start <integrationId> <epochMs>` and `end <integrationId> <outcome> <runSyncMs>`; stops
 * gracefully on SIGTERM and prints `stopped`.
 */
import pg from 'pg';
import { createBullMqSyncRunner } from '../../src/jobs/bullmq/index.js';
import { createPgBossSyncRunner } from '../../src/jobs/pg-boss/index.js';
import type { SyncRunnerOptions } from '../../src/jobs/types.js';
import { PostgresStorage } from '../../src/storage/postgres.js';
import { probeSql } from './jobs-fixtures.js';

interface WorkerConfig {
  /** @default 'pg-boss' */
  engine?: 'pg-boss' | 'bullmq';
  /** BullMQ key prefix (isolates a test's keys). */
  redisPrefix?: string;
  pgUrl: string;
  bossSchema: string;
  storageSchema: string;
  concurrency?: number;
  perOrgConcurrency?: number;
  runMs: number;
  hang?: boolean;
  /** Count runs in the probe table (default true); off for the trivial-run throughput figure. */
  probe?: boolean;
  leaseTtlMs?: number;
  gracePeriodMs?: number;
}

const config = JSON.parse(process.env.JOBS_WORKER ?? '{}') as WorkerConfig;
const emit = (line: string) => process.stdout.write(`${line}\n`);
const pool = new pg.Pool({ connectionString: config.pgUrl, max: 10 });
const sql = probeSql(config.storageSchema);
const storage = new PostgresStorage({
  connectionString: config.pgUrl,
  schema: config.storageSchema,
  maxConnections: 20,
});

const common: SyncRunnerOptions = {
  storage,
  concurrency: config.concurrency ?? 10,
  ...(config.perOrgConcurrency ? { perOrgConcurrency: config.perOrgConcurrency } : {}),
  ...(config.leaseTtlMs ? { leaseTtlMs: config.leaseTtlMs } : {}),
  ...(config.gracePeriodMs !== undefined ? { gracePeriodMs: config.gracePeriodMs } : {}),
  deferDelayMs: 200,
  scanIntervalMs: 200,
  pollIntervalMs: 100,
  runSync: async (integration, { signal }) => {
    emit(`start ${integration.id} ${Date.now()}`);
    if (config.probe === false) return;
    await pool.query(sql.enter, [integration.id]);
    await pool.query(sql.enter, [`org:${integration.orgId}`]);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = config.hang ? null : setTimeout(resolve, config.runMs);
        signal.addEventListener('abort', () => {
          if (timer) clearTimeout(timer);
          reject(signal.reason);
        });
      });
    } finally {
      await pool.query(sql.leave, [`org:${integration.orgId}`]);
      await pool.query(sql.leave, [integration.id]);
    }
  },
  onRunEnd: (event) => emit(`end ${event.integrationId} ${event.outcome} ${event.durationMs.toFixed(1)}`),
};
const runner =
  config.engine === 'bullmq'
    ? createBullMqSyncRunner({
        ...common,
        connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null },
        prefix: config.redisPrefix ?? 'crm-jobs-worker',
      })
    : createPgBossSyncRunner({ ...common, connectionString: config.pgUrl, schema: config.bossSchema });

await runner.start();
emit('ready');
process.on('SIGTERM', () => {
  void runner
    .stop({ graceful: true })
    .then(() => Promise.all([storage.close(), pool.end()]))
    .then(() => {
      emit('stopped');
      process.exit(0);
    });
});
