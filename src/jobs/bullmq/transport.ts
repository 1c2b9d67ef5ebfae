import { randomUUID } from 'node:crypto';
import type { ResolvedSyncRunnerOptions } from '../internal/options.js';
import type { SyncJob, SyncJobRequest, SyncJobTransport, SyncScheduleStore } from '../internal/transport.js';
import type { SyncDeadLetter, SyncRunFailure, SyncRunReason } from '../types.js';

/** The job payload: ids and the reason only. Cursors stay in storage, so a redelivered run resumes. */
interface JobData {
  integrationId: string;
  reason: SyncRunReason;
}

// Structural views of the BullMQ 6 classes the transport uses, so our types do not need bullmq.
interface BullJob {
  id?: string;
  data: JobData;
  attemptsMade: number;
  failedReason?: string;
  finishedOn?: number;
  opts: { attempts?: number };
  moveToCompleted(value: unknown, token: string, fetchNext?: boolean): Promise<unknown>;
  moveToFailed(error: Error, token: string, fetchNext?: boolean): Promise<unknown>;
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
  extendLock(token: string, duration: number): Promise<number>;
  retry(state?: 'failed' | 'completed'): Promise<void>;
}
interface RedisLike {
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>;
  zadd(key: string, score: number, member: string): Promise<unknown>;
  hset(key: string, field: string, value: string): Promise<unknown>;
  zrem(key: string, member: string): Promise<unknown>;
  hdel(key: string, field: string): Promise<unknown>;
}
export interface BullQueue {
  /** BullMQ 6: the Redis backend, whose `client` is the raw ioredis connection. */
  getBackend(): { client: Promise<RedisLike> };
  add(name: string, data: JobData, options: Record<string, unknown>): Promise<unknown>;
  addBulk(jobs: Array<{ name: string; data: JobData; opts: Record<string, unknown> }>): Promise<unknown>;
  getFailed(start: number, end: number): Promise<BullJob[]>;
  getJob(id: string): Promise<BullJob | undefined>;
  close(): Promise<void>;
}
export interface BullWorker {
  getNextJob(token: string, options?: { block?: boolean }): Promise<BullJob | undefined>;
  startStalledCheckTimer(): Promise<void>;
  close(force?: boolean): Promise<void>;
}
export interface BullMqModule {
  Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
  Worker: new (name: string, processor: null, options: Record<string, unknown>) => BullWorker;
}

/** Lock of an active job; renewed every 3 s, so a dead worker's job is stalled within ~10–15 s. */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;

export interface BullMqTransportConfig {
  bullmq: () => Promise<BullMqModule>;
  connection: unknown;
  prefix: string;
  queue: string;
  options: ResolvedSyncRunnerOptions;
}

/**
 * BullMQ half of the runner: one queue, every job added with `deduplication { id: integrationId,
 * keepLastIfActive }` (one run per integration, a request mid-run keeps one follow-up), jobs taken
 * with `getNextJob` by the shared pull loop, exponential backoff with a cap, failed jobs kept as the
 * dead-letter record. Schedules are a sorted set (score = next run) claimed by a Lua script.
 */
export function createBullMqTransport(config: BullMqTransportConfig): SyncJobTransport {
  const { options } = config;
  let queue: BullQueue | null = null;
  let worker: BullWorker | null = null;
  const q = (): BullQueue => {
    if (!queue) throw new Error('The BullMQ sync runner is not started');
    return queue;
  };
  const keys = {
    due: `${config.prefix}:${config.queue}:crm-schedules`,
    every: `${config.prefix}:${config.queue}:crm-schedule-every`,
  };
  const jobOptions = (request: SyncJobRequest) => ({
    deduplication: { id: request.integrationId, keepLastIfActive: true },
    attempts: options.retryLimit + 1,
    backoff: { type: 'crm' },
    removeOnComplete: true,
    removeOnFail: { count: 10_000 },
    ...(request.delayMs ? { delay: request.delayMs } : {}),
  });
  const handle = (job: SyncJob) => job.handle as { job: BullJob; token: string };

  const schedules: SyncScheduleStore = {
    async set(integrationId, everyMs, nextRunAt) {
      const redis = await q().getBackend().client;
      await redis.hset(keys.every, integrationId, String(everyMs));
      await redis.zadd(keys.due, nextRunAt.getTime(), integrationId);
    },
    async remove(integrationId) {
      const redis = await q().getBackend().client;
      await redis.zrem(keys.due, integrationId);
      await redis.hdel(keys.every, integrationId);
    },
    async claimDue(limit, jitterMs) {
      const redis = await q().getBackend().client;
      // Atomic in Redis: take the due members and move each one's score past now in one script.
      const claimed = await redis.eval(
        `local t = redis.call('TIME')
         local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
         math.randomseed(tonumber(ARGV[3]))
         local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
         for _, id in ipairs(due) do
           local every = tonumber(redis.call('HGET', KEYS[2], id) or '60000')
           local cap = tonumber(ARGV[2])
           if cap < 0 then cap = math.min(math.floor(every / 10), 30000) end
           redis.call('ZADD', KEYS[1], now + every + math.floor(math.random() * cap), id)
         end
         return due`,
        2,
        keys.due,
        keys.every,
        limit,
        jitterMs ?? -1,
        Math.floor(Math.random() * 2 ** 31),
      );
      return (claimed as string[]).map(String);
    },
  };

  return {
    schedules,

    async setup() {
      const { Queue, Worker } = await config.bullmq();
      const common = { connection: config.connection, prefix: config.prefix };
      queue = new Queue(config.queue, common);
      worker = new Worker(config.queue, null, {
        ...common,
        autorun: false,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        // A stall (crashed worker) puts the job back; only repeated stalls fail it.
        maxStalledCount: Math.max(1, options.retryLimit),
        settings: {
          backoffStrategy: (attemptsMade: number) =>
            Math.min(
              options.retryDelayMaxMs,
              options.retryDelayMs * 2 ** Math.max(0, attemptsMade - 1) * (1 + Math.random() * 0.5),
            ),
        },
      });
      await worker.startStalledCheckTimer();
    },

    async enqueue(requests) {
      await q().addBulk(
        requests.map((request) => ({
          name: 'sync',
          data: { integrationId: request.integrationId, reason: request.reason },
          opts: jobOptions(request),
        })),
      );
    },

    async fetch(max) {
      const jobs: SyncJob[] = [];
      while (jobs.length < max && worker) {
        const token = randomUUID();
        const job = await worker.getNextJob(token, { block: false });
        if (!job?.id) break;
        jobs.push({
          id: job.id,
          integrationId: job.data.integrationId,
          reason: job.data.reason,
          attempt: job.attemptsMade,
          retryLimit: (job.opts.attempts ?? options.retryLimit + 1) - 1,
          handle: { job, token },
        });
      }
      return jobs;
    },

    async heartbeat(jobs) {
      const lost = new Set<string>();
      await Promise.all(
        jobs.map(async (job) => {
          const { job: bull, token } = handle(job);
          if (!(await bull.extendLock(token, LOCK_MS))) lost.add(job.id);
        }),
      );
      return lost;
    },

    async complete(job) {
      const { job: bull, token } = handle(job);
      await bull.moveToCompleted(null, token, false);
    },

    async fail(job, failure: SyncRunFailure) {
      const { job: bull, token } = handle(job);
      // Only the serialised failure is stored (name, code, redacted message), never the raw error.
      const error = new Error(failure.message);
      error.name = failure.code ? `${failure.name} [${failure.code}]` : failure.name;
      error.stack = `${error.name}: ${error.message}`;
      await bull.moveToFailed(error, token, false);
    },

    async requeue(job, delayMs) {
      const { job: bull, token } = handle(job);
      // The same job waits again (no attempt used) and keeps its deduplication id meanwhile.
      await bull.moveToDelayed(Date.now() + Math.max(1, delayMs), token);
    },

    async deadLetters(limit) {
      const jobs = await q().getFailed(0, Math.max(1, limit) - 1);
      return jobs.map(
        (job): SyncDeadLetter => ({
          id: String(job.id),
          integrationId: job.data.integrationId,
          reason: job.data.reason,
          attempts: job.attemptsMade,
          lastError: job.failedReason ? { name: 'Error', message: job.failedReason } : null,
          failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
        }),
      );
    },

    async redrive(ids) {
      const jobs = ids
        ? (await Promise.all(ids.map((id) => q().getJob(id)))).filter((j): j is BullJob => j !== undefined)
        : await q().getFailed(0, -1);
      for (const job of jobs) await job.retry('failed');
      return jobs.length;
    },

    async close() {
      await worker?.close();
      await queue?.close();
      worker = null;
      queue = null;
    },
  };
}
