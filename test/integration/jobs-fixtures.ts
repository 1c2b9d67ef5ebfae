/**
 * Shared ground for the job-runner tests and benchmarks: a fresh pair of schemas (pg-boss's and
 * the CRM storage's) on the real PostgreSQL, integrations spread over orgs, and a probe table
 * that counts active runs per integration and per org across processes, keeping the maximum.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresStorage } from '../../src/storage/postgres.js';

export const PG_URL = process.env.PG_URL ?? process.env.DATABASE_URL;

let seq = 0;

export interface JobsGround {
  bossSchema: string;
  storageSchema: string;
  storage: PostgresStorage;
  pool: pg.Pool;
  /** Create `count` integrations round-robin over `orgs` orgs; resolves to their ids. */
  createIntegrations(count: number, orgs: number): Promise<string[]>;
  /** The probe's figures: max active runs of one integration, of one org, and runs per key. */
  probe(): Promise<{
    maxPerIntegration: number;
    maxPerOrg: number;
    runs: Map<string, number>;
    active: number;
  }>;
  drop(): Promise<void>;
}

/** SQL a worker runs at the start and end of each probed run (`$1` = key). */
export const probeSql = (schema: string) => ({
  enter: `INSERT INTO "${schema}".jobs_probe AS p (key, active, max_active, runs) VALUES ($1, 1, 1, 1)
          ON CONFLICT (key) DO UPDATE SET active = p.active + 1, max_active = GREATEST(p.max_active, p.active + 1), runs = p.runs + 1`,
  leave: `UPDATE "${schema}".jobs_probe SET active = active - 1 WHERE key = $1`,
});

export async function createJobsGround(url: string): Promise<JobsGround> {
  const id = `${process.pid}_${Date.now().toString(36)}_${++seq}`;
  const bossSchema = `jobs_boss_${id}`;
  const storageSchema = `jobs_crm_${id}`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const storage = new PostgresStorage({ connectionString: url, schema: storageSchema, maxConnections: 8 });
  await storage.migrate();
  await pool.query(
    `CREATE TABLE "${storageSchema}".jobs_probe (key text PRIMARY KEY, active int NOT NULL, max_active int NOT NULL, runs int NOT NULL)`,
  );
  return {
    bossSchema,
    storageSchema,
    storage,
    pool,
    async createIntegrations(count, orgs) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const created = await storage.integrations.create({
          userId: `user-${i}`,
          provider: 'salesforce',
          orgId: `00D${String(i % orgs).padStart(3, '0')}`,
          instanceUrl: 'https://example.my.salesforce.com',
          credentials: 'v1.k.iv.ct.tag',
        });
        ids.push(created.id);
      }
      return ids;
    },
    async probe() {
      const { rows } = await pool.query<{ key: string; active: number; max_active: number; runs: number }>(
        `SELECT key, active, max_active, runs FROM "${storageSchema}".jobs_probe`,
      );
      let maxPerIntegration = 0;
      let maxPerOrg = 0;
      let active = 0;
      const runs = new Map<string, number>();
      for (const row of rows) {
        if (row.key.startsWith('org:')) maxPerOrg = Math.max(maxPerOrg, row.max_active);
        else {
          maxPerIntegration = Math.max(maxPerIntegration, row.max_active);
          runs.set(row.key, row.runs);
          active += row.active;
        }
      }
      return { maxPerIntegration, maxPerOrg, runs, active };
    },
    async drop() {
      await storage.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${bossSchema}" CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS "${storageSchema}" CASCADE`);
      await pool.end();
    },
  };
}

/** A `jobs-worker.child.ts` process. */
export interface JobsWorkerProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line (already seen or coming) that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

const WORKER = fileURLToPath(new URL('./jobs-worker.child.ts', import.meta.url));

/** Start a worker process with the given `JOBS_WORKER` config (see jobs-worker.child.ts). */
export function spawnJobsWorker(config: Record<string, unknown>): JobsWorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, JOBS_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const listener of listeners) listener(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => () => {
          listeners.delete(listener);
          reject(
            new Error(
              `${why} before ${pattern}; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${stderr.slice(-2000)}`,
            ),
          );
        };
        const timer = setTimeout(fail('timed out'), timeoutMs);
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        void exited.then(() => setTimeout(fail('worker exited'), 50));
      });
    },
  };
}

/** ioredis options of the local Redis the BullMQ tests use. */
export const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

/** True when Redis answers on 127.0.0.1:6379. */
export async function redisAvailable(): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const probe = new Redis({ ...REDIS, lazyConnect: true, retryStrategy: () => null });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Delete every Redis key under `prefix` (a test's BullMQ keys). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
