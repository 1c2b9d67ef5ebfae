import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStorage, SyncEngine, type SyncPullBatch } from '../../src/index.js';
import { SalesforceProvider } from '../../src/salesforce/index.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// Salesforce stamps SystemModstamp to whole seconds; the emulator clock is moved by hand.
let now = Date.parse('2026-04-01T09:00:00.000Z');
const clock = { now: () => new Date(now) };
let emulator: SalesforceEmulator;

beforeAll(async () => {
  emulator = await startSalesforceEmulator({ clock });
});
afterAll(async () => {
  await emulator?.stop();
});
beforeEach(() => {
  emulator.reset();
  now = Date.parse('2026-04-01T09:00:00.000Z');
});

type Route = 'REST' | 'Bulk';
// `bulkQueryThreshold: 0` sends every read with at least one change through a Bulk API 2.0 query job.
let route: Route = 'REST';

function setup(options: { changeLookbackMs?: number } = {}) {
  const provider = new SalesforceProvider({
    instanceUrl: emulator.instanceUrl,
    accessToken: emulator.accessToken,
    bulkQueryThreshold: route === 'Bulk' ? 0 : null,
    ...options,
  });
  const storage = new MemoryStorage();
  const engine = new SyncEngine({ provider, storage, integrationId: 'race', fieldMappings: [] });
  const seen: Array<{ crmId: string; title: unknown; lastName: unknown }> = [];
  const apply = async (batch: SyncPullBatch) => {
    for (const u of batch.upserted) {
      seen.push({ crmId: u.crmId, title: u.contact.title, lastName: u.contact.lastName });
    }
  };
  return { provider, engine, storage, seen, apply };
}

function crmWrite(id: string, fields: Record<string, unknown>, at: number): void {
  const saved = now;
  now = at;
  try {
    emulator.store.update('Contact', [{ Id: id, ...fields }]);
  } finally {
    now = saved;
  }
}

function createContacts(count: number, withHostId = true): string[] {
  const results = emulator.store.insert(
    'Contact',
    Array.from({ length: count }, (_, i) => ({
      LastName: `L${i}`,
      Email: `r${i}@example.com`,
      ...(withHostId ? { MarkMail_ID__c: `h-${i}` } : {}),
    })),
  );
  return results.map((r) => String(r.id));
}

describe.each(['REST', 'Bulk'] as const)(
  'pullContacts never skips a change and applies each change exactly once (Salesforce emulator, %s reads)',
  (which) => {
    const jobsBefore = { count: 0 };
    beforeEach(() => {
      route = which;
      jobsBefore.count = emulator.stats.byRoute['POST /services/data/:version/jobs/query'] ?? 0;
    });
    afterEach(() => {
      // The route under test is the one that read: Bulk reads created query jobs, REST reads none.
      const jobs =
        (emulator.stats.byRoute['POST /services/data/:version/jobs/query'] ?? 0) - jobsBefore.count;
      if (which === 'Bulk') expect(jobs).toBeGreaterThan(0);
      else expect(jobs).toBe(0);
    });

    it('same-second race: a lower Id changed in the cursor second after the page was read is delivered', async () => {
      const { engine, seen, apply } = setup();
      const [low, high] = createContacts(2) as [string, string];
      now += 10_000;
      const second = now;
      // Only the higher Id has changed when the pull reads: the cursor ends on (second, high).
      crmWrite(high, { Title: 'high v2' }, second);
      await engine.pullContacts({ apply });
      seen.length = 0;
      // The lower Id commits in the same whole second, after the read.
      crmWrite(low, { Title: 'low v2' }, second);
      const report = await engine.pullContacts({ apply });
      expect(seen).toEqual([{ crmId: low, title: 'low v2', lastName: 'L0' }]);
      expect(report).toMatchObject({ updated: 1, complete: true });
      // The re-read of `high` cost nothing and reached no `apply`.
      expect(report.redelivered).toBeGreaterThanOrEqual(1);
    });

    /** Pull once, then commit a change stamped 40 s before the cursor; what the next pull delivers. */
    async function lateCommit(options: { changeLookbackMs?: number } = {}) {
      const { engine, seen, apply } = setup(options);
      const ids = createContacts(3);
      now += 60_000;
      crmWrite(ids[2] as string, { Title: 'early reader' }, now);
      await engine.pullContacts({ apply });
      seen.length = 0;
      // A transaction that started 40 s ago commits now, carrying its older stamp.
      crmWrite(ids[0] as string, { Title: 'late commit' }, now - 40_000);
      await engine.pullContacts({ apply });
      return { seen, id: ids[0] };
    }

    it('late-commit race: a change stamped before the cursor but committed after the read is delivered', async () => {
      const { seen, id } = await lateCommit();
      expect(seen).toEqual([{ crmId: id, title: 'late commit', lastName: 'L0' }]);
    });

    it('without a lookback window (changeLookbackMs: 0) the late commit is missed: the guard is what saves it', async () => {
      const { seen } = await lateCommit({ changeLookbackMs: 0 });
      expect(seen).toEqual([]);
    });

    it('two edits of one record within the same second are both delivered (same stamp, new values)', async () => {
      const { engine, seen, apply } = setup();
      const [id] = createContacts(1) as [string];
      now += 5_000;
      crmWrite(id, { Title: 'first' }, now);
      await engine.pullContacts({ apply });
      crmWrite(id, { Title: 'second' }, now);
      await engine.pullContacts({ apply });
      expect(seen.map((s) => s.title)).toEqual(['first', 'second']);
    });

    it('re-deliveries from the window never reach apply again, tracked or not, and end with storage agreeing', async () => {
      const tracked = setup();
      createContacts(30);
      await tracked.engine.pullContacts({ apply: tracked.apply });
      expect(tracked.seen).toHaveLength(30);
      for (let run = 0; run < 3; run++) {
        const report = await tracked.engine.pullContacts({ apply: tracked.apply });
        expect(report).toMatchObject({ created: 0, updated: 0, processed: 0, redelivered: 30 });
      }
      expect(tracked.seen).toHaveLength(30);
      const rows = await tracked.storage.syncStatus.list({ integrationId: 'race' });
      expect(rows).toHaveLength(30);
      expect(new Set(rows.map((r) => r.crmId)).size).toBe(30);

      // Contacts the host never linked (no host id on the record, none returned by apply).
      emulator.reset();
      const untracked = setup();
      createContacts(5, false);
      await untracked.engine.pullContacts({ apply: untracked.apply });
      await untracked.engine.pullContacts({ apply: untracked.apply });
      expect(untracked.seen).toHaveLength(5);
      expect(new Set(untracked.seen.map((s) => s.crmId)).size).toBe(5);
    });
  },
);
