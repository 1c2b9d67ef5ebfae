import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPgBossSyncRunner, type SyncRunner } from '../../src/jobs/pg-boss/index.js';
import {
  createJobsGround,
  type JobsGround,
  type JobsWorkerProcess,
  PG_URL,
  spawnJobsWorker,
} from './jobs-fixtures.js';

/**
 * Several worker processes on one PostgreSQL, as a host deploys them. Overlap is counted in the
 * database by the workers themselves (the probe table), so it is measured across processes.
 */
describe.skipIf(!PG_URL)('createPgBossSyncRunner across worker processes', () => {
  let ground: JobsGround;
  let workers: JobsWorkerProcess[] = [];
  let producer: SyncRunner | null = null;

  beforeEach(async () => {
    ground = await createJobsGround(PG_URL as string);
  });
  afterEach(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    workers = [];
    await producer?.stop();
    producer = null;
    await ground.drop();
  });

  const base = () => ({ pgUrl: PG_URL, bossSchema: ground.bossSchema, storageSchema: ground.storageSchema });

  /** A process that only enqueues (like a web server receiving webhooks). */
  const enqueuer = () => {
    producer = createPgBossSyncRunner({
      connectionString: PG_URL as string,
      schema: ground.bossSchema,
      storage: ground.storage,
      runSync: async () => {
        throw new Error('the producer never runs syncs');
      },
    });
    return producer;
  };

  it('three workers and bursts of requests: every integration runs, never two runs of one integration, never above the org limit', async () => {
    const ids = await ground.createIntegrations(24, 3);
    workers = [1, 2, 3].map(() =>
      spawnJobsWorker({ ...base(), runMs: 150, concurrency: 4, perOrgConcurrency: 2 }),
    );
    await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
    const requests = enqueuer();
    for (let burst = 0; burst < 3; burst++) {
      await Promise.all(ids.map((id) => requests.requestSync(id, { reason: `burst-${burst}` })));
      await new Promise((r) => setTimeout(r, 100));
    }
    const ran = () =>
      new Set(
        workers.flatMap((w) =>
          w.lines.filter((l) => /^end \S+ succeeded/.test(l)).map((l) => l.split(' ')[1]),
        ),
      );
    const until = Date.now() + 60_000;
    while (ran().size < ids.length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(ran().size).toBe(ids.length);
    const probe = await ground.probe();
    expect(probe.maxPerIntegration).toBe(1);
    expect(probe.maxPerOrg).toBeLessThanOrEqual(2);
    // Work really was spread over processes, and bursts coalesced (3 bursts → at most 1 + 1 follow-up + 1 racing the end).
    expect(workers.filter((w) => w.lines.some((l) => l.startsWith('start '))).length).toBeGreaterThan(1);
    for (const id of ids) expect(probe.runs.get(id)).toBeLessThanOrEqual(3);
  }, 90_000);

  it('a SIGKILLed worker’s run is picked up by another worker within seconds', async () => {
    const [id] = await ground.createIntegrations(1, 1);
    const doomed = spawnJobsWorker({ ...base(), runMs: 0, hang: true, leaseTtlMs: 5_000 });
    workers.push(doomed);
    await doomed.waitFor(/^ready$/);
    await enqueuer().requestSync(id as string, { reason: 'manual' });
    await doomed.waitFor(new RegExp(`^start ${id}`));
    const survivor = spawnJobsWorker({ ...base(), runMs: 10, leaseTtlMs: 5_000 });
    workers.push(survivor);
    await survivor.waitFor(/^ready$/);
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    const line = await survivor.waitFor(new RegExp(`^start ${id}`), 60_000);
    const recoverySeconds = (Number(line.split(' ')[2]) - killedAt) / 1000;
    // pg-boss fails the job after a missed 10 s heartbeat (monitor every 2 s); measured ~10–14 s here.
    expect(recoverySeconds).toBeLessThan(30);
    await survivor.waitFor(new RegExp(`^end ${id} succeeded`));
  }, 90_000);
});
