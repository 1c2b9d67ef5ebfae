/**
 * Sync runs on a job engine: two workers and a scheduler share one PostgreSQL through pg-boss
 * (`@markmail/crm/jobs/pg-boss`). Schedules and webhook-style requests flow into one queue; each
 * integration runs at most once at a time, and at most one run per CRM org (`perOrgConcurrency: 1`).
 *
 *   npx tsx examples/workers.ts
 *
 * - PostgreSQL: the server in PG_URL (or DATABASE_URL); without one, an embedded PostgreSQL
 *   (PGlite) that pg-boss reaches through its `fromPglite` adapter. With a server, the workers
 *   would normally be separate processes (`createPgBossSyncRunner({ connectionString, … })` in each);
 *   PGlite lives in one process, so here they share it.
 * - Needs the optional peer `pg-boss` (`npm install pg-boss`).
 * - `runSync` here only waits 300 ms; in a host it builds a `SyncEngine` for the integration and
 *   calls `pushContacts` / `pullContacts` with the given signal.
 */
import type { CrmIntegration } from '@markmail/crm';
import {
  createPgBossSyncRunner,
  RECOMMENDED_PG_BOSS_OPTIONS,
  type SyncRunner,
} from '@markmail/crm/jobs/pg-boss';
import { PostgresStorage } from '@markmail/crm/storage/postgres';
import { fromPglite, PgBoss } from 'pg-boss';

const pgUrl = process.env.PG_URL ?? process.env.DATABASE_URL;
const schema = `crm_workers_example_${process.pid}`;
const pglite = pgUrl ? null : await import('@electric-sql/pglite').then(({ PGlite }) => PGlite.create());

// One PgBoss per process, created with the settings that make stall recovery fast.
const boss = pglite
  ? new PgBoss({
      db: fromPglite(pglite),
      backend: 'pglite',
      schema,
      ...RECOMMENDED_PG_BOSS_OPTIONS,
    })
  : new PgBoss({ connectionString: pgUrl as string, schema, ...RECOMMENDED_PG_BOSS_OPTIONS });
boss.on('error', (error) => console.error('pg-boss:', error.message));
await boss.start();
const storage = pglite
  ? new PostgresStorage({ pool: pglite, schema })
  : new PostgresStorage({ connectionString: pgUrl as string, schema });
await storage.migrate();
console.log(pglite ? 'Using an embedded PostgreSQL (PGlite)' : 'Using the PostgreSQL server in PG_URL');

// Six integrations of three customers, on two CRM orgs.
const integrations: CrmIntegration[] = [];
for (let i = 0; i < 6; i++) {
  integrations.push(
    await storage.integrations.create({
      userId: `customer-${i % 3}`,
      provider: 'salesforce',
      orgId: i % 2 ? '00DORGB' : '00DORGA',
      instanceUrl: 'https://example.my.salesforce.com',
      credentials: 'v1.k.iv.ct.tag', // ciphertext from CredentialCipher in a real host
    }),
  );
}

const active = new Map<string, number>();
let maxPerOrg = 0;
const log: Array<{ worker: string; integration: string; org: string; reason: string }> = [];
function worker(name: string): SyncRunner {
  return createPgBossSyncRunner({
    boss,
    schema,
    storage,
    concurrency: 4,
    perOrgConcurrency: 1,
    deferDelayMs: 200,
    scanIntervalMs: 250,
    pollIntervalMs: 100,
    runSync: async (integration, { signal, reason }) => {
      const n = (active.get(integration.orgId) ?? 0) + 1;
      active.set(integration.orgId, n);
      maxPerOrg = Math.max(maxPerOrg, n);
      log.push({ worker: name, integration: integration.id.slice(0, 8), org: integration.orgId, reason });
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        signal.throwIfAborted();
      } finally {
        active.set(integration.orgId, (active.get(integration.orgId) ?? 1) - 1);
      }
    },
  });
}

const workerA = worker('worker-a');
const workerB = worker('worker-b');
await Promise.all([workerA.start(), workerB.start()]);

// The scheduler side (a web process in a host): schedules, and a burst of webhook requests that
// coalesce into at most one follow-up run per integration.
const scheduler = worker('scheduler (never started)');
for (const integration of integrations.slice(0, 2)) {
  await scheduler.setSchedule(integration.id, { everyMs: 2_000, firstRunAt: new Date() });
}
for (let i = 0; i < 5; i++) {
  for (const integration of integrations) await scheduler.requestSync(integration.id, { reason: 'webhook' });
}

await new Promise((resolve) => setTimeout(resolve, 5_000));
await Promise.all([workerA.stop({ graceful: true }), workerB.stop({ graceful: true })]);

console.table(log);
console.log(`runs: ${log.length} (30 webhook requests coalesced, plus schedules)`);
console.log(`workers used: ${new Set(log.map((r) => r.worker)).size}`);
console.log(`max runs at once in one org: ${maxPerOrg}`);
console.log(`dead letters: ${(await scheduler.deadLetters()).length}`);

await boss.stop({ graceful: false });
if (pglite) await pglite.close();
else {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
  await storage.close();
}
