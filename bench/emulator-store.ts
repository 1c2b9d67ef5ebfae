/**
 * Emulator store and REST throughput. Run: `npx tsx bench/emulator-store.ts [records]`.
 * Prints records/s for store insert/upsert, indexed and full-scan SOQL, and jsforce collection upserts.
 */
import jsforce from 'jsforce';
import { startSalesforceEmulator } from '../src/testing/index.js';

const count = Number(process.argv[2] ?? 100_000);
const sf = await startSalesforceEmulator();
const rss = () => `${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB rss`;
const time = async (label: string, records: number, fn: () => unknown | Promise<unknown>) => {
  const started = performance.now();
  await fn();
  const ms = performance.now() - started;
  console.log(
    `${label.padEnd(48)} ${ms.toFixed(0).padStart(7)} ms  ${Math.round((records / ms) * 1000)
      .toLocaleString('en-US')
      .padStart(10)} rec/s  ${rss()}`,
  );
};

const rows = Array.from({ length: count }, (_, i) => ({
  LastName: `Person ${i}`,
  Email: `person${i}@example.com`,
  MarkMail_ID__c: `mm-${i}`,
}));
await time(`store.insert ${count} contacts`, count, () => {
  const results = sf.store.insert('Contact', rows);
  if (!results.every((r) => r.success)) throw new Error('insert failed');
});
await time(`store.upsert ${count} contacts by MarkMail_ID__c`, count, () => {
  const results = sf.store.upsert(
    'Contact',
    'MarkMail_ID__c',
    rows.map((r) => ({ ...r, Title: 'Updated' })),
  );
  if (!results.every((r) => r.success && r.created === false)) throw new Error('upsert failed');
});
await time('10000 store.findByExternalId lookups', 10_000, () => {
  for (let i = 0; i < 10_000; i++) {
    if (sf.store.findByExternalId('Contact', 'MarkMail_ID__c', `MM-${i}`).length !== 1)
      throw new Error('lookup failed');
  }
});
const conn = new jsforce.Connection({
  instanceUrl: sf.instanceUrl,
  accessToken: sf.accessToken,
  version: '62.0',
});
await time('100 indexed SOQL queries over REST', 100, async () => {
  for (let i = 0; i < 100; i++) {
    const result = await conn.query(`SELECT Id FROM Contact WHERE MarkMail_ID__c = 'mm-${i * 7}'`);
    if (result.totalSize !== 1) throw new Error('lookup failed');
  }
});
await time(`full-scan SOQL with LIKE over ${count} rows (1 query)`, count, async () => {
  const result = await conn.query("SELECT COUNT() FROM Contact WHERE Email LIKE '%99@example.com'");
  if (result.totalSize === 0) throw new Error('scan failed');
});
const restCount = Math.min(count, 20_000);
await time(`jsforce collection upsert ${restCount} (200/request)`, restCount, async () => {
  const batch = rows.slice(0, restCount).map((r) => ({ ...r, Title: 'REST' }));
  const results = await conn.sobject('Contact').upsert(batch, 'MarkMail_ID__c', { allowRecursive: true });
  if (results.length !== restCount) throw new Error('rest upsert failed');
});
await time(`query ${restCount} rows with autoFetch`, restCount, async () => {
  const result = await conn.query('SELECT Id, Email FROM Contact', { autoFetch: true, maxFetch: restCount });
  if (result.records.length !== restCount) throw new Error('autoFetch failed');
});
await sf.stop();
