import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createOutboundMessageHandler,
  type SalesforceOutboundNotification,
  toNodeHttpListener,
} from '../../src/salesforce/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  type EmulatorRealtimeControls,
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let realtime: EmulatorRealtimeControls;
let conn: jsforce.Connection;
const servers: Server[] = [];

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  realtime = sf.realtime;
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/salesforce/outbound`;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('outbound messages end to end (emulator → node:http → createOutboundMessageHandler)', () => {
  it('records created and edited through the API reach the host store', async () => {
    const host = new Map<string, Record<string, string | null>>();
    const handler = createOutboundMessageHandler({
      organizationIds: [sf.orgId],
      onNotifications: (notifications) => {
        for (const n of notifications) host.set(n.sObject.fields.Id as string, { ...n.sObject.fields });
      },
    });
    const endpointUrl = await listen(toNodeHttpListener(handler));
    await realtime.addOutboundMessage({
      sobject: 'Contact',
      fields: ['Email', 'FirstName', 'LastName', 'Phone'],
      endpointUrl,
    });

    const created = await conn.sobject('Contact').create({ LastName: 'Lovelace', Email: 'ada@example.com' });
    if (!created.success) throw new Error('create failed');
    await waitFor(() => host.has(created.id));
    expect(host.get(created.id)).toEqual({
      Id: created.id,
      Email: 'ada@example.com',
      FirstName: null,
      LastName: 'Lovelace',
      Phone: null,
    });
    await conn.sobject('Contact').update({ Id: created.id, FirstName: 'Ada', Phone: '+44 20 7946 0000' });
    await waitFor(() => host.get(created.id)?.FirstName === 'Ada');
    expect(host.get(created.id)).toMatchObject({ Phone: '+44 20 7946 0000' });

    // The host has the record before the emulator has read the ACK: wait for that too.
    await waitFor(async () => (await realtime.outboundDeliveries()).every((d) => d.acked));
    const deliveries = await realtime.outboundDeliveries();
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.acked && d.attempts === 1)).toBe(true);
  });

  it('a listener that fails is retried with backoff until it ACKs, and the host gets the record once', async () => {
    const storage = new MemoryStorage();
    const handedOver: SalesforceOutboundNotification[] = [];
    let failuresLeft = 2;
    const handler = createOutboundMessageHandler({
      organizationIds: [sf.orgId],
      storage,
      integrationId: 'int-om',
      onNotifications: (notifications) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('host database unavailable');
        }
        handedOver.push(...notifications);
      },
    });
    const statuses: number[] = [];
    const listener = toNodeHttpListener(handler);
    const endpointUrl = await listen((req, res) => {
      res.on('finish', () => statuses.push(res.statusCode));
      listener(req, res);
    });
    await realtime.addOutboundMessage({
      sobject: 'Lead',
      fields: ['Email', 'Company'],
      endpointUrl,
      retry: { baseMs: 30, maxMs: 100, maxAttempts: 6 },
    });
    const created = await conn
      .sobject('Lead')
      .create({ LastName: 'Hopper', Company: 'Navy', Email: 'grace@example.com' });
    if (!created.success) throw new Error('create failed');

    await waitFor(async () => (await realtime.outboundDeliveries()).some((d) => d.acked));
    expect(statuses).toEqual([500, 500, 200]);
    const [delivery] = await realtime.outboundDeliveries();
    expect(delivery).toMatchObject({ recordId: created.id, attempts: 3, acked: true, gaveUp: false });
    expect(handedOver.map((n) => [n.id, n.sObject.type, n.sObject.fields.Company])).toEqual([
      [delivery?.notificationId, 'Lead', 'Navy'],
    ]);
  });

  it('a lost ACK makes the emulator redeliver; storage dedupe ACKs it without handing it over again', async () => {
    const storage = new MemoryStorage();
    const handedOver: string[] = [];
    const handler = createOutboundMessageHandler({
      organizationIds: [sf.orgId],
      storage,
      integrationId: 'int-om',
      onNotifications: (notifications) => {
        handedOver.push(...notifications.map((n) => n.id));
      },
    });
    const listener = toNodeHttpListener(handler);
    let requests = 0;
    const endpointUrl = await listen((req, res) => {
      requests += 1;
      if (requests === 1) {
        // The host processed the message but the connection died before the ACK reached Salesforce.
        res.end = (() => {
          res.socket?.destroy();
          return res;
        }) as typeof res.end;
      }
      listener(req, res);
    });
    await realtime.addOutboundMessage({
      sobject: 'Contact',
      fields: ['Email'],
      endpointUrl,
      retry: { baseMs: 30, maxMs: 60, maxAttempts: 5 },
    });
    await conn.sobject('Contact').create({ LastName: 'Twice', Email: 'twice@example.com' });
    await waitFor(async () => (await realtime.outboundDeliveries()).some((d) => d.acked));
    const [delivery] = await realtime.outboundDeliveries();
    expect(requests).toBe(2);
    expect(delivery?.attempts).toBe(2);
    expect(handedOver).toEqual([delivery?.notificationId]);
  });

  it('a listener answering 403 (wrong org configured) is retried, then given up after maxAttempts', async () => {
    const handler = createOutboundMessageHandler({
      organizationIds: ['00D000000000001AAA'],
      onNotifications: () => {
        throw new Error('must not be called');
      },
    });
    const endpointUrl = await listen(toNodeHttpListener(handler));
    await realtime.addOutboundMessage({
      sobject: 'Contact',
      fields: ['Email'],
      endpointUrl,
      retry: { baseMs: 10, maxMs: 20, maxAttempts: 3 },
    });
    await conn.sobject('Contact').create({ LastName: 'Nobody' });
    await waitFor(async () => (await realtime.outboundDeliveries()).some((d) => d.gaveUp));
    expect(await realtime.outboundDeliveries()).toEqual([
      expect.objectContaining({ attempts: 3, acked: false, gaveUp: true, lastStatus: 403 }),
    ]);
  });

  it('refuses a non-loopback listener URL', async () => {
    await expect(
      realtime.addOutboundMessage({
        sobject: 'Contact',
        fields: ['Email'],
        endpointUrl: 'https://example.com/hook',
      }),
    ).rejects.toThrow(/loopback/);
  });

  it('stops retrying when the emulator stops', async () => {
    const own = await startSalesforceEmulator();
    const controls = own.realtime;
    let calls = 0;
    const endpointUrl = await listen((_req, res) => {
      calls += 1;
      res.statusCode = 500;
      res.end();
    });
    await controls.addOutboundMessage({
      sobject: 'Contact',
      fields: ['Email'],
      endpointUrl,
      retry: { baseMs: 20, maxMs: 20, maxAttempts: 1000 },
    });
    own.store.insert('Contact', [{ LastName: 'Stopper' }]);
    await waitFor(() => calls >= 2);
    await own.stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(calls).toBe(after);
  });
});
