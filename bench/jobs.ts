/**
 * Scale-out on pg-boss (`@markmail/crm/jobs/pg-boss`, PostgreSQL at PG_URL) and BullMQ
 * (`@markmail/crm/jobs/bullmq`, Redis on 127.0.0.1:6379; storage still on PostgreSQL), with
 * worker *processes* (test/integration/jobs-worker.child.ts) as a host runs them. Targets (issue #17):
 *
 * 1. 2,000 integrations falling due at the same moment all start within 10 s (trivial runs, 2 workers).
 * 2. Dispatch overhead ≤ 50 ms per run, two ways: the worker time the machinery costs per trivial
 *    run in that burst (drain time × workers / runs; the runs do nothing, so it is all dispatch),
 *    and the idle latency from `requestSync` in another process to `runSync` start (p50).
 * 3. 0 overlapping runs and 0 per-org overshoots in 10,000 requested runs (bursts over 500
 *    integrations in 10 orgs, perOrgConcurrency 3, counted in the database by the workers).
 * 4. A SIGKILLed worker's run starts again within 15 s.
 *
 * Run: `npx tsx bench/jobs-pg-boss.ts` (skipped without PG_URL). Env: BENCH_DUE (default 2000),
 * BENCH_REQUESTS (default 10000), BENCH_ONLY (comma list of due, requests, kill), BENCH_ENGINE
 * (comma list of pg-boss, bullmq; default both), BENCH_CONCURRENCY (per worker, default 20).
 */
import { cpus, loadavg } from 'node:os';
import { createBullMqSyncRunner } from '../src/jobs/bullmq/index.js';
import { createPgBossSyncRunner, type SyncRunner } from '../src/jobs/pg-boss/index.js';
import {
  createJobsGround,
  dropRedisPrefix,
  type JobsGround,
  type JobsWorkerProcess,
  PG_URL,
  REDIS,
  redisAvailable,
  spawnJobsWorker,
} from '../test/integration/jobs-fixtures.js';

const DUE = Number(process.env.BENCH_DUE ?? 2_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

if (!PG_URL) {
  console.log('PG_URL not set: pg-boss job benchmarks skipped.');
  process.exit(0);
}
const url = PG_URL;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rows: Array<[string, string, string]> = [];
const row = (figure: string, value: string, target: string) => {
  rows.push([figure, value, target]);
  console.log(`${figure}: ${value} (target ${target})`);
};

type Engine = 'pg-boss' | 'bullmq';
let engine: Engine = 'pg-boss';
let redisPrefix = '';

async function withGround<T>(
  fn: (ground: JobsGround, workers: JobsWorkerProcess[]) => Promise<T>,
): Promise<T> {
  const ground = await createJobsGround(url);
  redisPrefix = `crm-bench-${process.pid}-${Date.now().toString(36)}`;
  const workers: JobsWorkerProcess[] = [];
  try {
    return await fn(ground, workers);
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    if (engine === 'bullmq') await dropRedisPrefix(redisPrefix);
    await ground.drop();
  }
}

function producer(ground: JobsGround): SyncRunner {
  const common = { storage: ground.storage, runSync: async () => undefined };
  return engine === 'bullmq'
    ? createBullMqSyncRunner({ ...common, connection: REDIS, prefix: redisPrefix })
    : createPgBossSyncRunner({ ...common, connectionString: url, schema: ground.bossSchema });
}

const workerBase = (ground: JobsGround) => ({
  engine,
  redisPrefix,
  pgUrl: url,
  bossSchema: ground.bossSchema,
  storageSchema: ground.storageSchema,
});

const starts = (workers: JobsWorkerProcess[]) =>
  workers.flatMap((w) => w.lines.filter((l) => l.startsWith('start ')).map((l) => l.split(' ')));
const ends = (workers: JobsWorkerProcess[]) =>
  workers.flatMap((w) => w.lines.filter((l) => l.startsWith('end ')).map((l) => l.split(' ')));

async function dueBurst(): Promise<void> {
  await withGround(async (ground, workers) => {
    const ids = await ground.createIntegrations(DUE, 50);
    const base = workerBase(ground);
    for (let i = 0; i < 2; i++) {
      workers.push(spawnJobsWorker({ ...base, runMs: 0, concurrency: CONCURRENCY, probe: false }));
    }
    await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
    const requests = producer(ground);
    const far = new Date(Date.now() + 3_600_000);
    for (let i = 0; i < ids.length; i += 200) {
      await Promise.all(
        ids.slice(i, i + 200).map((id) => requests.setSchedule(id, { everyMs: 3_600_000, firstRunAt: far })),
      );
    }
    // All fall due at the same moment: one statement (pg-boss) or one pipeline (BullMQ).
    const dueAt = Date.now();
    if (engine === 'bullmq') {
      const { Redis } = await import('ioredis');
      const redis = new Redis(REDIS);
      await redis.zadd(`${redisPrefix}:crm-sync:crm-schedules`, ...ids.flatMap((id) => [dueAt, id]));
      redis.disconnect();
    } else {
      await ground.pool.query(`UPDATE "${ground.bossSchema}".crm_sync_schedules SET next_run_at = now()`);
    }
    const until = Date.now() + 120_000;
    while (new Set(starts(workers).map((s) => s[1])).size < ids.length && Date.now() < until)
      await sleep(100);
    const started = starts(workers);
    const firstStarts = new Map<string, number>();
    for (const [, id, at] of started)
      if (!firstStarts.has(id as string)) firstStarts.set(id as string, Number(at));
    const last = Math.max(...firstStarts.values());
    const allWithin = (last - dueAt) / 1000;
    row(
      `${DUE} integrations due at once, 2 workers × ${CONCURRENCY}: all started after`,
      `${allWithin.toFixed(2)} s (${firstStarts.size}/${ids.length} started, ${(firstStarts.size / allWithin).toFixed(0)} runs/s)`,
      '≤ 10 s',
    );
    row(
      'dispatch cost per trivial run (drain time × 2 workers / runs)',
      `${(((last - dueAt) * 2) / firstStarts.size).toFixed(1)} ms`,
      '≤ 50 ms',
    );
    const perIntegration = new Map<string, number>();
    for (const [, id] of started)
      perIntegration.set(id as string, (perIntegration.get(id as string) ?? 0) + 1);
    row(
      '  runs per integration in that burst (min / max)',
      `${Math.min(...perIntegration.values())} / ${Math.max(...perIntegration.values())}`,
      '1 / 1',
    );
    // Idle latency: one request at a time from another process.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = ids[i] as string;
      const before = starts(workers).length;
      const sent = Date.now();
      await requests.requestSync(id, { reason: 'latency' });
      while (starts(workers).length === before) await sleep(2);
      // Lines of several workers are not in time order: take this integration's latest start.
      const mine = starts(workers).filter((line) => line[1] === id);
      latencies.push(Math.max(...mine.map((line) => Number(line[2]))) - sent);
      await sleep(50);
    }
    latencies.sort((a, b) => a - b);
    row(
      'dispatch latency when idle: requestSync → runSync in another process (pollIntervalMs 100), p50 / max',
      `${latencies[10]} / ${latencies.at(-1)} ms`,
      '≤ 50 ms (p50)',
    );
    await requests.stop();
  });
}

async function requestedRuns(): Promise<void> {
  await withGround(async (ground, workers) => {
    const ids = await ground.createIntegrations(500, 10);
    const base = workerBase(ground);
    for (let i = 0; i < 2; i++) {
      workers.push(spawnJobsWorker({ ...base, runMs: 20, concurrency: CONCURRENCY, perOrgConcurrency: 3 }));
    }
    await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
    const requests = producer(ground);
    const started = Date.now();
    for (let sent = 0; sent < REQUESTS; sent += ids.length) {
      await Promise.all(ids.map((id) => requests.requestSync(id, { reason: 'burst' })));
    }
    const sentIn = (Date.now() - started) / 1000;
    // Drained when no run started for 3 s.
    let seen = -1;
    while (seen !== starts(workers).length) {
      seen = starts(workers).length;
      await sleep(3_000);
    }
    const probe = await ground.probe();
    const runs = [...probe.runs.values()].reduce((a, b) => a + b, 0);
    const deferred = ends(workers).filter((e) => e[2] === 'deferred').length;
    row(
      `${REQUESTS} requested runs (500 integrations, 10 orgs, 2 workers): max active runs of one integration`,
      String(probe.maxPerIntegration),
      '1 (0 overlaps)',
    );
    row('  max active runs of one org (perOrgConcurrency 3)', String(probe.maxPerOrg), '≤ 3 (0 overshoots)');
    row(
      '  runs executed / coalesced requests / org-limit deferrals',
      `${runs} / ${REQUESTS - runs} / ${deferred} (requests sent in ${sentIn.toFixed(1)} s)`,
      'informational',
    );
    await requests.stop();
  });
}

async function killRecovery(): Promise<void> {
  await withGround(async (ground, workers) => {
    const [id] = await ground.createIntegrations(1, 1);
    const base = workerBase(ground);
    const doomed = spawnJobsWorker({ ...base, runMs: 0, hang: true });
    const survivor = spawnJobsWorker({ ...base, runMs: 10 });
    workers.push(doomed, survivor);
    await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
    // Only the doomed worker takes it: the survivor would otherwise race for it.
    survivor.child.kill('SIGSTOP');
    const requests = producer(ground);
    await requests.requestSync(id as string, { reason: 'manual' });
    await doomed.waitFor(new RegExp(`^start ${id}`));
    survivor.child.kill('SIGCONT');
    await sleep(500);
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    const line = await survivor.waitFor(new RegExp(`^start ${id}`), 120_000);
    row(
      'SIGKILLed worker: its run started again on another worker after',
      `${((Number(line.split(' ')[2]) - killedAt) / 1000).toFixed(1)} s`,
      '≤ 15 s',
    );
    await requests.stop();
  });
}

console.log(`sync runners (pg-boss, BullMQ) on ${cpus().length} cores (load ${loadavg()[0]?.toFixed(1)})\n`);
const only = process.env.BENCH_ONLY?.split(',');
const wantedEngines = (process.env.BENCH_ENGINE?.split(',') ?? ['pg-boss', 'bullmq']) as Engine[];
for (const next of wantedEngines) {
  engine = next;
  if (engine === 'bullmq' && !(await redisAvailable())) {
    console.log('No Redis on 127.0.0.1:6379: BullMQ figures skipped.');
    continue;
  }
  rows.push([`**${engine}**`, '', '']);
  console.log(`\n## ${engine}`);
  if (!only || only.includes('due')) await dueBurst();
  if (!only || only.includes('requests')) await requestedRuns();
  if (!only || only.includes('kill')) await killRecovery();
}
console.log('\n| figure | measured | target |\n|---|---|---|');
for (const [figure, value, target] of rows) console.log(`| ${figure} | ${value} | ${target} |`);
