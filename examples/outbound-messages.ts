/**
 * Outbound messages: receive Salesforce's SOAP notifications in the host, ACK only after they are
 * stored, never apply a redelivered notification twice. The same handler is mounted twice: on
 * plain `node:http` (Contact changes) and on Hono (Lead changes).
 *
 *   npx tsx examples/outbound-messages.ts
 *
 * Runs against the embedded Salesforce emulator, which plays Salesforce's part and POSTs the
 * notifications to the two listeners. With a real org, run only the listener part behind HTTPS
 * (Salesforce needs a public URL), pass your org id, and configure the outbound message in Setup.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MemoryStorage } from '@markmail/crm';
import {
  createOutboundMessageHandler,
  type SalesforceOutboundNotification,
  toNodeHttpListener,
} from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';
import { Hono } from 'hono';
import jsforce from 'jsforce';

const sf = await startSalesforceEmulator();
console.log(`Salesforce emulator at ${sf.instanceUrl} (org ${sf.orgId})`);

// The host's side: its database (a Map here) and the storage the SDK keeps its dedupe records in.
const hostRecords = new Map<string, Record<string, string | null>>();
const storage = new MemoryStorage();
const integrationId = 'integration-1';

const handler = createOutboundMessageHandler({
  // Only this org may post here: Salesforce's IP ranges and certificate are shared by every org.
  organizationIds: [sf.orgId],
  storage,
  integrationId,
  maxBodyBytes: 1024 * 1024,
  onNotifications: async (notifications: SalesforceOutboundNotification[]) => {
    // Resolve only once the data is durable: the ACK goes out after this, and a throw makes
    // Salesforce redeliver later.
    for (const { sObject } of notifications) {
      const id = sObject.fields.Id as string;
      hostRecords.set(id, { type: sObject.type, ...sObject.fields });
      console.log(`  host stored ${sObject.type} ${id}: ${sObject.fields.Email}`);
    }
  },
});

// 1. Plain node:http.
const nodeServer = createServer(toNodeHttpListener(handler));
await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));
const nodeUrl = `http://127.0.0.1:${(nodeServer.address() as AddressInfo).port}/salesforce/outbound`;

// 2. Hono: the handler is Web-standard, so it takes Hono's raw Request as is.
const app = new Hono();
app.post('/salesforce/outbound', (c) => handler(c.req.raw));
const honoServer = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server));
});
const honoUrl = `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}/salesforce/outbound`;

// What an admin would configure in Setup → Outbound Messages (plus a workflow/flow trigger).
const realtime = sf.realtime;
await realtime.addOutboundMessage({
  sobject: 'Contact',
  fields: ['Email', 'FirstName', 'LastName'],
  endpointUrl: nodeUrl,
});
await realtime.addOutboundMessage({ sobject: 'Lead', fields: ['Email', 'Company'], endpointUrl: honoUrl });
console.log(`Listening on ${nodeUrl} (node:http) and ${honoUrl} (Hono)`);

// Someone edits records in Salesforce.
const conn = new jsforce.Connection({
  instanceUrl: sf.instanceUrl,
  accessToken: sf.accessToken,
  version: '62.0',
});
await conn.sobject('Contact').create({ FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@example.com' });
await conn.sobject('Lead').create({ LastName: 'Hopper', Company: 'Navy', Email: 'grace@example.com' });

const deadline = Date.now() + 10_000;
const acknowledged = async () => (await realtime.outboundDeliveries()).every((d) => d.acked);
while ((hostRecords.size < 2 || !(await acknowledged())) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 25));
}
const deliveries = await realtime.outboundDeliveries();
console.log(
  `Delivered: ${deliveries.filter((d) => d.acked).length}/${deliveries.length} notifications acknowledged`,
);

nodeServer.close();
honoServer.close();
await sf.stop();
if (hostRecords.size !== 2) {
  console.error('Not every notification arrived');
  process.exitCode = 1;
}
