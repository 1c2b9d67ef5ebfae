import { type CrmLogger, MemoryStorage } from '@markmail/crm';
import {
  createHubSpotWebhookHandler,
  type HubSpotWebhookEvent,
  hubSpotEventsToChangeEvents,
  hubSpotEventToChangeEvent,
  hubSpotSignatureV3,
} from '@markmail/crm/hubspot';
import { describe, expect, it, vi } from 'vitest';

const SECRET = 'app-client-secret-123456';
const URL_ = 'https://host.example.com/webhooks/hubspot?x=1';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const clock = { now: () => new Date(NOW) };

function event(eventId: number, extra: Partial<HubSpotWebhookEvent> = {}): HubSpotWebhookEvent {
  return {
    eventId,
    portalId: 1,
    occurredAt: NOW - 1000,
    subscriptionType: 'contact.propertyChange',
    objectId: 501,
    propertyName: 'firstname',
    propertyValue: 'Ada',
    ...extra,
  };
}

function signed(
  body: string,
  options: { timestamp?: number; secret?: string; signature?: string | null } = {},
) {
  const timestamp = String(options.timestamp ?? NOW);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-hubspot-request-timestamp': timestamp,
  };
  const signature =
    options.signature === undefined
      ? hubSpotSignatureV3(options.secret ?? SECRET, 'POST', URL_, body, timestamp)
      : options.signature;
  if (signature !== null) headers['x-hubspot-signature-v3'] = signature;
  return new Request(URL_, { method: 'POST', headers, body });
}

function logger(): CrmLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string, data?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(data ?? {})}`);
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe('createHubSpotWebhookHandler', () => {
  it('hands verified events over and answers 200 only after onEvents resolved', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const onEvents = vi.fn(async () => gate);
    const handler = createHubSpotWebhookHandler({ clientSecret: SECRET, onEvents, clock });
    let settled = false;
    const pending = handler(signed(JSON.stringify([event(1)]))).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    release();
    expect((await pending).status).toBe(200);
    expect(onEvents).toHaveBeenCalledWith([event(1)]);
  });

  it.each([
    ['a wrong signature', { secret: 'other-secret' }],
    ['a missing signature', { signature: null }],
    ['a stale timestamp', { timestamp: NOW - 6 * 60_000 }],
    ['a timestamp from the future', { timestamp: NOW + 6 * 60_000 }],
  ])('refuses %s with 401 and hands nothing over; the secret never reaches the log', async (_, options) => {
    const onEvents = vi.fn();
    const log = logger();
    const handler = createHubSpotWebhookHandler({ clientSecret: SECRET, onEvents, clock, logger: log });
    const response = await handler(signed(JSON.stringify([event(1)]), options));
    expect(response.status).toBe(401);
    expect(onEvents).not.toHaveBeenCalled();
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });

  it('refuses a body over the cap with 413 before reading it whole', async () => {
    const onEvents = vi.fn();
    const handler = createHubSpotWebhookHandler({
      clientSecret: SECRET,
      onEvents,
      clock,
      maxBodyBytes: 1024,
    });
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(512).fill(32));
        if (pulled > 1000) controller.close();
      },
    });
    const request = new Request(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect((await handler(request)).status).toBe(413);
    expect(pulled).toBeLessThan(10);
    expect(onEvents).not.toHaveBeenCalled();
  });

  it('answers 400 to malformed JSON that is correctly signed', async () => {
    const onEvents = vi.fn();
    const handler = createHubSpotWebhookHandler({ clientSecret: SECRET, onEvents, clock });
    expect((await handler(signed('[{"eventId":'))).status).toBe(400);
    expect((await handler(signed('{"not":"an array"}'))).status).toBe(400);
    expect(onEvents).not.toHaveBeenCalled();
  });

  it('with storage, a replayed event id gets 200 without a second hand-over', async () => {
    const storage = new MemoryStorage();
    const onEvents = vi.fn();
    const handler = createHubSpotWebhookHandler({
      clientSecret: SECRET,
      onEvents,
      clock,
      storage,
      integrationId: 'i1',
    });
    expect((await handler(signed(JSON.stringify([event(7), event(8)])))).status).toBe(200);
    expect((await handler(signed(JSON.stringify([event(8), event(9)])))).status).toBe(200);
    expect(
      onEvents.mock.calls.map((call) => (call[0] as HubSpotWebhookEvent[]).map((e) => e.eventId)),
    ).toEqual([[7, 8], [9]]);
  });

  it('answers 500 when onEvents throws, and the event is handed over again on retry', async () => {
    const storage = new MemoryStorage();
    const onEvents = vi.fn().mockRejectedValueOnce(new Error('db down')).mockResolvedValue(undefined);
    const handler = createHubSpotWebhookHandler({
      clientSecret: SECRET,
      onEvents,
      clock,
      storage,
      integrationId: 'i1',
    });
    expect((await handler(signed(JSON.stringify([event(3)])))).status).toBe(500);
    expect((await handler(signed(JSON.stringify([event(3)])))).status).toBe(200);
    expect(onEvents).toHaveBeenCalledTimes(2);
  });

  it('refuses bad options with CrmConfigurationError', () => {
    expect(() => createHubSpotWebhookHandler({ clientSecret: '', onEvents: () => {} })).toThrow(
      /clientSecret/,
    );
    expect(() =>
      createHubSpotWebhookHandler({ clientSecret: SECRET, onEvents: () => {}, storage: new MemoryStorage() }),
    ).toThrow(/integrationId/);
    expect(() =>
      createHubSpotWebhookHandler({ clientSecret: SECRET, onEvents: () => {}, nope: 1 } as never),
    ).toThrow(/nope/);
  });
});

describe('hubSpotEventToChangeEvent', () => {
  it('maps property changes, deletions and creations onto the core change event', () => {
    expect(hubSpotEventToChangeEvent(event(1))).toMatchObject({
      entityType: 'contact',
      kind: 'upsert',
      partial: true,
      crmIds: ['501'],
      fields: { firstName: 'Ada' },
      eventId: '1',
    });
    expect(
      hubSpotEventToChangeEvent(event(2, { propertyName: 'markmail_id', propertyValue: 'h-1' }))?.fields,
    ).toEqual({
      externalId: 'h-1',
    });
    expect(hubSpotEventToChangeEvent(event(3, { propertyName: 'score', propertyValue: '' }))?.fields).toEqual(
      {
        customFields: { score: null },
      },
    );
    expect(hubSpotEventToChangeEvent(event(4, { subscriptionType: 'contact.privacyDeletion' }))?.kind).toBe(
      'delete',
    );
    expect(hubSpotEventToChangeEvent(event(5, { subscriptionType: 'contact.creation' }))?.kind).toBe(
      'resync',
    );
    expect(hubSpotEventToChangeEvent(event(6, { subscriptionType: 'deal.creation' }))).toBeUndefined();
  });
});

describe('hubSpotEventsToChangeEvents', () => {
  it('folds every event that needs a re-read into one resync', () => {
    const changes = hubSpotEventsToChangeEvents([
      event(1, { subscriptionType: 'contact.creation', objectId: 1 }),
      event(2),
      event(3, { subscriptionType: 'contact.creation', objectId: 2 }),
      event(4, { subscriptionType: 'contact.merge', objectId: 3 }),
    ]);
    expect(changes.map((c) => [c.kind, c.crmIds])).toEqual([
      ['upsert', ['501']],
      ['resync', ['1', '2', '3']],
    ]);
  });
});
