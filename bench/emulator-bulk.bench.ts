/**
 * Bulk API 2.0 throughput of the Salesforce emulator: a 100,000-record Contact upsert by
 * MarkMail_ID__c through real jsforce (`bulk2.loadAndWaitForResults`), once inserting and once
 * updating, against an emulator running in a child process whose peak RSS is reported.
 *
 * Run: `npx tsx bench/emulator-bulk.bench.ts [records] [--with-cdc]` (default 100000 records;
 * Change Data Capture is switched off unless `--with-cdc`).
 */
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

interface Ready {
  type: 'ready';
  instanceUrl: string;
  accessToken: string;
}
interface Memory {
  type: 'memory';
  maxRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  /** User + system CPU seconds the emulator process has used so far. */
  cpuSeconds: number;
  contacts: number;
}

const self = fileURLToPath(import.meta.url);

async function child(): Promise<void> {
  const { startSalesforceEmulator } = await import('../src/testing/index.js');
  const sf = await startSalesforceEmulator({ dailyApiLimit: 1_000_000 });
  const send = (message: Ready | Memory): void => {
    process.send?.(message);
  };
  process.on('message', (message: { type: string }) => {
    if (message.type === 'memory') {
      const usage = process.memoryUsage();
      send({
        type: 'memory',
        // resourceUsage().maxRSS is in kilobytes: the peak over the process's life.
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        rssMb: usage.rss / 1024 / 1024,
        heapUsedMb: usage.heapUsed / 1024 / 1024,
        cpuSeconds: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
        contacts: sf.store.count('Contact'),
      });
    } else if (message.type === 'stop') {
      void sf.stop().then(() => process.exit(0));
    }
  });
  send({ type: 'ready', instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
}

async function parent(): Promise<void> {
  const total = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 100_000);
  const { default: jsforce } = await import('jsforce');
  const emulator = fork(self, ['--child'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (message: { type: string }): void => {
        if (message.type !== type) return;
        emulator.off('message', onMessage);
        resolve(message as T);
      };
      emulator.on('message', onMessage);
    });
  const ready = await next<Ready>('ready');
  const baseline = await (async () => {
    emulator.send({ type: 'memory' });
    return next<Memory>('memory');
  })();
  const conn = new jsforce.Connection({
    instanceUrl: ready.instanceUrl,
    accessToken: ready.accessToken,
    version: '62.0',
  });

  // CSV built up front: the bench measures the emulator, not jsforce's object-to-CSV conversion.
  const csv = (round: number): string => {
    let text = 'MarkMail_ID__c,FirstName,LastName,Email,Title\n';
    for (let i = 0; i < total; i++) {
      text += `mm-${i},First ${i},"Last, ""${i}"" ${round}",contact${i}@example.com,${round === 0 ? 'Engineer' : 'Manager'}\n`;
    }
    return text;
  };

  const withCdc = process.argv.includes('--with-cdc');
  if (!withCdc) {
    // Change Data Capture (on by default for Contact and Lead) builds an event per record; the
    // bench measures Bulk API 2.0 alone unless asked (`--with-cdc`).
    await fetch(`${ready.instanceUrl}/__emulator/change-events/entities`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ready.accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entities: [] }),
    });
  }
  console.log(
    `emulator-bulk bench: ${total.toLocaleString('en')} records, node ${process.version}, CDC ${withCdc ? 'on' : 'off'}`,
  );
  console.log(
    `emulator baseline: rss ${baseline.rssMb.toFixed(0)} MB; machine load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')} on ${availableParallelism()} cores`,
  );
  for (const [round, label] of ['upsert (all inserts)', 'upsert (all updates)'].entries()) {
    const data = csv(round);
    emulator.send({ type: 'memory' });
    const before = await next<Memory>('memory');
    const started = performance.now();
    const job = conn.bulk2.createJob({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'MarkMail_ID__c',
    });
    await job.open();
    await job.uploadData(data);
    await job.close();
    await job.poll(50, 600_000);
    const info = await job.check();
    const completed = performance.now();
    const results = await job.getAllResults();
    const fetched = performance.now();
    if (results.successfulResults.length !== total || results.failedResults.length !== 0) {
      throw new Error(
        `${label}: expected ${total} successes, got ${results.successfulResults.length} (${results.failedResults.length} failed)`,
      );
    }
    emulator.send({ type: 'memory' });
    const memory = await next<Memory>('memory');
    const seconds = (completed - started) / 1000;
    console.log(
      `${label}: JobComplete after ${seconds.toFixed(2)} s (${Math.round(total / seconds).toLocaleString('en')} records/s; ` +
        `emulator processing ${(info.totalProcessingTime / 1000).toFixed(2)} s, ` +
        `emulator CPU ${(memory.cpuSeconds - before.cpuSeconds).toFixed(2)} s incl. serving results), ` +
        `results downloaded and parsed by jsforce in ${((fetched - completed) / 1000).toFixed(2)} s; ` +
        `emulator peak RSS ${memory.maxRssMb.toFixed(0)} MB (rss now ${memory.rssMb.toFixed(0)} MB, heap ${memory.heapUsedMb.toFixed(0)} MB), ` +
        `${memory.contacts.toLocaleString('en')} contacts stored`,
    );
  }
  emulator.send({ type: 'stop' });
}

if (process.argv.includes('--child')) await child();
else await parent();
