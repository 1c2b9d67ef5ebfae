/**
 * A sync worker process for the crash and multi-worker tests in `sync-crash.test.ts`: pushes
 * contacts to a Salesforce emulator through `SyncEngine`, with its state in a shared SQLite file or
 * PostgreSQL schema. Configured by the JSON in `SYNC_WORKER_CONFIG`; reports on stdout, one line
 * per event: `ready`, `progress <processed>`, `result <json>` or `error <json>`.
 */
import { type CrmStorage, SyncEngine } from '../../src/index.js';
import { SalesforceProvider } from '../../src/salesforce/index.js';

interface WorkerConfig {
  instanceUrl: string;
  accessToken: string;
  storage: { kind: 'sqlite'; filename: string } | { kind: 'postgres'; url: string; schema: string };
  count: number;
  batchSize: number;
  leaseTtlMs: number;
  waitForLeaseMs: number;
  /** Pause per source record, in ms (keeps a run going long enough to overlap another). */
  delayEvery?: { records: number; ms: number };
  /** Wait for a line on stdin before starting. */
  barrier?: boolean;
  /** The provider's `bulkThreshold` (a low one sends small batches through Bulk API 2.0). */
  bulkThreshold?: number;
}

const config = JSON.parse(process.env.SYNC_WORKER_CONFIG ?? '{}') as WorkerConfig;
const emit = (line: string) => process.stdout.write(`${line}\n`);

async function openStorage(): Promise<CrmStorage> {
  if (config.storage.kind === 'sqlite') {
    const { SqliteStorage } = await import('../../src/storage/sqlite.js');
    return new SqliteStorage({ filename: config.storage.filename, busyTimeoutMs: 10_000 });
  }
  const { PostgresStorage } = await import('../../src/storage/postgres.js');
  return new PostgresStorage({ connectionString: config.storage.url, schema: config.storage.schema });
}

async function* contacts(): AsyncGenerator<{ externalId: string; email: string; lastName: string }> {
  for (let i = 0; i < config.count; i += 1) {
    if (config.delayEvery && i > 0 && i % config.delayEvery.records === 0) {
      await new Promise((resolve) => setTimeout(resolve, config.delayEvery?.ms));
    }
    yield { externalId: `h-${i}`, email: `user${i}@example.com`, lastName: `Last${i}` };
  }
}

const storage = await openStorage();
const provider = new SalesforceProvider({
  instanceUrl: config.instanceUrl,
  accessToken: config.accessToken,
  ...(config.bulkThreshold !== undefined ? { bulkThreshold: config.bulkThreshold } : {}),
});
const engine = new SyncEngine({
  provider,
  storage,
  integrationId: 'crash-int',
  batchSize: config.batchSize,
  leaseTtlMs: config.leaseTtlMs,
  waitForLeaseMs: config.waitForLeaseMs,
});
if (config.barrier) {
  emit('ready');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.pause();
}
try {
  const report = await engine.pushContacts(contacts(), {
    syncType: 'scheduled',
    onProgress: (p) => emit(`progress ${p.processed}`),
  });
  emit(`result ${JSON.stringify(report)}`);
} catch (error) {
  const e = error as { name?: string; code?: string; message?: string; details?: unknown };
  emit(`error ${JSON.stringify({ name: e.name, code: e.code, message: e.message, details: e.details })}`);
} finally {
  await storage.close();
}
