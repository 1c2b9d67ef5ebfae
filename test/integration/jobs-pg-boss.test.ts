import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmConfigurationError, type CrmIntegration } from '../../src/index.js';
import {
  createPgBossSyncRunner,
  type PgBossSyncRunnerOptions,
  type SyncRunEvent,
  type SyncRunner,
} from '../../src/jobs/pg-boss/index.js';
import { createJobsGround, type JobsGround, PG_URL } from './jobs-fixtures.js';

const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition') => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!PG_URL)('createPgBossSyncRunner on PostgreSQL (in-process workers)', () => {
  let ground: JobsGround;
  const runners: SyncRunner[] = [];

  beforeEach(async () => {
    ground = await createJobsGround(PG_URL as string);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop({ graceful: false })));
    await ground.drop();
  });

  /** A worker with a tracked runSync: counts active runs per integration and per org in this process. */
  function worker(
    runSync: PgBossSyncRunnerOptions['runSync'],
    extra: Partial<PgBossSyncRunnerOptions> = {},
  ): SyncRunner {
    const runner = createPgBossSyncRunner({
      connectionString: PG_URL as string,
      schema: ground.bossSchema,
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

  function tracker() {
    const active = new Map<string, number>();
    const stats = { maxPerIntegration: 0, maxPerOrg: 0, runs: new Map<string, number>(), reasons: [] as string[] };
    const enter = (key: string) => {
      const n = (active.get(key) ?? 0) + 1;
      active.set(key, n);
      return n;
    };
    const leave = (key: string) => active.set(key, (active.get(key) ?? 1) - 1);
    const run = (ms: number) => async (integration: CrmIntegration, context: { signal: AbortSignal; reason: string }) => {
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
});
