/**
 * Privacy requests end to end: export everything held about a person (data portability), then
 * forget them (right to erasure) in Salesforce and in local storage, prove a later push does not
 * bring them back, and apply retention.
 *
 *   npx tsx examples/privacy.ts
 *
 * - Salesforce: the embedded emulator, or a real org with SF_INSTANCE_URL and SF_ACCESS_TOKEN
 *   (erasure really deletes there: use a sandbox).
 * - Storage: an SQLite file in a temporary directory, scanned byte by byte after the erasure.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRetention, SyncEngine } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { SqliteStorage } from '@markmail/crm/storage/sqlite';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const realOrg = process.env.SF_INSTANCE_URL && process.env.SF_ACCESS_TOKEN;
const emulator = realOrg ? null : await startSalesforceEmulator();
const instanceUrl = process.env.SF_INSTANCE_URL ?? emulator!.instanceUrl;
const provider = new SalesforceProvider({
  instanceUrl,
  accessToken: process.env.SF_ACCESS_TOKEN ?? emulator!.accessToken,
});
console.log(
  realOrg ? `Using the org at ${instanceUrl}` : `Started the Salesforce emulator at ${instanceUrl}`,
);

const dir = mkdtempSync(join(tmpdir(), 'crm-privacy-example-'));
const filename = join(dir, 'crm.db');
const storage = new SqliteStorage({ filename });
try {
  const integration = await storage.integrations.create({
    userId: 'user-1',
    provider: 'salesforce',
    orgId: emulator?.orgId ?? 'real-org',
    instanceUrl,
    credentials: 'ciphertext-from-CredentialCipher',
  });
  // In production pass privacySalt from your secret store (see the README).
  const engine = new SyncEngine({ provider, storage, integrationId: integration.id });

  const ada = {
    externalId: 'sub-ada',
    email: 'ada.privacy@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
  };
  const grace = {
    externalId: 'sub-grace',
    email: 'grace.privacy@example.com',
    firstName: 'Grace',
    lastName: 'Hopper',
  };
  await engine.pushContacts([ada, grace]);
  await provider.logEmailActivity({
    externalId: 'open-1',
    contactExternalId: ada.externalId,
    activityType: 'opened',
    occurredAt: new Date(),
  });
  await provider.syncListMembership({
    externalId: 'newsletter',
    name: 'Newsletter',
    memberIds: [ada.externalId],
  });

  // 1. Access request: everything Salesforce and our storage hold about Ada, as plain JSON.
  const exported = await engine.exportContactData({ email: ada.email });
  const counts = Object.entries(exported.crm?.records ?? {}).map(
    ([object, rows]) => `${object}: ${rows.length}`,
  );
  console.log(`Export from Salesforce → ${counts.join(', ')}`);
  console.log(`Export from local storage → ${exported.local.syncStatus.length} status row(s)`);

  // 2. Erasure request.
  const forgotten = await engine.forgetContact({ email: ada.email }, { reason: 'gdpr_erasure_request' });
  console.log('Forgotten in Salesforce:', JSON.stringify(forgotten.crm?.deleted));
  console.log(
    `Forgotten locally: ${forgotten.local.statusRows} status row(s); suppressed hashes: ${forgotten.suppressed}`,
  );
  const [audit] = await storage.privacy.listAudit(integration.id, { limit: 1 });
  console.log(`Audit entry: ${audit?.action} ${audit?.subjectHash.slice(0, 12)}… reason ${audit?.reason}`);

  // 3. The database file holds no trace of her (secure_delete and a WAL checkpoint).
  const bytes = Buffer.concat([filename, `${filename}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  console.log(`Email in the SQLite file after erasure: ${bytes.includes(ada.email)}`);

  // 4. The host still has Ada and pushes everyone again: she is not re-created.
  const again = await engine.pushContacts([ada, grace]);
  console.log(`Push after erasure: ${again.suppressed} suppressed, ${again.created} created`);
  if (emulator) {
    console.log(
      `Contacts in Salesforce: ${emulator
        .records('Contact')
        .map((c) => c.Email)
        .join(', ')}`,
    );
  }

  // 5. Retention: defaults are 90 days / 1000 sync logs per integration, 3 years of audit
  //    entries, 7 days of webhook dedupe records.
  const pruned = await applyRetention(storage, { policy: { syncLogMaxCount: 1 } });
  console.log(`Retention pruned ${pruned.syncLogs} sync log(s)`);
} finally {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  await emulator?.stop();
}
