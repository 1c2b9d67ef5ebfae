import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStorage, SyncEngine, type SyncPullBatch } from '@markmail/crm';
import {
  createHubSpotWebhookHandler,
  HubSpotProvider,
  hubSpotEventsToChangeEvents,
} from '@markmail/crm/hubspot';
import { type HubSpotEmulator, startHubSpotEmulator } from '@markmail/crm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let hubspot: HubSpotEmulator;
let server: Server | undefined;
beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 100_000, intervalMs: 10_000 } });
});
afterAll(async () => {
  server?.close();
  await hubspot.stop();
});

/** Serves a Web-standard handler on node:http (the test's stand-in for the host's web server). */
async function serve(handler: (request: Request) => Promise<Response>): Promise<string> {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers))
      if (typeof value === 'string') headers.set(key, value);
    const address = server?.address() as AddressInfo;
    const response = await handler(
      new Request(`http://127.0.0.1:${address.port}${req.url}`, {
        method: req.method ?? 'POST',
        headers,
        body: Buffer.concat(chunks),
      }),
    );
    res.writeHead(response.status, { 'content-type': 'application/json' });
    res.end(await response.text());
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/hubspot`;
}

describe('SyncEngine end to end on HubSpot (emulator)', () => {
  it('pushes, re-pushes at 0 calls, pulls CRM edits and applies a signed webhook event', async () => {
    const provider = new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      accessToken: hubspot.accessToken,
      sleep: async () => {},
    });
    const storage = new MemoryStorage();
    const engine = new SyncEngine({ provider, storage, integrationId: 'hs-1' });
    const host = new Map(
      Array.from({ length: 120 }, (_, i) => [
        `h-${i}`,
        { externalId: `h-${i}`, email: `p${i}@example.com`, lastName: `P${i}` },
      ]),
    );

    const pushed = await engine.pushContacts([...host.values()]);
    expect(pushed).toMatchObject({ created: 120, failed: 0, apiCalls: 2 });
    const callsBefore = hubspot.stats.apiCalls;
    const again = await engine.pushContacts([...host.values()]);
    expect(again).toMatchObject({ unchanged: 120, apiCalls: 0 });
    expect(hubspot.stats.apiCalls).toBe(callsBefore);

    const apply = async (batch: SyncPullBatch) => {
      for (const u of batch.upserted) {
        const key = u.externalId ?? u.crmId;
        host.set(key, {
          ...(host.get(key) ?? { externalId: key, email: '', lastName: '' }),
          ...(u.changes as object),
        });
      }
    };
    // First pull: the engine's own pushes come back unchanged.
    await engine.pullContacts({ apply });
    const ada = hubspot.contacts().find((c) => c.properties.markmail_id === 'h-3');
    expect(ada).toBeDefined();
    // A CRM-side edit (another HubSpot user) arrives through the pull.
    const patched = await fetch(`${hubspot.baseUrl}/crm/v3/objects/contacts/${ada?.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${hubspot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { jobtitle: 'Engineer' } }),
    });
    expect(patched.status).toBe(200);
    const pulled = await engine.pullContacts({ apply });
    expect(pulled).toMatchObject({ updated: 1 });
    expect(host.get('h-3')).toMatchObject({ title: 'Engineer' });

    // A webhook for the next edit goes through the handler into handleChangeEvent.
    const storageForHooks = new MemoryStorage();
    const handled: string[] = [];
    const url = await serve(
      createHubSpotWebhookHandler({
        clientSecret: hubspot.clientSecret,
        storage: storageForHooks,
        integrationId: 'hs-1',
        onEvents: async (events) => {
          for (const change of hubSpotEventsToChangeEvents(events)) {
            await engine.handleChangeEvent(change, { apply });
            handled.push(change.kind);
          }
        },
      }),
    );
    await hubspot.webhooks.deliver(url); // flush the backlog of earlier changes
    handled.length = 0;
    await fetch(`${hubspot.baseUrl}/crm/v3/objects/contacts/${ada?.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${hubspot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { firstname: 'Ada' } }),
    });
    const delivery = await hubspot.webhooks.deliver(url);
    expect(delivery).toEqual({ status: 200, events: 1 });
    expect(handled).toEqual(['upsert']);
    expect(host.get('h-3')).toMatchObject({ firstName: 'Ada', title: 'Engineer' });

    // A delivery signed with another secret is refused and stays pending.
    await fetch(`${hubspot.baseUrl}/crm/v3/objects/contacts/${ada?.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${hubspot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { firstname: 'Eve' } }),
    });
    expect((await hubspot.webhooks.deliver(url, { signWith: 'not-the-secret' })).status).toBe(401);
    expect(hubspot.webhooks.pending()).toBe(1);
    expect(host.get('h-3')).toMatchObject({ firstName: 'Ada' });
  });
});
