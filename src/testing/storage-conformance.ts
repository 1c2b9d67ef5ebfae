import assert from 'node:assert/strict';
import type { CrmClock } from '../core/clock.js';
import { CrmConfigurationError } from '../core/errors.js';
import type {
  CrmIntegrationInput,
  CrmStorage,
  CrmSyncStatusRow,
  CrmSyncStatusState,
} from '../storage/types.js';
import { registerStoragePrivacyConformance } from './storage-privacy-conformance.js';

/**
 * The test-runner functions the suite registers itself with. Vitest, Jest, Mocha and `node:test`
 * all provide them. Assertions use `node:assert`, so no `expect` is needed and any runner works.
 */
export interface StorageConformanceRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  beforeEach(fn: () => Promise<void> | void): unknown;
  afterEach(fn: () => Promise<void> | void): unknown;
}

/** A clock the suite moves by hand; adapters must read "now" from it. */
export interface StorageConformanceClock extends CrmClock {
  /** Move time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Jump to `date`. */
  set(date: Date): void;
}

/** What `makeStorage` receives for each test. */
export interface StorageConformanceContext {
  /** Pass this as the adapter's clock: timestamps and lease expiry must follow it. */
  clock: StorageConformanceClock;
}

/** Options of {@link runStorageConformance}. */
export interface StorageConformanceOptions {
  /**
   * `describe`/`it`/`beforeEach`/`afterEach` of your test runner, e.g. `import * as vitest from 'vitest'`.
   * @default the runner's globals (`globalThis.describe`, …), when it installs them
   */
  runner?: StorageConformanceRunner;
  /** Name of the top-level `describe` block. @default 'CrmStorage conformance' */
  name?: string;
  /** Called after each test with the storage it used, before `close()`: drop tables, schemas, files. */
  cleanup?: (storage: CrmStorage) => Promise<void> | void;
  /** Opt out of what your adapter cannot do; the matching tests are not registered. */
  capabilities?: {
    /**
     * The adapter reads time from the injected clock (timestamps, lease expiry). Without it the
     * tests that move time are left out.
     * @default true
     */
    injectedClock?: boolean;
    /**
     * Concurrent calls on one storage are safe (lease acquisition races, compare-and-swap races).
     * @default true
     */
    concurrency?: boolean;
    /**
     * The adapter implements the optional `syncStatus.getMany`; its tests are registered only
     * then. The built-in adapters all do.
     * @default false
     */
    getMany?: boolean;
    /**
     * The adapter implements the optional `syncStatus.getManyByCrmId`; its tests are registered
     * only then.
     * @default false
     */
    getManyByCrmId?: boolean;
    /**
     * The adapter implements the optional `privacy` store (erasure, audit, suppression,
     * retention); its tests are registered only then. The built-in adapters all do.
     * @default false
     */
    privacy?: boolean;
  };
  /** Rows written by the bulk upsert test. @default 2500 */
  bulkRows?: number;
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function createClock(): StorageConformanceClock {
  let now = T0;
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
    set(date) {
      now = date.getTime();
    },
  };
}

async function rejectsWithStorageError(promise: Promise<unknown>, reason?: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  assert.ok(
    error !== undefined,
    `expected a CrmStorageError${reason ? ` (${reason})` : ''}, but it resolved`,
  );
  const e = error as { code?: unknown; name?: unknown; details?: { reason?: unknown } };
  assert.equal(e.code, 'STORAGE', `expected code STORAGE, got ${String(e.code)} (${String(e.name)})`);
  if (reason !== undefined) assert.equal(e.details?.reason, reason);
}

function isDateOrNull(value: unknown): boolean {
  return value === null || (value instanceof Date && !Number.isNaN(value.getTime()));
}

function withState(row: CrmSyncStatusRow): CrmSyncStatusRow {
  return { ...row, state: row.state ?? null };
}

/**
 * Register the storage conformance suite: the executable specification of `CrmStorage`. Every
 * adapter (built in or your own) must pass it. `makeStorage` is called once per test and must
 * return an empty, migrated storage that takes its time from `context.clock`.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { MemoryStorage } from '@markmail/crm';
 * import { runStorageConformance } from '@markmail/crm/testing';
 *
 * runStorageConformance(({ clock }) => new MemoryStorage({ clock }), { runner: vitest });
 * ```
 *
 * @throws CrmConfigurationError when no runner is given and the runner installs no globals.
 */
export function runStorageConformance(
  makeStorage: (context: StorageConformanceContext) => CrmStorage | Promise<CrmStorage>,
  options: StorageConformanceOptions = {},
): void {
  const runner = options.runner ?? globalRunner();
  const { describe, it, beforeEach, afterEach } = runner;
  const injectedClock = options.capabilities?.injectedClock ?? true;
  const concurrency = options.capabilities?.concurrency ?? true;
  const bulkRows = options.bulkRows ?? 2500;
  const getMany = options.capabilities?.getMany ?? false;
  const getManyByCrmId = options.capabilities?.getManyByCrmId ?? false;

  let storage: CrmStorage | undefined;
  let clock: StorageConformanceClock = createClock();
  const s = (): CrmStorage => {
    assert.ok(storage, 'storage was not created');
    return storage;
  };
  let userSeq = 0;
  const integrationInput = (overrides: Partial<CrmIntegrationInput> = {}): CrmIntegrationInput => ({
    userId: `user-${++userSeq}`,
    provider: 'salesforce',
    orgId: '00D000000000001AAA',
    instanceUrl: 'https://example.my.salesforce.com',
    credentials: 'v1.k1.aaaa.bbbb.cccc',
    ...overrides,
  });
  const statusRow = (integrationId: string, externalId: string, overrides: Partial<CrmSyncStatusRow> = {}) =>
    ({
      integrationId,
      entityType: 'contact',
      externalId,
      crmId: `003${externalId}`,
      status: 'synced',
      direction: 'to_crm',
      contentHash: `hash-${externalId}`,
      lastSyncedAt: clock.now(),
      lastError: null,
      ...overrides,
    }) satisfies CrmSyncStatusRow;

  describe(options.name ?? 'CrmStorage conformance', () => {
    beforeEach(async () => {
      clock = createClock();
      storage = await makeStorage({ clock });
    });
    afterEach(async () => {
      const current = storage;
      storage = undefined;
      if (!current) return;
      try {
        await options.cleanup?.(current);
      } finally {
        await current.close();
      }
    });

    describe('integrations', () => {
      it('creates a record with defaults, a string id and Date timestamps from the clock', async () => {
        const created = await s().integrations.create(integrationInput({ userId: 'u1' }));
        assert.equal(typeof created.id, 'string');
        assert.ok(created.id.length > 0);
        assert.equal(created.userId, 'u1');
        assert.deepEqual(created.settings, {});
        assert.deepEqual(created.providerSettings, {});
        assert.deepEqual(created.fieldMappings, []);
        assert.equal(created.syncEnabled, true);
        assert.equal(created.lastSyncAt, null);
        assert.ok(created.createdAt instanceof Date);
        assert.ok(created.updatedAt instanceof Date);
        if (injectedClock) {
          assert.equal(created.createdAt.getTime(), T0);
          assert.equal(created.updatedAt.getTime(), T0);
        }
        assert.deepEqual(await s().integrations.get(created.id), created);
      });

      it('returns null for an unknown id', async () => {
        assert.equal(await s().integrations.get('does-not-exist'), null);
      });

      it('round-trips JSON settings, field mappings, booleans and lastSyncAt', async () => {
        const lastSyncAt = new Date(T0 - 86_400_000 + 123);
        const input = integrationInput({
          settings: {
            conflictPolicy: 'newest_wins',
            nested: { list: [1, 'two', null, { deep: true }] },
            n: 1.5,
          },
          providerSettings: { externalIdField: 'MarkMail_ID__c', apiVersion: '62.0', unicode: 'ü日本🙂' },
          fieldMappings: [
            { hostField: 'email', crmField: 'Email', fieldType: 'email', syncDirection: 'bidirectional' },
            { hostField: 'score', crmField: 'Score__c', fieldType: 'number', syncDirection: 'to_crm' },
          ],
          syncEnabled: false,
          lastSyncAt,
        });
        const created = await s().integrations.create(input);
        const fetched = await s().integrations.get(created.id);
        assert.ok(fetched);
        assert.deepEqual(fetched.settings, input.settings);
        assert.deepEqual(fetched.providerSettings, input.providerSettings);
        assert.deepEqual(fetched.fieldMappings, input.fieldMappings);
        assert.equal(fetched.syncEnabled, false);
        assert.ok(fetched.lastSyncAt instanceof Date);
        assert.equal(fetched.lastSyncAt.getTime(), lastSyncAt.getTime());
      });

      it('hands out copies: mutating a returned or passed object does not change stored state', async () => {
        const input = integrationInput({ settings: { a: 1 } });
        const created = await s().integrations.create(input);
        (input.settings as Record<string, unknown>).a = 2;
        created.settings.a = 3;
        created.fieldMappings.push({ hostField: 'x', crmField: 'X', fieldType: 'text' });
        const fetched = await s().integrations.get(created.id);
        assert.deepEqual(fetched?.settings, { a: 1 });
        assert.deepEqual(fetched?.fieldMappings, []);
      });

      it('allows several orgs per user and finds them oldest first, optionally by provider', async () => {
        const first = await s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DAAA' }));
        clock.advance(1);
        const second = await s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DBBB' }));
        clock.advance(1);
        const hub = await s().integrations.create(
          integrationInput({ userId: 'u1', provider: 'hubspot', orgId: '00DAAA' }),
        );
        await s().integrations.create(integrationInput({ userId: 'u2', orgId: '00DAAA' }));
        const all = await s().integrations.findByUser('u1');
        assert.deepEqual(
          all.map((r) => r.id),
          [first.id, second.id, hub.id],
        );
        const sf = await s().integrations.findByUser('u1', 'salesforce');
        assert.deepEqual(
          sf.map((r) => r.id),
          [first.id, second.id],
        );
        assert.deepEqual(await s().integrations.findByUser('nobody'), []);
      });

      it('rejects a second record with the same (userId, provider, orgId) as a duplicate', async () => {
        await s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DAAA' }));
        await rejectsWithStorageError(
          s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DAAA' })),
          'duplicate',
        );
        assert.equal((await s().integrations.findByUser('u1')).length, 1);
      });

      it('rejects an update whose orgId would duplicate another record', async () => {
        await s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DAAA' }));
        const other = await s().integrations.create(integrationInput({ userId: 'u1', orgId: '00DBBB' }));
        await rejectsWithStorageError(s().integrations.update(other.id, { orgId: '00DAAA' }), 'duplicate');
        assert.equal((await s().integrations.get(other.id))?.orgId, '00DBBB');
      });

      it('lists every integration oldest first', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push((await s().integrations.create(integrationInput())).id);
          clock.advance(1);
        }
        assert.deepEqual(
          (await s().integrations.list()).map((r) => r.id),
          ids,
        );
      });

      it('applies a patch, keeps other fields and createdAt, and bumps updatedAt', async () => {
        const created = await s().integrations.create(integrationInput({ settings: { keep: true } }));
        clock.advance(5000);
        const syncedAt = new Date(T0 + 1234);
        const updated = await s().integrations.update(created.id, {
          instanceUrl: 'https://new.my.salesforce.com',
          providerSettings: { apiVersion: '63.0' },
          syncEnabled: false,
          lastSyncAt: syncedAt,
        });
        assert.equal(updated.instanceUrl, 'https://new.my.salesforce.com');
        assert.deepEqual(updated.providerSettings, { apiVersion: '63.0' });
        assert.deepEqual(updated.settings, { keep: true });
        assert.equal(updated.syncEnabled, false);
        assert.equal(updated.lastSyncAt?.getTime(), syncedAt.getTime());
        assert.equal(updated.credentials, created.credentials);
        assert.equal(updated.createdAt.getTime(), created.createdAt.getTime());
        if (injectedClock) assert.equal(updated.updatedAt.getTime(), T0 + 5000);
        else assert.ok(updated.updatedAt.getTime() >= created.updatedAt.getTime());
        assert.deepEqual(await s().integrations.get(created.id), updated);
        const cleared = await s().integrations.update(created.id, { lastSyncAt: null });
        assert.equal(cleared.lastSyncAt, null);
      });

      it('throws not_found when updating an unknown id', async () => {
        await rejectsWithStorageError(
          s().integrations.update('does-not-exist', { syncEnabled: false }),
          'not_found',
        );
      });

      it('swaps credentials only when expectedCredentials still matches (compare-and-swap)', async () => {
        const created = await s().integrations.create(integrationInput({ credentials: 'cipher-1' }));
        const swapped = await s().integrations.update(
          created.id,
          { credentials: 'cipher-2' },
          { expectedCredentials: 'cipher-1' },
        );
        assert.equal(swapped.credentials, 'cipher-2');
        await rejectsWithStorageError(
          s().integrations.update(
            created.id,
            { credentials: 'cipher-3', syncEnabled: false },
            { expectedCredentials: 'cipher-1' },
          ),
          'credentials_conflict',
        );
        const fetched = await s().integrations.get(created.id);
        assert.equal(fetched?.credentials, 'cipher-2');
        assert.equal(fetched?.syncEnabled, true);
        await rejectsWithStorageError(
          s().integrations.update(
            'does-not-exist',
            { credentials: 'x' },
            { expectedCredentials: 'cipher-2' },
          ),
          'not_found',
        );
      });

      if (concurrency) {
        it('lets exactly one of several concurrent compare-and-swap updates win', async () => {
          const created = await s().integrations.create(integrationInput({ credentials: 'old' }));
          const results = await Promise.allSettled(
            [1, 2, 3, 4].map((n) =>
              s().integrations.update(
                created.id,
                { credentials: `new-${n}` },
                { expectedCredentials: 'old' },
              ),
            ),
          );
          const winners = results.filter((r) => r.status === 'fulfilled');
          assert.equal(winners.length, 1);
          const winner = (winners[0] as PromiseFulfilledResult<{ credentials: string }>).value.credentials;
          assert.equal((await s().integrations.get(created.id))?.credentials, winner);
          for (const r of results) {
            if (r.status === 'rejected') {
              assert.equal(
                (r.reason as { details?: { reason?: unknown } }).details?.reason,
                'credentials_conflict',
              );
            }
          }
        });
      }

      it('deletes a record with its logs, status rows and cursors, leaving others alone', async () => {
        const gone = await s().integrations.create(integrationInput());
        const kept = await s().integrations.create(integrationInput());
        for (const id of [gone.id, kept.id]) {
          await s().syncLogs.start({ integrationId: id, syncType: 'manual', entityType: 'contact' });
          await s().syncStatus.upsertMany([statusRow(id, 'h1'), statusRow(id, 'h2')]);
          await s().cursors.set(id, 'contacts', 'cursor-1');
        }
        await s().integrations.delete(gone.id);
        assert.equal(await s().integrations.get(gone.id), null);
        assert.deepEqual(await s().syncLogs.list(gone.id), []);
        assert.deepEqual(await s().syncStatus.list({ integrationId: gone.id }), []);
        assert.equal(
          await s().syncStatus.get({ integrationId: gone.id, entityType: 'contact', externalId: 'h1' }),
          null,
        );
        assert.equal(await s().cursors.get(gone.id, 'contacts'), null);
        assert.ok(await s().integrations.get(kept.id));
        assert.equal((await s().syncLogs.list(kept.id)).length, 1);
        assert.equal((await s().syncStatus.list({ integrationId: kept.id })).length, 2);
        assert.equal(await s().cursors.get(kept.id, 'contacts'), 'cursor-1');
        // Unknown ids are a no-op, and the (userId, provider, orgId) slot is free again.
        await s().integrations.delete(gone.id);
        await s().integrations.create(integrationInput({ userId: gone.userId, orgId: gone.orgId }));
      });
    });

    describe('syncLogs', () => {
      it('starts a run with defaults and completes it', async () => {
        const integration = await s().integrations.create(integrationInput());
        const started = await s().syncLogs.start({
          integrationId: integration.id,
          syncType: 'bulk',
          entityType: 'contact',
          entityCount: 10,
        });
        assert.equal(typeof started.id, 'string');
        assert.equal(started.integrationId, integration.id);
        assert.equal(started.syncType, 'bulk');
        assert.equal(started.entityType, 'contact');
        assert.equal(started.entityCount, 10);
        assert.equal(started.successCount, 0);
        assert.equal(started.errorCount, 0);
        assert.equal(started.completedAt, null);
        assert.equal(started.errorDetails, null);
        assert.ok(started.startedAt instanceof Date);
        if (injectedClock) assert.equal(started.startedAt.getTime(), T0);
        clock.advance(2500);
        const details = { byCode: { INVALID_EMAIL_ADDRESS: 2 }, stopped: null, ids: ['a', 'b'] };
        const completed = await s().syncLogs.complete(started.id, {
          successCount: 8,
          errorCount: 2,
          errorDetails: details,
        });
        assert.equal(completed.successCount, 8);
        assert.equal(completed.errorCount, 2);
        assert.equal(completed.entityCount, 10);
        assert.deepEqual(completed.errorDetails, details);
        assert.ok(completed.completedAt instanceof Date);
        if (injectedClock) assert.equal(completed.completedAt.getTime(), T0 + 2500);
        const [listed] = await s().syncLogs.list(integration.id);
        assert.deepEqual(listed, completed);
      });

      it('takes explicit startedAt, completedAt and a final entityCount', async () => {
        const integration = await s().integrations.create(integrationInput());
        const startedAt = new Date(T0 - 60_000);
        const completedAt = new Date(T0 - 1_000);
        const started = await s().syncLogs.start({
          integrationId: integration.id,
          syncType: 'webhook',
          entityType: 'lead',
          startedAt,
        });
        assert.equal(started.entityCount, 0);
        assert.equal(started.startedAt.getTime(), startedAt.getTime());
        const completed = await s().syncLogs.complete(started.id, {
          successCount: 3,
          errorCount: 0,
          entityCount: 3,
          completedAt,
        });
        assert.equal(completed.entityCount, 3);
        assert.equal(completed.completedAt?.getTime(), completedAt.getTime());
        assert.equal(completed.errorDetails, null);
      });

      it('throws a CrmStorageError when completing an unknown run', async () => {
        await rejectsWithStorageError(
          s().syncLogs.complete('does-not-exist', { successCount: 0, errorCount: 0 }),
        );
      });

      it('lists runs newest first, honours limit and defaults to 50', async () => {
        const integration = await s().integrations.create(integrationInput());
        const other = await s().integrations.create(integrationInput());
        const ids: string[] = [];
        for (let i = 0; i < 55; i++) {
          const log = await s().syncLogs.start({
            integrationId: integration.id,
            syncType: 'scheduled',
            entityType: 'contact',
            startedAt: new Date(T0 + i * 1000),
          });
          ids.push(log.id);
        }
        await s().syncLogs.start({ integrationId: other.id, syncType: 'manual', entityType: 'contact' });
        const newest = [...ids].reverse();
        const limited = await s().syncLogs.list(integration.id, { limit: 3 });
        assert.deepEqual(
          limited.map((l) => l.id),
          newest.slice(0, 3),
        );
        const all = await s().syncLogs.list(integration.id);
        assert.equal(all.length, 50);
        assert.deepEqual(
          all.map((l) => l.id),
          newest.slice(0, 50),
        );
        for (const log of all) assert.ok(log.startedAt instanceof Date && isDateOrNull(log.completedAt));
        assert.deepEqual(await s().syncLogs.list('does-not-exist'), []);
      });
    });

    describe('syncStatus', () => {
      it('inserts rows and reads them back equal, with Dates', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const row = statusRow(id, 'host-1', { lastSyncedAt: new Date(T0 + 789) });
        await s().syncStatus.upsertMany([row]);
        const fetched = await s().syncStatus.get({
          integrationId: id,
          entityType: 'contact',
          externalId: 'host-1',
        });
        assert.deepEqual(fetched, withState(row));
        assert.ok(fetched?.lastSyncedAt instanceof Date);
        const nulls = statusRow(id, 'host-2', {
          crmId: null,
          contentHash: null,
          lastSyncedAt: null,
          status: 'pending',
        });
        await s().syncStatus.upsertMany([nulls]);
        assert.deepEqual(
          await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: 'host-2' }),
          withState(nulls),
        );
      });

      it('returns null for an unknown key', async () => {
        const { id } = await s().integrations.create(integrationInput());
        assert.equal(
          await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: 'nope' }),
          null,
        );
      });

      it('is idempotent: upserting the same rows twice leaves one row each', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const rows = ['a', 'b', 'c'].map((x) => statusRow(id, x));
        await s().syncStatus.upsertMany(rows);
        await s().syncStatus.upsertMany(rows);
        const listed = await s().syncStatus.list({ integrationId: id });
        assert.deepEqual(listed, rows.map(withState));
      });

      it('replaces every field of an existing row, including clearing state', async () => {
        const { id } = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([statusRow(id, 'a', { state: { retries: 1 } })]);
        const replacement = statusRow(id, 'a', {
          crmId: null,
          status: 'failed',
          direction: 'from_crm',
          contentHash: null,
          lastSyncedAt: null,
          lastError: 'INVALID_EMAIL_ADDRESS: Email',
        });
        await s().syncStatus.upsertMany([replacement]);
        assert.deepEqual(
          await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: 'a' }),
          withState(replacement),
        );
      });

      it('keys rows by (integrationId, entityType, externalId)', async () => {
        const one = await s().integrations.create(integrationInput());
        const two = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([
          statusRow(one.id, 'x', { crmId: 'c1' }),
          statusRow(one.id, 'x', { entityType: 'lead', crmId: 'c2' }),
          statusRow(two.id, 'x', { crmId: 'c3' }),
        ]);
        const get = (integrationId: string, entityType: 'contact' | 'lead') =>
          s().syncStatus.get({ integrationId, entityType, externalId: 'x' });
        assert.equal((await get(one.id, 'contact'))?.crmId, 'c1');
        assert.equal((await get(one.id, 'lead'))?.crmId, 'c2');
        assert.equal((await get(two.id, 'contact'))?.crmId, 'c3');
        assert.equal(await get(two.id, 'lead'), null);
      });

      it('keeps the last occurrence when one batch repeats a key', async () => {
        const { id } = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([
          statusRow(id, 'dup', { status: 'pending' }),
          statusRow(id, 'other'),
          statusRow(id, 'dup', { status: 'failed', lastError: 'last' }),
        ]);
        const row = await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: 'dup' });
        assert.equal(row?.status, 'failed');
        assert.equal(row?.lastError, 'last');
        assert.equal((await s().syncStatus.list({ integrationId: id })).length, 2);
      });

      it('accepts an empty batch', async () => {
        await s().syncStatus.upsertMany([]);
      });

      it('round-trips the JSON state', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const state = {
          fields: { Email: 'a@example.com', FirstName: null, Score__c: 4.5, Tags: ['x', 'y'] },
          retries: { count: 2, nextAt: '2026-01-01T00:10:00.000Z' },
          conflict: { host: { Phone: '1' }, crm: { Phone: '2' } },
          text: 'quote " backslash \\ newline \n ü🙂',
        };
        await s().syncStatus.upsertMany([statusRow(id, 'a', { state })]);
        const row = await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: 'a' });
        assert.deepEqual(row?.state, state);
      });

      it('finds a row by CRM id within an integration and entity type', async () => {
        const one = await s().integrations.create(integrationInput());
        const two = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([
          statusRow(one.id, 'a', { crmId: '003A' }),
          statusRow(one.id, 'b', { crmId: null }),
          statusRow(two.id, 'c', { crmId: '003C' }),
        ]);
        const found = await s().syncStatus.getByCrmId({
          integrationId: one.id,
          entityType: 'contact',
          crmId: '003A',
        });
        assert.equal(found?.externalId, 'a');
        assert.ok(found?.lastSyncedAt instanceof Date);
        assert.equal(
          await s().syncStatus.getByCrmId({ integrationId: one.id, entityType: 'lead', crmId: '003A' }),
          null,
        );
        assert.equal(
          await s().syncStatus.getByCrmId({ integrationId: one.id, entityType: 'contact', crmId: '003C' }),
          null,
        );
        assert.equal(
          await s().syncStatus.getByCrmId({ integrationId: one.id, entityType: 'contact', crmId: '' }),
          null,
        );
      });

      it('picks the lowest externalId (by code point) when several rows claim one CRM id', async () => {
        const { id } = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([
          statusRow(id, 'm', { crmId: '003MERGED' }),
          statusRow(id, '\u{1f642}', { crmId: '003MERGED' }),
          statusRow(id, 'B', { crmId: '003MERGED' }),
          statusRow(id, 'a', { crmId: '003OTHER' }),
        ]);
        const byCrmId = (crmId: string) =>
          s().syncStatus.getByCrmId({ integrationId: id, entityType: 'contact', crmId });
        assert.equal((await byCrmId('003MERGED'))?.externalId, 'B');
        // Moving the winner to another CRM id hands the old one to the next lowest row.
        await s().syncStatus.upsertMany([statusRow(id, 'B', { crmId: '003OTHER' })]);
        assert.equal((await byCrmId('003MERGED'))?.externalId, 'm');
        assert.equal((await byCrmId('003OTHER'))?.externalId, 'B');
      });

      it('finds nothing by CRM id once the integration is deleted', async () => {
        const { id } = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([statusRow(id, 'a', { crmId: '003GONE' })]);
        await s().integrations.delete(id);
        assert.equal(
          await s().syncStatus.getByCrmId({ integrationId: id, entityType: 'contact', crmId: '003GONE' }),
          null,
        );
      });

      it('follows a changed CRM id', async () => {
        const { id } = await s().integrations.create(integrationInput());
        await s().syncStatus.upsertMany([statusRow(id, 'a', { crmId: '003OLD' })]);
        await s().syncStatus.upsertMany([statusRow(id, 'a', { crmId: '003NEW' })]);
        assert.equal(
          await s().syncStatus.getByCrmId({ integrationId: id, entityType: 'contact', crmId: '003OLD' }),
          null,
        );
        assert.equal(
          (await s().syncStatus.getByCrmId({ integrationId: id, entityType: 'contact', crmId: '003NEW' }))
            ?.externalId,
          'a',
        );
      });

      it('lists by status and entity type, ordered by externalId', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const states: CrmSyncStatusState[] = [
          'synced',
          'failed',
          'pending',
          'failed',
          'conflict',
          'deleted',
          'uncertain',
        ];
        await s().syncStatus.upsertMany([
          ...['f', 'b', 'e', 'a', 'd', 'c', 'h'].map((x, i) =>
            statusRow(id, x, { status: states[i] ?? 'synced' }),
          ),
          statusRow(id, 'g', { entityType: 'lead', status: 'failed' }),
        ]);
        const uncertain = await s().syncStatus.list({ integrationId: id, status: 'uncertain' });
        assert.deepEqual(
          uncertain.map((r) => [r.externalId, r.status]),
          [['h', 'uncertain']],
        );
        const failed = await s().syncStatus.list({ integrationId: id, status: 'failed' });
        assert.deepEqual(
          failed.map((r) => r.externalId),
          ['a', 'b', 'g'],
        );
        const failedContacts = await s().syncStatus.list({
          integrationId: id,
          status: 'failed',
          entityType: 'contact',
        });
        assert.deepEqual(
          failedContacts.map((r) => r.externalId),
          ['a', 'b'],
        );
        const all = await s().syncStatus.list({ integrationId: id });
        assert.deepEqual(
          all.map((r) => r.externalId),
          ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
        );
        assert.deepEqual(await s().syncStatus.list({ integrationId: id, status: 'synced', after: 'f' }), []);
      });

      it('orders externalIds by code point, not by locale', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const ids = ['b', 'B', 'a', '_', '10', '9', 'é', 'z', '🙂', '\ufb01'];
        await s().syncStatus.upsertMany(ids.map((x) => statusRow(id, x)));
        const listed = (await s().syncStatus.list({ integrationId: id })).map((r) => r.externalId);
        assert.deepEqual(listed, ['10', '9', 'B', '_', 'a', 'b', 'z', 'é', '\ufb01', '🙂']);
      });

      it('pages with after + limit, visiting every row once; default limit is 100', async () => {
        const { id } = await s().integrations.create(integrationInput());
        const ids = Array.from({ length: 130 }, (_, i) => `h${String(i).padStart(4, '0')}`);
        await s().syncStatus.upsertMany(
          ids.map((x, i) => statusRow(id, x, { status: i % 2 ? 'failed' : 'synced' })),
        );
        assert.equal((await s().syncStatus.list({ integrationId: id })).length, 100);
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await s().syncStatus.list({
            integrationId: id,
            status: 'failed',
            limit: 7,
            ...(after === undefined ? {} : { after }),
          });
          assert.ok(page.length <= 7);
          seen.push(...page.map((r) => r.externalId));
          if (page.length < 7) break;
          after = page[page.length - 1]?.externalId;
        }
        assert.deepEqual(
          seen,
          ids.filter((_, i) => i % 2),
        );
      });

      it(`writes a batch of ${bulkRows} rows in one call`, async () => {
        const { id } = await s().integrations.create(integrationInput());
        const rows = Array.from({ length: bulkRows }, (_, i) =>
          statusRow(id, `bulk-${String(i).padStart(6, '0')}`, { state: { i } }),
        );
        await s().syncStatus.upsertMany(rows);
        const last = rows[rows.length - 1]!;
        assert.deepEqual(
          await s().syncStatus.get({ integrationId: id, entityType: 'contact', externalId: last.externalId }),
          withState(last),
        );
        let count = 0;
        let after: string | undefined;
        for (;;) {
          const page = await s().syncStatus.list({
            integrationId: id,
            limit: 1000,
            ...(after === undefined ? {} : { after }),
          });
          count += page.length;
          if (page.length < 1000) break;
          after = page[page.length - 1]?.externalId;
        }
        assert.equal(count, bulkRows);
      });
    });

    if (getMany) {
      describe('syncStatus.getMany (optional)', () => {
        const many = (
          integrationId: string,
          externalIds: string[],
          entityType: 'contact' | 'lead' = 'contact',
        ) => {
          const fn = s().syncStatus.getMany;
          assert.equal(
            typeof fn,
            'function',
            'capabilities.getMany is set but syncStatus.getMany is missing',
          );
          return s().syncStatus.getMany!({ integrationId, entityType, externalIds });
        };

        it('returns the rows get would return, keyed by externalId, leaving out unknown ids', async () => {
          const one = await s().integrations.create(integrationInput());
          const two = await s().integrations.create(integrationInput());
          const rows = [
            statusRow(one.id, 'a', { state: { fields: { Email: 'a@example.com' } } }),
            statusRow(one.id, 'b', { crmId: null, lastSyncedAt: null, status: 'pending' }),
            statusRow(one.id, '\u{1f642}'),
            // Characters that array literals, JSON and SQL quoting treat specially.
            statusRow(one.id, `q"u'o\\t,e{} NULL`),
          ];
          await s().syncStatus.upsertMany([
            ...rows,
            statusRow(one.id, 'c', { entityType: 'lead' }),
            statusRow(two.id, 'd'),
          ]);
          const special = `q"u'o\\t,e{} NULL`;
          const found = await many(one.id, ['b', 'missing', 'a', 'c', 'd', '\u{1f642}', special, 'NULL']);
          assert.ok(found instanceof Map);
          assert.deepEqual([...found.keys()].sort(), ['a', 'b', '\u{1f642}', special].sort());
          for (const row of rows) {
            assert.deepEqual(found.get(row.externalId), withState(row));
            assert.deepEqual(
              found.get(row.externalId),
              await s().syncStatus.get({
                integrationId: one.id,
                entityType: 'contact',
                externalId: row.externalId,
              }),
            );
          }
          assert.deepEqual([...(await many(one.id, ['c'], 'lead')).keys()], ['c']);
        });

        it('reads nothing for an empty list and tolerates repeated ids', async () => {
          const { id } = await s().integrations.create(integrationInput());
          await s().syncStatus.upsertMany([statusRow(id, 'a')]);
          assert.equal((await many(id, [])).size, 0);
          const repeated = await many(id, ['a', 'a', 'a']);
          assert.equal(repeated.size, 1);
          assert.equal(repeated.get('a')?.externalId, 'a');
        });

        it('hands out copies', async () => {
          const { id } = await s().integrations.create(integrationInput());
          await s().syncStatus.upsertMany([statusRow(id, 'a', { state: { n: 1 } })]);
          const first = (await many(id, ['a'])).get('a');
          assert.ok(first?.state);
          first.state.n = 2;
          assert.deepEqual((await many(id, ['a'])).get('a')?.state, { n: 1 });
        });

        it(`reads ${bulkRows} ids in one call`, async () => {
          const { id } = await s().integrations.create(integrationInput());
          const ids = Array.from({ length: bulkRows }, (_, i) => `bulk-${String(i).padStart(6, '0')}`);
          // Every other id exists, so chunk boundaries fall on both hits and misses.
          await s().syncStatus.upsertMany(ids.filter((_, i) => i % 2 === 0).map((x) => statusRow(id, x)));
          const found = await many(id, ids);
          assert.equal(found.size, Math.ceil(bulkRows / 2));
          const last = ids[bulkRows % 2 === 1 ? bulkRows - 1 : bulkRows - 2]!;
          assert.equal(found.get(last)?.crmId, `003${last}`);
          assert.equal(found.has(ids[1]!), false);
        });
      });
    }

    if (getManyByCrmId) {
      describe('syncStatus.getManyByCrmId (optional)', () => {
        const manyByCrmId = (integrationId: string, crmIds: string[]) => {
          const fn = s().syncStatus.getManyByCrmId;
          assert.equal(
            typeof fn,
            'function',
            'capabilities.getManyByCrmId is set but syncStatus.getManyByCrmId is missing',
          );
          return s().syncStatus.getManyByCrmId!({ integrationId, entityType: 'contact', crmIds });
        };

        it('maps CRM ids to the rows getByCrmId returns, lowest externalId first', async () => {
          const one = await s().integrations.create(integrationInput());
          const two = await s().integrations.create(integrationInput());
          await s().syncStatus.upsertMany([
            statusRow(one.id, 'z', { crmId: '003A' }),
            statusRow(one.id, 'B', { crmId: '003A' }),
            statusRow(one.id, 'c', { crmId: '003C' }),
            statusRow(one.id, 'n', { crmId: null }),
            statusRow(one.id, 'l', { entityType: 'lead', crmId: '003L' }),
            statusRow(two.id, 'd', { crmId: '003D' }),
          ]);
          const found = await manyByCrmId(one.id, ['003A', '003C', '003L', '003D', '003NONE', '003A']);
          assert.deepEqual([...found.keys()].sort(), ['003A', '003C']);
          assert.equal(found.get('003A')?.externalId, 'B');
          for (const crmId of ['003A', '003C']) {
            assert.deepEqual(
              found.get(crmId),
              await s().syncStatus.getByCrmId({ integrationId: one.id, entityType: 'contact', crmId }),
            );
          }
          assert.equal((await manyByCrmId(one.id, [])).size, 0);
        });

        it('follows a changed CRM id', async () => {
          const { id } = await s().integrations.create(integrationInput());
          await s().syncStatus.upsertMany([statusRow(id, 'a', { crmId: '003OLD' })]);
          await s().syncStatus.upsertMany([statusRow(id, 'a', { crmId: '003NEW' })]);
          const found = await manyByCrmId(id, ['003OLD', '003NEW']);
          assert.deepEqual([...found.keys()], ['003NEW']);
        });
      });
    }

    if (options.capabilities?.privacy) {
      registerStoragePrivacyConformance({
        describe,
        it,
        storage: s,
        clock: () => clock,
        integrationInput,
        statusRow,
      });
    }

    describe('cursors', () => {
      it('round-trips a value per (integration, stream) and overwrites it', async () => {
        const one = await s().integrations.create(integrationInput());
        const two = await s().integrations.create(integrationInput());
        assert.equal(await s().cursors.get(one.id, 'contacts'), null);
        await s().cursors.set(one.id, 'contacts', '2026-01-01T00:00:00.000Z|003A');
        await s().cursors.set(one.id, '/data/ContactChangeEvent', '123456');
        await s().cursors.set(two.id, 'contacts', 'other');
        assert.equal(await s().cursors.get(one.id, 'contacts'), '2026-01-01T00:00:00.000Z|003A');
        assert.equal(await s().cursors.get(one.id, '/data/ContactChangeEvent'), '123456');
        assert.equal(await s().cursors.get(two.id, 'contacts'), 'other');
        assert.equal(await s().cursors.get(two.id, '/data/ContactChangeEvent'), null);
        await s().cursors.set(one.id, 'contacts', 'next');
        assert.equal(await s().cursors.get(one.id, 'contacts'), 'next');
        const long = 'x'.repeat(10_000);
        await s().cursors.set(one.id, 'long', long);
        assert.equal(await s().cursors.get(one.id, 'long'), long);
      });
    });

    describe('leases', () => {
      it('acquires a free lease with a token and an expiry of now + ttl', async () => {
        const lease = await s().leases.acquire('sync:1', 30_000);
        assert.ok(lease);
        assert.equal(lease.key, 'sync:1');
        assert.equal(typeof lease.token, 'string');
        assert.ok(lease.token.length > 0);
        assert.ok(lease.expiresAt instanceof Date);
        if (injectedClock) assert.equal(lease.expiresAt.getTime(), T0 + 30_000);
      });

      it('refuses a held lease, but not a different key', async () => {
        assert.ok(await s().leases.acquire('sync:1', 30_000));
        assert.equal(await s().leases.acquire('sync:1', 30_000), null);
        assert.ok(await s().leases.acquire('sync:2', 30_000));
      });

      if (concurrency) {
        it('grants exactly one of several concurrent acquisitions', async () => {
          const results = await Promise.all(
            Array.from({ length: 6 }, () => s().leases.acquire('race', 30_000)),
          );
          assert.equal(results.filter((r) => r !== null).length, 1);
        });
      }

      it('frees the lease on release by its holder', async () => {
        const lease = await s().leases.acquire('sync:1', 30_000);
        assert.ok(lease);
        await s().leases.release(lease);
        const again = await s().leases.acquire('sync:1', 30_000);
        assert.ok(again);
        assert.notEqual(again.token, lease.token);
      });

      it('ignores release and renew by a caller that does not hold the token', async () => {
        const lease = await s().leases.acquire('sync:1', 30_000);
        assert.ok(lease);
        const forged = { ...lease, token: `${lease.token}-forged` };
        await s().leases.release(forged);
        assert.equal(await s().leases.renew(forged, 30_000), false);
        assert.equal(await s().leases.acquire('sync:1', 30_000), null);
        await s().leases.release({ key: 'never-held', token: 'x', expiresAt: new Date(T0) });
      });

      if (injectedClock) {
        it('lets another caller take an expired lease; the old holder can then neither renew nor release it', async () => {
          const first = await s().leases.acquire('sync:1', 10_000);
          assert.ok(first);
          clock.advance(9_999);
          assert.equal(await s().leases.acquire('sync:1', 10_000), null);
          clock.advance(1);
          const second = await s().leases.acquire('sync:1', 10_000);
          assert.ok(second);
          assert.equal(second.expiresAt.getTime(), T0 + 20_000);
          assert.equal(await s().leases.renew(first, 10_000), false);
          await s().leases.release(first);
          assert.equal(await s().leases.acquire('sync:1', 10_000), null);
        });

        it('extends a held lease on renew', async () => {
          const lease = await s().leases.acquire('sync:1', 10_000);
          assert.ok(lease);
          clock.advance(8_000);
          assert.equal(await s().leases.renew(lease, 10_000), true);
          clock.advance(8_000); // past the original expiry, within the renewed one
          assert.equal(await s().leases.acquire('sync:1', 10_000), null);
          clock.advance(2_000);
          assert.ok(await s().leases.acquire('sync:1', 10_000));
        });
      }
    });

    describe('close', () => {
      it('is idempotent', async () => {
        const current = s();
        await current.close();
        await current.close();
      });
    });
  });
}

function globalRunner(): StorageConformanceRunner {
  const g = globalThis as Partial<StorageConformanceRunner>;
  if (
    typeof g.describe === 'function' &&
    typeof g.it === 'function' &&
    typeof g.beforeEach === 'function' &&
    typeof g.afterEach === 'function'
  ) {
    return g as StorageConformanceRunner;
  }
  throw new CrmConfigurationError(
    "runStorageConformance: pass { runner: { describe, it, beforeEach, afterEach } } (e.g. import * as vitest from 'vitest'); no runner globals were found",
    { details: { reason: 'missing_runner' } },
  );
}
