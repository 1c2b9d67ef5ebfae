import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmConfigurationError, CrmStorageError, type CrmSyncStatusRow } from '../../src/index.js';
import { type PostgresQueryable, PostgresStorage } from '../../src/storage/postgres.js';
import { runStorageConformance } from '../../src/testing/index.js';

// Real server only when configured (CI sets it); PGlite always, so a fresh machine runs these too.
const serverUrl = process.env.PG_URL ?? process.env.DATABASE_URL;
const runId = `${process.pid}_${Date.now().toString(36)}`;
let schemaSeq = 0;
const nextSchema = () => `crm_test_${runId}_${++schemaSeq}`;

const row = (integrationId: string, externalId: string): CrmSyncStatusRow => ({
  integrationId,
  entityType: 'contact',
  externalId,
  crmId: `003${externalId}`,
  status: 'synced',
  direction: 'to_crm',
  contentHash: 'h',
  lastSyncedAt: new Date(0),
  lastError: null,
});

const integration = {
  userId: 'u1',
  provider: 'salesforce',
  orgId: '00D1',
  instanceUrl: 'https://x.my.salesforce.com',
  credentials: 'v1.k.a.b.c',
};

/** Specs that hold for any PostgreSQL behind any client. */
function postgresSpecifics(
  name: string,
  getClient: () => PostgresQueryable,
  dropSchema: (s: string) => Promise<void>,
) {
  describe(`PostgresStorage specifics (${name})`, () => {
    it('records versioned migrations once, however often and concurrently migrate() runs', async () => {
      const schema = nextSchema();
      try {
        const a = new PostgresStorage({ pool: getClient(), schema });
        const b = new PostgresStorage({ pool: getClient(), schema });
        await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
        await new PostgresStorage({ pool: getClient(), schema }).migrate();
        const { rows } = await getClient().query(
          `SELECT version, name FROM "${schema}".crm_schema_migrations ORDER BY version`,
        );
        expect(rows).toEqual([
          { version: 1, name: 'original_tables' },
          { version: 2, name: 'engine_state' },
          { version: 3, name: 'crm_id_lookup_index' },
          { version: 4, name: 'privacy' },
        ]);
        const tables = await getClient().query(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
          [schema],
        );
        expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
          'crm_integrations',
          'crm_leases',
          'crm_privacy_audit',
          'crm_privacy_suppressions',
          'crm_schema_migrations',
          'crm_sync_cursors',
          'crm_sync_logs',
          'crm_sync_status',
        ]);
      } finally {
        await dropSchema(schema);
      }
    });

    it('reports missing tables as not_migrated, and autoMigrate creates them', async () => {
      const schema = nextSchema();
      try {
        const manual = new PostgresStorage({ pool: getClient(), schema });
        const error = await manual.integrations.list().catch((e) => e);
        expect(error).toBeInstanceOf(CrmStorageError);
        expect(error.details.reason).toBe('not_migrated');
        const auto = new PostgresStorage({ pool: getClient(), schema, autoMigrate: true });
        expect(await auto.integrations.list()).toEqual([]);
      } finally {
        await dropSchema(schema);
      }
    });

    it('writes a large batch in chunks inside one transaction, all or nothing', async () => {
      const schema = nextSchema();
      try {
        const storage = new PostgresStorage({ pool: getClient(), schema, batchSize: 100 });
        await storage.migrate();
        const rows = Array.from({ length: 450 }, (_, i) => row('i1', `r${String(i).padStart(4, '0')}`));
        await storage.syncStatus.upsertMany(rows);
        const count = await getClient().query(`SELECT count(*)::int AS n FROM "${schema}".crm_sync_status`);
        expect(count.rows[0].n).toBe(450);
        // PostgreSQL refuses NUL in text: the last chunk fails, and the earlier chunks roll back.
        const failing = Array.from({ length: 250 }, (_, i) => row('i2', `s${i}`));
        failing.push(row('i2', 'bad\u0000id'));
        const error = await storage.syncStatus.upsertMany(failing).catch((e) => e);
        expect(error).toBeInstanceOf(CrmStorageError);
        expect(await storage.syncStatus.list({ integrationId: 'i2' })).toEqual([]);
      } finally {
        await dropSchema(schema);
      }
    });

    it('upgrades a version-2 schema to the crm_id lookup index, which EXPLAIN shows getByCrmId using', async () => {
      const schema = nextSchema();
      try {
        const storage = new PostgresStorage({ pool: getClient(), schema });
        await storage.migrate();
        // Put the schema back to version 2: the old index, no version 3 record.
        await getClient().query(`DROP INDEX "${schema}".crm_sync_status_crm_lookup_idx`);
        await getClient().query(
          `CREATE INDEX crm_sync_status_crm_id_idx ON "${schema}".crm_sync_status (integration_id, entity_type, crm_id) WHERE crm_id IS NOT NULL`,
        );
        await getClient().query(`DELETE FROM "${schema}".crm_schema_migrations WHERE version = 3`);
        const rows = Array.from({ length: 3000 }, (_, i) => row('i1', `r${String(i).padStart(5, '0')}`));
        await storage.syncStatus.upsertMany(rows);

        await new PostgresStorage({ pool: getClient(), schema }).migrate();
        const indexes = await getClient().query(
          `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'crm_sync_status' ORDER BY indexname`,
          [schema],
        );
        expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual([
          'crm_sync_status_crm_lookup_idx',
          'crm_sync_status_list_idx',
          'crm_sync_status_pkey',
          'crm_sync_status_state_idx',
        ]);
        await getClient().query(`ANALYZE "${schema}".crm_sync_status`);
        const explain = async (where: string) =>
          (
            await getClient().query(
              `EXPLAIN SELECT * FROM "${schema}".crm_sync_status WHERE integration_id = 'i1' AND entity_type = 'contact' AND ${where}`,
            )
          ).rows
            .map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'])
            .join('\n');
        const byCrmId = await explain(`crm_id = '003r01234' ORDER BY external_id LIMIT 1`);
        expect(byCrmId).toContain('crm_sync_status_crm_lookup_idx');
        expect(byCrmId).not.toMatch(/Sort|Seq Scan/);
        const many = await explain(`external_id = ANY('{r00001,r02999}'::text[])`);
        // Either key index probes each id (the planner picks by cost); what matters is no scan.
        expect(many).toMatch(/Index Scan using crm_sync_status_(pkey|list_idx)/);
        expect(many).toMatch(/Index Cond: .*external_id = ANY/);
        expect(many).not.toMatch(/Seq Scan/);
        expect(
          (
            await storage.syncStatus.getByCrmId({
              integrationId: 'i1',
              entityType: 'contact',
              crmId: '003r01234',
            })
          )?.externalId,
        ).toBe('r01234');
      } finally {
        await dropSchema(schema);
      }
    });

    it('reads getMany and getManyByCrmId in several chunks', async () => {
      const schema = nextSchema();
      try {
        const storage = new PostgresStorage({ pool: getClient(), schema, batchSize: 100 });
        await storage.migrate();
        const ids = Array.from({ length: 350 }, (_, i) => `r${String(i).padStart(4, '0')}`);
        await storage.syncStatus.upsertMany(ids.filter((_, i) => i % 3 !== 0).map((x) => row('i1', x)));
        const found = await storage.syncStatus.getMany({
          integrationId: 'i1',
          entityType: 'contact',
          externalIds: ids,
        });
        expect([...found.keys()].sort()).toEqual(ids.filter((_, i) => i % 3 !== 0));
        const byCrm = await storage.syncStatus.getManyByCrmId({
          integrationId: 'i1',
          entityType: 'contact',
          crmIds: ids.map((x) => `003${x}`),
        });
        expect(byCrm.size).toBe(found.size);
        expect(byCrm.get('003r0349')?.externalId).toBe('r0349');
      } finally {
        await dropSchema(schema);
      }
    });

    it('uses the database clock for leases when no clock is injected', async () => {
      const schema = nextSchema();
      try {
        const storage = new PostgresStorage({ pool: getClient(), schema });
        await storage.migrate();
        const before = Date.now();
        const lease = await storage.leases.acquire('k', 60_000);
        expect(lease).not.toBeNull();
        expect(lease!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 60_000 - 5_000);
        expect(lease!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 60_000 + 5_000);
        expect(await storage.leases.acquire('k', 60_000)).toBeNull();
        expect(await storage.leases.renew(lease!, 120_000)).toBe(true);
      } finally {
        await dropSchema(schema);
      }
    });

    it('does not end an injected client on close', async () => {
      const schema = nextSchema();
      try {
        const storage = new PostgresStorage({ pool: getClient(), schema });
        await storage.migrate();
        await storage.integrations.create(integration);
        await storage.close();
        await storage.close();
        const { rows } = await getClient().query(
          `SELECT count(*)::int AS n FROM "${schema}".crm_integrations`,
        );
        expect(rows[0].n).toBe(1);
        expect((await storage.integrations.list().catch((e) => e)).details.reason).toBe('closed');
      } finally {
        await dropSchema(schema);
      }
    });
  });
}

describe('PostgresStorage options', () => {
  it('validates its options', () => {
    expect(() => new PostgresStorage({} as never)).toThrow(CrmConfigurationError);
    expect(
      () =>
        new PostgresStorage({
          connectionString: 'postgres://x',
          pool: { query: async () => ({ rows: [] }) },
        }),
    ).toThrow(/exactly one/);
    expect(() => new PostgresStorage({ pool: {} as never })).toThrow(/query/);
    expect(() => new PostgresStorage({ connectionString: 'postgres://x', schema: 'bad-name;' })).toThrow(
      /schema/,
    );
    expect(() => new PostgresStorage({ connectionString: 'postgres://x', batchSize: 0 })).toThrow(
      /batchSize/,
    );
    expect(() => new PostgresStorage({ connectionString: 'postgres://x', extra: 1 } as never)).toThrow(
      /unknown option/,
    );
  });

  it('surfaces an unreachable server as a retryable CrmStorageError without the password', async () => {
    const storage = new PostgresStorage({ connectionString: 'postgres://user:hunter2secret@127.0.0.1:1/db' });
    const error = await storage.integrations.list().catch((e) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(error.retryable).toBe(true);
    expect(JSON.stringify(error.toJSON())).not.toContain('hunter2secret');
    await storage.close();
  });
});

describe('PostgresStorage on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await PGlite.create();
  });
  afterAll(async () => {
    await db.close();
  });
  const drop = async (schema: string) => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  const schemas = new WeakMap<object, string>();

  runStorageConformance(
    async ({ clock }) => {
      const schema = nextSchema();
      const storage = new PostgresStorage({ pool: db, schema, clock });
      schemas.set(storage, schema);
      await storage.migrate();
      return storage;
    },
    {
      runner: vitest,
      capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
      name: 'PostgresStorage (PGlite) conformance',
      cleanup: (storage) => drop(schemas.get(storage)!),
    },
  );

  postgresSpecifics('PGlite', () => db, drop);

  it('accepts a PGlite instance where a pool is expected (type check)', () => {
    const client: PostgresQueryable = db;
    expect(typeof client.query).toBe('function');
  });
});

if (serverUrl) {
  describe('PostgresStorage on a PostgreSQL server', () => {
    let admin: pg.Pool;
    beforeAll(() => {
      admin = new pg.Pool({ connectionString: serverUrl, max: 4 });
    });
    afterAll(async () => {
      await admin.end();
    });
    const drop = async (schema: string) => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    };
    const schemas = new WeakMap<object, string>();

    runStorageConformance(
      async ({ clock }) => {
        const schema = nextSchema();
        const storage = new PostgresStorage({
          connectionString: serverUrl,
          schema,
          clock,
          maxConnections: 4,
        });
        schemas.set(storage, schema);
        await storage.migrate();
        return storage;
      },
      {
        runner: vitest,
        capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
        name: 'PostgresStorage (server, connectionString) conformance',
        cleanup: (storage) => drop(schemas.get(storage)!),
      },
    );

    postgresSpecifics('server pool', () => admin, drop);

    it('migrates and hands out a lease exactly once across separate pools', async () => {
      const schema = nextSchema();
      const storages = [1, 2, 3].map(
        () => new PostgresStorage({ connectionString: serverUrl, schema, maxConnections: 3 }),
      );
      try {
        await Promise.all(storages.map((s) => s.migrate()));
        const attempts = await Promise.all(
          storages.flatMap((s) => Array.from({ length: 4 }, () => s.leases.acquire('sync:shared', 60_000))),
        );
        expect(attempts.filter((lease) => lease !== null)).toHaveLength(1);
      } finally {
        await Promise.all(storages.map((s) => s.close()));
        await drop(schema);
      }
    });

    it('lets exactly one compare-and-swap win across separate pools', async () => {
      const schema = nextSchema();
      const [a, b] = [1, 2].map(
        () => new PostgresStorage({ connectionString: serverUrl, schema, maxConnections: 3 }),
      );
      try {
        await a!.migrate();
        const created = await a!.integrations.create({ ...integration, credentials: 'old' });
        const results = await Promise.allSettled(
          [a!, b!, a!, b!].map((s, i) =>
            s.integrations.update(created.id, { credentials: `new-${i}` }, { expectedCredentials: 'old' }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      } finally {
        await Promise.all([a!.close(), b!.close()]);
        await drop(schema);
      }
    });

    it('works on a single pg.Client by serialising its operations', async () => {
      const schema = nextSchema();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        const storage = new PostgresStorage({ pool: client, schema, batchSize: 50 });
        await storage.migrate();
        const created = await storage.integrations.create(integration);
        await Promise.all([
          storage.syncStatus.upsertMany(Array.from({ length: 120 }, (_, i) => row(created.id, `a${i}`))),
          storage.cursors.set(created.id, 'contacts', 'c1'),
          storage.leases.acquire('k', 1000),
        ]);
        expect(await storage.syncStatus.list({ integrationId: created.id, limit: 500 })).toHaveLength(120);
        expect(await storage.cursors.get(created.id, 'contacts')).toBe('c1');
      } finally {
        await client.end();
        await drop(schema);
      }
    });
  });
}
