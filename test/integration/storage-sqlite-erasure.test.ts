import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../src/storage/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'crm-sqlite-erasure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every byte SQLite keeps for `filename`: the database, its WAL and its rollback journal. */
function fileBytes(filename: string): Buffer {
  return Buffer.concat(
    [filename, `${filename}-wal`, `${filename}-journal`].filter(existsSync).map((f) => readFileSync(f)),
  );
}

const EMAIL = 'ada.lovelace.erasure@example.com';
const NAME = 'Lovelace-Byron-Unique';

describe.each(['better-sqlite3', 'node:sqlite'] as const)('SqliteStorage erasure (%s)', (driver) => {
  it('after erase, neither the email nor the name is anywhere in the database files', async () => {
    const filename = join(dir, `${driver.replace(':', '-')}.sqlite`);
    const storage = new SqliteStorage({ filename, driver });
    const integration = await storage.integrations.create({
      userId: 'u1',
      provider: 'salesforce',
      orgId: '00D000000000001AAA',
      instanceUrl: 'https://example.my.salesforce.com',
      credentials: 'v1.k1.aaaa.bbbb.cccc',
    });
    const rows = Array.from({ length: 50 }, (_, i) => ({
      integrationId: integration.id,
      entityType: 'contact' as const,
      externalId: `other-${i}`,
      crmId: `003OTHER${i}`,
      status: 'synced' as const,
      direction: 'to_crm' as const,
      contentHash: 'h',
      lastSyncedAt: new Date(),
      lastError: null,
      state: { fields: { email: `other${i}@example.com`, lastName: 'Other' } },
    }));
    await storage.syncStatus.upsertMany([
      ...rows,
      {
        ...rows[0]!,
        externalId: 'host-ada',
        crmId: '003ADA',
        status: 'failed',
        lastError: `STRING_TOO_LONG: ${NAME}`,
        state: { fields: { email: EMAIL, lastName: NAME } },
      },
    ]);
    const log = await storage.syncLogs.start({
      integrationId: integration.id,
      syncType: 'manual',
      entityType: 'contact',
    });
    await storage.syncLogs.complete(log.id, {
      successCount: 50,
      errorCount: 1,
      errorDetails: {
        errorsByCode: { STRING_TOO_LONG: { message: `too large: ${EMAIL}`, externalIds: ['host-ada'] } },
      },
    });
    // Proves the scan can find the person before erasure (a test that cannot fail proves nothing).
    expect(fileBytes(filename).includes(EMAIL)).toBe(true);
    expect(fileBytes(filename).includes(NAME)).toBe(true);

    const counts = await storage.privacy.erase({
      integrationId: integration.id,
      externalIds: ['host-ada'],
      crmIds: ['003ADA'],
      values: [EMAIL, NAME],
    });
    expect(counts).toEqual({ statusRows: 1, syncLogs: 1 });
    const bytes = fileBytes(filename);
    expect(bytes.includes(EMAIL)).toBe(false);
    expect(bytes.includes(NAME)).toBe(false);
    expect(bytes.includes('host-ada')).toBe(false);
    // Everyone else is still there.
    expect(bytes.includes('other49@example.com')).toBe(true);
    expect((await storage.syncStatus.list({ integrationId: integration.id, limit: 1000 })).length).toBe(50);
    await storage.close();
    expect(fileBytes(filename).includes(EMAIL)).toBe(false);
  });
});
