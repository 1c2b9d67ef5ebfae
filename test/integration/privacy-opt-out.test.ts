import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmLogger } from '../../src/core/logger.js';
import {
  createOutboundMessageHandler,
  outboundNotificationToCrmChangeEvent,
  subscribeToChangeEvents,
  toCrmChangeEvent,
  toNodeHttpListener,
} from '../../src/salesforce/index.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SyncEngine } from '../../src/sync/engine.js';
import type { SyncPullBatch } from '../../src/sync/pull.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// Opt-out is sticky both ways: an opt-out on either side reaches the other, and neither a stale
// host record nor a CRM re-opt-in undoes a host's opt-out. Proven through each path a change
// travels: push, pull, Change Data Capture and outbound messages.

const TAG = 'markmail-sync';
const INTEGRATION = 'int-opt-out';
let sf: SalesforceEmulator;
const servers: Server[] = [];
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
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type HostContact = Record<string, unknown> & { externalId: string };

function setup() {
  const storage = new MemoryStorage();
  const provider = new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    clientName: TAG,
    sleep: async () => {},
  });
  const engine = new SyncEngine({
    provider,
    storage,
    integrationId: INTEGRATION,
    clientTag: TAG,
    waitForLeaseMs: 10_000,
  });
  const host = new Map<string, HostContact>([
    ['h-1', { externalId: 'h-1', email: 'ada@example.com', lastName: 'Lovelace', emailOptOut: false }],
    ['h-2', { externalId: 'h-2', email: 'alan@example.com', lastName: 'Turing', emailOptOut: false }],
  ]);
  const apply = async (batch: SyncPullBatch) => {
    for (const u of batch.upserted) {
      const key = u.externalId ?? u.crmId;
      host.set(key, { ...(host.get(key) ?? { externalId: key }), ...u.changes });
    }
  };
  const getHostContacts = async (ids: string[]) =>
    ids.flatMap((id) => (host.has(id) ? [host.get(id) as HostContact] : []));
  // Someone in the sales team, editing Salesforce with another client.
  const salesTeam = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
    callOptions: { client: 'sales-team-app' },
  });
  const sfContact = (email: string) => sf.records('Contact').find((r) => r.Email === email);
  return { storage, provider, engine, host, apply, getHostContacts, salesTeam, sfContact };
}

describe('opt-out propagates both ways', () => {
  it('push and pull: a host opt-out reaches Salesforce and a CRM re-opt-in does not undo it; a CRM opt-out reaches the host and a stale host record does not undo it', async () => {
    const { engine, host, apply, getHostContacts, salesTeam, sfContact } = setup();
    await engine.pushContacts([...host.values()]);
    await engine.pullContacts({ apply, getHostContacts }); // settles the cursor after the initial push

    // Host → CRM.
    host.set('h-1', { ...(host.get('h-1') as HostContact), emailOptOut: true });
    await engine.pushContacts([...host.values()]);
    expect(sfContact('ada@example.com')?.HasOptedOutOfEmail).toBe(true);
    // A sales rep opts Ada back in: the pull keeps the host opted out…
    await salesTeam
      .sobject('Contact')
      .update({ Id: sfContact('ada@example.com')?.Id as string, HasOptedOutOfEmail: false });
    await engine.pullContacts({ apply, getHostContacts });
    expect(host.get('h-1')?.emailOptOut).toBe(true);
    // …and the next push restores the opt-out in Salesforce.
    await engine.pushContacts([...host.values()]);
    expect(sfContact('ada@example.com')?.HasOptedOutOfEmail).toBe(true);

    // CRM → host. The host pushes its stale copy (still opted in, unchanged) before it pulls:
    // nothing is sent, so the CRM keeps the opt-out; the pull then opts the host out.
    await salesTeam
      .sobject('Contact')
      .update({ Id: sfContact('alan@example.com')?.Id as string, HasOptedOutOfEmail: true });
    expect(host.get('h-2')?.emailOptOut).toBe(false);
    await engine.pushContacts([...host.values()]);
    expect(sfContact('alan@example.com')?.HasOptedOutOfEmail).toBe(true);
    await engine.pullContacts({ apply, getHostContacts });
    expect(host.get('h-2')?.emailOptOut).toBe(true);
  });

  it('Change Data Capture: a CRM opt-out reaches the host in real time; a CRM re-opt-in does not undo it', async () => {
    const { storage, provider, engine, host, apply, getHostContacts, salesTeam, sfContact } = setup();
    await engine.pushContacts([...host.values()]);
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
    let handled = 0;
    const done = subscribeToChangeEvents({
      connection: new jsforce.Connection({
        instanceUrl: sf.instanceUrl,
        accessToken: sf.accessToken,
        version: '62.0',
      }),
      channel: '/data/ContactChangeEvent',
      storage,
      integrationId: INTEGRATION,
      signal: controller.signal,
      logger,
      onEvent: async (event) => {
        const change = toCrmChangeEvent(event, provider);
        if (change) await engine.handleChangeEvent(change, { apply, getHostContacts });
        handled += 1;
      },
    });
    stops.push({ controller, done });
    await subscribed;
    const id = sfContact('ada@example.com')?.Id as string;
    await salesTeam.sobject('Contact').update({ Id: id, HasOptedOutOfEmail: true });
    await waitFor(() => host.get('h-1')?.emailOptOut === true);
    const before = handled;
    await salesTeam.sobject('Contact').update({ Id: id, HasOptedOutOfEmail: false, Title: 'Countess' });
    await waitFor(() => handled > before && host.get('h-1')?.title === 'Countess');
    expect(host.get('h-1')?.emailOptOut).toBe(true);
  });

  it('outbound messages: a CRM opt-out delivered by workflow reaches the host; a later re-opt-in does not undo it', async () => {
    const { storage, provider, engine, host, apply, getHostContacts, salesTeam, sfContact } = setup();
    await engine.pushContacts([...host.values()]);
    const handler = createOutboundMessageHandler({
      organizationIds: [sf.orgId],
      storage,
      integrationId: INTEGRATION,
      onNotifications: async (notifications) => {
        for (const notification of notifications) {
          const change = outboundNotificationToCrmChangeEvent(notification, provider);
          if (change) await engine.handleChangeEvent(change, { apply, getHostContacts });
        }
      },
    });
    const server = createServer(toNodeHttpListener(handler));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/salesforce/outbound`;
    const realtime = sf.realtime;
    await realtime.addOutboundMessage({
      sobject: 'Contact',
      fields: ['Email', 'HasOptedOutOfEmail', 'Title', 'SystemModstamp'],
      endpointUrl,
    });
    const id = sfContact('alan@example.com')?.Id as string;
    await salesTeam.sobject('Contact').update({ Id: id, HasOptedOutOfEmail: true });
    await waitFor(() => host.get('h-2')?.emailOptOut === true);
    await salesTeam.sobject('Contact').update({ Id: id, HasOptedOutOfEmail: false, Title: 'Mathematician' });
    await waitFor(() => host.get('h-2')?.title === 'Mathematician');
    expect(host.get('h-2')?.emailOptOut).toBe(true);
    // The host has the record before the emulator has read the ACK: wait for that too.
    await waitFor(async () => (await realtime.outboundDeliveries()).every((d) => d.acked));
  });
});
