/**
 * Pull every contact of an org into the host (an initial sync), then pull again after a few edits.
 * The first read is large, so it goes through a Bulk API 2.0 query job; the second is small and
 * goes through the REST query API. The cursor works the same on both routes.
 *
 *   npx tsx examples/initial-pull.ts
 *
 * Runs against the embedded Salesforce emulator, seeded with 15,000 contacts written over the past
 * hour (the emulator's clock is moved by hand).
 */
import { MemoryStorage, SyncEngine } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const TOTAL = 15_000;
let offsetMs = 0;
const emulator = await startSalesforceEmulator({ clock: { now: () => new Date(Date.now() + offsetMs) } });
const ids: string[] = [];
for (let minute = 60; minute > 0; minute--) {
  offsetMs = -minute * 60_000;
  const from = ids.length;
  const rows = Array.from({ length: TOTAL / 60 }, (_, k) => ({
    LastName: `Reader ${from + k}`,
    Email: `reader${from + k}@example.com`,
    MarkMail_ID__c: `host-${from + k}`,
  }));
  ids.push(...emulator.store.insert('Contact', rows).map((result) => String(result.id)));
}
offsetMs = 0;
console.log(`Seeded the emulator with ${TOTAL} contacts, written over the past hour`);

const provider = new SalesforceProvider({
  instanceUrl: emulator.instanceUrl,
  accessToken: emulator.accessToken,
  bulkQueryThreshold: 10_000, // the default: reads of more changes than this use a Bulk query job
});
const engine = new SyncEngine({ provider, storage: new MemoryStorage(), integrationId: 'demo' });

/** The host's contact table. */
const host = new Map<string, Record<string, unknown>>();
async function pull(label: string) {
  const jobsBefore = emulator.stats.byRoute['POST /services/data/:version/jobs/query'] ?? 0;
  const callsBefore = emulator.stats.apiCalls;
  const started = performance.now();
  const report = await engine.pullContacts({
    apply: async (batch) => {
      for (const change of batch.upserted) {
        host.set(change.externalId ?? change.crmId, {
          ...host.get(change.externalId ?? ''),
          ...change.changes,
        });
      }
    },
  });
  const jobs = (emulator.stats.byRoute['POST /services/data/:version/jobs/query'] ?? 0) - jobsBefore;
  console.log(
    `${label}: ${report.created} created, ${report.updated} updated, ${report.redelivered} re-read and skipped; ` +
      `${jobs ? `Bulk API 2.0 query (${jobs} job)` : 'REST query'}, ` +
      `${emulator.stats.apiCalls - callsBefore} API calls, ${Math.round(performance.now() - started)} ms`,
  );
}

await pull('Initial pull');
emulator.store.update(
  'Contact',
  ids.slice(0, 3).map((Id) => ({ Id, Title: 'Editor' })),
);
// The next read starts 10 minutes (changeLookbackMs) before the cursor: what changed in that
// window is read again and skipped, so a change committed late is never missed.
await pull('Next pull');
console.log(`Host table: ${host.size} contacts; host-0 is now ${JSON.stringify(host.get('host-0'))}`);
await emulator.stop();
