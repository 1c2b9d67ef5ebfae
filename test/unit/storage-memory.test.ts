import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { CrmDataConversionError, CrmStorageError, MemoryStorage } from '../../src/index.js';
import { runStorageConformance } from '../../src/testing/index.js';

runStorageConformance(({ clock }) => new MemoryStorage({ clock }), {
  runner: vitest,
  capabilities: { getMany: true, getManyByCrmId: true, privacy: true },
  name: 'MemoryStorage conformance',
});

describe('MemoryStorage specifics', () => {
  const base = {
    userId: 'u1',
    provider: 'salesforce',
    orgId: '00D1',
    instanceUrl: 'https://x.my.salesforce.com',
    credentials: 'v1.k.a.b.c',
  };

  it('rejects unknown options and a clock without now()', () => {
    expect(() => new MemoryStorage({ clok: 1 } as never)).toThrow(/unknown option 'clok'/);
    expect(() => new MemoryStorage({ clock: {} as never })).toThrow(/now\(\)/);
  });

  it('names every invalid field of an integration and of status rows', async () => {
    const storage = new MemoryStorage();
    const error = await storage.integrations
      .create({ ...base, userId: '', settings: [] as never })
      .catch((e) => e);
    expect(error).toBeInstanceOf(CrmDataConversionError);
    expect(error.fields).toEqual(['userId', 'settings']);
    const rowError = await storage.syncStatus
      .upsertMany([
        {
          integrationId: 'i',
          entityType: 'contact',
          externalId: 'a',
          crmId: null,
          status: 'done' as never,
          direction: 'to_crm',
          contentHash: null,
          lastSyncedAt: 'yesterday' as never,
          lastError: null,
        },
      ])
      .catch((e) => e);
    expect(rowError).toBeInstanceOf(CrmDataConversionError);
    expect(rowError.fields).toEqual(['[0].status', '[0].lastSyncedAt']);
    expect(await storage.syncStatus.list({ integrationId: 'i' })).toEqual([]);
  });

  it('refuses to patch fields that cannot change, such as userId', async () => {
    const storage = new MemoryStorage();
    const created = await storage.integrations.create(base);
    await expect(storage.integrations.update(created.id, { userId: 'u2' } as never)).rejects.toThrow(
      CrmDataConversionError,
    );
  });

  it('rejects lease ttl that is not a positive integer', async () => {
    const storage = new MemoryStorage();
    await expect(storage.leases.acquire('k', 0)).rejects.toThrow(CrmDataConversionError);
    await expect(storage.leases.acquire('k', 1.5)).rejects.toThrow(CrmDataConversionError);
  });

  it('renews an expired lease that nobody else took', async () => {
    let now = 0;
    const storage = new MemoryStorage({ clock: { now: () => new Date(now) } });
    const lease = await storage.leases.acquire('k', 10);
    now = 50;
    expect(await storage.leases.renew(lease!, 10)).toBe(true);
    expect(await storage.leases.acquire('k', 10)).toBeNull();
  });

  it('throws CrmStorageError (closed) after close', async () => {
    const storage = new MemoryStorage();
    await storage.close();
    const error = await storage.integrations.list().catch((e) => e);
    expect(error).toBeInstanceOf(CrmStorageError);
    expect(error.details.reason).toBe('closed');
  });

  it('stores field mappings as JSON: transform functions are not persisted', async () => {
    const storage = new MemoryStorage();
    const created = await storage.integrations.create({
      ...base,
      fieldMappings: [{ hostField: 'a', crmField: 'A', fieldType: 'text', transform: (v: unknown) => v }],
    });
    expect(created.fieldMappings).toEqual([{ hostField: 'a', crmField: 'A', fieldType: 'text' }]);
  });
});
