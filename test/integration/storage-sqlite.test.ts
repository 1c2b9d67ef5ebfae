import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as vitest from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { CrmConfigurationError, CrmStorageError } from '../../src/index.js';
import { type SqliteDatabaseLike, SqliteStorage } from '../../src/storage/sqlite.js';
import { runStorageConformance } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crm-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;
const nextFile = () => join(dir, `db-${++fileSeq}.sqlite`);

runStorageConformance(({ clock }) => new SqliteStorage({ filename: ':memory:', clock }), {
  runner: vitest,
  name: 'SqliteStorage (better-sqlite3, :memory:) conformance',
});

runStorageConformance(({ clock }) => new SqliteStorage({ filename: nextFile(), clock }), {
  runner: vitest,
  name: 'SqliteStorage (better-sqlite3, WAL file) conformance',
});

runStorageConformance(
  async ({ clock }) => {
    const { DatabaseSync } = await import('node:sqlite');
    const database = new DatabaseSync(':memory:') as unknown as SqliteDatabaseLike;
    const storage = new SqliteStorage({ database, clock });
    const close = storage.close.bind(storage);
    // The storage does not own an injected database; the test closes it.
    storage.close = async () => {
      await close();
      try {
        database.close();
      } catch {
        // Already closed by the conformance "close is idempotent" test's second path.
      }
    };
    return storage;
  },
  { runner: vitest, name: 'SqliteStorage (node:sqlite database) conformance' },
);

const integration = {
  userId: 'u1',
  provider: 'salesforce',
  orgId: '00D1',
  instanceUrl: 'https://x.my.salesforce.com',
  credentials: 'v1.k.a.b.c',
};

describe('SqliteStorage specifics', () => {
  it('validates its options', () => {
    expect(() => new SqliteStorage({} as never)).toThrow(CrmConfigurationError);
    expect(() => new SqliteStorage({ filename: ':memory:', database: {} as never })).toThrow(/exactly one/);
    expect(() => new SqliteStorage({ filename: ':memory:', nope: 1 } as never)).toThrow(
      /unknown option 'nope'/,
    );
    expect(() => new SqliteStorage({ database: {} as never })).toThrow(/`database`/);
    expect(() => new SqliteStorage({ filename: ':memory:', driver: 'sqlite3' as never })).toThrow(/driver/);
  });

  it('opens files in WAL mode, persists across reopen, and migrates idempotently', async () => {
    const filename = nextFile();
    const first = new SqliteStorage({ filename });
    await first.migrate();
    await first.migrate();
    const created = await first.integrations.create(integration);
    await first.cursors.set(created.id, 'contacts', 'c1');
    await first.close();

    const raw = new Database(filename);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version, name FROM crm_schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'original_tables' },
      { version: 2, name: 'engine_state' },
    ]);
    raw.close();

    const second = new SqliteStorage({ filename });
    expect((await second.integrations.get(created.id))?.orgId).toBe('00D1');
    expect(await second.cursors.get(created.id, 'contacts')).toBe('c1');
    await second.close();
  });

  it('lets two storages on one file migrate at once and exclude each other with leases', async () => {
    const filename = nextFile();
    const a = new SqliteStorage({ filename });
    const b = new SqliteStorage({ filename });
    await Promise.all([a.migrate(), b.migrate()]);
    const lease = await a.leases.acquire('sync:1', 60_000);
    expect(lease).not.toBeNull();
    expect(await b.leases.acquire('sync:1', 60_000)).toBeNull();
    await a.leases.release(lease!);
    expect(await b.leases.acquire('sync:1', 60_000)).not.toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  it('reports a missing schema as not_migrated when autoMigrate is off', async () => {
    const storage = new SqliteStorage({ filename: ':memory:', autoMigrate: false });
    const error = await storage.integrations.list().catch((e) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(error.details.reason).toBe('not_migrated');
    await storage.migrate();
    expect(await storage.integrations.list()).toEqual([]);
    await storage.close();
  });

  it('does not close an injected database, and refuses calls after close', async () => {
    const database = new Database(':memory:');
    const storage = new SqliteStorage({ database });
    await storage.integrations.create(integration);
    await storage.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT count(*) AS n FROM crm_integrations').get()).toEqual({ n: 1 });
    const error = await storage.integrations.list().catch((e) => e);
    expect(error.details.reason).toBe('closed');
    database.close();
  });

  it('wraps driver failures in CrmStorageError with the cause', async () => {
    const storage = new SqliteStorage({ filename: join(dir, 'missing-dir', 'x.sqlite') });
    const error = await storage.integrations.list().catch((e) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(error.details.reason).toBe('driver');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('rolls back a batch when a row fails inside the transaction', async () => {
    const database = new Database(':memory:');
    const storage = new SqliteStorage({ database });
    await storage.migrate();
    database.exec(
      "CREATE TRIGGER reject_bad BEFORE INSERT ON crm_sync_status WHEN NEW.external_id = 'bad' BEGIN SELECT RAISE(ABORT, 'rejected'); END",
    );
    const row = (externalId: string) => ({
      integrationId: 'i1',
      entityType: 'contact' as const,
      externalId,
      crmId: null,
      status: 'pending' as const,
      direction: 'to_crm' as const,
      contentHash: null,
      lastSyncedAt: null,
      lastError: null,
    });
    const error = await storage.syncStatus.upsertMany([row('a'), row('bad')]).catch((e) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(await storage.syncStatus.list({ integrationId: 'i1' })).toEqual([]);
    await storage.close();
    database.close();
  });
});
