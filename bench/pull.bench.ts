/**
 * Pull throughput: `SalesforceProvider.listContactChanges(null)` (an initial sync) against the
 * floor and raw jsforce reading the same SOQL, and `SyncEngine.pullContacts` of a large org with
 * the V8 heap capped.
 *
 * The emulator runs in its own child process and every read runs in a fresh child process too.
 * For each size (default 100,000 contacts), three readers alternate over `BENCH_ROUNDS` rounds
 * (the order rotates each round):
 * - floor: a Bulk API 2.0 query read with plain `fetch` (create the `queryAll` job, check it at
 *   once and every 50 ms, read the result pages with `Sforce-Locator` and `maxRecords=50000`,
 *   keeping each page's text but parsing nothing);
 * - jsforce: `conn.query(soql, { autoFetch, scanAll })` (REST query + queryMore);
 * - sdk: the prebuilt provider's `listContactChanges(null)`, every batch consumed (CSV parsed,
 *   records mapped and validated into `CrmContact`s).
 * API calls are the emulator's count for the run. Ratios are of the medians.
 *
 * Then (unless `BENCH_ENGINE=0`) `SyncEngine.pullContacts` applies `BENCH_ENGINE_SIZE` (default
 * 1,000,000) contacts into `SqliteStorage` (a file in a temporary directory) in a child process
 * run with `--max-old-space-size=64`: it must complete.
 *
 * Run: `npx tsx bench/pull.bench.ts` (or `npm run bench -- pull`).
 * Env: BENCH_SIZES (default `100000`), BENCH_ROUNDS (default 3), BENCH_ENGINE (`0` skips the
 * engine run), BENCH_ENGINE_SIZE (default 1000000), BENCH_ENGINE_HEAP_MB (default 64),
 * BENCH_SDK_PAGE_SIZE (the SDK's `bulkQueryPageSize`; the floor always asks for 50,000),
 * BENCH_READ_NODE_FLAGS (Node flags for the SDK reader, e.g. `--cpu-prof`).
 * Besides wall time, each reader reports its own process's CPU time over the same window: on a
 * loaded machine it is the steadier sign of how much work the reader itself does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.env.PULL_BENCH_ROLE;
const API_VERSION = '66.0';
/** The SOQL the provider sends for an initial sync (default field set). */
const SOQL =
  'SELECT Id, Email, FirstName, LastName, Phone, Title, HasOptedOutOfEmail, SystemModstamp, MarkMail_ID__c, IsDeleted FROM Contact ORDER BY SystemModstamp ASC, Id ASC';

interface Target {
  instanceUrl: string;
  accessToken: string;
}
interface ReadResult {
  wallMs: number;
  /** The reader process's own CPU time (user + system) over the same window. */
  cpuMs: number;
  count: number;
  maxRssMb: number;
}
type Impl = 'floor' | 'jsforce' | 'sdk';

// ------------------------------------------------------------------ emulator child

async function runEmulator(): Promise<void> {
  const { startSalesforceEmulator } = await import('../src/testing/salesforce-emulator/index.js');
  const sf = await startSalesforceEmulator({ dailyApiLimit: 1_000_000_000 });
  process.on('message', (message: { id: number; type: 'seed' | 'stats' | 'stop'; size?: number }) => {
    if (message.type === 'stop') {
      void sf.stop().then(() => process.exit(0));
      return;
    }
    if (message.type === 'seed') {
      sf.reset();
      const size = message.size ?? 0;
      for (let from = 0; from < size; from += 50_000) {
        const rows = [];
        for (let i = from; i < Math.min(size, from + 50_000); i++) {
          rows.push({
            MarkMail_ID__c: `bench-${i}`,
            Email: `bench${i}@example.com`,
            FirstName: i % 7 === 0 ? 'Zoë, "Z"' : `First${i}`,
            LastName: `Last ${i}`,
            Title: i % 3 === 0 ? 'Engineer' : null,
          });
        }
        sf.store.insert('Contact', rows);
      }
    }
    process.send?.({ id: message.id, apiCalls: sf.stats.apiCalls });
  });
  process.send?.({ id: 0, instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
}

// ------------------------------------------------------------------ read child

async function readWithFetch(target: Target): Promise<number> {
  const base = `${target.instanceUrl}/services/data/v${API_VERSION}/jobs/query`;
  const headers = { Authorization: `Bearer ${target.accessToken}`, 'Content-Type': 'application/json' };
  const created = await fetch(base, {
    method: 'POST',
    headers,
    body: JSON.stringify({ operation: 'queryAll', query: SOQL, contentType: 'CSV', lineEnding: 'LF' }),
  });
  const { id } = (await created.json()) as { id: string };
  for (let first = true; ; first = false) {
    if (!first) await new Promise((resolve) => setTimeout(resolve, 50));
    const info = (await (await fetch(`${base}/${id}`, { headers })).json()) as { state: string };
    if (info.state === 'JobComplete') break;
    if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`job ${info.state}`);
  }
  let count = 0;
  let locator: string | null = null;
  do {
    const url: string = `${base}/${id}/results?maxRecords=50000${locator ? `&locator=${locator}` : ''}`;
    const response = await fetch(url, { headers: { ...headers, Accept: 'text/csv' } });
    if (!response.ok || !(await response.text())) throw new Error(`results page: HTTP ${response.status}`);
    count += Number(response.headers.get('sforce-numberofrecords'));
    locator = response.headers.get('sforce-locator');
  } while (locator && locator !== 'null');
  return count;
}

async function runRead(): Promise<void> {
  const target = JSON.parse(process.env.PULL_BENCH_TARGET ?? '{}') as Target;
  const impl = process.env.PULL_BENCH_IMPL as Impl;
  let count = 0;
  let started = 0;
  let cpuAtStart = process.cpuUsage();
  if (impl === 'sdk') {
    const { SalesforceProvider } = (await import(
      process.env.PULL_BENCH_SDK as string
    )) as typeof import('../src/index.js') & typeof import('../src/salesforce/index.js');
    const crm = new SalesforceProvider({
      ...target,
      apiVersion: API_VERSION,
      maxApiUsageRatio: null,
      ...(process.env.BENCH_SDK_PAGE_SIZE
        ? { bulkQueryPageSize: Number(process.env.BENCH_SDK_PAGE_SIZE) }
        : {}),
    });
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    for await (const batch of crm.listContactChanges(null)) count += batch.upserted.length;
  } else if (impl === 'jsforce') {
    const { Connection } = await import('jsforce');
    const conn = new Connection({ ...target, version: API_VERSION });
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    const result = await conn.query(SOQL, { autoFetch: true, maxFetch: 100_000_000, scanAll: true });
    count = result.records.length;
  } else {
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    count = await readWithFetch(target);
  }
  const cpu = process.cpuUsage(cpuAtStart);
  const result: ReadResult = {
    wallMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    count,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ------------------------------------------------------------------ engine child

async function runEngine(): Promise<void> {
  const target = JSON.parse(process.env.PULL_BENCH_TARGET ?? '{}') as Target;
  const sdk = (await import(process.env.PULL_BENCH_SDK as string)) as typeof import('../src/index.js') &
    typeof import('../src/salesforce/index.js') &
    typeof import('../src/storage/sqlite.js');
  const dir = mkdtempSync(join(tmpdir(), 'pull-bench-'));
  try {
    const storage = new sdk.SqliteStorage({ filename: join(dir, 'crm.db') });
    const provider = new sdk.SalesforceProvider({
      ...target,
      apiVersion: API_VERSION,
      maxApiUsageRatio: null,
    });
    const engine = new sdk.SyncEngine({ provider, storage, integrationId: 'bench' });
    let applied = 0;
    let peakHeapMb = 0;
    const started = performance.now();
    const report = await engine.pullContacts({
      apply: async (batch) => {
        applied += batch.upserted.length;
        peakHeapMb = Math.max(peakHeapMb, process.memoryUsage().heapUsed / 1024 / 1024);
      },
    });
    const wallMs = performance.now() - started;
    const rows = await storage.syncStatus.list({ integrationId: 'bench', limit: 1 });
    await storage.close?.();
    process.stdout.write(
      `${JSON.stringify({
        wallMs,
        applied,
        created: report.created,
        complete: report.complete,
        apiCalls: report.apiCalls,
        peakHeapMb,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        stored: rows.length,
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ orchestrator

function child(role: string, env: Record<string, string>, ipc: boolean, flags: string[] = []): ChildProcess {
  // The emulator child loads TypeScript through tsx; readers run this file with Node's own type
  // stripping and import prebuilt JavaScript, so no transpiler weighs on what they measure.
  const loader = role === 'emulator' ? ['--import', 'tsx'] : ['--experimental-strip-types', '--no-warnings'];
  return spawn(process.execPath, [...loader, ...flags, SELF], {
    env: { ...process.env, PULL_BENCH_ROLE: role, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

/** Bundle what the readers use (dependencies left external), the way the package build ships it. */
async function bundleSdk(): Promise<string> {
  const { build } = await import('esbuild');
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const outfile = fileURLToPath(new URL('../.tmp/bench/pull-sdk.mjs', import.meta.url));
  await build({
    stdin: {
      contents: [
        "export { SyncEngine } from './index.ts';",
        "export { SalesforceProvider } from './salesforce/index.ts';",
        "export { SqliteStorage } from './storage/sqlite.ts';",
      ].join('\n'),
      resolveDir: src,
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

async function runChild(
  role: 'read' | 'engine',
  env: Record<string, string>,
  flags: string[] = [],
): Promise<Record<string, unknown>> {
  const run = child(role, env, false, flags);
  let out = '';
  run.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
  if (code !== 0) throw new Error(`${role} ${JSON.stringify(env.PULL_BENCH_IMPL ?? '')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

async function orchestrate(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100000').split(',').map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const engineSize = Number(process.env.BENCH_ENGINE_SIZE ?? 1_000_000);
  const heapMb = Number(process.env.BENCH_ENGINE_HEAP_MB ?? 64);
  const emulator = child('emulator', {}, true);
  process.on('exit', () => emulator.kill());
  let nextId = 1;
  const pending = new Map<number, (value: { apiCalls: number }) => void>();
  let ready: (value: Target) => void = () => {};
  const targetReady = new Promise<Target>((resolve) => {
    ready = resolve;
  });
  emulator.on('message', (message: Record<string, unknown>) => {
    if (message.id === 0) {
      ready({ instanceUrl: message.instanceUrl as string, accessToken: message.accessToken as string });
    } else pending.get(message.id as number)?.(message as { apiCalls: number });
  });
  const ask = (type: 'seed' | 'stats', size?: number) =>
    new Promise<{ apiCalls: number }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      emulator.send({ id, type, size });
    });
  const target = await targetReady;
  const sdk = await bundleSdk();
  const env = { PULL_BENCH_TARGET: JSON.stringify(target), PULL_BENCH_SDK: sdk };
  console.log(`Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)} at start`);

  const impls: Impl[] = ['floor', 'jsforce', 'sdk'];
  // BENCH_READ_NODE_FLAGS="--cpu-prof --cpu-prof-dir=.tmp/prof": profile the SDK reader.
  const readFlags = (process.env.BENCH_READ_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const rows: string[][] = [];
  for (const size of sizes) {
    await ask('seed', size);
    const walls: Record<Impl, number[]> = { floor: [], jsforce: [], sdk: [] };
    const cpuTimes: Record<Impl, number[]> = { floor: [], jsforce: [], sdk: [] };
    const calls: Record<Impl, number> = { floor: 0, jsforce: 0, sdk: 0 };
    const rss: Record<Impl, number> = { floor: 0, jsforce: 0, sdk: 0 };
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < impls.length; k++) {
        const impl = impls[(k + round) % impls.length] as Impl;
        const before = (await ask('stats')).apiCalls;
        const result = (await runChild(
          'read',
          { ...env, PULL_BENCH_IMPL: impl },
          impl === 'sdk' ? readFlags : [],
        )) as unknown as ReadResult;
        const after = (await ask('stats')).apiCalls;
        if (result.count !== size) throw new Error(`${impl} read ${result.count} of ${size}`);
        walls[impl].push(result.wallMs);
        cpuTimes[impl].push(result.cpuMs);
        calls[impl] = after - before;
        rss[impl] = Math.max(rss[impl], result.maxRssMb);
      }
    }
    const floor = median(walls.floor);
    for (const impl of impls) {
      const m = median(walls[impl]);
      const perRound = walls[impl].map((w, i) => w / (walls.floor[i] as number));
      rows.push([
        size.toLocaleString('en-US'),
        impl,
        (m / 1000).toFixed(2),
        (median(cpuTimes[impl]) / 1000).toFixed(2),
        String(calls[impl]),
        rss[impl].toFixed(0),
        `${(m / floor).toFixed(2)}x`,
        `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}x`,
      ]);
    }
  }
  table(
    [
      'contacts',
      'reader',
      'median wall s',
      'reader CPU s',
      'API calls',
      'peak RSS MB',
      'vs floor',
      'per-round vs floor',
    ],
    rows,
  );

  if (process.env.BENCH_ENGINE !== '0') {
    await ask('seed', engineSize);
    const before = (await ask('stats')).apiCalls;
    const result = await runChild('engine', env, [`--max-old-space-size=${heapMb}`]);
    const after = (await ask('stats')).apiCalls;
    if (result.applied !== engineSize || result.complete !== true) {
      throw new Error(`engine pull applied ${String(result.applied)} of ${engineSize}`);
    }
    console.log(
      `\nSyncEngine.pullContacts ${engineSize.toLocaleString('en-US')} contacts into SqliteStorage, ` +
        `--max-old-space-size=${heapMb}: completed in ${(Number(result.wallMs) / 1000).toFixed(1)} s, ` +
        `${after - before} API calls, created ${String(result.created)}, peak heap used ` +
        `${Number(result.peakHeapMb).toFixed(0)} MB, peak RSS ${Number(result.maxRssMb).toFixed(0)} MB ` +
        `(load ${loadavg()[0]?.toFixed(2)})`,
    );
  }
  emulator.send({ id: -1, type: 'stop' });
}

if (ROLE === 'emulator') await runEmulator();
else if (ROLE === 'read') await runRead();
else if (ROLE === 'engine') await runEngine();
else await orchestrate();
