import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrmStorage, type CrmSyncStatusRow, SyncEngine } from '../../src/index.js';
import { SalesforceProvider } from '../../src/salesforce/index.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

const CHILD = fileURLToPath(new URL('./sync-worker.child.ts', import.meta.url));
const INTEGRATION = 'crash-int';
const PG_URL = process.env.PG_URL ?? process.env.DATABASE_URL;

interface Worker {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `test`. */
  waitFor(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

function startWorker(config: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, SYNC_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(test, timeoutMs = 120_000) {
      const found = lines.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`worker line not seen; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${stderr}`),
            ),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() =>
          setTimeout(
            () =>
              reject(new Error(`worker exited; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${stderr}`)),
            50,
          ),
        );
      });
    },
  };
}

async function allStatusRows(storage: CrmStorage): Promise<CrmSyncStatusRow[]> {
  const rows: CrmSyncStatusRow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await storage.syncStatus.list({
      integrationId: INTEGRATION,
      limit: 5_000,
      ...(after === undefined ? {} : { after }),
    });
    rows.push(...page);
    if (page.length < 5_000) return rows;
    after = page.at(-1)?.externalId;
  }
}

let emulator: SalesforceEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startSalesforceEmulator();
  dir = mkdtempSync(join(tmpdir(), 'markmail-sync-crash-'));
});

afterAll(async () => {
  await emulator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SyncEngine crash safety (child process + SIGKILL, Salesforce emulator, SQLite file)', () => {
  it('a killed run’s open Bulk job is recorded durably and aborted when its lease is taken over', async () => {
    emulator.reset();
    const filename = join(dir, 'orphan.sqlite');
    const setup = new SqliteStorage({ filename });
    await setup.migrate();
    await setup.close();
    // The job is created and its data uploaded, then the close call stalls: the job stays Open.
    const stall = emulator.faults.add({ method: 'PATCH', path: /\/jobs\/ingest\/[^/]+$/, delayMs: 120_000 });
    const worker = startWorker({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
      storage: { kind: 'sqlite', filename },
      count: 100,
      batchSize: 100,
      bulkThreshold: 10,
      leaseTtlMs: 1_500,
      waitForLeaseMs: 0,
    });
    const deadline = Date.now() + 60_000;
    while (stall.hits === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stall.hits).toBe(1);
    worker.child.kill('SIGKILL');
    await worker.exited;

    const storage = new SqliteStorage({ filename });
    try {
      const recorded = JSON.parse(
        (await storage.cursors.get(INTEGRATION, 'run:open-jobs')) ?? '[]',
      ) as string[];
      expect(recorded).toHaveLength(1);
      const jobId = recorded[0] as string;
      const jobState = async () => {
        const response = await fetch(`${emulator.instanceUrl}/services/data/v66.0/jobs/ingest/${jobId}`, {
          headers: { authorization: `Bearer ${emulator.accessToken}` },
        });
        return ((await response.json()) as { state: string }).state;
      };
      expect(await jobState()).toBe('Open');

      const provider = new SalesforceProvider({
        instanceUrl: emulator.instanceUrl,
        accessToken: emulator.accessToken,
      });
      const engine = new SyncEngine({
        provider,
        storage,
        integrationId: INTEGRATION,
        waitForLeaseMs: 15_000,
      });
      const contacts = Array.from({ length: 100 }, (_, i) => ({
        externalId: `h-${i}`,
        email: `user${i}@example.com`,
        lastName: `Last${i}`,
      }));
      const report = await engine.pushContacts(contacts);
      expect(report).toMatchObject({ failed: 0, complete: true });

      expect(await jobState()).toBe('Aborted');
      expect(JSON.parse((await storage.cursors.get(INTEGRATION, 'run:open-jobs')) ?? '[]')).toEqual([]);
      const logs = await storage.syncLogs.list(INTEGRATION);
      expect(logs[1]).toMatchObject({
        completedAt: expect.any(Date),
        errorDetails: { stopReason: 'interrupted', abortedJobs: [jobId] },
      });
      expect(emulator.records('Contact')).toHaveLength(100);
    } finally {
      await storage.close();
    }
  }, 120_000);

  it('finishes a 50,000-contact push killed mid-batch: no duplicates, none missing, consistent status, failed run logged', async () => {
    emulator.reset();
    const filename = join(dir, 'crash.sqlite');
    const setup = new SqliteStorage({ filename });
    await setup.migrate();
    await setup.close();
    const total = 50_000;
    const worker = startWorker({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
      storage: { kind: 'sqlite', filename },
      count: total,
      batchSize: 2_000,
      leaseTtlMs: 3_000,
      waitForLeaseMs: 0,
    });
    // Kill once a few batches are durable and the next one is half-way into the CRM, so some
    // contacts exist in Salesforce without a status row: the hardest point to recover from.
    const line = await worker.waitFor((l) => l.startsWith('progress ') && Number(l.split(' ')[1]) >= 10_000);
    const durable = Number(line.split(' ')[1]);
    const deadline = Date.now() + 60_000;
    while (emulator.records('Contact').length < durable + 400 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    worker.child.kill('SIGKILL');
    await worker.exited;
    const inCrmAtKill = emulator.records('Contact').length;
    expect(inCrmAtKill).toBeGreaterThan(durable);
    expect(inCrmAtKill).toBeLessThan(total);

    const storage = new SqliteStorage({ filename });
    try {
      const rowsAtKill = await allStatusRows(storage);
      expect(rowsAtKill.length).toBeLessThan(inCrmAtKill);
      const [crashedLog] = await storage.syncLogs.list(INTEGRATION);
      expect(crashedLog).toMatchObject({ syncType: 'scheduled', completedAt: null });

      const provider = new SalesforceProvider({
        instanceUrl: emulator.instanceUrl,
        accessToken: emulator.accessToken,
      });
      const impatient = new SyncEngine({ provider, storage, integrationId: INTEGRATION, waitForLeaseMs: 0 });
      // The dead worker's lease is still live until its TTL passes: a new run refuses to start.
      await expect(impatient.pushContacts([])).rejects.toMatchObject({ details: { reason: 'lease_held' } });

      const engine = new SyncEngine({
        provider,
        storage,
        integrationId: INTEGRATION,
        waitForLeaseMs: 15_000,
      });
      async function* again() {
        for (let i = 0; i < total; i += 1)
          yield { externalId: `h-${i}`, email: `user${i}@example.com`, lastName: `Last${i}` };
      }
      const report = await engine.pushContacts(again());
      expect(report).toMatchObject({ failed: 0, complete: true });
      expect(report.unchanged).toBe(rowsAtKill.length);
      expect(report.created + report.updated).toBe(total - rowsAtKill.length);
      // Contacts created before the kill but never recorded are updated in place, not duplicated.
      expect(report.created).toBe(total - inCrmAtKill);

      const records = emulator.records('Contact');
      const ids = records.map((r) => String(r.MarkMail_ID__c));
      expect(records).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      const crmIdByHostId = new Map(records.map((r) => [String(r.MarkMail_ID__c), String(r.Id)]));
      const rows = await allStatusRows(storage);
      expect(rows).toHaveLength(total);
      const inconsistent = rows.filter(
        (r) =>
          r.status !== 'synced' ||
          r.contentHash === null ||
          r.crmId === null ||
          crmIdByHostId.get(r.externalId)?.slice(0, 15) !== r.crmId.slice(0, 15),
      );
      expect(inconsistent).toEqual([]);
      const logs = await storage.syncLogs.list(INTEGRATION);
      expect(logs).toHaveLength(2);
      expect(logs[0]).toMatchObject({ completedAt: expect.any(Date), errorCount: 0, successCount: total });
      // The killed run's log was closed as interrupted when the lease was taken over.
      expect(logs[1]).toMatchObject({
        completedAt: expect.any(Date),
        errorDetails: { stopReason: 'interrupted' },
      });
    } finally {
      await storage.close();
    }
  }, 300_000);
});

describe(`SyncEngine multi-worker lease (two processes, ${PG_URL ? 'PostgreSQL' : 'SQLite file (no PG_URL)'})`, () => {
  const schema = `crm_sync_lease_${process.pid}_${Date.now().toString(36)}`;
  let storageConfig: Record<string, unknown>;
  let open: () => CrmStorage;

  beforeAll(async () => {
    if (PG_URL) {
      const { PostgresStorage } = await import('../../src/storage/postgres.js');
      storageConfig = { kind: 'postgres', url: PG_URL, schema };
      open = () => new PostgresStorage({ connectionString: PG_URL, schema });
    } else {
      const filename = join(dir, 'lease.sqlite');
      storageConfig = { kind: 'sqlite', filename };
      open = () => new SqliteStorage({ filename });
    }
    const storage = open();
    await (storage as unknown as { migrate(): Promise<void> }).migrate();
    await storage.close();
  });

  afterAll(async () => {
    if (!PG_URL) return;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  async function race(waitForLeaseMs: number) {
    const config = {
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
      storage: storageConfig,
      count: 1_000,
      batchSize: 100,
      leaseTtlMs: 5_000,
      waitForLeaseMs,
      delayEvery: { records: 100, ms: 100 },
      barrier: true,
    };
    const workers = [startWorker(config), startWorker(config)];
    await Promise.all(workers.map((w) => w.waitFor((l) => l === 'ready', 60_000)));
    for (const w of workers) w.child.stdin?.write('go\n');
    const outcomes = await Promise.all(
      workers.map((w) => w.waitFor((l) => l.startsWith('result ') || l.startsWith('error '), 120_000)),
    );
    await Promise.all(workers.map((w) => w.exited));
    return outcomes.map((line) => ({
      kind: line.startsWith('result ') ? ('result' as const) : ('error' as const),
      body: JSON.parse(line.slice(line.indexOf(' ') + 1)) as Record<string, unknown>,
    }));
  }

  it('lets one of two simultaneous workers run; the other fails fast with a clear lease error', async () => {
    emulator.reset();
    const outcomes = await race(0);
    const results = outcomes.filter((o) => o.kind === 'result');
    const errors = outcomes.filter((o) => o.kind === 'error');
    expect(results).toHaveLength(1);
    expect(results[0]?.body).toMatchObject({ created: 1_000, failed: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.body).toMatchObject({
      name: 'CrmStorageError',
      code: 'STORAGE',
      details: { reason: 'lease_held', leaseKey: `sync:${INTEGRATION}` },
    });
    expect(String(errors[0]?.body.message)).toMatch(/Another sync run holds the lease/);
    expect(emulator.records('Contact')).toHaveLength(1_000);
  }, 180_000);

  it('with waitForLeaseMs the second worker waits, then finds nothing left to send', async () => {
    const outcomes = await race(60_000);
    expect(outcomes.map((o) => o.kind)).toEqual(['result', 'result']);
    const reports = outcomes.map((o) => o.body);
    // Both ran to completion one after the other; the data was already in sync from the previous test.
    for (const report of reports) expect(report).toMatchObject({ unchanged: 1_000, apiCalls: 0, failed: 0 });
    const storage = open();
    try {
      const logs = await storage.syncLogs.list(INTEGRATION);
      const [later, earlier] = logs;
      // Never overlapping: the later run started after the earlier one completed.
      expect(later?.startedAt.getTime()).toBeGreaterThanOrEqual(
        earlier?.completedAt?.getTime() ?? Number.NaN,
      );
    } finally {
      await storage.close();
    }
  }, 180_000);
});
