/**
 * HubSpot quickstart: push host contacts to HubSpot in batches of 100 with per-record results,
 * push again (nothing is re-sent), edit a contact in HubSpot and pull it back, then receive the
 * next edit as a signed webhook.
 *
 *   npx tsx examples/hubspot-quickstart.ts
 *
 * Runs against the embedded HubSpot emulator by default. To use a real portal, set
 * HUBSPOT_ACCESS_TOKEN (a private-app token or service key with crm.objects.contacts.read/write);
 * the portal needs a contact property `markmail_id` with unique values (or pass
 * `externalIdProperty: null` to match by email).
 */
import { type CrmContactInput, MemoryStorage, SyncEngine, type SyncPullBatch } from '@markmail/crm';
import {
  createHubSpotWebhookHandler,
  HubSpotProvider,
  hubSpotEventsToChangeEvents,
} from '@markmail/crm/hubspot';
import { startHubSpotEmulator } from '@markmail/crm/testing';

const realPortal = Boolean(process.env.HUBSPOT_ACCESS_TOKEN);
const emulator = realPortal ? null : await startHubSpotEmulator();
const provider = new HubSpotProvider(
  realPortal
    ? { accessToken: process.env.HUBSPOT_ACCESS_TOKEN as string }
    : { baseUrl: emulator!.baseUrl, accessToken: emulator!.accessToken },
);
console.log(
  realPortal
    ? 'Using the HubSpot portal of HUBSPOT_ACCESS_TOKEN'
    : `Started the HubSpot emulator at ${emulator!.baseUrl}`,
);

// The host's subscribers: 250 good ones and one with an invalid email, rejected locally.
const subscribers: CrmContactInput[] = Array.from({ length: 250 }, (_, i) => ({
  externalId: `sub-${i}`,
  email: `subscriber${i}@example.com`,
  firstName: 'Sub',
  lastName: `Scriber ${i}`,
}));
subscribers.push({ externalId: 'sub-broken', email: 'not an email', lastName: 'Broken' });

const storage = new MemoryStorage();
const engine = new SyncEngine({
  provider,
  storage,
  integrationId: 'hubspot-demo',
  conflictPolicy: 'crm_wins',
});

const first = await engine.pushContacts(subscribers);
console.log('\nFirst push (batch upserts of 100)');
console.table({
  created: first.created,
  updated: first.updated,
  failed: first.failed,
  apiCalls: first.apiCalls,
});
for (const error of first.errors)
  console.log(`  ✗ ${error.externalId}: ${error.code} (${error.fields?.join(', ') ?? ''})`);

const second = await engine.pushContacts(subscribers);
console.log('\nSecond push of the same contacts (content hashes unchanged → no API calls)');
console.table({ unchanged: second.unchanged, apiCalls: second.apiCalls });

const host = new Map(subscribers.map((s) => [s.externalId, { ...s } as Record<string, unknown>]));
const apply = async (batch: SyncPullBatch) => {
  for (const change of batch.upserted) {
    const key = change.externalId ?? change.crmId;
    console.log(`  ← ${key}: ${JSON.stringify(change.changes)}`);
    host.set(key, { ...(host.get(key) ?? {}), ...(change.changes as object) });
  }
};
await engine.pullContacts({ apply });

// Someone edits a contact in HubSpot; the pull brings the change to the host.
const ada = await provider.getContact('subscriber7@example.com');
if (ada?.id) await provider.updateContact({ ...ada, title: 'Head of Research' });
const pulled = await engine.pullContacts({ apply });
console.log('\nPull from HubSpot');
console.table({ processed: pulled.processed, updated: pulled.updated, unchanged: pulled.unchanged });

if (emulator && ada?.id) {
  // Webhooks: HubSpot POSTs signed event arrays; the handler verifies and hands them to the engine.
  const handler = createHubSpotWebhookHandler({
    clientSecret: emulator.clientSecret,
    storage,
    integrationId: 'hubspot-demo',
    onEvents: async (events) => {
      for (const change of hubSpotEventsToChangeEvents(events))
        await engine.handleChangeEvent(change, { apply });
    },
  });
  const { createServer } = await import('node:http');
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers(
      Object.entries(req.headers).flatMap(
        ([k, v]): Array<[string, string]> => (typeof v === 'string' ? [[k, v]] : []),
      ),
    );
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}${req.url}`;
    const response = await handler(
      new Request(url, { method: 'POST', headers, body: Buffer.concat(chunks) }),
    );
    res.writeHead(response.status).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/hubspot`;
  await emulator.webhooks.deliver(target); // the backlog of the pushes above (echoes: unchanged)
  await provider.updateContact({ ...ada, title: 'Head of Research', firstName: 'Ada' });
  const delivery = await emulator.webhooks.deliver(target);
  console.log(
    `\nWebhook delivery answered ${delivery.status} for ${delivery.events} event(s); host now has firstName=${String(host.get('sub-7')?.firstName)}`,
  );
  server.close();
}

console.log(`\nAPI usage ${JSON.stringify(provider.apiUsage ?? 'n/a')}`);
await emulator?.stop();
