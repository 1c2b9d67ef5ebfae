/**
 * Push at the floor: `SalesforceProvider.bulkSyncContacts` (mode `bulk`) against the least work a
 * Bulk API 2.0 upsert can take, and raw jsforce beside it, in one command.
 *
 * - floor: the CSV is built before the clock starts; then plain `fetch` creates the job, uploads
 *   the CSV, closes the job, polls every 200 ms and reads `successfulResults` and `failedResults`.
 * - jsforce: `bulk2.loadAndWaitForResults` with records built up front, polling every 200 ms.
 * - sdk: `bulkSyncContacts(generator, { mode: 'bulk' })` with `bulk.pollIntervalMs: 200`, reading
 *   its input lazily and streaming its results to `onResult` (`keepResults: 'failures'`).
 *
 * The emulator runs in its own child process and every run in a fresh one (a bundled SDK on plain
 * Node, as a host app would load it). Runs alternate floor / jsforce / sdk, `BENCH_ROUNDS` times;
 * each path's median wall time is divided by the floor's.
 *
 * Run: `npm run bench -- push.bench` (or `npx tsx bench/push.bench.ts`).
 * Env: BENCH_PUSH_SIZE (contacts, default 100000; e.g. 10000 for a quick look), BENCH_ROUNDS
 * (default 3), BENCH_IMPLS (default `floor,jsforce,sdk`), BENCH_SYNC_NODE_FLAGS (extra Node flags
 * for the syncing processes, e.g. `--cpu-prof --cpu-prof-dir=.tmp/prof`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BulkPushFloor } from './_bulk-push-floor.js';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.env.PUSH_BENCH_ROLE;
const API_VERSION = '66.0';
const POLL_MS = 200;

type Impl = 'floor' | 'jsforce' | 'sdk';
interface Target {
  instanceUrl: string;
  accessToken: string;
}
interface RunResult {
  wallMs: number;
  /** The syncing process's own CPU time (user + system) over the same window. */
  cpuMs: number;
  success: number;
  failed: number;
}

// ------------------------------------------------------------------ emulator child

async function runEmulator(): Promise<void> {
  const { startSalesforceEmulator } = await import('../src/testing/salesforce-emulator/index.js');
  const sf = await startSalesforceEmulator({ dailyApiLimit: 100_000_000 });
  process.on('message', (message: { id: number; type: 'reset' | 'stats' | 'stop' }) => {
    if (message.type === 'reset') sf.reset();
    if (message.type === 'stop') {
      void sf.stop().then(() => process.exit(0));
      return;
    }
    process.send?.({ id: message.id, apiCalls: sf.stats.apiCalls, contacts: sf.store.count('Contact') });
  });
  process.send?.({ id: 0, instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
}

// ------------------------------------------------------------------ sync child

async function floor(kit: BulkPushFloor, target: Target, size: number): Promise<RunResult> {
  const jobs = kit.floorCsvJobs(size);
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let success = 0;
  let failed = 0;
  for (const csv of jobs) {
    const outcome = await kit.runFloorJob(target, API_VERSION, csv, POLL_MS);
    success += outcome.success;
    failed += outcome.failed;
  }
  return { wallMs: performance.now() - started, cpuMs: cpuSince(cpuAtStart), success, failed };
}

/** The shared contacts and floor (a dynamic import: see `_bulk-push-floor.ts`). */
async function loadFloorKit(): Promise<BulkPushFloor> {
  return (await import(new URL('./_bulk-push-floor.ts', import.meta.url).href)) as BulkPushFloor;
}

async function runSync(): Promise<void> {
  const kit = await loadFloorKit();
  const { contactAt, EXTERNAL_ID } = kit;
  const target = JSON.parse(process.env.PUSH_BENCH_TARGET ?? '{}') as Target;
  const impl = process.env.PUSH_BENCH_IMPL as Impl;
  const size = Number(process.env.PUSH_BENCH_SIZE);
  let result: RunResult;
  if (impl === 'floor') {
    result = await floor(kit, target, size);
  } else if (impl === 'sdk') {
    const { SalesforceProvider } = (await import(
      process.env.PUSH_BENCH_SDK as string
    )) as typeof import('../src/salesforce/provider.js');
    const crm = new SalesforceProvider({
      ...target,
      apiVersion: API_VERSION,
      maxApiUsageRatio: null,
      bulk: { pollIntervalMs: POLL_MS },
    });
    function* contacts() {
      for (let i = 0; i < size; i++) yield contactAt(i);
    }
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    let created = 0;
    const outcome = await crm.bulkSyncContacts(contacts(), {
      mode: 'bulk',
      keepResults: 'failures',
      onResult: (r) => {
        if (r.created) created++;
      },
    });
    result = {
      wallMs: performance.now() - started,
      cpuMs: cpuSince(cpuAtStart),
      success: outcome.success,
      failed: outcome.failed,
    };
    if (created + outcome.failed !== size && outcome.success !== size)
      throw new Error('onResult missed records');
  } else {
    const { Connection } = await import('jsforce');
    const conn = new Connection({ ...target, version: API_VERSION });
    const records = Array.from({ length: size }, (_, i) => {
      const c = contactAt(i);
      return { [EXTERNAL_ID]: c.externalId, Email: c.email, FirstName: c.firstName, LastName: c.lastName };
    });
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const outcome = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: EXTERNAL_ID,
      input: records,
      pollInterval: POLL_MS,
      pollTimeout: 30 * 60_000,
    });
    result = {
      wallMs: performance.now() - started,
      cpuMs: cpuSince(cpuAtStart),
      success: outcome.successfulResults.length,
      failed: outcome.failedResults.length + outcome.unprocessedRecords.length,
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

// ------------------------------------------------------------------ orchestrator

function child(role: string, env: Record<string, string>, ipc: boolean): ChildProcess {
  const loader =
    role === 'emulator'
      ? ['--import', 'tsx']
      : [
          '--experimental-strip-types',
          '--no-warnings',
          ...(process.env.BENCH_SYNC_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        ];
  return spawn(process.execPath, [...loader, SELF], {
    env: { ...process.env, PUSH_BENCH_ROLE: role, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

/** Bundle the provider (dependencies left external) the way the package build ships it. */
async function bundleSdk(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = fileURLToPath(new URL('../.tmp/bench/push-salesforce-provider.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('../src/salesforce/provider.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    logLevel: 'warning',
  });
  return pathToFileURL(outfile).href;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function orchestrate(): Promise<void> {
  const size = Number(process.env.BENCH_PUSH_SIZE ?? 100_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const impls = (process.env.BENCH_IMPLS ?? 'floor,jsforce,sdk').split(',') as Impl[];
  const emulator = child('emulator', {}, true);
  process.on('exit', () => emulator.kill());
  let nextId = 1;
  const pending = new Map<number, (value: Record<string, unknown>) => void>();
  let ready: (value: Target) => void = () => {};
  const target = new Promise<Target>((resolve) => {
    ready = resolve;
  });
  emulator.on('message', (message: Record<string, unknown>) => {
    if (message.id === 0) ready(message as unknown as Target);
    else pending.get(message.id as number)?.(message);
  });
  const ask = (type: 'reset' | 'stats') =>
    new Promise<{ apiCalls: number; contacts: number }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: Record<string, unknown>) => void);
      emulator.send({ id, type });
    });
  const { instanceUrl, accessToken } = await target;
  const sdkBundle = await bundleSdk();
  console.log(
    `Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${size.toLocaleString('en-US')} contacts, ${rounds} rounds`,
  );
  const walls: Record<string, number[]> = {};
  const cpuTimes: Record<string, number[]> = {};
  const calls: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const impl of impls) {
      await ask('reset');
      const run = child(
        'sync',
        {
          PUSH_BENCH_TARGET: JSON.stringify({ instanceUrl, accessToken }),
          PUSH_BENCH_IMPL: impl,
          PUSH_BENCH_SIZE: String(size),
          PUSH_BENCH_SDK: sdkBundle,
        },
        false,
      );
      let out = '';
      run.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
      if (code !== 0) throw new Error(`${impl} exited with ${code}`);
      const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as RunResult;
      const stats = await ask('stats');
      if (stats.contacts !== size || result.success !== size) {
        throw new Error(`${impl}: ${result.success} ok, ${stats.contacts} stored`);
      }
      walls[impl] = [...(walls[impl] ?? []), result.wallMs];
      cpuTimes[impl] = [...(cpuTimes[impl] ?? []), result.cpuMs];
      calls[impl] = stats.apiCalls;
    }
  }
  emulator.send({ id: -1, type: 'stop' });
  const floorMs = median(walls.floor ?? []);
  console.log('| impl | median wall s | runs s | CPU s (own process) | API calls | vs floor |');
  console.log('|---|---|---|---|---|---|');
  for (const impl of impls) {
    const m = median(walls[impl] ?? []);
    const runs = (walls[impl] ?? []).map((w) => (w / 1000).toFixed(2)).join(' ');
    console.log(
      `| ${impl} | ${(m / 1000).toFixed(2)} | ${runs} | ${(median(cpuTimes[impl] ?? []) / 1000).toFixed(2)} | ${calls[impl]} | ${(m / floorMs).toFixed(2)}x |`,
    );
  }
}

if (ROLE === 'emulator') await runEmulator();
else if (ROLE === 'sync') await runSync();
else await orchestrate();
