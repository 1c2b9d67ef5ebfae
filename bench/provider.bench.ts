/**
 * SalesforceProvider throughput against raw jsforce doing the same work.
 *
 * The emulator runs in its own child process; every sync run gets a fresh child process too, so
 * its peak RSS (`process.resourceUsage().maxRSS`) is that run's alone. For each size (default
 * 10,000 and 100,000 generated contacts) and each path:
 * - collections: the SDK (`bulkSyncContacts`, mode `rest`) vs jsforce
 *   `sobject('Contact').upsert(records, 'MarkMail_ID__c')` in 200-record chunks, 4 in flight;
 * - bulk: the SDK (mode `bulk`) vs jsforce `bulk2.loadAndWaitForResults`.
 * API calls are the emulator's count of REST calls for the run. "RSS growth" is the peak minus the
 * RSS once the code is loaded (the loader and transpiler of `tsx` weigh on both sides alike).
 *
 * Run: `npx tsx bench/provider.bench.ts` (or `npm run bench -- provider`).
 * Env: BENCH_SIZES (comma-separated, default `10000,100000`), BENCH_PATHS (`rest,bulk`),
 * BENCH_IMPLS (`jsforce,sdk`), BENCH_SYNC_NODE_FLAGS (extra Node flags for the syncing processes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BulkPushFloor } from './_bulk-push-floor.js';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.env.PROVIDER_BENCH_ROLE;
const API_VERSION = '66.0';

interface Target {
  instanceUrl: string;
  accessToken: string;
}
interface RunResult {
  wallMs: number;
  maxRssMb: number;
  /** RSS once the code is loaded, before any contact exists: the peak minus this is the run's own. */
  baseRssMb: number;
  success: number;
  failed: number;
  sdkApiCalls?: number;
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
    process.send?.({ id: message.id, apiCalls: sf.stats.apiCalls, contacts: sf.records('Contact').length });
  });
  process.send?.({ id: 0, instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
}

// ------------------------------------------------------------------ sync child

/** The shared contacts (a dynamic import: see `_bulk-push-floor.ts`). */
async function loadFloorKit(): Promise<BulkPushFloor> {
  return (await import(new URL('./_bulk-push-floor.ts', import.meta.url).href)) as BulkPushFloor;
}

async function runSync(): Promise<void> {
  const kit = await loadFloorKit();
  const { contactAt, EXTERNAL_ID } = kit;
  const target = JSON.parse(process.env.PROVIDER_BENCH_TARGET ?? '{}') as Target;
  const impl = process.env.PROVIDER_BENCH_IMPL as 'sdk' | 'jsforce';
  const path = process.env.PROVIDER_BENCH_PATH as 'rest' | 'bulk';
  const size = Number(process.env.PROVIDER_BENCH_SIZE);
  let result: RunResult;
  if (impl === 'sdk') {
    // A prebuilt bundle (see `bundleSdk`): this child runs on plain Node, like a host app would.
    const { SalesforceProvider } = (await import(
      process.env.PROVIDER_BENCH_SDK as string
    )) as typeof import('../src/salesforce/provider.js');
    const crm = new SalesforceProvider({ ...target, apiVersion: API_VERSION, maxApiUsageRatio: null });
    const baseRssMb = process.memoryUsage().rss / 1024 / 1024;
    // The SDK reads the contacts lazily from a generator: nothing holds the whole input.
    function* contacts() {
      for (let i = 0; i < size; i++) yield contactAt(i);
    }
    const started = performance.now();
    const outcome = await crm.bulkSyncContacts(contacts(), { mode: path });
    const wallMs = performance.now() - started;
    result = {
      wallMs,
      baseRssMb,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      success: outcome.success,
      failed: outcome.failed,
      sdkApiCalls: outcome.apiCalls,
    };
  } else {
    const { Connection } = await import('jsforce');
    const conn = new Connection({ ...target, version: API_VERSION });
    const baseRssMb = process.memoryUsage().rss / 1024 / 1024;
    // Raw jsforce takes arrays: build the records the way a host would.
    const records = Array.from({ length: size }, (_, i) => {
      const c = contactAt(i);
      return { [EXTERNAL_ID]: c.externalId, Email: c.email, FirstName: c.firstName, LastName: c.lastName };
    });
    const started = performance.now();
    let success = 0;
    let failed = 0;
    if (path === 'rest') {
      const chunks: Array<typeof records> = [];
      for (let i = 0; i < records.length; i += 200) chunks.push(records.slice(i, i + 200));
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const chunk = chunks[next++] as typeof records;
          const saved = await conn.sobject('Contact').upsert(chunk, EXTERNAL_ID);
          for (const r of saved) r.success ? success++ : failed++;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    } else {
      const outcome = await conn.bulk2.loadAndWaitForResults({
        object: 'Contact',
        operation: 'upsert',
        externalIdFieldName: EXTERNAL_ID,
        input: records,
        pollTimeout: 30 * 60_000,
      });
      success = outcome.successfulResults.length;
      failed = outcome.failedResults.length + outcome.unprocessedRecords.length;
    }
    result = {
      wallMs: performance.now() - started,
      baseRssMb,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      success,
      failed,
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ------------------------------------------------------------------ orchestrator

function child(role: string, env: Record<string, string>, ipc: boolean): ChildProcess {
  // The emulator child loads TypeScript sources through tsx. Sync children run this file with
  // Node's own type stripping and import prebuilt JavaScript, so neither side pays for a
  // transpiler in its measured memory.
  const loader =
    role === 'emulator'
      ? ['--import', 'tsx']
      : [
          '--experimental-strip-types',
          '--no-warnings',
          // e.g. `--max-old-space-size=64` to see how much of the peak is uncollected garbage.
          ...(process.env.BENCH_SYNC_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        ];
  return spawn(process.execPath, [...loader, SELF], {
    env: { ...process.env, PROVIDER_BENCH_ROLE: role, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

/** Bundle the provider (dependencies left external) the way the package build ships it. */
async function bundleSdk(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = fileURLToPath(new URL('../.tmp/bench/salesforce-provider.mjs', import.meta.url));
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

async function orchestrate(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
  const paths = (process.env.BENCH_PATHS ?? 'rest,bulk').split(',') as Array<'rest' | 'bulk'>;
  const impls = (process.env.BENCH_IMPLS ?? 'jsforce,sdk').split(',') as Array<'jsforce' | 'sdk'>;
  const emulator = child('emulator', {}, true);
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

  const rows: string[][] = [];
  // Never leave the emulator behind, even when a run fails.
  process.on('exit', () => emulator.kill());
  console.log(`Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)}`);
  for (const size of sizes) {
    for (const path of paths) {
      const measured: Record<string, RunResult & { apiCalls: number }> = {};
      for (const impl of impls) {
        await ask('reset');
        const run = child(
          'sync',
          {
            PROVIDER_BENCH_TARGET: JSON.stringify({ instanceUrl, accessToken }),
            PROVIDER_BENCH_IMPL: impl,
            PROVIDER_BENCH_PATH: path,
            PROVIDER_BENCH_SIZE: String(size),
            PROVIDER_BENCH_SDK: sdkBundle,
          },
          false,
        );
        let out = '';
        run.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
        if (code !== 0) throw new Error(`${impl} ${path} ${size} exited with ${code}`);
        const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as RunResult;
        const stats = await ask('stats');
        if (stats.contacts !== size || result.success !== size) {
          throw new Error(`${impl} ${path} ${size}: ${result.success} ok, ${stats.contacts} stored`);
        }
        measured[impl] = { ...result, apiCalls: stats.apiCalls };
      }
      const sdk = measured.sdk;
      const raw = measured.jsforce;
      const ratio = (a: number | undefined, b: number | undefined) =>
        a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : '-';
      for (const impl of impls) {
        const m = measured[impl] as RunResult & { apiCalls: number };
        rows.push([
          size.toLocaleString('en-US'),
          path === 'rest' ? 'collections' : 'bulk 2.0',
          impl,
          (m.wallMs / 1000).toFixed(2),
          String(m.apiCalls),
          m.maxRssMb.toFixed(0),
          (m.maxRssMb - m.baseRssMb).toFixed(0),
          impl === 'sdk' ? ratio(sdk?.wallMs, raw?.wallMs) : '1.00x',
          impl === 'sdk' ? ratio(sdk?.maxRssMb, raw?.maxRssMb) : '1.00x',
        ]);
      }
    }
  }
  emulator.send({ id: -1, type: 'stop' });
  const header = [
    'contacts',
    'path',
    'impl',
    'wall s',
    'API calls',
    'peak RSS MB',
    'RSS growth MB',
    'wall vs jsforce',
    'RSS vs jsforce',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

if (ROLE === 'emulator') await runEmulator();
else if (ROLE === 'sync') await runSync();
else await orchestrate();
