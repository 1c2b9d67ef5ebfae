/**
 * Mount the CRM HTTP API in Hono: the handler is Web-standard, so Hono hands it the raw Request.
 * This one connects an org with an access token (`POST /integrations`, no OAuth) and runs a
 * background campaign and contact sync over HTTP against the embedded Salesforce emulator.
 *
 *   npx tsx examples/http-hono.ts
 *
 * Express 5 and Fastify take the same handler through `toNodeHttpListener` (see the README).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { CredentialCipher, MemoryStorage, ProviderRegistry } from '@markmail/crm';
import { createCrmHttpHandler } from '@markmail/crm/http';
import { registerSalesforceProvider } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';
import { Hono } from 'hono';

const emulator = await startSalesforceEmulator();
const handler = createCrmHttpHandler({
  storage: new MemoryStorage(),
  cipher: new CredentialCipher({ keys: { k1: randomBytes(32) } }),
  registry: registerSalesforceProvider(new ProviderRegistry()),
  // Your auth middleware would have put the user on the request; a header stands in for it here.
  resolveUser: (request) => request.headers.get('x-demo-user'),
  hostData: {
    contacts: () => [
      { externalId: 'h-1', email: 'aiko@example.com', lastName: 'Sato', tags: [], customFields: {} },
      { externalId: 'h-2', email: 'ken@example.com', lastName: 'Ito', tags: [], customFields: {} },
    ],
    campaigns: () => [
      {
        externalId: 'autumn',
        name: 'Autumn sale',
        status: 'completed',
        memberCount: 2,
        emailStats: { sent: 2, opened: 1, clicked: 0, bounced: 0, unsubscribed: 0 },
      },
    ],
    fields: () => [{ name: 'email', label: 'Email', fieldType: 'email' }],
  },
});

const app = new Hono();
app.all('/api/crm/*', (c) => handler(c.req.raw));
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/crm`;
console.log(`Hono serves the CRM API at ${base}`);

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-demo-user': 'user-1',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
};

const created = await call('POST', '/integrations', {
  provider: 'salesforce',
  credentials: { instanceUrl: emulator.instanceUrl, accessToken: emulator.accessToken },
});
const id = created.body.integration.id;
console.log(
  `POST /integrations → ${created.status}, credentials in the answer: ${'credentials' in created.body.integration}`,
);
console.log(`GET /integrations without a user → ${(await fetch(`${base}/integrations`)).status}`);

for (const kind of ['campaigns', 'contacts']) {
  const started = await call('POST', `/sync/${kind}`, { integrationId: id });
  await handler.idle();
  const { body } = await call('GET', `/integrations/${id}/status`);
  console.log(
    `POST /sync/${kind} → ${started.status}; then ${body.run.state}: ${body.run.result.created} created`,
  );
}
const { body: logs } = await call('GET', `/integrations/${id}/logs`);
console.log(`${logs.logs.length} sync runs logged`);

server.close();
await emulator.stop();
