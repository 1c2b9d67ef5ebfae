import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmLogger } from '../../src/core/logger.js';
import {
  type SalesforceChangeEvent,
  subscribeToChangeEvents,
  toCrmChangeEvent,
} from '../../src/salesforce/index.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SyncEngine } from '../../src/sync/engine.js';
import type { SyncPullBatch } from '../../src/sync/pull.js';
import type { SyncReport } from '../../src/sync/report.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

const CHANNEL = '/data/ContactChangeEvent';
const INTEGRATION = 'int-realtime';
const TAG = 'markmail-sync';

let sf: SalesforceEmulator;
const stops: Array<{ controller: AbortController; done: Promise<void> }> = [];

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});
afterEach(async () => {
  for (const { controller, done } of stops.splice(0)) {
    controller.abort();
    await done.catch(() => {});
  }
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type HostContact = Record<string, unknown> & { externalId: string };

describe('real-time changes into the engine (emulator CDC → subscribeToChangeEvents → handleChangeEvent)', () => {
  it('applies edits by other clients, suppresses echoes of its own push, and never regresses on replays', async () => {
    const storage = new MemoryStorage();
    const provider = new SalesforceProvider({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      clientName: TAG,
      sleep: async () => {},
    });
    // Events may arrive while a push still holds the integration's lease: let them wait for it.
    const engine = new SyncEngine({
      provider,
      storage,
      integrationId: INTEGRATION,
      clientTag: TAG,
      waitForLeaseMs: 10_000,
    });

    // The host's own database.
    const host = new Map<string, HostContact>([
      [
        'h-1',
        {
          externalId: 'h-1',
          email: 'ada@example.com',
          firstName: 'Ada',
          lastName: 'Lovelace',
          title: 'Analyst',
        },
      ],
      ['h-2', { externalId: 'h-2', email: 'alan@example.com', firstName: 'Alan', lastName: 'Turing' }],
    ]);
    const applied: SyncPullBatch[] = [];
    const apply = async (batch: SyncPullBatch) => {
      applied.push(structuredClone(batch));
      for (const u of batch.upserted) {
        const key = u.externalId ?? u.crmId;
        host.set(key, { ...(host.get(key) ?? { externalId: key }), ...u.changes });
      }
      for (const d of batch.deleted) if (d.externalId) host.delete(d.externalId);
    };
    const getHostContacts = async (ids: string[]) =>
      ids.flatMap((id) => (host.has(id) ? [host.get(id) as HostContact] : []));

    const received: SalesforceChangeEvent[] = [];
    const reports: SyncReport[] = [];
    const controller = new AbortController();
    let markSubscribed: () => void = () => {};
    const subscribed = new Promise<void>((resolve) => {
      markSubscribed = resolve;
    });
    const logger: CrmLogger = {
      debug() {},
      info(message) {
        if (message.startsWith('Subscribed')) markSubscribed();
      },
      warn() {},
      error() {},
    };
    const done = subscribeToChangeEvents({
      connection: new jsforce.Connection({
        instanceUrl: sf.instanceUrl,
        accessToken: sf.accessToken,
        version: '62.0',
      }),
      channel: CHANNEL,
      storage,
      integrationId: INTEGRATION,
      signal: controller.signal,
      logger,
      onEvent: async (event) => {
        const change = toCrmChangeEvent(event, provider);
        if (change) reports.push(await engine.handleChangeEvent(change, { apply, getHostContacts }));
        received.push(event);
      },
    });
    stops.push({ controller, done });
    await subscribed;

    // 1. The engine pushes the host's contacts: their CREATE events come back tagged as its own.
    const push = await engine.pushContacts([...host.values()]);
    expect(push).toMatchObject({ created: 2, failed: 0 });
    await waitFor(() => received.length >= 2);
    expect(received.every((e) => e.header.changeOrigin.endsWith(`;client=${TAG}`))).toBe(true);
    expect(reports.slice(0, 2).every((r) => r.unchanged === 1 && r.created === 0)).toBe(true);
    expect(applied).toHaveLength(0);

    // 2. Another client edits a contact in Salesforce: the change reaches the host.
    const other = new jsforce.Connection({
      instanceUrl: sf.instanceUrl,
      accessToken: sf.accessToken,
      version: '62.0',
      callOptions: { client: 'sales-team-app' },
    });
    const adaId = sf.records('Contact').find((r) => r.Email === 'ada@example.com')?.Id as string;
    await other.sobject('Contact').update({ Id: adaId, Title: 'CTO' });
    await waitFor(() => host.get('h-1')?.title === 'CTO');
    const ctoEvent = received.at(-1) as SalesforceChangeEvent;
    expect(ctoEvent.header.changeOrigin).toContain('client=sales-team-app');
    expect(applied.at(-1)?.upserted[0]?.changes).toEqual({ title: 'CTO' });

    // 3. The engine's own push of a host edit comes back as an echo: not applied again.
    host.set('h-2', { ...(host.get('h-2') as HostContact), title: 'Mathematician' });
    const appliedBefore = applied.length;
    const eventsBefore = received.length;
    expect(await engine.pushContacts([...host.values()])).toMatchObject({ updated: 1, unchanged: 1 });
    await waitFor(() => received.length > eventsBefore);
    expect(received.at(-1)?.header.changeOrigin).toContain(`client=${TAG}`);
    expect(reports.at(-1)).toMatchObject({ unchanged: 1, updated: 0 });
    expect(applied).toHaveLength(appliedBefore);

    // 4. A newer edit, then a duplicated and an out-of-order (older) delivery: the host keeps the newest.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await other.sobject('Contact').update({ Id: adaId, Title: 'CEO' });
    await waitFor(() => host.get('h-1')?.title === 'CEO');
    const ceoEvent = received.at(-1) as SalesforceChangeEvent;
    const duplicate = await engine.handleChangeEvent(toCrmChangeEvent(ceoEvent, provider) as never, {
      apply,
      getHostContacts,
    });
    expect(duplicate).toMatchObject({ unchanged: 1, updated: 0 });
    const outOfOrder = await engine.handleChangeEvent(toCrmChangeEvent(ctoEvent, provider) as never, {
      apply,
      getHostContacts,
    });
    expect(outOfOrder).toMatchObject({ unchanged: 1, updated: 0 });
    expect(host.get('h-1')?.title).toBe('CEO');

    // Every handled event left a webhook log entry.
    const logs = await storage.syncLogs.list(INTEGRATION);
    expect(logs.filter((l) => l.syncType === 'webhook').length).toBeGreaterThanOrEqual(received.length);
  });

  it.each(['rest', 'bulk'] as const)(
    "tags the engine's %s writes with the provider's clientName in the change events' changeOrigin",
    async (bulkMode) => {
      const provider = new SalesforceProvider({
        instanceUrl: sf.instanceUrl,
        accessToken: sf.accessToken,
        clientName: TAG,
        sleep: async () => {},
      });
      const engine = new SyncEngine({
        provider,
        storage: new MemoryStorage(),
        integrationId: INTEGRATION,
        bulkMode,
      });
      await engine.pushContacts([{ externalId: 'h-9', email: 'grace@example.com', lastName: 'Hopper' }]);
      const events = await sf.realtime.changeEvents();
      const origins = events
        .filter((e) => e.entityName === 'Contact')
        .map((e) => (e.payload.ChangeEventHeader as { changeOrigin: string }).changeOrigin);
      expect(origins).toHaveLength(1);
      expect(origins[0]).toMatch(
        new RegExp(`^com/salesforce/api/${bulkMode === 'bulk' ? 'bulkapi' : 'rest'}/[0-9.]+;client=${TAG}$`),
      );
    },
  );
});
