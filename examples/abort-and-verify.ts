/**
 * Abort a push while Salesforce is processing it, and see what the package does with records
 * whose write may or may not have landed: the abort cancels the HTTP request at the socket, the
 * records are `uncertain` (never reported synced on a guess), and the next push reads them back
 * and settles them without sending them again.
 *
 *   npx tsx examples/abort-and-verify.ts
 *
 * Runs against the embedded Salesforce emulator, whose fault controls make the answer stall after
 * the write was applied (a real org does this when a call runs long or the network drops).
 */
import { type CrmContactInput, getSyncReport, MemoryStorage, SyncEngine } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const emulator = await startSalesforceEmulator();
const provider = new SalesforceProvider({
  instanceUrl: emulator.instanceUrl,
  accessToken: emulator.accessToken,
});
const storage = new MemoryStorage();
const engine = new SyncEngine({ provider, storage, integrationId: 'demo' });

const subscribers = (title: string): CrmContactInput[] =>
  ['ada', 'grace', 'edsger'].map((name) => ({
    externalId: `sub-${name}`,
    email: `${name}@example.com`,
    lastName: name,
    title,
  }));

console.log('First push:', (await engine.pushContacts(subscribers('Reader'))).created, 'created');

// Salesforce applies the next upsert, but its answer stalls; the host gives up on the run.
const stall = emulator.faults.add({
  method: 'PATCH',
  path: '/composite/sobjects',
  delayMs: 3_000,
  after: true,
});
const controller = new AbortController();
const aborted = engine
  .pushContacts(subscribers('VIP'), { signal: controller.signal })
  .catch((e: unknown) => e);
while (stall.hits === 0) await new Promise((resolve) => setTimeout(resolve, 5));
controller.abort();
const partial = getSyncReport(await aborted);
console.log(`Aborted run: stopReason=${partial?.stopReason}, uncertain=${partial?.uncertain}`);
while (stall.disconnects === 0) await new Promise((resolve) => setTimeout(resolve, 5));
console.log('The emulator saw the client close the connection: the request was cancelled, not abandoned.');

const rows = await storage.syncStatus.list({ integrationId: 'demo', status: 'uncertain' });
console.log(`Status rows now uncertain: ${rows.length} (not synced, not failed)`);

// The next run reads them back; Salesforce holds what was sent, so nothing is sent again.
const next = await engine.pushContacts(subscribers('VIP'));
console.log(`Next run: verified=${next.verified}, updated=${next.updated}, uncertain=${next.uncertain}`);
const synced = await storage.syncStatus.list({ integrationId: 'demo', status: 'synced' });
console.log(`Status rows synced: ${synced.length}`);

await emulator.stop();
