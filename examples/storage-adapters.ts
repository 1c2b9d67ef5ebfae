/**
 * The same sync against three storage adapters: memory (core), SQLite and PostgreSQL. Each one
 * holds integrations, sync logs, per-record sync status, pull cursors and leases; the sync engine
 * does not care which one it gets.
 *
 *   npx tsx examples/storage-adapters.ts
 *
 * - SQLite: a file in a temporary directory (`better-sqlite3`, an optional peer dependency:
 *   `npm install better-sqlite3`; or `driver: 'node:sqlite'` with no install).
 * - PostgreSQL: the server in PG_URL (or DATABASE_URL) through `pg` (optional peer: `npm install pg`);
 *   without one, an embedded PostgreSQL (PGlite, `npm install @electric-sql/pglite`) passed as `pool`.
 * - Salesforce: the embedded emulator, or a real org with SF_INSTANCE_URL and SF_ACCESS_TOKEN.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CrmContactInput, type CrmStorage, MemoryStorage, SyncEngine } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { PostgresStorage } from '@markmail/crm/storage/postgres';
import { SqliteStorage } from '@markmail/crm/storage/sqlite';
import { startSalesforceEmulator } from '@markmail/crm/testing';

// The embedded PostgreSQL needs a few seconds to initialise: start it now, use it last.
const pgUrl = process.env.PG_URL ?? process.env.DATABASE_URL;
const embeddedPostgres = pgUrl ? null : import('@electric-sql/pglite').then(({ PGlite }) => PGlite.create());

const realOrg = process.env.SF_INSTANCE_URL && process.env.SF_ACCESS_TOKEN;
const emulator = realOrg ? null : await startSalesforceEmulator();
const instanceUrl = process.env.SF_INSTANCE_URL ?? emulator!.instanceUrl;
const provider = new SalesforceProvider({
  instanceUrl,
  accessToken: process.env.SF_ACCESS_TOKEN ?? emulator!.accessToken,
});
console.log(
  realOrg ? `Using the org at ${instanceUrl}` : `Started the Salesforce emulator at ${instanceUrl}`,
);

const contacts: CrmContactInput[] = [
  { externalId: 'st-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' },
  { externalId: 'st-2', email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper' },
  { externalId: 'st-3', email: 'edsger@example.com', firstName: 'Edsger', lastName: 'Dijkstra' },
];

/** Run one push twice against `storage` and read back what it recorded. */
async function exercise(storage: CrmStorage, label: string) {
  const started = performance.now();
  const integration = await storage.integrations.create({
    userId: 'user-1',
    provider: 'salesforce',
    orgId: emulator?.orgId ?? 'real-org',
    instanceUrl,
    credentials: 'v1.k1.ciphertext-from-CredentialCipher',
  });
  const engine = new SyncEngine({ provider, storage, integrationId: integration.id });
  const first = await engine.pushContacts(contacts);
  const second = await engine.pushContacts(contacts); // content hashes unchanged: no API call
  const synced = await storage.syncStatus.list({ integrationId: integration.id, status: 'synced' });
  const logs = await storage.syncLogs.list(integration.id);
  await storage.cursors.set(integration.id, 'contacts:pull', 'cursor-42');
  // Leases keep two workers from syncing one integration at once (the engine takes `sync:<id>`).
  const lease = await storage.leases.acquire(`demo:${integration.id}`, 30_000);
  const competing = await storage.leases.acquire(`demo:${integration.id}`, 30_000);
  if (lease) await storage.leases.release(lease);
  return {
    adapter: label,
    created: first.created,
    'unchanged 2nd push': second.unchanged,
    'status rows': synced.length,
    'sync logs': logs.length,
    cursor: await storage.cursors.get(integration.id, 'contacts:pull'),
    '2nd lease': competing === null ? 'refused' : 'granted!',
    ms: Math.round(performance.now() - started),
  };
}

const rows = [];

// Memory: ships in core; for tests and single-process tools.
rows.push(await exercise(new MemoryStorage(), 'memory'));
emulator?.reset();

// SQLite: a file; migrate() is idempotent and also runs on first use (autoMigrate defaults to true).
const dir = mkdtempSync(join(tmpdir(), 'markmail-crm-'));
const filename = join(dir, 'crm.db');
const sqlite = new SqliteStorage({ filename });
await sqlite.migrate();
await sqlite.migrate(); // a second run applies nothing
rows.push(await exercise(sqlite, 'sqlite (file)'));
await sqlite.close();
const reopened = new SqliteStorage({ filename });
const persisted = (await reopened.integrations.list()).length;
await reopened.close();
console.log(
  `\nSQLite file ${filename}: ${statSync(filename).size} bytes, ${persisted} integration(s) after reopening`,
);
rmSync(dir, { recursive: true, force: true });
emulator?.reset();

// PostgreSQL: migrate() creates and versions the tables (crm_integrations, crm_sync_logs,
// crm_sync_status, …); run it from a deploy step (autoMigrate is off by default here).
const pglite = await embeddedPostgres; // null when PG_URL is set
const postgres = pglite
  ? new PostgresStorage({ pool: pglite }) // any client with query(text, params) works as `pool`
  : new PostgresStorage({ connectionString: pgUrl as string, schema: 'markmail_crm_example' });
await postgres.migrate();
await postgres.migrate();
rows.push(await exercise(postgres, pgUrl ? 'postgres (PG_URL)' : 'postgres (PGlite)'));
await postgres.close(); // ends a pool it created; a `pool` you passed stays yours to close
await pglite?.close();

console.log('\nSame sync, three adapters');
console.table(rows);
await emulator?.stop();
