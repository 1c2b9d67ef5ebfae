import { describe, expect, it } from 'vitest';
import { CrmConnectionError, MemoryStorage, SyncEngine } from '../../src/index.js';
import { ContactFieldMapper } from '../../src/sync/mapping.js';
import {
  addPendingWrite,
  holdsFields,
  outstandingWrites,
  verifyUncertain,
} from '../../src/sync/uncertain.js';
import { FakeCrmProvider } from '../../src/testing/index.js';
import { contact, manualClock } from './sync-fixtures.js';

const mapper = new ContactFieldMapper([]);
const crm = (patch: Record<string, unknown> = {}) => ({
  id: '003000000000001',
  externalId: 'h-1',
  email: 'a@example.com',
  lastName: 'V1',
  tags: [],
  customFields: {},
  ...patch,
});
const NOW = new Date('2026-12-06T04:00:00Z');

describe('uncertain writes: the rules', () => {
  it('a record is only known to hold a version when every field it set can be read back and matches', () => {
    expect(holdsFields(mapper, crm(), { email: 'a@example.com', lastName: 'V1', phone: null })).toBe(true);
    expect(holdsFields(mapper, crm(), { lastName: 'V2' })).toBe(false);
    // A standard field the provider leaves out is empty in the CRM.
    expect(holdsFields(mapper, crm(), { title: 'CTO' })).toBe(false);
    // One-way fields the CRM may not keep, and custom fields it did not read, cannot be checked: no.
    expect(holdsFields(mapper, crm(), { company: 'Acme' })).toBe(false);
    expect(holdsFields(mapper, crm(), { Score__c: '7' })).toBe(false);
    expect(holdsFields(mapper, crm({ customFields: { Score__c: '7' } }), { Score__c: '7' })).toBe(true);
  });

  it('pending writes are kept per content, until the latest moment any of them can land', () => {
    const a = addPendingWrite(undefined, { hash: 'v1', fields: { lastName: 'V1' } }, NOW, 60_000);
    const b = addPendingWrite(
      a,
      { hash: 'v2', fields: { lastName: 'V2' } },
      new Date(NOW.getTime() + 30_000),
      60_000,
    );
    const c = addPendingWrite(b, { hash: 'v1', fields: { lastName: 'V1' } }, NOW, 1_000);
    expect(c.writes.map((w) => w.hash)).toEqual(['v2', 'v1']);
    expect(c.settleAt).toBe('2026-12-06T04:01:30.000Z');
    // A write of the same content as the current version cannot make it wrong.
    expect(outstandingWrites(c, NOW, 'v2')?.writes.map((w) => w.hash)).toEqual(['v1']);
    expect(outstandingWrites(c, new Date('2026-12-06T04:01:30.000Z'), 'v2')).toBeUndefined();
  });

  it('a read-back holding a pending write proves that write landed; otherwise it stays outstanding', () => {
    const state = addPendingWrite(undefined, { hash: 'v1', fields: { lastName: 'V1' } }, NOW, 60_000);
    const current = { hash: 'v2', fields: { lastName: 'V2' } };
    const landed = verifyUncertain({ mapper, state, contact: crm({ lastName: 'V1' }), current, now: NOW });
    expect(landed).toMatchObject({ outstanding: undefined, holdsCurrent: false, crmId: '003000000000001' });
    const notYet = verifyUncertain({ mapper, state, contact: crm({ lastName: 'V0' }), current, now: NOW });
    expect(notYet.outstanding?.writes.map((w) => w.hash)).toEqual(['v1']);
    const unread = verifyUncertain({ mapper, state, contact: undefined, current, now: NOW });
    expect(unread.outstanding?.writes).toHaveLength(1);
  });
});

describe('uncertain records and pulls', () => {
  it('a pull does not mark a record synced while a push write of unknown outcome may still land', async () => {
    const clock = manualClock();
    const storage = new MemoryStorage({ clock });
    const provider = new FakeCrmProvider({ clock });
    const engine = new SyncEngine({ provider, storage, integrationId: 'int-1', clock });
    await engine.pushContacts([contact(1)]);
    provider.failCall('bulkSyncContacts', new CrmConnectionError('socket hang up'));
    await expect(engine.pushContacts([contact(1, { lastName: 'Pushed' })])).rejects.toBeInstanceOf(
      CrmConnectionError,
    );
    const key = { integrationId: 'int-1', entityType: 'contact' as const, externalId: 'h-1' };
    expect(await storage.syncStatus.get(key)).toMatchObject({ status: 'uncertain' });

    // Someone edits the contact in the CRM; the pull hands it to the host.
    clock.advance(1_000);
    const [existing] = await provider.readContacts([{ externalId: 'h-1' }]);
    await provider.updateContact({ ...contact(1, { title: 'Edited in CRM' }), id: existing?.id as string });
    await engine.pullContacts({ apply: async () => {} });
    expect(await storage.syncStatus.get(key)).toMatchObject({ status: 'uncertain' });

    // Once the write can no longer land, a pull records the CRM's state as synced again.
    clock.advance(11 * 60_000);
    await provider.updateContact({ ...contact(1, { title: 'Edited again' }), id: existing?.id as string });
    await engine.pullContacts({ apply: async () => {} });
    expect(await storage.syncStatus.get(key)).toMatchObject({ status: 'synced' });
  });
});
