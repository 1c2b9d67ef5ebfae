import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmConfigurationError, type CrmIntegration } from '../../src/index.js';
import { createBullMqSyncRunner } from '../../src/jobs/bullmq/index.js';
import { createPgBossSyncRunner, type SyncRunEvent, type SyncRunner } from '../../src/jobs/pg-boss/index.js';
import type { SyncRunnerOptions } from '../../src/jobs/types.js';
import {
  createJobsGround,
  dropRedisPrefix,
  type JobsGround,
  PG_URL,
  REDIS,
  redisAvailable,
} from './jobs-fixtures.js';

// The same specification for both runners: they share one engine-agnostic core, and each adapter
// must keep its guarantees on its own engine. Storage is PostgreSQL for both.
const redisUp = await redisAvailable();
const engines = [
  { engine: 'pg-boss' as const, available: Boolean(PG_URL) },
  { engine: 'bullmq' as const, available: Boolean(PG_URL) && redisUp },
];
let seq = 0;

const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition') => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(engines)('$engine sync runner (in-process workers)', ({ engine, available }) => {
  if (!available) {
    const needs = `needs PostgreSQL${engine === 'bullmq' ? ' and Redis' : ''}`;
    // CI starts both services (.ci/run): there a missing one is a failure, not a quiet skip.
    if (process.env.CI === 'true') {
      it(needs, () => {
        throw new Error(`${engine} runner tests ${needs} (PG_URL and Redis on 127.0.0.1:6379)`);
      });
    } else {
      it.skip(needs);
    }
    return;
  }
  let ground: JobsGround;
  let prefix: string;
  const runners: SyncRunner[] = [];

  beforeEach(async () => {
    ground = await createJobsGround(PG_URL as string);
    prefix = `crm-runner-${process.pid}-${++seq}`;
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop({ graceful: false })));
    if (engine === 'bullmq') await dropRedisPrefix(prefix);
    await ground.drop();
  });

  /** A worker with a tracked runSync: counts active runs per integration and per org in this process. */
  function worker(runSync: SyncRunnerOptions['runSync'], extra: Partial<SyncRunnerOptions> = {}): SyncRunner {
    const common: SyncRunnerOptions = {
      storage: ground.storage,
      runSync,
      pollIntervalMs: 50,
      scanIntervalMs: 100,
      deferDelayMs: 100,
      ...extra,
    };
    const runner =
      engine === 'bullmq'
        ? createBullMqSyncRunner({ ...common, connection: REDIS, prefix })
        : createPgBossSyncRunner({
            ...common,
            connectionString: PG_URL as string,
            schema: ground.bossSchema,
          });
    runners.push(runner);
    return runner;
  }

  function tracker() {
    const active = new Map<string, number>();
    const stats = {
      maxPerIntegration: 0,
      maxPerOrg: 0,
      runs: new Map<string, number>(),
      reasons: [] as string[],
    };
    const enter = (key: string) => {
      const n = (active.get(key) ?? 0) + 1;
      active.set(key, n);
      return n;
    };
    const leave = (key: string) => active.set(key, (active.get(key) ?? 1) - 1);
    const run =
      (ms: number) =>
      async (integration: CrmIntegration, context: { signal: AbortSignal; reason: string }) => {
        stats.maxPerIntegration = Math.max(stats.maxPerIntegration, enter(integration.id));
        stats.maxPerOrg = Math.max(stats.maxPerOrg, enter(`org:${integration.orgId}`));
        stats.runs.set(integration.id, (stats.runs.get(integration.id) ?? 0) + 1);
        stats.reasons.push(context.reason);
        try {
          await delay(ms);
        } finally {
          leave(integration.id);
          leave(`org:${integration.orgId}`);
        }
      };
    return { stats, run };
  }

  it('runs a requested sync once, with the integration and the reason', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const seen: Array<{ id: string; reason: string; attempt: number }> = [];
    const runner = worker(async (integration, { reason, attempt }) => {
      seen.push({ id: integration.id, reason, attempt });
    });
    await runner.start();
    await runner.requestSync(id as string, { reason: 'webhook' });
    await waitFor(() => seen.length === 1, 20_000, 'the run');
    await delay(300);
    expect(seen).toEqual([{ id, reason: 'webhook', attempt: 0 }]);
  });

  it('coalesces a burst of requests arriving mid-run into one follow-up, never two runs of one integration at once, across two workers', async () => {
    const ids = await ground.createIntegrations(6, 3);
    const { stats, run } = tracker();
    const a = worker(run(400), { concurrency: 4 });
    const b = worker(run(400), { concurrency: 4 });
    await Promise.all([a.start(), b.start()]);
    await Promise.all(ids.map((id) => a.requestSync(id, { reason: 'webhook' })));
    await waitFor(() => stats.runs.size === ids.length, 20_000, 'first runs');
    // Mid-run: 5 more requests per integration from both processes.
    for (let i = 0; i < 5; i++) {
      await Promise.all(ids.map((id) => (i % 2 ? a : b).requestSync(id, { reason: `burst-${i}` })));
    }
    await waitFor(() => [...stats.runs.values()].every((n) => n >= 2), 20_000, 'follow-up runs');
    await delay(1_500);
    expect(stats.maxPerIntegration).toBe(1);
    // One run, then at most one coalesced follow-up (a request racing the end of the first run can add one more).
    for (const id of ids) expect(stats.runs.get(id)).toBeLessThanOrEqual(3);
    expect([...stats.runs.values()].reduce((x, y) => x + y, 0)).toBeLessThan(ids.length * 6);
  });

  it('holds perOrgConcurrency across workers: runs of one org wait for a free slot (deferred, not failed)', async () => {
    const ids = await ground.createIntegrations(8, 1);
    const { stats, run } = tracker();
    const events: SyncRunEvent[] = [];
    const onRunEnd = (event: SyncRunEvent) => events.push(event);
    const a = worker(run(300), { concurrency: 8, perOrgConcurrency: 2, onRunEnd });
    const b = worker(run(300), { concurrency: 8, perOrgConcurrency: 2, onRunEnd });
    await Promise.all([a.start(), b.start()]);
    await Promise.all(ids.map((id) => a.requestSync(id, { reason: 'resync' })));
    await waitFor(() => stats.runs.size === ids.length, 30_000, 'all integrations to run');
    expect(stats.maxPerOrg).toBe(2);
    expect(events.some((e) => e.outcome === 'deferred' && e.deferredBecause === 'org_limit')).toBe(true);
    expect(events.filter((e) => e.outcome === 'failed')).toEqual([]);
  });

  it('runs schedules from the due-scan, spreads first runs, and stops a schedule set to null', async () => {
    const ids = await ground.createIntegrations(3, 1);
    const { stats, run } = tracker();
    const runner = worker(run(10));
    await runner.start();
    const now = new Date();
    await runner.setSchedule(ids[0] as string, { everyMs: 1_000, firstRunAt: now });
    await runner.setSchedule(ids[1] as string, { everyMs: 1_000, firstRunAt: now });
    await runner.setSchedule(ids[2] as string, { everyMs: 3_600_000 });
    await waitFor(() => (stats.runs.get(ids[0] as string) ?? 0) >= 2, 20_000, 'two scheduled runs');
    await runner.setSchedule(ids[0] as string, null);
    await delay(300);
    const after = stats.runs.get(ids[0] as string) ?? 0;
    await delay(2_000);
    expect(stats.runs.get(ids[0] as string)).toBe(after);
    expect(stats.runs.get(ids[1] as string) ?? 0).toBeGreaterThanOrEqual(2);
    // Without firstRunAt the first run waits a stable per-integration offset within the interval.
    expect(stats.runs.has(ids[2] as string)).toBe(false);
    expect(new Set(stats.reasons)).toEqual(new Set(['scheduled']));
    if (engine === 'pg-boss') {
      const { rows } = await ground.pool.query(
        `SELECT next_run_at FROM "${ground.bossSchema}".crm_sync_schedules WHERE integration_id = $1`,
        [ids[2]],
      );
      expect(new Date(rows[0].next_run_at).getTime()).toBeGreaterThan(now.getTime());
    }
  });

  it('retries a failing run with backoff, then dead-letters it where the host can see and redrive it', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const attempts: number[] = [];
    const dead: SyncRunEvent[] = [];
    let healthy = false;
    const runner = worker(
      async (_integration, { attempt }) => {
        attempts.push(attempt);
        if (!healthy) throw new Error('CRM said no (access_token=SECRETSECRETSECRET)');
      },
      { retryLimit: 1, retryDelayMs: 1_000, onDeadLetter: (event) => dead.push(event) },
    );
    await runner.start();
    await runner.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => dead.length === 1, 30_000, 'the dead letter');
    expect(attempts).toEqual([0, 1]);
    let letters = await runner.deadLetters();
    await waitFor(
      async () => {
        letters = await runner.deadLetters();
        return letters.length === 1;
      },
      10_000,
      'the dead-letter record',
    );
    expect(letters[0]).toMatchObject({
      integrationId: id,
      reason: 'manual',
      attempts: 2,
      lastError: { name: 'Error', message: expect.stringContaining('CRM said no') },
    });
    expect(letters[0]?.failedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(letters)).not.toContain('SECRETSECRETSECRET');
    healthy = true;
    expect(await runner.redriveDeadLetters()).toBe(1);
    await waitFor(() => attempts.length === 3, 20_000, 'the redriven run');
  });

  it('stop({ graceful: false }) aborts a run in flight and hands it back to another worker without using a retry', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const events: SyncRunEvent[] = [];
    const started: string[] = [];
    const hang =
      (name: string) =>
      async (_i: CrmIntegration, { signal }: { signal: AbortSignal }) => {
        started.push(name);
        if (name === 'b') return;
        await new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      };
    const a = worker(hang('a'), { onRunEnd: (e) => events.push(e), leaseTtlMs: 2_000 });
    await a.start();
    await a.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => started.length === 1, 20_000, 'the run on a');
    await a.stop({ graceful: false });
    expect(events.map((e) => e.outcome)).toEqual(['handed_back']);
    const b = worker(hang('b'), { onRunEnd: (e) => events.push(e) });
    await b.start();
    await waitFor(() => started.includes('b'), 20_000, 'the run on b');
    await waitFor(() => events.length === 2, 5_000, 'b to finish');
    expect(events[1]).toMatchObject({ outcome: 'succeeded', attempt: 0 });
  });

  it('stop() waits for runs in flight to finish within the grace period', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const events: SyncRunEvent[] = [];
    let startedRun = false;
    const runner = worker(
      async () => {
        startedRun = true;
        await delay(500);
      },
      { onRunEnd: (e) => events.push(e) },
    );
    await runner.start();
    await runner.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => startedRun, 20_000, 'the run');
    await runner.stop();
    expect(events.map((e) => e.outcome)).toEqual(['succeeded']);
    expect(runner.activeRuns).toBe(0);
  });

  it('skips integrations that are gone or paused', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    await ground.storage.integrations.update(id as string, { syncEnabled: false });
    const events: SyncRunEvent[] = [];
    let ran = 0;
    const runner = worker(
      async () => {
        ran++;
      },
      { onRunEnd: (e) => events.push(e) },
    );
    await runner.start();
    await runner.requestSync(id as string, { reason: 'manual' });
    await runner.requestSync('no-such-integration', { reason: 'manual' });
    await waitFor(() => events.length === 2, 20_000, 'both jobs');
    expect(ran).toBe(0);
    expect(events.map((e) => e.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('defers a run whose integration lease is held elsewhere (e.g. a run outside the runner) until it is free', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const lease = await ground.storage.leases.acquire(`jobs:run:${id}`, 60_000);
    const events: SyncRunEvent[] = [];
    const runner = worker(async () => undefined, { onRunEnd: (e) => events.push(e) });
    await runner.start();
    await runner.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => events.some((e) => e.outcome === 'deferred'), 20_000, 'a deferral');
    expect(events[0]).toMatchObject({ deferredBecause: 'integration_busy' });
    await ground.storage.leases.release(lease!);
    await waitFor(() => events.some((e) => e.outcome === 'succeeded'), 20_000, 'the run');
  });
});

describe('runner options', () => {
  const storage = { leases: { acquire() {} }, integrations: { get() {} } } as never;
  const runSync = async () => undefined;

  it('rejects missing, conflicting and unknown options with CrmConfigurationError', () => {
    expect(() => createPgBossSyncRunner({ storage, runSync } as never)).toThrow(CrmConfigurationError);
    expect(() =>
      createPgBossSyncRunner({ storage, runSync, connectionString: 'postgres://x', boss: {} as never }),
    ).toThrow(/exactly one of boss/);
    expect(() =>
      createPgBossSyncRunner({ storage, runSync, connectionString: 'postgres://x', concurency: 2 } as never),
    ).toThrow(/unknown option 'concurency'/);
    expect(() =>
      createPgBossSyncRunner({ storage, runSync, connectionString: 'postgres://x', perOrgConcurrency: 0 }),
    ).toThrow(/perOrgConcurrency/);
    expect(() =>
      createPgBossSyncRunner({ storage, runSync, connectionString: 'postgres://x', schema: 'x;drop' }),
    ).toThrow(/schema/);
    expect(() => createPgBossSyncRunner({ runSync, connectionString: 'postgres://x' } as never)).toThrow(
      /storage/,
    );
    expect(() => createPgBossSyncRunner({ storage, connectionString: 'postgres://x' } as never)).toThrow(
      /runSync/,
    );
  });

  it('validates requestSync and setSchedule arguments before touching the engine', async () => {
    const runner = createPgBossSyncRunner({ storage, runSync, connectionString: 'postgres://x' });
    await expect(runner.requestSync('', { reason: 'manual' })).rejects.toThrow(CrmConfigurationError);
    await expect(runner.requestSync('i1', {} as never)).rejects.toThrow(/reason/);
    await expect(runner.requestSync('i1', { reason: 'x', delayMs: -1 })).rejects.toThrow(/delayMs/);
    await expect(runner.setSchedule('i1', { everyMs: 10 })).rejects.toThrow(/everyMs/);
    await expect(runner.setSchedule('i1', { everyMs: 60_000, firstRunAt: new Date('nope') })).rejects.toThrow(
      /firstRunAt/,
    );
  });
});
