/**
 * HubSpotProvider vs the official `@hubspot/api-client` pushing the same contacts through batch
 * upserts (100 per call) against the same HubSpot emulator, in the same run.
 *
 * The emulator runs in a child process (so its work does not share a thread with the client under
 * test); runs alternate (official, SDK, official, SDK, …) on a reset emulator and the median wall
 * time of each side is compared. The official client is used the
 * way its docs show: `crm.contacts.batchApi.upsert` per chunk of 100, one after another. API calls
 * are the emulator's count for the run.
 *
 * Run: `npx tsx bench/hubspot.bench.ts` (or `npm run bench -- hubspot`).
 * Env: BENCH_HUBSPOT_SIZE (default 10000), BENCH_HUBSPOT_ROUNDS (default 5).
 * Targets (issue #14): wall time ≤ 1.0× the official client's, ≤ 105 API calls for 10,000.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@hubspot/api-client';
import { HubSpotProvider } from '@markmail/crm/hubspot';
import { startHubSpotEmulator } from '@markmail/crm/testing';

if (process.env.HUBSPOT_BENCH_ROLE === 'emulator') {
  // Child: the emulator, driven over IPC (reset / stats / stop).
  const hub = await startHubSpotEmulator({ rateLimit: { max: 1_000_000, intervalMs: 10_000 } });
  process.on('message', (message: string) => {
    if (message === 'reset') hub.reset();
    if (message === 'stop') void hub.stop().then(() => process.exit(0));
    process.send?.({ apiCalls: hub.stats.apiCalls });
  });
  process.send?.({ baseUrl: hub.baseUrl, accessToken: hub.accessToken });
} else {
  await main();
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, HUBSPOT_BENCH_ROLE: 'emulator' },
    execArgv: ['--import', 'tsx'],
  });
  const ask = (message: string) =>
    new Promise<{ apiCalls: number }>((resolve) => {
      child.once('message', (reply) => resolve(reply as { apiCalls: number }));
      child.send(message);
    });
  const started = await new Promise<{ baseUrl: string; accessToken: string }>((resolve) =>
    child.once('message', (m) => resolve(m as { baseUrl: string; accessToken: string })),
  );
  const emulator = {
    ...started,
    reset: () => ask('reset'),
    stats: () => ask('stats'),
  };
  const size = Number(process.env.BENCH_HUBSPOT_SIZE ?? 10_000);
  const rounds = Number(process.env.BENCH_HUBSPOT_ROUNDS ?? 5);

  const contacts = Array.from({ length: size }, (_, i) => ({
    externalId: `h-${i}`,
    email: `bench${i}@example.com`,
    firstName: 'Bench',
    lastName: `Contact ${i}`,
  }));

  async function official(): Promise<number> {
    const client = new Client({ accessToken: emulator.accessToken, basePath: emulator.baseUrl });
    let ok = 0;
    for (let i = 0; i < contacts.length; i += 100) {
      const response = await client.crm.contacts.batchApi.upsert({
        inputs: contacts.slice(i, i + 100).map((c) => ({
          idProperty: 'markmail_id',
          id: c.externalId,
          properties: { email: c.email, firstname: c.firstName, lastname: c.lastName },
        })),
      });
      ok += response.results.length;
    }
    return ok;
  }

  async function sdk(): Promise<number> {
    const provider = new HubSpotProvider({ baseUrl: emulator.baseUrl, accessToken: emulator.accessToken });
    return (await provider.bulkSyncContacts(contacts)).success;
  }

  const runs: Record<'official' | 'sdk', Array<{ ms: number; calls: number; ok: number }>> = {
    official: [],
    sdk: [],
  };
  // One warm-up of each (JIT, sockets), not counted.
  for (const fn of [official, sdk]) {
    await emulator.reset();
    await fn();
  }
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, fn] of [
      ['official', official],
      ['sdk', sdk],
    ] as const) {
      await emulator.reset();
      const at = performance.now();
      const ok = await fn();
      const ms = performance.now() - at;
      runs[name].push({ ms, calls: (await emulator.stats()).apiCalls, ok });
    }
  }
  await ask('stop');

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const officialMs = median(runs.official.map((r) => r.ms));
  const sdkMs = median(runs.sdk.map((r) => r.ms));
  console.table({
    '@hubspot/api-client': {
      contacts: size,
      upserted: runs.official[0]?.ok,
      apiCalls: runs.official[0]?.calls,
      'wall (median)': `${officialMs.toFixed(0)} ms`,
      ratio: '1.00x',
    },
    HubSpotProvider: {
      contacts: size,
      upserted: runs.sdk[0]?.ok,
      apiCalls: runs.sdk[0]?.calls,
      'wall (median)': `${sdkMs.toFixed(0)} ms`,
      ratio: `${(sdkMs / officialMs).toFixed(2)}x`,
    },
  });
  const maxCalls = Math.ceil(size / 100) + Math.ceil(size / 2000);
  const sdkCalls = runs.sdk[0]?.calls ?? Number.POSITIVE_INFINITY;
  console.log(
    `target: ratio ≤ 1.00x, API calls ≤ ${maxCalls} → ${sdkMs <= officialMs && sdkCalls <= maxCalls ? 'met' : 'NOT met'}`,
  );
}
