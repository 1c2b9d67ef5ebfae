import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrmStorage, MemoryStorage, SyncEngine } from '../../src/index.js';
import { PostgresStorage } from '../../src/storage/postgres.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { FakeCrmProvider } from '../../src/testing/index.js';

const serverUrl = process.env.PG_URL ?? process.env.DATABASE_URL;
const dir = mkdtempSync(join(tmpdir(), 'crm-privacy-'));
const runId = `${process.pid}_${Date.now().toString(36)}`;
let seq = 0;
let pglite: PGlite;
let server: pg.Pool | undefined;
beforeAll(async () => {
  pglite = await PGlite.create();
  if (serverUrl) server = new pg.Pool({ connectionString: serverUrl, max: 2 });
});
afterAll(async () => {
  await pglite.close();
  await server?.end();
  rmSync(dir, { recursive: true, force: true });
});

async function migrated(storage: PostgresStorage): Promise<PostgresStorage> {
  await storage.migrate();
  return storage;
}

interface Adapter {
  name: string;
  make(): Promise<{ storage: CrmStorage; bytes?: () => Buffer; cleanup?: () => Promise<void> }>;
}

const adapters: Adapter[] = [
  { name: 'memory', make: async () => ({ storage: new MemoryStorage() }) },
  {
    name: 'SQLite file',
    make: async () => {
      const filename = join(dir, `engine-${++seq}.sqlite`);
      const bytes = () =>
        Buffer.concat([filename, `${filename}-wal`].filter(existsSync).map((f) => readFileSync(f)));
      return { storage: new SqliteStorage({ filename }), bytes };
    },
  },
  {
    name: 'PGlite',
    make: async () => {
      const schema = `crm_privacy_${runId}_${++seq}`;
      return {
        storage: await migrated(new PostgresStorage({ pool: pglite, schema })),
        cleanup: async () => void (await pglite.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
      };
    },
  },
  ...(serverUrl
    ? [
        {
          name: 'PostgreSQL server',
          make: async () => {
            const schema = `crm_privacy_${runId}_${++seq}`;
            return {
              storage: await migrated(
                new PostgresStorage({ connectionString: serverUrl, schema, maxConnections: 2 }),
              ),
              cleanup: async () => void (await server?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
            };
          },
        } satisfies Adapter,
      ]
    : []),
];

const ADA = {
  externalId: 'sub-ada-4711',
  email: 'ada.lovelace.privacy@example.com',
  firstName: 'Augusta',
  lastName: 'Lovelace-Unique',
};
const BOB = {
  externalId: 'sub-bob',
  email: 'bob.privacy@example.com',
  firstName: 'Bob',
  lastName: 'Builder',
};

/** Everything the storage returns through its public reads, as one string. */
async function readBack(storage: CrmStorage, integrationId: string): Promise<string> {
  return JSON.stringify({
    status: await storage.syncStatus.list({ integrationId, limit: 10_000 }),
    logs: await storage.syncLogs.list(integrationId, { limit: 1_000 }),
    audit: await storage.privacy?.listAudit(integrationId, { limit: 1_000 }),
  }).toLowerCase();
}

describe.each(adapters)('engine.forgetContact on $name storage', (adapter) => {
  it('erases the person in the CRM and locally, audits without personal data, and a later push does not resurrect them', async () => {
    const { storage, bytes, cleanup } = await adapter.make();
    try {
      const crm = new FakeCrmProvider();
      const integration = await storage.integrations.create({
        userId: 'u1',
        provider: 'fake',
        orgId: 'org-1',
        instanceUrl: 'https://crm.invalid',
        credentials: 'ciphertext',
      });
      const engine = new SyncEngine({
        provider: crm,
        storage,
        integrationId: integration.id,
        bulkMode: 'rest',
      });
      // First push stores a failure whose message echoes the name, then a good push.
      crm.failRecord({
        externalId: ADA.externalId,
        code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: `${ADA.lastName} (${ADA.email}) is not allowed`,
        times: 1,
      });
      const first = await engine.pushContacts([ADA, BOB]);
      expect(first.failed).toBe(1);
      // A rejected record waits for a fix: the host fixes it (a changed record is sent again).
      await engine.pushContacts([{ ...ADA, title: 'Countess of Lovelace' }, BOB]);
      expect(
        crm
          .contacts()
          .map((c) => c.email)
          .sort(),
      ).toEqual([ADA.email, BOB.email]);
      const before = await readBack(storage, integration.id);
      expect(before).toContain(ADA.externalId);

      const exported = await engine.exportContactData({ email: ADA.email });
      expect(JSON.stringify(exported.crm?.records)).toContain(ADA.email);
      expect(exported.local.syncStatus.map((r) => r.externalId)).toEqual([ADA.externalId]);
      expect(exported.local.suppressed).toBe(false);

      const result = await engine.forgetContact({ email: ADA.email }, { reason: 'gdpr_erasure_request' });
      expect(result.crm?.outcome).toBe('erased');
      expect(result.local.statusRows).toBe(1);
      expect(result.suppressed).toBe(2);
      expect(crm.contacts().map((c) => c.email)).toEqual([BOB.email]);

      const after = await readBack(storage, integration.id);
      for (const value of [ADA.email, ADA.lastName, ADA.firstName, ADA.externalId, 'Countess of Lovelace']) {
        expect(after).not.toContain(value.toLowerCase());
      }
      expect(after).toContain(BOB.externalId);
      const [audit] = (await storage.privacy?.listAudit(integration.id)) ?? [];
      expect(audit).toMatchObject({
        action: 'forget',
        reason: 'gdpr_erasure_request',
        subjectHash: result.subjectHash,
        outcome: { crm: { outcome: 'erased' }, local: { statusRows: 1 }, suppressed: 2 },
      });
      expect(audit?.subjectHash).toMatch(/^[0-9a-f]{64}$/);
      if (bytes) {
        const file = bytes();
        expect(file.includes(ADA.email)).toBe(false);
        expect(file.includes(ADA.lastName)).toBe(false);
      }

      // The host still has Ada and pushes everyone again: she stays forgotten.
      const again = await engine.pushContacts([ADA, { ...BOB, firstName: 'Robert' }]);
      expect(again.suppressed).toBe(1);
      expect(again.updated).toBe(1);
      expect(crm.contacts().map((c) => c.email)).toEqual([BOB.email]);
      // Matched by email too: the host re-keyed her under a new id.
      const rekeyed = await engine.pushContacts([{ ...ADA, externalId: 'sub-ada-new' }]);
      expect(rekeyed.suppressed).toBe(1);
      expect(crm.contacts()).toHaveLength(1);
      expect(await readBack(storage, integration.id)).not.toContain(ADA.email.toLowerCase());

      // Sent again on purpose: restore, then the push creates her anew.
      await engine.restoreContact(
        { email: ADA.email, externalId: ADA.externalId },
        { reason: 'signed_up_again' },
      );
      const restored = await engine.pushContacts([ADA]);
      expect(restored.created).toBe(1);
      expect(
        crm
          .contacts()
          .map((c) => c.email)
          .sort(),
      ).toEqual([ADA.email, BOB.email]);
      expect((await storage.privacy?.listAudit(integration.id))?.map((e) => e.action)).toEqual([
        'restore',
        'forget',
        'export',
      ]);
    } finally {
      await cleanup?.();
      await storage.close();
    }
  });
});

describe('engine.forgetContact edge cases', () => {
  const setup = async (crm = new FakeCrmProvider()) => {
    const storage = new MemoryStorage();
    const integration = await storage.integrations.create({
      userId: 'u1',
      provider: 'fake',
      orgId: 'org-1',
      instanceUrl: 'https://crm.invalid',
      credentials: 'ciphertext',
    });
    return {
      storage,
      crm,
      engine: new SyncEngine({ provider: crm, storage, integrationId: integration.id }),
      id: integration.id,
    };
  };

  it('refuses a reference without any key before touching anything', async () => {
    const { engine, crm } = await setup();
    await expect(engine.forgetContact({})).rejects.toMatchObject({ code: 'DATA_CONVERSION' });
    expect(crm.calls).toHaveLength(0);
  });

  it('without CRM privacy support throws CrmUnsupportedFeatureError, unless localOnly', async () => {
    const { engine, storage, id } = await setup(
      new FakeCrmProvider({ features: ['contact_sync', 'bulk_operations'] }),
    );
    await engine.pushContacts([ADA]);
    await expect(engine.forgetContact({ externalId: ADA.externalId })).rejects.toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
    });
    const local = await engine.forgetContact({ externalId: ADA.externalId }, { localOnly: true });
    expect(local.crm).toBeNull();
    expect(local.local.statusRows).toBe(1);
    expect((await storage.privacy.listAudit(id))[0]?.outcome).toMatchObject({ crm: { outcome: 'skipped' } });
  });

  it('a CRM failure still erases locally, is audited with its code, and is thrown for a retry', async () => {
    const { engine, crm, storage, id } = await setup();
    await engine.pushContacts([ADA]);
    const { CrmConnectionError } = await import('../../src/index.js');
    crm.failCall('forgetContact', new CrmConnectionError('socket hang up'));
    await expect(
      engine.forgetContact({ externalId: ADA.externalId, email: ADA.email }),
    ).rejects.toMatchObject({
      code: 'CONNECTION',
    });
    expect(await storage.syncStatus.list({ integrationId: id })).toEqual([]);
    expect((await storage.privacy.listAudit(id))[0]?.outcome).toMatchObject({
      crm: { outcome: 'failed', code: 'CONNECTION' },
    });
    const retry = await engine.forgetContact({ externalId: ADA.externalId, email: ADA.email });
    expect(retry.crm?.outcome).toBe('erased');
  });

  it('waits for nobody: a running sync holds the lease, so forgetContact fails fast with lease_held', async () => {
    const { engine, storage } = await setup();
    const lease = await storage.leases.acquire(engine.leaseKey, 60_000);
    await expect(engine.forgetContact({ email: ADA.email })).rejects.toMatchObject({
      details: { reason: 'lease_held' },
    });
    if (lease) await storage.leases.release(lease);
  });

  it('uses the host salt when given: the same person hashes alike across engines and differently across salts', async () => {
    const { storage, crm, id } = await setup();
    const a = new SyncEngine({ provider: crm, storage, integrationId: id, privacySalt: 'secret-1' });
    const b = new SyncEngine({ provider: crm, storage, integrationId: id, privacySalt: 'secret-2' });
    const one = await a.forgetContact({ email: ADA.email });
    const two = await a.forgetContact({ email: ADA.email.toUpperCase() });
    const three = await b.forgetContact({ email: ADA.email });
    expect(two.subjectHash).toBe(one.subjectHash);
    expect(three.subjectHash).not.toBe(one.subjectHash);
    expect(two.crm?.outcome).toBe('not_found');
    expect(() => new SyncEngine({ provider: crm, storage, integrationId: id, privacySalt: '' })).toThrow(
      /privacySalt/,
    );
  });
});
