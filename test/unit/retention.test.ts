import { describe, expect, it } from 'vitest';
import {
  applyRetention,
  type CrmStorage,
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETENTION_STREAM_PREFIXES,
  MemoryStorage,
} from '../../src/index.js';
import { OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX } from '../../src/salesforce/webhooks/outbound-message-handler.js';

const DAY = 86_400_000;

function manualClock(start: string) {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('applyRetention', () => {
  it('defaults: 90 days and 1000 entries of sync logs, 3 years of audit, 7 days of dedupe records', () => {
    expect(DEFAULT_RETENTION_POLICY).toMatchObject({
      syncLogMaxAgeDays: 90,
      syncLogMaxCount: 1000,
      auditMaxAgeDays: 1095,
      auditMaxCount: null,
      streamRecordMaxAgeDays: 7,
    });
    // The Salesforce outbound-message handler's dedupe records are covered by default.
    expect(DEFAULT_RETENTION_STREAM_PREFIXES).toContain(OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX);
  });

  it('prunes by age and count with the defaults, leaving pull cursors alone', async () => {
    const clock = manualClock('2026-01-01T00:00:00Z');
    const storage = new MemoryStorage({ clock });
    const { id } = await storage.integrations.create({
      userId: 'u',
      provider: 'salesforce',
      orgId: 'o',
      instanceUrl: 'https://x.invalid',
      credentials: 'c',
    });
    await storage.syncLogs.start({ integrationId: id, syncType: 'manual', entityType: 'contact' });
    await storage.cursors.set(
      id,
      `${OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX}04l000000000001`,
      clock.now().toISOString(),
    );
    await storage.cursors.set(id, 'contacts:pull', 'cursor-1');
    await storage.privacy.appendAudit({ integrationId: id, action: 'forget', subjectHash: 'h', outcome: {} });
    clock.advance(8 * DAY);
    expect(await applyRetention(storage, { clock })).toEqual({
      syncLogs: 0,
      auditEntries: 0,
      streamRecords: 1,
    });
    clock.advance(90 * DAY);
    expect(await applyRetention(storage, { clock })).toEqual({
      syncLogs: 1,
      auditEntries: 0,
      streamRecords: 0,
    });
    expect(await storage.cursors.get(id, 'contacts:pull')).toBe('cursor-1');
    expect(await storage.privacy.listAudit(id)).toHaveLength(1);
    clock.advance(3 * 365 * DAY);
    expect((await applyRetention(storage, { clock })).auditEntries).toBe(1);
  });

  it('takes overrides; null keeps a kind forever; bad values and storages without privacy are refused', async () => {
    const clock = manualClock('2026-01-01T00:00:00Z');
    const storage = new MemoryStorage({ clock });
    const { id } = await storage.integrations.create({
      userId: 'u',
      provider: 'salesforce',
      orgId: 'o',
      instanceUrl: 'https://x.invalid',
      credentials: 'c',
    });
    for (let i = 0; i < 5; i++) {
      await storage.syncLogs.start({ integrationId: id, syncType: 'manual', entityType: 'contact' });
      clock.advance(1000);
    }
    const kept = await applyRetention(storage, {
      clock,
      integrationId: id,
      policy: { syncLogMaxAgeDays: null, syncLogMaxCount: 2 },
    });
    expect(kept.syncLogs).toBe(3);
    expect(await storage.syncLogs.list(id)).toHaveLength(2);
    await expect(applyRetention(storage, { policy: { syncLogMaxAgeDays: -1 } })).rejects.toMatchObject({
      code: 'CONFIGURATION',
    });
    const bare = { ...storage, privacy: undefined } as unknown as CrmStorage;
    await expect(applyRetention(bare)).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE' });
  });
});
