import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as vitest from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { CrmConfigurationError, CrmDataConversionError, CrmStorageError } from '../../src/index.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { type SqliteDatabaseLike, SqliteStorage } from '../../src/storage/sqlite.js';
import { runStorageConformance } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crm-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;
const nextFile = () => join(dir, `db-${++fileSeq}.sqlite`);

runStorageConformance(({ clock }) => new SqliteStorage({ filename: ':memory:', clock }), {
  runner: vitest,
  capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
  name: 'SqliteStorage (better-sqlite3, :memory:) conformance',
});

runStorageConformance(({ clock }) => new SqliteStorage({ filename: nextFile(), clock }), {
  runner: vitest,
  capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
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
  {
    runner: vitest,
    name: 'SqliteStorage (node:sqlite database) conformance',
    capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
  },
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
      { version: 3, name: 'crm_id_lookup_index' },
      { version: 4, name: 'privacy' },
    ]);
    raw.close();

    const second = new SqliteStorage({ filename });
    expect((await second.integrations.get(created.id))?.orgId).toBe('00D1');
    expect(await second.cursors.get(created.id, 'contacts')).toBe('c1');
    await second.close();
  });

  it('upgrades a version-2 database so getByCrmId and getMany probe an index instead of scanning', async () => {
    const filename = nextFile();
    // A database as version 2 left it, with data in it.
    const old = new Database(filename);
    old.exec(
      'CREATE TABLE crm_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 2)) {
      for (const sql of migration.statements) old.exec(sql);
      old
        .prepare('INSERT INTO crm_schema_migrations VALUES (?, ?, 0)')
        .run(migration.version, migration.name);
    }
    old
      .prepare(
        `INSERT INTO crm_sync_status (integration_id, entity_type, external_id, crm_id, sync_status, sync_direction)
         VALUES ('i1', 'contact', 'host-1', '003X', 'synced', 'to_crm')`,
      )
      .run();
    const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('; ');
    const byCrmId = `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ? AND crm_id = ?
      ORDER BY external_id LIMIT 1`;
    // The defect this migration fixes: the primary key wins because it gives the ORDER BY for free.
    expect(plan(old, byCrmId, 'i1', 'contact', '003X')).toMatch(
      /sqlite_autoindex_crm_sync_status_1 \(integration_id=\? AND entity_type=\?\)$/,
    );
    old.close();

    const storage = new SqliteStorage({ filename });
    expect(
      (await storage.syncStatus.getByCrmId({ integrationId: 'i1', entityType: 'contact', crmId: '003X' }))
        ?.externalId,
    ).toBe('host-1');
    expect([
      ...(
        await storage.syncStatus.getMany({
          integrationId: 'i1',
          entityType: 'contact',
          externalIds: ['host-1'],
        })
      ).keys(),
    ]).toEqual(['host-1']);
    await storage.migrate();
    await storage.close();

    const raw = new Database(filename);
    expect(raw.prepare('SELECT max(version) AS v FROM crm_schema_migrations').get()).toEqual({
      v: SQLITE_MIGRATIONS.at(-1)?.version,
    });
    const indexes = raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'crm_sync_status' AND sql IS NOT NULL ORDER BY name",
      )
      .all()
      .map((r) => (r as { name: string }).name);
    expect(indexes).toEqual([
      'crm_sync_status_crm_lookup_idx',
      'crm_sync_status_list_idx',
      'crm_sync_status_state_idx',
    ]);
    expect(plan(raw, byCrmId, 'i1', 'contact', '003X')).toBe(
      'SEARCH crm_sync_status USING INDEX crm_sync_status_crm_lookup_idx (integration_id=? AND entity_type=? AND crm_id=?)',
    );
    const many = `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ?
      AND external_id IN (SELECT value FROM json_each(?))`;
    expect(plan(raw, many, 'i1', 'contact', '["host-1"]')).toMatch(
      /USING INDEX sqlite_autoindex_crm_sync_status_1 \(integration_id=\? AND entity_type=\? AND external_id=\?\)/,
    );
    const manyByCrmId = `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ?
      AND crm_id IN (SELECT value FROM json_each(?))`;
    expect(plan(raw, manyByCrmId, 'i1', 'contact', '["003X"]')).toMatch(
      /USING INDEX crm_sync_status_crm_lookup_idx \(integration_id=\? AND entity_type=\? AND crm_id=\?\)/,
    );
    raw.close();
  });

  it('validates getMany keys before touching the database', async () => {
    const storage = new SqliteStorage({ filename: ':memory:' });
    const error = await storage.syncStatus
      .getMany({ integrationId: '', entityType: 'contact', externalIds: ['a', 1 as never] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(CrmDataConversionError);
    expect(error.fields).toEqual(['integrationId', 'externalIds']);
    await storage.close();
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
