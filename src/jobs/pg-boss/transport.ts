import type { CrmLogger } from '../../core/logger.js';
import type { ResolvedSyncRunnerOptions } from '../internal/options.js';
import type { SyncJob, SyncJobRequest, SyncJobTransport, SyncScheduleStore } from '../internal/transport.js';
import type { SyncDeadLetter, SyncRunFailure, SyncRunReason } from '../types.js';
import type { PgBossAttempt, PgBossClient, PgBossFetchedJob } from './client.js';

/** The job payload: ids and the reason only. Cursors stay in storage, so a redelivered run resumes. */
interface JobData {
  integrationId: string;
  reason: SyncRunReason;
}

/** pg-boss's shortest heartbeat; with `monitorIntervalSeconds: 2` a dead worker's job is failed within ~12 s. */
const HEARTBEAT_SECONDS = 10;
/** First key of the advisory lock that serialises creating the schedule table ("MMJS"). */
const SETUP_LOCK = 0x4d4d4a53;

export interface PgBossTransportConfig {
  /** Resolves the started client (created lazily when the runner owns it). */
  boss: () => Promise<PgBossClient>;
  /** Stops the client when the runner created it. */
  release: () => Promise<void>;
  queue: string;
  schema: string;
  maxRunSeconds: number;
  options: ResolvedSyncRunnerOptions;
  logger: CrmLogger;
}

/**
 * pg-boss half of the runner. One `stately` queue keyed by integration id (one active + one queued
 * job per integration, so requests arriving mid-run coalesce into one follow-up), retries with
 * exponential backoff into a dead-letter queue, a 10 s heartbeat, and a schedule table
 * (`<schema>.crm_sync_schedules`) in the same database, claimed with `FOR UPDATE SKIP LOCKED`.
 */
export function createPgBossTransport(config: PgBossTransportConfig): SyncJobTransport {
  const { queue, options } = config;
  const deadLetterQueue = `${queue}-dead-letter`;
  const table = `"${config.schema}".crm_sync_schedules`;
  let client: PgBossClient | null = null;
  const boss = (): PgBossClient => {
    if (!client) throw new Error('The pg-boss sync runner is not started');
    return client;
  };
  const sql = (text: string, values?: unknown[]) => boss().getDb().executeSql(text, values);
  const attempt = (job: SyncJob): PgBossAttempt => job.handle as PgBossAttempt;
  // Completions from runs ending together go out as one statement: a round trip less per run,
  // which is what bounds dispatch on a busy database.
  const completions = createBatcher<PgBossAttempt>((attempts) => boss().complete(queue, attempts));

  const schedules: SyncScheduleStore = {
    async set(integrationId, everyMs, nextRunAt) {
      await sql(
        `INSERT INTO ${table} (integration_id, every_ms, next_run_at) VALUES ($1, $2, $3)
         ON CONFLICT (integration_id) DO UPDATE SET every_ms = EXCLUDED.every_ms, next_run_at = EXCLUDED.next_run_at`,
        [integrationId, everyMs, nextRunAt],
      );
    },
    async remove(integrationId) {
      await sql(`DELETE FROM ${table} WHERE integration_id = $1`, [integrationId]);
    },
    async claimDue(limit, jitterMs) {
      // One statement: concurrent scanners skip each other's locked rows, so a due schedule is
      // claimed once, and its next run moves forward in the same step.
      const { rows } = await sql(
        `WITH due AS (
           SELECT integration_id FROM ${table} WHERE next_run_at <= now()
           ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         UPDATE ${table} s SET next_run_at = now() + (s.every_ms
           + floor(random() * COALESCE($2::bigint, LEAST(s.every_ms / 10, 30000)))) * interval '1 millisecond'
         FROM due WHERE s.integration_id = due.integration_id
         RETURNING s.integration_id`,
        [limit, jitterMs ?? null],
      );
      return rows.map((row) => String(row.integration_id));
    },
  };

  const toInsert = (request: SyncJobRequest) => ({
    data: { integrationId: request.integrationId, reason: request.reason } satisfies JobData,
    singletonKey: request.integrationId,
    ...(request.delayMs ? { startAfter: new Date(Date.now() + request.delayMs) } : {}),
  });

  return {
    schedules,

    async setup() {
      client = await config.boss();
      await boss().createQueue(deadLetterQueue, { retentionSeconds: 14 * 24 * 3600 });
      await boss().createQueue(queue, {
        policy: 'stately',
        retryLimit: options.retryLimit,
        retryDelay: Math.max(1, Math.round(options.retryDelayMs / 1000)),
        retryBackoff: true,
        retryDelayMax: Math.max(1, Math.round(options.retryDelayMaxMs / 1000)),
        heartbeatSeconds: HEARTBEAT_SECONDS,
        expireInSeconds: config.maxRunSeconds,
        deadLetter: deadLetterQueue,
      });
      // IF NOT EXISTS is not safe against concurrent creators: serialise workers starting together.
      await sql(
        `BEGIN;
         SELECT pg_advisory_xact_lock(${SETUP_LOCK}, hashtext('${config.schema}'));
         CREATE SCHEMA IF NOT EXISTS "${config.schema}";
         CREATE TABLE IF NOT EXISTS ${table} (
           integration_id text PRIMARY KEY,
           every_ms bigint NOT NULL CHECK (every_ms > 0),
           next_run_at timestamptz NOT NULL
         );
         CREATE INDEX IF NOT EXISTS crm_sync_schedules_next_run_at ON ${table} (next_run_at);
         COMMIT;`,
      );
    },

    async enqueue(requests) {
      if (requests.length === 0) return;
      // A stately queue keeps one queued job per key: a request for an integration that already
      // has one is absorbed by it (ON CONFLICT DO NOTHING inside pg-boss).
      if (requests.length === 1) {
        const [request] = requests as [SyncJobRequest];
        const { data, ...rest } = toInsert(request);
        await boss().send(queue, data, rest);
        return;
      }
      await boss().insert(queue, requests.map(toInsert));
    },

    async fetch(max) {
      const jobs = await boss().fetch<JobData>(queue, { batchSize: max, includeMetadata: true });
      return jobs.map((job) => ({
        id: job.id,
        integrationId: job.data.integrationId,
        reason: job.data.reason,
        attempt: job.retryCount,
        retryLimit: job.retryLimit ?? options.retryLimit,
        handle: { id: job.id, retryCount: job.retryCount } satisfies PgBossAttempt,
      }));
    },

    async heartbeat(jobs) {
      const response = (await boss().touch(queue, jobs.map(attempt))) as { settled?: string[] };
      // Without the refreshed ids nothing can be said about single claims.
      if (!Array.isArray(response.settled)) return new Set();
      const refreshed = new Set(response.settled);
      return new Set(jobs.filter((job) => !refreshed.has(job.id)).map((job) => job.id));
    },

    async complete(job) {
      await completions.add(attempt(job));
    },

    async fail(job, failure: SyncRunFailure) {
      await boss().fail(queue, attempt(job), { error: failure });
    },

    async requeue(job, delayMs) {
      // Queue the follow-up first (absorbed by an already queued one), then end this attempt, so
      // the run is never lost in between; no retry is used.
      const { data, ...rest } = toInsert({ integrationId: job.integrationId, reason: job.reason, delayMs });
      await boss().send(queue, data, rest);
      await completions.add(attempt(job));
    },

    async deadLetters(limit) {
      const jobs = await boss().findJobs<JobData>(deadLetterQueue, {
        limit: Math.min(Math.max(1, limit), 100_000),
      });
      return jobs
        .map((job) => toDeadLetter(job))
        .sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
    },

    async redrive(ids) {
      return boss().redrive(deadLetterQueue, ids ? { ids } : {});
    },

    async close() {
      await config.release();
      client = null;
    },
  };
}

/** Collects items added in the same tick and hands them to `flush` together. */
function createBatcher<T>(flush: (items: T[]) => Promise<unknown>): { add(item: T): Promise<void> } {
  let pending: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  const run = (): void => {
    const batch = pending;
    pending = [];
    flush(batch.map((p) => p.item)).then(
      () => {
        for (const p of batch) p.resolve();
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  return {
    add(item) {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(run);
        pending.push({ item, resolve, reject });
      });
    },
  };
}

function toDeadLetter(job: PgBossFetchedJob<JobData>): SyncDeadLetter {
  const output = job.sourceOutput as { error?: SyncRunFailure } | null | undefined;
  return {
    id: job.id,
    integrationId: job.data.integrationId,
    reason: job.data.reason,
    attempts: (job.sourceRetryCount ?? 0) + 1,
    lastError: output?.error ?? null,
    failedAt: job.createdOn ?? null,
  };
}
