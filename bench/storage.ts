/**
 * Storage throughput: persist 100,000 `syncStatus` rows on each adapter, the way the sync
 * engine does (batches through `upsertMany`), then overwrite them all once more (the update path).
 * Then the read paths the engine uses on those rows: `getByCrmId` one by one (what a pull does per
 * record) and `getMany` in chunks (what a push does; an adapter without `getMany` is timed with
 * `get` per key, the engine's fallback).
 *
 * Run: `npx tsx bench/storage.ts` (PostgreSQL: the server at PG_URL / DATABASE_URL when set,
 * otherwise embedded PGlite). Env: BENCH_ROWS (default 100000), BENCH_BATCH (default 5000),
 * BENCH_LOOKUPS (getByCrmId calls, a sample spread over all rows; default 10000),
 * BENCH_CHUNK (getMany chunk size; default 2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CrmStorage, type CrmSyncStatusRow, MemoryStorage } from '../src/index.js';
import { PostgresStorage } from '../src/storage/postgres.js';
import { SqliteStorage } from '../src/storage/sqlite.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const LOOKUPS = Math.min(ROWS, Number(process.env.BENCH_LOOKUPS ?? 10_000));
const CHUNK = Number(process.env.BENCH_CHUNK ?? 2_000);
const serverUrl = process.env.PG_URL ?? process.env.DATABASE_URL;

function makeRows(integrationId: string, pass: number): CrmSyncStatusRow[] {
  const at = new Date();
  return Array.from({ length: ROWS }, (_, i) => ({
    integrationId,
    entityType: 'contact',
    externalId: `host-${String(i).padStart(7, '0')}`,
    crmId: `003${String(i).padStart(15, '0')}`,
    status: 'synced',
    direction: 'to_crm',
    contentHash: `${pass}-${i.toString(16).padStart(60, '0')}`,
    lastSyncedAt: at,
    lastError: null,
    state: { fields: { Email: `user${i}@example.com`, LastName: `Name ${i}` }, pass },
  }));
}

async function timeWrites(storage: CrmStorage, rows: CrmSyncStatusRow[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) await storage.syncStatus.upsertMany(rows.slice(i, i + BATCH));
  return (performance.now() - started) / 1000;
}

const externalId = (i: number): string => `host-${String(i).padStart(7, '0')}`;
const crmId = (i: number): string => `003${String(i).padStart(15, '0')}`;

/** Seconds for LOOKUPS `getByCrmId` calls spread evenly over the rows; every one must hit. */
async function timeGetByCrmId(storage: CrmStorage, integrationId: string): Promise<number> {
  const step = ROWS / LOOKUPS;
  const started = performance.now();
  for (let n = 0; n < LOOKUPS; n++) {
    const i = Math.floor(n * step);
    const row = await storage.syncStatus.getByCrmId({
      integrationId,
      entityType: 'contact',
      crmId: crmId(i),
    });
    if (row?.externalId !== externalId(i)) throw new Error(`getByCrmId missed ${crmId(i)}`);
  }
  return (performance.now() - started) / 1000;
}

/** Seconds to read every row by external id in CHUNK-sized `getMany` calls (or `get` per key). */
async function timeGetMany(storage: CrmStorage, integrationId: string): Promise<number> {
  const status = storage.syncStatus;
  const started = performance.now();
  let found = 0;
  for (let start = 0; start < ROWS; start += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, ROWS - start) }, (_, k) => externalId(start + k));
    if (status.getMany) {
      found += (await status.getMany({ integrationId, entityType: 'contact', externalIds: ids })).size;
    } else {
      for (const id of ids) {
        if (await status.get({ integrationId, entityType: 'contact', externalId: id })) found++;
      }
    }
  }
  if (found !== ROWS) throw new Error(`getMany found ${found} of ${ROWS} rows`);
  return (performance.now() - started) / 1000;
}

interface Result {
  name: string;
  insertSeconds: number;
  updateSeconds: number;
  byCrmIdSeconds: number;
  getManySeconds: number;
  batched: boolean;
}

async function bench(name: string, open: () => Promise<{ storage: CrmStorage; done: () => Promise<void> }>) {
  const { storage, done } = await open();
  try {
    const integration = await storage.integrations.create({
      userId: 'bench',
      provider: 'salesforce',
      orgId: '00DBENCH',
      instanceUrl: 'https://bench.my.salesforce.com',
      credentials: 'v1.bench.a.b.c',
    });
    const insertSeconds = await timeWrites(storage, makeRows(integration.id, 1));
    const updateSeconds = await timeWrites(storage, makeRows(integration.id, 2));
    const check = await storage.syncStatus.get({
      integrationId: integration.id,
      entityType: 'contact',
      externalId: `host-${String(ROWS - 1).padStart(7, '0')}`,
    });
    if (!check?.contentHash?.startsWith('2-')) throw new Error(`${name}: last row was not written`);
    const byCrmIdSeconds = await timeGetByCrmId(storage, integration.id);
    const getManySeconds = await timeGetMany(storage, integration.id);
    const batched = typeof storage.syncStatus.getMany === 'function';
    return { name, insertSeconds, updateSeconds, byCrmIdSeconds, getManySeconds, batched } satisfies Result;
  } finally {
    await storage.close();
    await done();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  const results: Result[] = [];
  try {
    results.push(await bench('memory', async () => ({ storage: new MemoryStorage(), done: async () => {} })));
    results.push(
      await bench('sqlite (better-sqlite3, WAL file)', async () => ({
        storage: new SqliteStorage({ filename: join(dir, 'bench.sqlite') }),
        done: async () => {},
      })),
    );
    if (serverUrl) {
      const schema = `crm_bench_${process.pid}`;
      results.push(
        await bench('postgres (server)', async () => {
          const storage = new PostgresStorage({ connectionString: serverUrl, schema });
          await storage.migrate();
          const pg = (await import('pg')).default;
          return {
            storage,
            done: async () => {
              const admin = new pg.Client({ connectionString: serverUrl });
              await admin.connect();
              await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
              await admin.end();
            },
          };
        }),
      );
    } else {
      results.push(
        await bench('postgres (PGlite, embedded)', async () => {
          const { PGlite } = await import('@electric-sql/pglite');
          const db = await PGlite.create();
          const storage = new PostgresStorage({ pool: db, schema: 'crm_bench' });
          await storage.migrate();
          return { storage, done: () => db.close() };
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const memory = results[0]!;
  console.log(
    `\nPersisting ${ROWS.toLocaleString('en')} syncStatus rows in upsertMany batches of ${BATCH}:\n`,
  );
  console.log(
    `${'adapter'.padEnd(36)}${'insert s'.padStart(10)}${'rows/s'.padStart(12)}${'vs memory'.padStart(11)}${'update s'.padStart(10)}${'rows/s'.padStart(12)}${'vs memory'.padStart(11)}`,
  );
  for (const r of results) {
    const rate = (s: number) => Math.round(ROWS / s).toLocaleString('en');
    console.log(
      `${r.name.padEnd(36)}${r.insertSeconds.toFixed(2).padStart(10)}${rate(r.insertSeconds).padStart(12)}${`${(r.insertSeconds / memory.insertSeconds).toFixed(1)}x`.padStart(11)}${r.updateSeconds.toFixed(2).padStart(10)}${rate(r.updateSeconds).padStart(12)}${`${(r.updateSeconds / memory.updateSeconds).toFixed(1)}x`.padStart(11)}`,
    );
  }
  console.log(
    `\nReading them back: ${LOOKUPS.toLocaleString('en')} getByCrmId calls (sample over all rows), and all ${ROWS.toLocaleString('en')} rows by external id in getMany chunks of ${CHUNK}:\n`,
  );
  console.log(
    `${'adapter'.padEnd(36)}${'byCrmId s'.padStart(10)}${'µs/call'.padStart(10)}${'vs memory'.padStart(11)}${'getMany s'.padStart(11)}${'rows/s'.padStart(12)}${'vs memory'.padStart(11)}  path`,
  );
  for (const r of results) {
    const perCall = ((r.byCrmIdSeconds / LOOKUPS) * 1e6).toFixed(1);
    const rate = Math.round(ROWS / r.getManySeconds).toLocaleString('en');
    console.log(
      `${r.name.padEnd(36)}${r.byCrmIdSeconds.toFixed(2).padStart(10)}${perCall.padStart(10)}${`${(r.byCrmIdSeconds / memory.byCrmIdSeconds).toFixed(1)}x`.padStart(11)}${r.getManySeconds.toFixed(2).padStart(11)}${rate.padStart(12)}${`${(r.getManySeconds / memory.getManySeconds).toFixed(1)}x`.padStart(11)}  ${r.batched ? 'getMany' : 'get per key (no getMany)'}`,
    );
  }
  console.log('\n("vs memory" = time relative to the in-memory adapter in the same run; higher is slower.)');
  // Shared CI and dev machines vary a lot; the load tells how much of the CPU the run really had.
  console.log(
    `Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

await main();
