/**
 * Push 5,000 host contacts through Salesforce Bulk API 2.0 with a progress line, get a result for
 * every record (a few are rejected by Salesforce), then run an incremental sync that sends only
 * what changed.
 *
 *   npx tsx examples/bulk-sync.ts
 *
 * Runs against the embedded Salesforce emulator by default. To use a real org, set
 * SF_INSTANCE_URL and SF_ACCESS_TOKEN; the org needs a unique external-id text field
 * `MarkMail_ID__c` on Contact (the script creates up to 5,000 contacts there).
 */
import { type CrmContactInput, MemoryStorage, SyncEngine, type SyncProgress } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const TOTAL = 5_000;
const realOrg = process.env.SF_INSTANCE_URL && process.env.SF_ACCESS_TOKEN;
const emulator = realOrg ? null : await startSalesforceEmulator();
const instanceUrl = process.env.SF_INSTANCE_URL ?? emulator!.instanceUrl;
console.log(
  realOrg ? `Using the org at ${instanceUrl}` : `Started the Salesforce emulator at ${instanceUrl}`,
);

const provider = new SalesforceProvider({
  instanceUrl,
  accessToken: process.env.SF_ACCESS_TOKEN ?? emulator!.accessToken,
  // Bulk jobs are polled until done; the emulator finishes in milliseconds, a real org in seconds.
  ...(emulator ? { bulk: { pollIntervalMs: 200 } } : {}),
});
const storage = new MemoryStorage();
const integration = await storage.integrations.create({
  userId: 'user-1',
  provider: 'salesforce',
  orgId: emulator?.orgId ?? 'real-org',
  instanceUrl,
  credentials: 'ciphertext-only (see CredentialCipher)',
});

/** The host's subscriber table, streamed: 5 rows lack a last name, which Salesforce requires. */
async function* subscribers(edited = new Set<number>()): AsyncGenerator<CrmContactInput> {
  for (let i = 1; i <= TOTAL; i++) {
    yield {
      externalId: `bulk-${i}`,
      email: `subscriber${i}@example.com`,
      firstName: `Subscriber ${i}`,
      ...(i % 1000 === 500 ? {} : { lastName: `Number ${i}` }),
      title: edited.has(i) ? 'VIP' : 'Reader',
    };
  }
}

function progressLine(label: string) {
  const started = performance.now();
  let last = '';
  return (p: SyncProgress) => {
    // The engine reports after each batch and relays the provider's progress inside it.
    const key = `${p.processed}/${p.failed}/${p.apiCalls}`;
    if (key === last) return;
    last = key;
    const width = 30;
    const filled = Math.round((p.processed / TOTAL) * width);
    const line = `  ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.processed}/${TOTAL} processed, ${p.failed} failed, ${p.apiCalls} API calls, ${Math.round(performance.now() - started)} ms`;
    // One updating line in a terminal, one line per batch in logs and CI.
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
    else console.log(line);
  };
}

// Full load: every batch of 1,000 becomes one Bulk API 2.0 ingest job (upsert on MarkMail_ID__c).
const fullLoad = new SyncEngine({
  provider,
  storage,
  integrationId: integration.id,
  batchSize: 1_000,
  bulkMode: 'bulk',
});
console.log(`\nFull load of ${TOTAL} contacts through Bulk API 2.0`);
const full = await fullLoad.pushContacts(subscribers(), { onProgress: progressLine('push') });
if (process.stdout.isTTY) process.stdout.write('\n');
console.table({
  created: full.created,
  updated: full.updated,
  failed: full.failed,
  apiCalls: full.apiCalls,
  durationMs: full.durationMs,
});
for (const [code, group] of Object.entries(full.errorsByCode)) {
  console.log(
    `  ✗ ${group.count} × ${code}: ${group.message} (e.g. ${group.externalIds.slice(0, 3).join(', ')})`,
  );
}
if (emulator) {
  const jobs = emulator.stats.byRoute['POST /services/data/:version/jobs/ingest'] ?? 0;
  console.log(`  Emulator: ${jobs} ingest jobs, ${emulator.records('Contact').length} contacts stored`);
}

// Incremental run (e.g. every 5 minutes): 25 subscribers changed; unchanged content hashes cost
// nothing, and so few records go through sObject Collections (bulkMode 'auto' picks by volume).
const incremental = new SyncEngine({ provider, storage, integrationId: integration.id });
const edited = new Set(Array.from({ length: 25 }, (_, k) => k * 200 + 1));
console.log('\nIncremental push after 25 subscribers changed');
const next = await incremental.pushContacts(subscribers(edited), { onProgress: progressLine('push') });
if (process.stdout.isTTY) process.stdout.write('\n');
console.table({
  updated: next.updated,
  unchanged: next.unchanged,
  failed: next.failed,
  needsAttention: next.needsAttention,
  apiCalls: next.apiCalls,
  durationMs: next.durationMs,
});
console.log(
  `  ${next.needsAttention} records rejected last time were not re-sent: the error is not retryable and their data did not change.`,
);

await emulator?.stop();
