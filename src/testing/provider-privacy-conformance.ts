import assert from 'node:assert/strict';
import { isCrmError } from '../core/errors.js';
import type { CrmContactInput } from '../core/models.js';
import type { CrmProvider } from '../core/provider.js';
import { MemoryStorage } from '../storage/memory.js';
import { SyncEngine } from '../sync/engine.js';

/** What the privacy group needs from `runProviderConformance`. */
export interface ProviderPrivacyConformanceContext {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  provider(): CrmProvider;
  /** A contact unique to the running test. */
  contact(name: string, extra?: Partial<CrmContactInput>): CrmContactInput;
  /**
   * A contact the test CRM rejects with an error message that echoes one of its values, and that
   * value; when absent the "no personal data in stored errors" test is not registered.
   */
  valueEchoingFailure?: (contact: CrmContactInput) => {
    contact: CrmContactInput;
    value: string;
    field: string;
  };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail, but it succeeded');
}

const hasCode = (error: unknown, code: string) => isCrmError(error) && error.code === code;

/**
 * The privacy group of `runProviderConformance`: erasure and export (feature `privacy`), and the
 * rule that a record value echoed in a provider error never reaches storage.
 */
export function registerProviderPrivacyConformance(ctx: ProviderPrivacyConformanceContext): void {
  const { describe, it } = ctx;
  const supported = () => ctx.provider().supportsFeature('privacy');

  describe('privacy', () => {
    it('without the privacy feature, forgetContact/exportContactData are absent or throw CrmUnsupportedFeatureError', async () => {
      if (supported()) return;
      const p = ctx.provider();
      const ref = { email: ctx.contact('unsupported').email };
      if (p.forgetContact) assert.ok(hasCode(await caught(p.forgetContact(ref)), 'UNSUPPORTED_FEATURE'));
      if (p.exportContactData) {
        assert.ok(hasCode(await caught(p.exportContactData(ref)), 'UNSUPPORTED_FEATURE'));
      }
    });

    it('with the privacy feature, both methods exist and refuse a reference without any key', async () => {
      if (!supported()) return;
      const p = ctx.provider();
      assert.equal(typeof p.forgetContact, 'function');
      assert.equal(typeof p.exportContactData, 'function');
      assert.ok(hasCode(await caught(p.forgetContact?.({}) ?? Promise.resolve()), 'DATA_CONVERSION'));
      assert.ok(hasCode(await caught(p.exportContactData?.({}) ?? Promise.resolve()), 'DATA_CONVERSION'));
    });

    it('exportContactData returns plain JSON holding the person; forgetContact erases them, then answers not_found', async () => {
      if (!supported()) return;
      const p = ctx.provider();
      const person = ctx.contact('forget', { lastName: 'Erasable' });
      const synced = await p.syncContact(person);
      assert.ok(synced.success && synced.crmId);
      const ref = { email: person.email, externalId: person.externalId, crmId: synced.crmId };

      const exported = await p.exportContactData?.(ref);
      assert.ok(exported);
      assert.equal(exported.provider, p.name);
      assert.deepEqual(JSON.parse(JSON.stringify(exported)), exported, 'the export is plain JSON');
      assert.ok(JSON.stringify(exported.records).includes(person.email), 'the export holds the email');

      const first = await p.forgetContact?.(ref, { reason: 'conformance' });
      assert.equal(first?.outcome, 'erased');
      assert.equal(first?.provider, p.name);
      assert.equal(await p.getContact(person.email), null, 'the contact is gone');
      assert.ok(!JSON.stringify(first).includes(person.email), 'the result holds no personal data');

      const again = await p.forgetContact?.(ref);
      assert.equal(again?.outcome, 'not_found', 'forgetting twice is idempotent');
      const after = await p.exportContactData?.(ref);
      assert.ok(!JSON.stringify(after?.records).includes(person.email), 'nothing left to export');
    });

    if (ctx.valueEchoingFailure) {
      const make = ctx.valueEchoingFailure;
      it('a record value echoed in a provider error is dropped before storage; the field name is kept', async () => {
        const p = ctx.provider();
        if (!p.supportsFeature('contact_sync')) return;
        const storage = new MemoryStorage();
        const integration = await storage.integrations.create({
          userId: 'conformance',
          provider: p.name,
          orgId: 'conformance',
          instanceUrl: 'https://conformance.invalid',
          credentials: 'ciphertext',
        });
        const { contact, value, field } = make(ctx.contact('echo'));
        const engine = new SyncEngine({
          provider: p,
          storage,
          integrationId: integration.id,
          bulkMode: 'rest',
        });
        const report = await engine.pushContacts([contact]);
        assert.equal(report.failed, 1, 'the CRM rejects the record');
        const row = await storage.syncStatus.get({
          integrationId: integration.id,
          entityType: 'contact',
          externalId: contact.externalId,
        });
        const logs = await storage.syncLogs.list(integration.id);
        const stored = JSON.stringify({ row, logs, report });
        assert.ok(!stored.includes(value), 'the echoed value is not stored or reported');
        assert.ok(row?.lastError?.toLowerCase().includes(field.toLowerCase()), 'the field name is kept');
      });
    }
  });
}
