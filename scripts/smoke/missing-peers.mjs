// A host that installed only @markmail/crm (no optional peers): every subpath still imports, and
// each feature whose peer is missing fails with a CrmConfigurationError naming what to install.
import assert from 'node:assert/strict';
import { CrmConfigurationError } from '@markmail/crm';
import { SalesforceProvider } from '@markmail/crm/salesforce';
import { SqliteStorage } from '@markmail/crm/storage/sqlite';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const expectMissing = async (what, action, packageName) => {
  await assert.rejects(action, (error) => {
    assert.ok(error instanceof CrmConfigurationError, `${what}: ${error}`);
    assert.ok(error.message.includes(`npm install ${packageName}`), `${what}: ${error.message}`);
    return true;
  });
  console.log(`bare: ${what} without ${packageName} → "${(await action().catch((e) => e)).message}"`);
};

await expectMissing(
  'new SalesforceProvider',
  async () => new SalesforceProvider({ instanceUrl: 'https://x.my.salesforce.com', accessToken: 't' }),
  'jsforce',
);
await expectMissing(
  'startSalesforceEmulator',
  () => startSalesforceEmulator(),
  '@jetstreamapp/soql-parser-js',
);
await expectMissing(
  'SqliteStorage (better-sqlite3)',
  () => new SqliteStorage({ filename: ':memory:' }).migrate(),
  'better-sqlite3',
);
// node:sqlite is built into Node: no install needed.
const storage = new SqliteStorage({ filename: ':memory:', driver: 'node:sqlite' });
await storage.migrate();
await storage.close();
console.log('bare: SqliteStorage (node:sqlite) works with no driver installed');
