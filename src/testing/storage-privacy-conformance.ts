import assert from 'node:assert/strict';
import { type CrmPrivacyStore, ERASED } from '../storage/privacy.js';
import type { CrmIntegrationInput, CrmStorage, CrmSyncStatusRow } from '../storage/types.js';
import type { StorageConformanceClock } from './storage-conformance.js';

/** What the privacy group needs from `runStorageConformance`. */
export interface StoragePrivacyConformanceContext {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  storage(): CrmStorage;
  clock(): StorageConformanceClock;
  integrationInput(overrides?: Partial<CrmIntegrationInput>): CrmIntegrationInput;
  statusRow(
    integrationId: string,
    externalId: string,
    overrides?: Partial<CrmSyncStatusRow>,
  ): CrmSyncStatusRow;
}

const DAY = 86_400_000;

/**
 * The `privacy` group of `runStorageConformance`: erasure of one person's rows and log details,
 * the audit trail, the suppression list and retention pruning.
 */
export function registerStoragePrivacyConformance(ctx: StoragePrivacyConformanceContext): void {
  const { describe, it } = ctx;
  const s = () => ctx.storage();
  const p = (): CrmPrivacyStore => {
    const store = s().privacy;
    assert.ok(store, 'capabilities.privacy is set but storage.privacy is missing');
    return store;
  };
  const newIntegration = async () => (await s().integrations.create(ctx.integrationInput())).id;
  const logWith = async (integrationId: string, errorDetails: Record<string, unknown>) => {
    const log = await s().syncLogs.start({ integrationId, syncType: 'manual', entityType: 'contact' });
    return s().syncLogs.complete(log.id, { successCount: 0, errorCount: 1, errorDetails });
  };

  describe('privacy (optional)', () => {
    it('erase deletes the person’s status rows by host id and by CRM id, in every entity type, and nobody else’s', async () => {
      const one = await newIntegration();
      const two = await newIntegration();
      await s().syncStatus.upsertMany([
        ctx.statusRow(one, 'ada', { crmId: '003ADA', lastError: 'STRING_TOO_LONG: ada@example.com' }),
        ctx.statusRow(one, 'ada', { entityType: 'lead', crmId: '00QADA' }),
        ctx.statusRow(one, 'pulled-ada', { crmId: '003ADA', direction: 'from_crm' }),
        ctx.statusRow(one, 'bob', { crmId: '003BOB' }),
        ctx.statusRow(two, 'ada', { crmId: '003ADA' }),
      ]);
      const counts = await p().erase({
        integrationId: one,
        externalIds: ['ada'],
        crmIds: ['003ADA', '00QADA'],
        values: ['ada@example.com'],
      });
      assert.equal(counts.statusRows, 3);
      const left = await s().syncStatus.list({ integrationId: one });
      assert.deepEqual(
        left.map((r) => r.externalId),
        ['bob'],
      );
      assert.equal(
        await s().syncStatus.getByCrmId({ integrationId: one, entityType: 'contact', crmId: '003ADA' }),
        null,
      );
      assert.ok(await s().syncStatus.get({ integrationId: two, entityType: 'contact', externalId: 'ada' }));
      const again = await p().erase({
        integrationId: one,
        externalIds: ['ada'],
        crmIds: ['003ADA'],
        values: [],
      });
      assert.deepEqual(again, { statusRows: 0, syncLogs: 0 }, 'erasing twice is a no-op');
    });

    it('erase scrubs the person from stored sync log details, case-insensitively, and leaves other logs alone', async () => {
      const id = await newIntegration();
      const touched = await logWith(id, {
        errorsByCode: {
          STRING_TOO_LONG: {
            count: 2,
            message: 'Title: data value too large for ADA@example.com',
            externalIds: ['ada', 'bob'],
          },
        },
        notes: { 'ada@example.com': 'keyed by email' },
      });
      const untouched = await logWith(id, {
        errorsByCode: { DUPLICATE_VALUE: { count: 1, externalIds: ['bob'] } },
      });
      const counts = await p().erase({
        integrationId: id,
        externalIds: ['ada'],
        crmIds: [],
        values: ['ada@example.com'],
      });
      assert.equal(counts.syncLogs, 1);
      const logs = await s().syncLogs.list(id);
      const after = logs.find((l) => l.id === touched.id);
      assert.deepEqual(after?.errorDetails, {
        errorsByCode: { STRING_TOO_LONG: { count: 2, message: ERASED, externalIds: ['bob'] } },
        notes: {},
      });
      assert.deepEqual(logs.find((l) => l.id === untouched.id)?.errorDetails, untouched.errorDetails);
      assert.ok(!JSON.stringify(logs).toLowerCase().includes('ada@example.com'));
    });

    it('erase refuses a malformed target with CrmDataConversionError', async () => {
      await assert.rejects(
        p().erase({ integrationId: '', externalIds: ['x'], crmIds: [], values: [] }),
        (e: { code?: string }) => e.code === 'DATA_CONVERSION',
      );
      await assert.rejects(
        p().erase({ integrationId: 'i', externalIds: [''], crmIds: [], values: [] }),
        (e: { code?: string }) => e.code === 'DATA_CONVERSION',
      );
    });

    it('appendAudit keeps entries (time from the clock, JSON outcome) and listAudit returns them newest first', async () => {
      const id = await newIntegration();
      const first = await p().appendAudit({
        integrationId: id,
        action: 'forget',
        subjectHash: 'a'.repeat(64),
        reason: 'erasure_request',
        outcome: { crm: { outcome: 'erased', deleted: { Contact: 1 } }, local: { statusRows: 2 } },
      });
      assert.equal(typeof first.id, 'string');
      assert.equal(first.occurredAt.getTime(), ctx.clock().now().getTime());
      ctx.clock().advance(1_000);
      const second = await p().appendAudit({
        integrationId: id,
        action: 'restore',
        subjectHash: 'b'.repeat(64),
        outcome: {},
      });
      assert.equal(second.reason, null);
      const listed = await p().listAudit(id);
      assert.deepEqual(
        listed.map((e) => e.id),
        [second.id, first.id],
      );
      assert.deepEqual(listed[1], first);
      assert.deepEqual(
        (await p().listAudit(id, { limit: 1 })).map((e) => e.id),
        [second.id],
      );
      assert.deepEqual(await p().listAudit('unknown'), []);
    });

    it('the suppression list is per integration and idempotent', async () => {
      const one = await newIntegration();
      const two = await newIntegration();
      await p().suppress({ integrationId: one, subjectHashes: ['h1', 'h2'] });
      await p().suppress({ integrationId: one, subjectHashes: ['h1'] });
      assert.deepEqual(
        [...(await p().findSuppressed({ integrationId: one, subjectHashes: ['h1', 'h3', 'h2'] }))].sort(),
        ['h1', 'h2'],
      );
      assert.equal((await p().findSuppressed({ integrationId: two, subjectHashes: ['h1'] })).size, 0);
      await p().unsuppress({ integrationId: one, subjectHashes: ['h1', 'never'] });
      assert.deepEqual(
        [...(await p().findSuppressed({ integrationId: one, subjectHashes: ['h1', 'h2'] }))],
        ['h2'],
      );
      assert.equal((await p().findSuppressed({ integrationId: one, subjectHashes: [] })).size, 0);
    });

    it('prune removes sync logs and audit entries by age and beyond a per-integration count', async () => {
      const one = await newIntegration();
      const two = await newIntegration();
      const started: string[] = [];
      for (let day = 0; day < 5; day++) {
        const log = await s().syncLogs.start({
          integrationId: one,
          syncType: 'scheduled',
          entityType: 'contact',
        });
        started.push(log.id);
        await p().appendAudit({ integrationId: one, action: 'forget', subjectHash: `h${day}`, outcome: {} });
        ctx.clock().advance(DAY);
      }
      await s().syncLogs.start({ integrationId: two, syncType: 'manual', entityType: 'contact' });
      await p().appendAudit({ integrationId: two, action: 'forget', subjectHash: 'x', outcome: {} });
      const now = ctx.clock().now().getTime();
      // Older than 3.5 days: days 0 and 1 of `one`; then keep only the newest two per integration.
      const counts = await p().prune({
        syncLogs: { before: new Date(now - 3.5 * DAY), keepLatest: 2 },
        auditEntries: { before: new Date(now - 3.5 * DAY) },
      });
      assert.deepEqual(counts, { syncLogs: 3, auditEntries: 2, streamRecords: 0 });
      assert.deepEqual(
        (await s().syncLogs.list(one)).map((l) => l.id),
        [started[4], started[3]],
      );
      assert.equal((await s().syncLogs.list(two)).length, 1);
      assert.deepEqual(
        (await p().listAudit(one)).map((e) => e.subjectHash),
        ['h4', 'h3', 'h2'],
      );
      const scoped = await p().prune({ integrationId: two, auditEntries: { keepLatest: 0 } });
      assert.equal(scoped.auditEntries, 1);
      assert.equal((await p().listAudit(one)).length, 3, 'other integrations are out of scope');
    });

    it('prune removes timestamped stream records by prefix and age, never other cursors', async () => {
      const id = await newIntegration();
      await s().cursors.set(id, 'dedupe:old', 'x');
      await s().cursors.set(id, 'contacts:pull', 'cursor');
      await s().cursors.set(id, 'dedupe:refreshed', 'x');
      ctx.clock().advance(10 * DAY);
      await s().cursors.set(id, 'dedupe:refreshed', 'y');
      await s().cursors.set(id, 'dedupe:new', 'x');
      const counts = await p().prune({
        streamRecords: {
          prefixes: ['dedupe:', 'contacts'],
          before: new Date(ctx.clock().now().getTime() - DAY),
        },
      });
      // 'contacts:pull' matches a prefix and is old: prefixes are the caller's responsibility.
      assert.equal(counts.streamRecords, 2);
      assert.equal(await s().cursors.get(id, 'dedupe:old'), null);
      assert.equal(await s().cursors.get(id, 'dedupe:refreshed'), 'y');
      assert.equal(await s().cursors.get(id, 'dedupe:new'), 'x');
      const none = await p().prune({});
      assert.deepEqual(none, { syncLogs: 0, auditEntries: 0, streamRecords: 0 });
    });

    it('deleting an integration deletes its audit entries and suppressions', async () => {
      const id = await newIntegration();
      await p().appendAudit({ integrationId: id, action: 'forget', subjectHash: 'h', outcome: {} });
      await p().suppress({ integrationId: id, subjectHashes: ['h'] });
      await s().integrations.delete(id);
      assert.deepEqual(await p().listAudit(id), []);
      assert.equal((await p().findSuppressed({ integrationId: id, subjectHashes: ['h'] })).size, 0);
    });
  });
}
