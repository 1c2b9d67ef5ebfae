/**
 * Quickstart: push host contacts to Salesforce, see per-record results, push again (nothing is
 * re-sent), change one field in Salesforce and pull it back.
 *
 *   npx tsx examples/quickstart.ts
 *
 * Runs against the embedded Salesforce emulator by default. To use a real org, set
 * SF_INSTANCE_URL and SF_ACCESS_TOKEN (e.g. from `sf org auth show-access-token --json`); the
 * org needs a unique external-id text field `MarkMail_ID__c` on Contact.
 */
import { type CrmContactInput, MemoryStorage, SyncEngine } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const realOrg = process.env.SF_INSTANCE_URL && process.env.SF_ACCESS_TOKEN;
const emulator = realOrg ? null : await startSalesforceEmulator();
const instanceUrl = process.env.SF_INSTANCE_URL ?? emulator!.instanceUrl;
const accessToken = process.env.SF_ACCESS_TOKEN ?? emulator!.accessToken;
console.log(
  realOrg ? `Using the org at ${instanceUrl}` : `Started the Salesforce emulator at ${instanceUrl}`,
);

// The host's own subscribers; one has an invalid email and is rejected locally, the rest go on.
const subscribers: CrmContactInput[] = [
  {
    externalId: 'sub-1',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    company: 'Analytical Engines',
  },
  {
    externalId: 'sub-2',
    email: "o'brien@example.com",
    firstName: 'Máire',
    lastName: "O'Brien",
    title: 'CTO',
  },
  { externalId: 'sub-3', email: 'kenji+news@例え.jp', firstName: '健二', lastName: '山田' },
  { externalId: 'sub-4', email: 'not an email', lastName: 'Broken' },
];

const provider = new SalesforceProvider({ instanceUrl, accessToken });
const storage = new MemoryStorage();
const integration = await storage.integrations.create({
  userId: 'user-1',
  provider: 'salesforce',
  orgId: emulator?.orgId ?? 'real-org',
  instanceUrl,
  credentials: 'ciphertext-only (see CredentialCipher)',
});
const engine = new SyncEngine({
  provider,
  storage,
  integrationId: integration.id,
  conflictPolicy: 'crm_wins',
});

const first = await engine.pushContacts(subscribers, {
  onProgress: (p) =>
    console.log(
      `  ${p.processed} read, ${p.sent ?? 0} sent, ${p.created} created, ${p.failed} failed, ${p.apiCalls} API calls`,
    ),
});
console.log('\nFirst push');
console.table({
  created: first.created,
  updated: first.updated,
  unchanged: first.unchanged,
  failed: first.failed,
  apiCalls: first.apiCalls,
});
for (const error of first.errors)
  console.log(`  ✗ ${error.externalId}: ${error.code} (${error.fields?.join(', ') ?? ''}) ${error.message}`);

const second = await engine.pushContacts(subscribers.slice(0, 3));
console.log('\nSecond push of the same contacts (content hashes unchanged → no API calls)');
console.table({ unchanged: second.unchanged, apiCalls: second.apiCalls });

// Someone edits a contact in Salesforce; pull brings the change to the host.
const ada = await provider.getContact('ada@example.com');
if (ada?.id) await provider.updateContact({ ...ada, title: 'Head of Research' });
const pulled = await engine.pullContacts({
  apply: async (batch) => {
    for (const change of batch.upserted) {
      console.log(`  ← ${change.externalId ?? change.crmId}: ${JSON.stringify(change.changes)}`);
    }
    return undefined;
  },
});
console.log('\nPull from Salesforce');
console.table({
  processed: pulled.processed,
  updated: pulled.updated,
  unchanged: pulled.unchanged,
  conflicts: pulled.conflicts,
});

const log = await storage.syncLogs.list(integration.id);
console.log(`\n${log.length} sync runs recorded; API usage ${JSON.stringify(provider.apiUsage ?? 'n/a')}`);
await emulator?.stop();
