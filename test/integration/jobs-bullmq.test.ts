import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmConfigurationError, type CrmIntegration } from '../../src/index.js';
import {
  type BullMqSyncRunnerOptions,
  createBullMqSyncRunner,
  type SyncRunEvent,
  type SyncRunner,
} from '../../src/jobs/bullmq/index.js';
import {
  createJobsGround,
  dropRedisPrefix,
  type JobsGround,
  PG_URL,
  REDIS,
  redisAvailable,
} from './jobs-fixtures.js';

const redisUp = await redisAvailable();

const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition') => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

describe.skipIf(!PG_URL || !redisUp)('createBullMqSyncRunner on Redis (storage on PostgreSQL)', () => {
  let ground: JobsGround;
  let prefix: string;
  const runners: SyncRunner[] = [];

  beforeEach(async () => {
    ground = await createJobsGround(PG_URL as string);
    prefix = `crmtest-${process.pid}-${++seq}`;
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop({ graceful: false })));
    await dropRedisPrefix(prefix);
    await ground.drop();
  });

  function worker(runSync: BullMqSyncRunnerOptions['runSync'], extra: Partial<BullMqSyncRunnerOptions> = {}) {
    const runner = createBullMqSyncRunner({
      connection: REDIS,
      prefix,
      storage: ground.storage,
      runSync,
      pollIntervalMs: 50,
      scanIntervalMs: 100,
      deferDelayMs: 100,
      ...extra,
    });
    runners.push(runner);
    return runner;
  }

  function tracker(ms: number) {
    const active = new Map<string, number>();
    const stats = { maxPerIntegration: 0, maxPerOrg: 0, runs: new Map<string, number>() };
    const bump = (key: string, by: number) => {
      const n = (active.get(key) ?? 0) + by;
      active.set(key, n);
      return n;
    };
    const run = async (integration: CrmIntegration) => {
      stats.maxPerIntegration = Math.max(stats.maxPerIntegration, bump(integration.id, 1));
      stats.maxPerOrg = Math.max(stats.maxPerOrg, bump(`org:${integration.orgId}`, 1));
      stats.runs.set(integration.id, (stats.runs.get(integration.id) ?? 0) + 1);
      try {
        await delay(ms);
      } finally {
        bump(integration.id, -1);
        bump(`org:${integration.orgId}`, -1);
      }
    };
    return { stats, run };
  }

  it('coalesces requests arriving mid-run and never runs one integration twice at once, across two workers', async () => {
    const ids = await ground.createIntegrations(6, 3);
    const { stats, run } = tracker(400);
    const a = worker(run, { concurrency: 4 });
    const b = worker(run, { concurrency: 4 });
    await Promise.all([a.start(), b.start()]);
    await Promise.all(ids.map((id) => a.requestSync(id, { reason: 'webhook' })));
    await waitFor(() => stats.runs.size === ids.length, 20_000, 'first runs');
    for (let i = 0; i < 5; i++)
      await Promise.all(ids.map((id) => (i % 2 ? a : b).requestSync(id, { reason: 'burst' })));
    await waitFor(() => [...stats.runs.values()].every((n) => n >= 2), 20_000, 'follow-up runs');
    await delay(1_500);
    expect(stats.maxPerIntegration).toBe(1);
    for (const id of ids) expect(stats.runs.get(id)).toBeLessThanOrEqual(3);
  });

  it('holds perOrgConcurrency across workers', async () => {
    const ids = await ground.createIntegrations(8, 1);
    const { stats, run } = tracker(300);
    const events: SyncRunEvent[] = [];
    const a = worker(run, { concurrency: 8, perOrgConcurrency: 2, onRunEnd: (e) => events.push(e) });
    const b = worker(run, { concurrency: 8, perOrgConcurrency: 2, onRunEnd: (e) => events.push(e) });
    await Promise.all([a.start(), b.start()]);
    await Promise.all(ids.map((id) => a.requestSync(id, { reason: 'resync' })));
    await waitFor(() => stats.runs.size === ids.length, 30_000, 'all integrations to run');
    expect(stats.maxPerOrg).toBe(2);
    expect(events.some((e) => e.deferredBecause === 'org_limit')).toBe(true);
    expect(events.filter((e) => e.outcome === 'failed')).toEqual([]);
  });

  it('runs schedules from the sorted-set due-scan and stops a schedule set to null', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const { stats, run } = tracker(10);
    const runner = worker(run);
    await runner.start();
    await runner.setSchedule(id as string, { everyMs: 1_000, firstRunAt: new Date() });
    await waitFor(() => (stats.runs.get(id as string) ?? 0) >= 2, 20_000, 'two scheduled runs');
    await runner.setSchedule(id as string, null);
    await delay(300);
    const after = stats.runs.get(id as string);
    await delay(2_000);
    expect(stats.runs.get(id as string)).toBe(after);
  });

  it('retries with backoff, dead-letters into the failed set, and redrives', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const attempts: number[] = [];
    const dead: SyncRunEvent[] = [];
    let healthy = false;
    const runner = worker(
      async (_integration, { attempt }) => {
        attempts.push(attempt);
        if (!healthy) throw new Error('CRM said no');
      },
      { retryLimit: 1, retryDelayMs: 200, onDeadLetter: (e) => dead.push(e) },
    );
    await runner.start();
    await runner.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => dead.length === 1, 30_000, 'the dead letter');
    expect(attempts).toEqual([0, 1]);
    const letters = await runner.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ integrationId: id, reason: 'manual', attempts: 2 });
    expect(letters[0]?.lastError?.message).toContain('CRM said no');
    healthy = true;
    expect(await runner.redriveDeadLetters()).toBe(1);
    await waitFor(() => attempts.length === 3, 20_000, 'the redriven run');
  });

  it('stop({ graceful: false }) hands a run in flight back to another worker', async () => {
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
    const a = worker(hang('a'), { onRunEnd: (e) => events.push(e) });
    await a.start();
    await a.requestSync(id as string, { reason: 'manual' });
    await waitFor(() => started.length === 1, 20_000, 'the run on a');
    await a.stop({ graceful: false });
    expect(events.map((e) => e.outcome)).toEqual(['handed_back']);
    const b = worker(hang('b'), { onRunEnd: (e) => events.push(e) });
    await b.start();
    await waitFor(() => events.length === 2, 20_000, 'the run on b');
    expect(events[1]).toMatchObject({ outcome: 'succeeded', attempt: 0 });
  });

  it('rejects a missing connection or unknown options', () => {
    const storage = ground.storage;
    const runSync = async () => undefined;
    expect(() => createBullMqSyncRunner({ storage, runSync } as never)).toThrow(CrmConfigurationError);
    expect(() => createBullMqSyncRunner({ storage, runSync, connection: REDIS, prefix: 'a:b' })).toThrow(
      /prefix/,
    );
    expect(() => createBullMqSyncRunner({ storage, runSync, connection: REDIS, boss: {} } as never)).toThrow(
      /unknown option 'boss'/,
    );
  });
});
