/**
 * Flat memory from one record to a million: a push of `BENCH_MEMORY_SIZE` contacts (default
 * 1,000,000) with the V8 heap capped at 64 MB, beside the floor and raw jsforce doing the same.
 *
 * - floor: a prebuilt CSV uploaded through Bulk API 2.0 with plain `fetch` (create, upload, close,
 *   poll every 200 ms, read the result sets), in jobs of at most 100 MB of CSV. Uncapped heap: it
 *   holds the CSV.
 * - jsforce: `bulk2.loadAndWaitForResults` with every record built up front. Uncapped heap: it
 *   needs the records, their CSV and every result in memory at once.
 * - sdk: `SalesforceProvider.bulkSyncContacts(generator, { mode: 'bulk', keepResults: 'failures',
 *   onResult })` under `--max-old-space-size=64`.
 * - engine: `SyncEngine.pushContacts` (SQLite status store in a temp file, default options) under
 *   `--max-old-space-size=64`, then the same push again (nothing changed: 0 API calls expected).
 *   The push's peak heap and the re-push's are reported apart; peak RSS covers both.
 *
 * Every run is a child process of its own; the emulator runs in another. Each run samples its heap
 * and RSS every 50 ms and reports the peaks; API calls are the emulator's count for the run.
 *
 * Run: `npm run bench -- push-memory` (or `npx tsx bench/push-memory.bench.ts`). A full run at a
 * million contacts takes several minutes on a busy machine; for a quick look:
 * `BENCH_MEMORY_SIZE=100000 npx tsx bench/push-memory.bench.ts`.
 * Env: BENCH_MEMORY_SIZE, BENCH_IMPLS (default `floor,jsforce,sdk,engine`), BENCH_HEAP_MB (cap of
 * the sdk and engine runs, default 64), BENCH_TRACE_HEAP=1 (each run's heap every 10 s on stderr).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BulkPushFloor } from './_bulk-push-floor.js';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.env.MEMORY_BENCH_ROLE;
const API_VERSION = '66.0';
const POLL_MS = 200;

type Impl = 'floor' | 'jsforce' | 'sdk' | 'engine';
interface Target {
  instanceUrl: string;
  accessToken: string;
}
interface RunResult {
  wallMs: number;
  success: number;
  failed: number;
  peakHeapMb: number;
  peakRssMb: number;
  /** Engine only: the unchanged re-push (its own peak heap; `peakHeapMb` is the push's). */
  again?: { wallMs: number; unchanged: number; apiCalls: number; peakHeapMb: number };
  reportedApiCalls?: number;
}

// ------------------------------------------------------------------ emulator child

async function runEmulator(): Promise<void> {
  const { startSalesforceEmulator } = await import('../src/testing/salesforce-emulator/index.js');
  const sf = await startSalesforceEmulator({ dailyApiLimit: 100_000_000 });
  // Change Data Capture would keep an event per record in the emulator: a million of them is
  // the emulator's memory, not what this bench measures.
  await fetch(`${sf.instanceUrl}/__emulator/change-events/entities`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${sf.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ entities: [] }),
  });
  process.on('message', (message: { id: number; type: 'reset' | 'stats' | 'stop' }) => {
    if (message.type === 'reset') sf.reset();
    if (message.type === 'stop') {
      void sf.stop().then(() => process.exit(0));
      return;
    }
    process.send?.({
      id: message.id,
      apiCalls: sf.stats.apiCalls,
      byRoute: sf.stats.byRoute,
      contacts: sf.store.count('Contact'),
    });
  });
  process.send?.({ id: 0, instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
}

// ------------------------------------------------------------------ sync child

function sampler() {
  let heap = 0;
  let rss = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    heap = Math.max(heap, usage.heapUsed);
    rss = Math.max(rss, usage.rss);
  };
  const timer = setInterval(sample, 50);
  // BENCH_TRACE_HEAP=1: the heap every 10 s on stderr, to see where a run grows.
  const started = performance.now();
  const trace = process.env.BENCH_TRACE_HEAP
    ? setInterval(() => {
        const usage = process.memoryUsage();
        console.error(
          `heap ${((performance.now() - started) / 1000).toFixed(0)} s: ${(usage.heapUsed / 1048576).toFixed(0)} MB used, rss ${(usage.rss / 1048576).toFixed(0)} MB`,
        );
      }, 10_000)
    : undefined;
  return {
    /** The peak heap since the start (or the last mark), MB; sampling starts afresh. */
    mark() {
      sample();
      const peak = heap / 1024 / 1024;
      heap = 0;
      return peak;
    },
    stop() {
      sample();
      clearInterval(timer);
      if (trace) clearInterval(trace);
      return {
        peakHeapMb: heap / 1024 / 1024,
        peakRssMb: Math.max(rss / 1024 / 1024, process.resourceUsage().maxRSS / 1024),
      };
    },
  };
}

async function floor(
  kit: BulkPushFloor,
  target: Target,
  size: number,
): Promise<Omit<RunResult, 'peakHeapMb' | 'peakRssMb'>> {
  const jobs = kit.floorCsvJobs(size);
  const started = performance.now();
  let success = 0;
  let failed = 0;
  for (const csv of jobs) {
    const outcome = await kit.runFloorJob(target, API_VERSION, csv, POLL_MS);
    success += outcome.success;
    failed += outcome.failed;
  }
  return { wallMs: performance.now() - started, success, failed };
}

/** The shared contacts and floor (a dynamic import: see `_bulk-push-floor.ts`). */
async function loadFloorKit(): Promise<BulkPushFloor> {
  return (await import(new URL('./_bulk-push-floor.ts', import.meta.url).href)) as BulkPushFloor;
}

async function runSync(): Promise<void> {
  const kit = await loadFloorKit();
  const { contactAt, EXTERNAL_ID } = kit;
  const target = JSON.parse(process.env.MEMORY_BENCH_TARGET ?? '{}') as Target;
  const impl = process.env.MEMORY_BENCH_IMPL as Impl;
  const size = Number(process.env.MEMORY_BENCH_SIZE);
  function* contacts() {
    for (let i = 0; i < size; i++) yield contactAt(i);
  }
  const memory = sampler();
  let result: Omit<RunResult, 'peakHeapMb' | 'peakRssMb'>;
  /** Engine: the push's own peak (the re-push reports its own). */
  let pushPeakHeapMb: number | undefined;
  if (impl === 'floor') {
    result = await floor(kit, target, size);
  } else if (impl === 'sdk' || impl === 'engine') {
    const sdk = (await import(process.env.MEMORY_BENCH_SDK as string)) as {
      SalesforceProvider: typeof import('../src/salesforce/provider.js').SalesforceProvider;
      SyncEngine: typeof import('../src/sync/engine.js').SyncEngine;
      SqliteStorage: typeof import('../src/storage/sqlite.js').SqliteStorage;
    };
    const crm = new sdk.SalesforceProvider({ ...target, apiVersion: API_VERSION, maxApiUsageRatio: null });
    if (impl === 'sdk') {
      const started = performance.now();
      let seen = 0;
      const outcome = await crm.bulkSyncContacts(contacts(), {
        mode: 'bulk',
        keepResults: 'failures',
        onResult: () => {
          seen += 1;
        },
      });
      if (seen !== size) throw new Error(`onResult saw ${seen} of ${size}`);
      result = {
        wallMs: performance.now() - started,
        success: outcome.success,
        failed: outcome.failed,
        reportedApiCalls: outcome.apiCalls,
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'markmail-push-memory-'));
      try {
        const storage = new sdk.SqliteStorage({ filename: join(dir, 'status.sqlite') });
        await storage.migrate();
        const engine = new sdk.SyncEngine({ provider: crm, storage, integrationId: 'bench' });
        let started = performance.now();
        const report = await engine.pushContacts(contacts());
        const wallMs = performance.now() - started;
        pushPeakHeapMb = memory.mark();
        started = performance.now();
        const again = await engine.pushContacts(contacts());
        result = {
          wallMs,
          success: report.created + report.updated,
          failed: report.failed,
          reportedApiCalls: report.apiCalls,
          again: {
            wallMs: performance.now() - started,
            unchanged: again.unchanged,
            apiCalls: again.apiCalls,
            peakHeapMb: memory.mark(),
          },
        };
        await storage.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } else {
    const { Connection } = await import('jsforce');
    const conn = new Connection({ ...target, version: API_VERSION });
    const records = Array.from({ length: size }, (_, i) => {
      const c = contactAt(i);
      return { [EXTERNAL_ID]: c.externalId, Email: c.email, FirstName: c.firstName, LastName: c.lastName };
    });
    const started = performance.now();
    const outcome = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: EXTERNAL_ID,
      input: records,
      pollInterval: POLL_MS,
      pollTimeout: 60 * 60_000,
    });
    result = {
      wallMs: performance.now() - started,
      success: outcome.successfulResults.length,
      failed: outcome.failedResults.length + outcome.unprocessedRecords.length,
    };
  }
  const peaks = memory.stop();
  if (pushPeakHeapMb !== undefined) peaks.peakHeapMb = pushPeakHeapMb;
  process.stdout.write(`${JSON.stringify({ ...result, ...peaks })}\n`);
}

// ------------------------------------------------------------------ orchestrator

function child(role: string, env: Record<string, string>, ipc: boolean, flags: string[] = []): ChildProcess {
  const loader = role === 'emulator' ? ['--import', 'tsx'] : ['--experimental-strip-types', '--no-warnings'];
  return spawn(process.execPath, [...loader, ...flags, SELF], {
    env: { ...process.env, MEMORY_BENCH_ROLE: role, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

/** One bundle of the provider, the engine and SQLite storage (dependencies external), as shipped. */
async function bundleSdk(): Promise<string> {
  const { build } = await import('esbuild');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outfile = join(root, '.tmp/bench/push-memory-sdk.mjs');
  await build({
    stdin: {
      contents: [
        "export { SalesforceProvider } from './src/salesforce/provider.ts';",
        "export { SyncEngine } from './src/sync/engine.ts';",
        "export { SqliteStorage } from './src/storage/sqlite.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
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

async function orchestrate(): Promise<void> {
  const size = Number(process.env.BENCH_MEMORY_SIZE ?? 1_000_000);
  const heapMb = Number(process.env.BENCH_HEAP_MB ?? 64);
  const impls = (process.env.BENCH_IMPLS ?? 'floor,jsforce,sdk,engine').split(',') as Impl[];
  const emulator = child('emulator', {}, true, ['--max-old-space-size=8192']);
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
    new Promise<{ apiCalls: number; byRoute: Record<string, number>; contacts: number }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: Record<string, unknown>) => void);
      emulator.send({ id, type });
    });
  const { instanceUrl, accessToken } = await target;
  const sdkBundle = await bundleSdk();
  console.log(
    `Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${size.toLocaleString('en-US')} contacts; sdk and engine heap capped at ${heapMb} MB`,
  );
  const rows: string[][] = [];
  let floorMs: number | undefined;
  for (const impl of impls) {
    await ask('reset');
    const capped = impl === 'sdk' || impl === 'engine';
    const run = child(
      'sync',
      {
        MEMORY_BENCH_TARGET: JSON.stringify({ instanceUrl, accessToken }),
        MEMORY_BENCH_IMPL: impl,
        MEMORY_BENCH_SIZE: String(size),
        MEMORY_BENCH_SDK: sdkBundle,
      },
      false,
      capped ? [`--max-old-space-size=${heapMb}`] : ['--max-old-space-size=8192'],
    );
    let out = '';
    run.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
    if (code !== 0) {
      rows.push([impl, capped ? `${heapMb} MB` : 'none', `exited with ${code}`, '-', '-', '-', '-', '-']);
      continue;
    }
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as RunResult;
    const stats = await ask('stats');
    if (stats.contacts !== size || result.success !== size) {
      throw new Error(`${impl}: ${result.success} ok, ${stats.contacts} stored`);
    }
    if (impl === 'floor') floorMs = result.wallMs;
    // Where the calls went (the emulator's count per route, push and re-push together).
    console.log(`${impl} calls by route: ${JSON.stringify(stats.byRoute)}`);
    const pushCalls = result.again ? stats.apiCalls - result.again.apiCalls : stats.apiCalls;
    rows.push([
      impl,
      capped ? `${heapMb} MB` : 'none',
      (result.wallMs / 1000).toFixed(1),
      floorMs !== undefined ? `${(result.wallMs / floorMs).toFixed(2)}x` : '-',
      String(pushCalls),
      result.peakHeapMb.toFixed(0),
      result.peakRssMb.toFixed(0),
      result.again
        ? `${(result.again.wallMs / 1000).toFixed(1)} s, ${result.again.apiCalls} calls, ${result.again.unchanged} unchanged, peak heap ${result.again.peakHeapMb.toFixed(0)} MB`
        : '-',
    ]);
  }
  emulator.send({ id: -1, type: 'stop' });
  console.log(
    '| impl | heap cap | wall s | vs floor | API calls | peak heap MB | peak RSS MB | unchanged re-push |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

if (ROLE === 'emulator') await runEmulator();
else if (ROLE === 'sync') await runSync();
else await orchestrate();
