import { describe, expect, it } from 'vitest';
import { CrmAuthenticationError, CrmConfigurationError, CrmConnectionError } from '../../src/core/errors.js';
import {
  type SalesforceChangeEvent,
  type SalesforceStreamingConnection,
  type SubscribeToChangeEventsOptions,
  subscribeToChangeEvents,
} from '../../src/salesforce/index.js';
import { MemoryStorage } from '../../src/storage/memory.js';

type Message = Record<string, unknown>;
interface Extension {
  outgoing?(message: Message, callback: (message: Message) => void): void;
  incoming?(message: Message, callback: (message: Message) => void): void;
}

/** A stand-in for the Faye client jsforce returns: records what the extensions do. */
class FakeFayeClient {
  readonly sentSubscribes: Message[] = [];
  readonly handlers = new Map<string, () => void>();
  listener: ((data: unknown) => void) | undefined;
  disconnected = false;
  /** Faye's dispatcher keeps retry timers per undelivered message (here: a poll cut by a restart). */
  readonly _dispatcher = {
    closed: false,
    close() {
      this.closed = true;
    },
    _envelopes: new Map<string, { timer: ReturnType<typeof setTimeout> | null; request: null }>([
      ['9', { timer: setTimeout(() => {}, 60_000), request: null }],
    ]),
  };
  headers: Record<string, string> = {};
  constructor(readonly extensions: Extension[]) {}
  subscribe(channel: string, listener: (data: unknown) => void) {
    this.listener = listener;
    let message: Message = { channel: '/meta/subscribe', subscription: channel, clientId: 'c1', id: '2' };
    for (const ext of this.extensions) ext.outgoing?.(message, (m) => (message = m));
    this.sentSubscribes.push(message);
    // Faye subscriptions are thenables; this one never settles, like a subscribe still in flight.
    // biome-ignore lint/suspicious/noThenProperty: mimics Faye's Deferrable subscription object.
    return { then: () => undefined };
  }
  receive(message: Message): void {
    for (const ext of this.extensions) ext.incoming?.(message, () => {});
  }
  on(event: string, handler: () => void): void {
    this.handlers.set(event, handler);
  }
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

function fakeConnection() {
  const clients: FakeFayeClient[] = [];
  const refreshListeners: Array<(token: string) => void> = [];
  const connection: SalesforceStreamingConnection = {
    streaming: {
      createClient: (extensions) => {
        const client = new FakeFayeClient(extensions as Extension[]);
        clients.push(client);
        return client;
      },
    },
    on: (_event, listener) => refreshListeners.push(listener),
    removeListener: () => undefined,
  };
  return { connection, clients, refreshListeners };
}

function event(replayId: number, changeType = 'UPDATE') {
  return {
    payload: {
      ChangeEventHeader: { entityName: 'Contact', recordIds: ['003000000000001AAA'], changeType },
      Email: `v${replayId}@example.com`,
    },
    event: { replayId },
  };
}

function options(
  overrides: Partial<SubscribeToChangeEventsOptions> &
    Pick<SubscribeToChangeEventsOptions, 'connection' | 'signal'>,
): SubscribeToChangeEventsOptions {
  return {
    channel: '/data/ContactChangeEvent',
    storage: new MemoryStorage(),
    integrationId: 'int-1',
    onEvent: () => {},
    ...overrides,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met');
}

describe('subscribeToChangeEvents (fake streaming client)', () => {
  it('subscribes from the stored replay id, stores each handled id, and disconnects on abort', async () => {
    const { connection, clients } = fakeConnection();
    const storage = new MemoryStorage();
    await storage.cursors.set('int-1', 'salesforce:cdc:/data/ContactChangeEvent', '41');
    const controller = new AbortController();
    const handled: SalesforceChangeEvent[] = [];
    const done = subscribeToChangeEvents(
      options({ connection, storage, signal: controller.signal, onEvent: (e) => void handled.push(e) }),
    );
    await until(() => clients.length === 1 && clients[0]?.listener !== undefined);
    const client = clients[0] as FakeFayeClient;
    expect(client.sentSubscribes[0]?.ext).toEqual({ replay: { '/data/ContactChangeEvent': 41 } });
    client.listener?.(event(42));
    client.listener?.(event(43));
    client.listener?.(event(42)); // redelivered after a re-handshake: skipped
    await until(() => handled.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handled.map((e) => e.replayId)).toEqual([42, 43]);
    expect(await storage.cursors.get('int-1', 'salesforce:cdc:/data/ContactChangeEvent')).toBe('43');
    controller.abort();
    await expect(done).resolves.toBeUndefined();
    expect(client.disconnected).toBe(true);
    // Regression: Faye retried the cut poll forever and kept the host process alive after stop.
    expect(client._dispatcher.closed).toBe(true);
    expect(client._dispatcher._envelopes.size).toBe(0);
  });

  it('a re-subscribe within the process carries the last handled id, not the last received', async () => {
    const { connection, clients } = fakeConnection();
    const controller = new AbortController();
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const done = subscribeToChangeEvents(
      options({
        connection,
        signal: controller.signal,
        initialReplayId: -2,
        onEvent: async (e) => {
          if (e.replayId === 11) await blocked;
        },
      }),
    );
    await until(() => clients[0]?.listener !== undefined);
    const client = clients[0] as FakeFayeClient;
    client.listener?.(event(10));
    client.listener?.(event(11));
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.subscribe('/data/ContactChangeEvent', () => {});
    expect(client.sentSubscribes.map((m) => (m.ext as { replay: Record<string, number> }).replay)).toEqual([
      { '/data/ContactChangeEvent': -2 },
      { '/data/ContactChangeEvent': 10 },
    ]);
    release();
    controller.abort();
    await done;
  });

  it('turns a 401 on /meta/connect (which Faye swallows) into CrmAuthenticationError', async () => {
    const { connection, clients } = fakeConnection();
    const controller = new AbortController();
    const done = subscribeToChangeEvents(options({ connection, signal: controller.signal }));
    await until(() => clients[0]?.listener !== undefined);
    clients[0]?.receive({
      channel: '/meta/connect',
      successful: false,
      error: '401::Authentication invalid',
      advice: { reconnect: 'none', interval: 0 },
    });
    await expect(done).rejects.toBeInstanceOf(CrmAuthenticationError);
    expect(clients[0]?.disconnected).toBe(true);
  });

  it('turns 403::Handshake denied into CrmAuthenticationError', async () => {
    const { connection, clients } = fakeConnection();
    const done = subscribeToChangeEvents(options({ connection, signal: new AbortController().signal }));
    await until(() => clients[0]?.listener !== undefined);
    clients[0]?.receive({ channel: '/meta/handshake', successful: false, error: '403::Handshake denied' });
    await expect(done).rejects.toBeInstanceOf(CrmAuthenticationError);
  });

  it('fails with a retryable CrmConnectionError when the transport stays down', async () => {
    const { connection, clients } = fakeConnection();
    const done = subscribeToChangeEvents(
      options({ connection, signal: new AbortController().signal, transportDownTimeoutMs: 30 }),
    );
    await until(() => clients[0]?.listener !== undefined);
    clients[0]?.handlers.get('transport:down')?.();
    const error = await done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CrmConnectionError);
    expect((error as CrmConnectionError).retryable).toBe(true);
  });

  it('puts a refreshed access token on the live client', async () => {
    const { connection, clients, refreshListeners } = fakeConnection();
    const controller = new AbortController();
    const done = subscribeToChangeEvents(options({ connection, signal: controller.signal }));
    await until(() => clients[0]?.listener !== undefined);
    for (const listener of refreshListeners) listener('new-token');
    expect(clients[0]?.headers.Authorization).toBe('OAuth new-token');
    controller.abort();
    await done;
  });

  it('resolves at once for an already aborted signal and rejects invalid options', async () => {
    const { connection, clients } = fakeConnection();
    const controller = new AbortController();
    controller.abort();
    await expect(
      subscribeToChangeEvents(options({ connection, signal: controller.signal })),
    ).resolves.toBeUndefined();
    expect(clients).toHaveLength(0);
    await expect(
      subscribeToChangeEvents(
        options({ connection, signal: new AbortController().signal, channel: 'ContactChangeEvent' }),
      ),
    ).rejects.toBeInstanceOf(CrmConfigurationError);
    await expect(
      subscribeToChangeEvents({
        ...options({ connection, signal: new AbortController().signal }),
        replayId: 5,
      } as SubscribeToChangeEventsOptions),
    ).rejects.toThrow(/subscribeToChangeEvents: unknown option 'replayId'/);
  });
});
