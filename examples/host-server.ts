/**
 * The whole product in one process: a host app's `node:http` server that mounts the CRM HTTP API
 * and its dashboard, connected to the embedded Salesforce emulator.
 *
 *   npx tsx examples/host-server.ts            # then open the printed URL
 *   npx tsx examples/host-server.ts --port 3000 --latency 300   # slower CRM: watch progress
 *   npx tsx examples/host-server.ts --once     # connect, map, sync over HTTP, print, exit
 *
 * In the dashboard: "Connect Salesforce" runs the OAuth web-server flow against the emulator (it
 * approves at once), "Edit field mappings" shows suggestions from the host's Japanese field
 * labels, "Sync contacts" pushes the demo contacts in the background with live progress, and one
 * demo contact has no last name, so the errors panel shows a REQUIRED_FIELD_MISSING group.
 *
 * Hono (`@hono/node-server`): `app.all('/api/crm/*', (c) => handler(c.req.raw))`.
 * Express: `app.all('/api/crm/*splat', toNodeHttpListener(handler))` — mount it before any body
 * parser, the handler reads the body itself. Fastify: register it in a plugin that leaves the body
 * unparsed and call `toNodeHttpListener(handler)(request.raw, reply.raw)`. See the README.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CredentialCipher, type CrmContact, MemoryStorage, ProviderRegistry } from '@markmail/crm';
import { type CrmHttpHostField, createCrmHttpHandler, toNodeHttpListener } from '@markmail/crm/http';
import {
  beginOAuthAuthorization,
  createOAuthCallbackHandler,
  MemoryOAuthStateStore,
  registerSalesforceProvider,
  SalesforceOAuth,
  SalesforceProvider,
  TokenManager,
} from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    once: { type: 'boolean', default: false },
    // Milliseconds the emulator waits before each answer, to watch progress in the dashboard.
    latency: { type: 'string', default: '0' },
  },
});

const emulator = await startSalesforceEmulator({ latencyMs: Number(args.latency) });
const storage = new MemoryStorage();
const cipher = new CredentialCipher({ keys: { k1: process.env.CRM_KEY ?? randomBytes(32) } });
const registry = registerSalesforceProvider(new ProviderRegistry());
const stateStore = new MemoryOAuthStateStore();
// A real host reads the signed-in user from its session cookie; this demo has one user.
const resolveUser = () => 'demo-user';

// The host's own records: subscribers with Japanese field labels, as the original MarkMail had.
const hostFields: CrmHttpHostField[] = [
  { name: 'email', label: 'メール', fieldType: 'email' },
  { name: 'firstName', label: '名', fieldType: 'text' },
  { name: 'lastName', label: '姓', fieldType: 'text' },
  { name: 'title', label: '役職', fieldType: 'text' },
  { name: 'phone', label: '電話', fieldType: 'phone' },
];
const demoContacts: CrmContact[] = Array.from({ length: 250 }, (_, i) => ({
  externalId: `sub-${i + 1}`,
  email: `subscriber${i + 1}@example.com`,
  firstName: `Hanako${i + 1}`,
  // Salesforce requires a Contact's last name: this one fails, so the errors panel has something.
  ...(i === 6 ? {} : { lastName: `Yamada${i + 1}` }),
  title: i % 2 ? 'Engineer' : 'Manager',
  tags: [],
  customFields: {},
}));

const server = createServer();
await new Promise<void>((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const oauth = new SalesforceOAuth({
  loginUrl: emulator.loginUrl,
  clientId: emulator.clientId,
  clientSecret: emulator.clientSecret,
  redirectUri: `${origin}/api/crm/auth/salesforce/callback`,
});

const handler = createCrmHttpHandler({
  storage,
  cipher,
  registry,
  resolveUser,
  hostData: {
    contacts: () => demoContacts,
    campaigns: () => [
      {
        externalId: 'spring-2026',
        name: 'Spring newsletter',
        status: 'active',
        memberCount: 250,
        emailStats: { sent: 250, opened: 121, clicked: 37, bounced: 1, unsubscribed: 0 },
      },
    ],
    fields: () => hostFields,
  },
  auth: {
    salesforce: {
      start: ({ userId, returnTo }) => beginOAuthAuthorization({ oauth, stateStore, userId, returnTo }),
      callback: createOAuthCallbackHandler({ oauth, storage, cipher, stateStore, resolveUser }),
    },
  },
  // Each sync gets a provider whose TokenManager refreshes expired sessions and stores rotated
  // tokens encrypted again.
  createProvider: async (integration) => {
    const tokens = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
    const session = await tokens.getSession();
    return new SalesforceProvider({
      instanceUrl: session.instanceUrl,
      accessToken: session.accessToken,
      refreshAccessToken: () => tokens.refresh(),
    });
  },
});
server.on('request', toNodeHttpListener(handler));

console.log(`Salesforce emulator: ${emulator.instanceUrl}`);
console.log(`Dashboard: ${origin}/api/crm/ui`);

async function shutdown(): Promise<void> {
  await handler.close();
  await new Promise((resolve) => server.close(resolve));
  await emulator.stop();
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

if (args.once) {
  // What the dashboard does, as plain HTTP calls (a browser sends Origin on each of these).
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${origin}/api/crm${path}`, {
      method,
      headers: { origin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  };
  const page = await fetch(`${origin}/api/crm/ui`);
  console.log(
    `GET /ui → ${page.status} ${page.headers.get('content-type')}, ${(await page.text()).length} bytes`,
  );
  const { body: start } = await api('POST', '/auth/salesforce', { returnTo: '/api/crm/ui' });
  // The browser's part: follow Salesforce's redirect to the callback, which stores the org.
  const approval = await fetch(start.url, { redirect: 'manual' });
  const callback = await fetch(approval.headers.get('location')!, { redirect: 'manual' });
  console.log(`OAuth callback → ${callback.status} ${callback.headers.get('location')}`);
  const { body: list } = await api('GET', '/integrations');
  const integration = list.integrations[0];
  console.log(`Connected org ${integration.orgId}: ${integration.connection}`);
  const { body: suggested } = await api('GET', `/integrations/${integration.id}/field-mappings/suggestions`);
  for (const s of suggested.suggestions) {
    console.log(
      `  suggestion ${s.hostField} → ${s.crmField} (${Math.round(s.confidence * 100)}%: ${s.reason})`,
    );
  }
  const saved = await api('PUT', `/integrations/${integration.id}/field-mappings`, {
    fieldMappings: suggested.suggestions.map(
      (s: { hostField: string; crmField: string; fieldType: string }) => ({
        hostField: s.hostField,
        crmField: s.crmField,
        fieldType: s.fieldType,
      }),
    ),
  });
  console.log(`PUT field-mappings → ${saved.status} (${saved.body.fieldMappings.length} saved)`);
  const sync = await api('POST', '/sync/contacts', { integrationId: integration.id });
  console.log(`POST /sync/contacts → ${sync.status} (${sync.body.run.state})`);
  let status = await api('GET', `/integrations/${integration.id}/status`);
  while (status.body.run.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await api('GET', `/integrations/${integration.id}/status`);
  }
  const result = status.body.run.result;
  console.log(
    `Sync ${status.body.run.state}: ${result.processed} processed, ${result.created} created, ${result.failed} failed`,
  );
  const { body: errors } = await api('GET', `/integrations/${integration.id}/errors`);
  for (const group of errors.errors) {
    console.log(`  ${group.code}: ${group.count} record(s), e.g. ${group.examples[0].externalId}`);
  }
  await shutdown();
}
