import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isCrmError } from '../../src/core/errors.js';
import type { CrmLogger } from '../../src/core/logger.js';
import {
  type SalesforceChangeEvent,
  type SalesforceChangeGap,
  subscribeToChangeEvents,
} from '../../src/salesforce/index.js';
import { changeEventClientTag } from '../../src/salesforce/webhooks/change-event.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  type EmulatorRealtimeControls,
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../src/testing/index.js';

const CHANNEL = '/data/ContactChangeEvent';
const INTEGRATION = 'int-cdc';

let sf: SalesforceEmulator;
let realtime: EmulatorRealtimeControls;
let storage: MemoryStorage;
const running: Array<{ controller: AbortController; done: Promise<void> }> = [];

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  realtime = sf.realtime;
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
  storage = new MemoryStorage();
});
afterEach(async () => {
  for (const { controller, done } of running.splice(0)) {
    controller.abort();
    await done.catch(() => {});
  }
});

function connection(accessToken = sf.accessToken): jsforce.Connection {
  return new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken,
    version: '62.0',
  });
}

/** A host-side contact store applying CDC events by record id. */
class HostStore {
  readonly contacts = new Map<string, Record<string, unknown>>();
  readonly applied: number[] = [];
  apply(event: SalesforceChangeEvent): void {
    this.applied.push(event.replayId);
    for (const id of event.header.recordIds) {
      if (event.header.changeType === 'DELETE') this.contacts.delete(id);
      else this.contacts.set(id, { ...(this.contacts.get(id) ?? {}), ...event.fields });
    }
  }
}

interface Started {
  controller: AbortController;
  done: Promise<void>;
  subscribed: Promise<void>;
}

function start(options: {
  onEvent: (event: SalesforceChangeEvent) => void | Promise<void>;
  onGap?: (gap: SalesforceChangeGap) => void | Promise<void>;
  channel?: string;
  initialReplayId?: number;
  accessToken?: string;
}): Started {
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
    connection: connection(options.accessToken),
    channel: options.channel ?? CHANNEL,
    storage,
    integrationId: INTEGRATION,
    onEvent: options.onEvent,
    ...(options.onGap ? { onGap: options.onGap } : {}),
    signal: controller.signal,
    logger,
    ...(options.initialReplayId !== undefined ? { initialReplayId: options.initialReplayId } : {}),
  });
  running.push({ controller, done });
  return { controller, done, subscribed };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function createContacts(conn: jsforce.Connection, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const result = await conn
      .sobject('Contact')
      .create({ LastName: name, Email: `${name.toLowerCase()}@example.com` });
    if (!result.success) throw new Error('create failed');
    ids.push(result.id);
  }
  return ids;
}

describe('Change Data Capture end to end (emulator CometD + jsforce streaming client)', () => {
  it('creates, updates and deletes made through the REST API reach the host store', async () => {
    const host = new HostStore();
    const sub = start({ onEvent: (event) => host.apply(event) });
    await sub.subscribed;
    const conn = connection();
    const [id] = await createContacts(conn, ['Lovelace']);
    await conn.sobject('Contact').update({ Id: id as string, FirstName: 'Ada', Title: 'Analyst' });
    await waitFor(() => host.contacts.get(id as string)?.FirstName === 'Ada');
    expect(host.contacts.get(id as string)).toMatchObject({
      LastName: 'Lovelace',
      FirstName: 'Ada',
      Title: 'Analyst',
      Email: 'lovelace@example.com',
    });
    await conn.sobject('Contact').destroy(id as string);
    await waitFor(() => !host.contacts.has(id as string));
    expect(host.applied).toHaveLength(3);
    expect(await storage.cursors.get(INTEGRATION, `salesforce:cdc:${CHANNEL}`)).toBe(String(host.applied[2]));
    sub.controller.abort();
    await expect(sub.done).resolves.toBeUndefined();
  });

  it('a subscriber restarted mid-stream misses nothing and applies nothing twice', async () => {
    const host = new HostStore();
    let release: () => void = () => {};
    const secondStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gate: Promise<void> = Promise.resolve();
    let firstRunCalls = 0;
    const first = start({
      onEvent: async (event) => {
        firstRunCalls += 1;
        if (firstRunCalls === 2) {
          // Stop while this event is being handled: it must complete and be stored, the queued
          // ones must be left for the next run.
          gate = new Promise((resolve) => setTimeout(resolve, 100));
          release();
          await gate;
        }
        host.apply(event);
      },
    });
    await first.subscribed;
    const conn = connection();
    await createContacts(conn, ['A1', 'A2', 'A3', 'A4']);
    await secondStarted;
    first.controller.abort();
    await first.done;
    expect(host.applied).toHaveLength(2);

    // Changes while no subscriber runs.
    await createContacts(conn, ['B1', 'B2']);
    const second = start({ onEvent: (event) => host.apply(event) });
    await waitFor(() => host.applied.length === 6);
    await createContacts(conn, ['C1']);
    await waitFor(() => host.applied.length === 7);
    second.controller.abort();
    await second.done;

    const published = (await realtime.changeEvents()).map((event) => event.replayId);
    expect(published).toHaveLength(7);
    expect(host.applied).toEqual(published);
    expect(new Set(host.applied).size).toBe(host.applied.length);
    expect([...host.contacts.values()].map((c) => c.LastName).sort()).toEqual([
      'A1',
      'A2',
      'A3',
      'A4',
      'B1',
      'B2',
      'C1',
    ]);
  });

  it('survives the server forgetting its clients (re-handshake resubscribes from the last handled id)', async () => {
    const host = new HostStore();
    const sub = start({ onEvent: (event) => host.apply(event) });
    await sub.subscribed;
    const conn = connection();
    await createContacts(conn, ['Before']);
    await waitFor(() => host.applied.length === 1);
    await realtime.forgetCometdClients();
    await createContacts(conn, ['After']);
    await waitFor(() => host.applied.length === 2);
    expect([...host.contacts.values()].map((c) => c.LastName)).toEqual(['Before', 'After']);
  });

  it('an expired replay id calls onGap first, then continues with new events', async () => {
    const conn = connection();
    const host = new HostStore();
    await createContacts(conn, ['Old']);
    const [oldEvent] = await realtime.changeEvents();
    await storage.cursors.set(INTEGRATION, `salesforce:cdc:${CHANNEL}`, String(oldEvent?.replayId));
    await realtime.trimChangeEvents(0);
    const order: string[] = [];
    const gaps: SalesforceChangeGap[] = [];
    const sub = start({
      onEvent: (event) => {
        order.push('event');
        host.apply(event);
      },
      onGap: async (gap) => {
        order.push('gap');
        gaps.push(gap);
        // A slow incremental pull: events arriving meanwhile must wait behind it.
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });
    await sub.subscribed;
    await createContacts(conn, ['New']);
    await waitFor(() => host.applied.length === 1);
    expect(gaps).toEqual([
      expect.objectContaining({
        reason: 'replay_id_invalid',
        replayId: oldEvent?.replayId,
        entityName: 'Contact',
      }),
    ]);
    expect(order).toEqual(['gap', 'event']);
  });

  it('without onGap an expired replay id rejects with REPLAY_ID_INVALID instead of silently skipping', async () => {
    await storage.cursors.set(INTEGRATION, `salesforce:cdc:${CHANNEL}`, '424242');
    const sub = start({ onEvent: () => {} });
    const error = await sub.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isCrmError(error) && error.code === 'WEBHOOK' && error.providerCode === 'REPLAY_ID_INVALID').toBe(
      true,
    );
  });

  it('gap and overflow events go to onGap with the records or the object to resync', async () => {
    const gaps: SalesforceChangeGap[] = [];
    const events: SalesforceChangeEvent[] = [];
    const sub = start({ onEvent: (event) => void events.push(event), onGap: (gap) => void gaps.push(gap) });
    await sub.subscribed;
    await realtime.publishChangeEvent({
      entityName: 'Contact',
      changeType: 'GAP_UPDATE',
      recordIds: ['003000000000001AAA'],
    });
    await realtime.publishChangeEvent({ entityName: 'Contact', changeType: 'GAP_OVERFLOW' });
    await waitFor(() => gaps.length === 2);
    expect(gaps.map((g) => [g.reason, g.entityName, g.recordIds])).toEqual([
      ['gap_event', 'Contact', ['003000000000001AAA']],
      ['overflow', 'Contact', []],
    ]);
    expect(events).toEqual([]);
    const stored = await storage.cursors.get(INTEGRATION, `salesforce:cdc:${CHANNEL}`);
    expect(stored).toBe(String(gaps[1]?.replayId));
  });

  it('an onEvent failure stops the subscription without storing that replay id', async () => {
    const sub = start({
      onEvent: () => {
        throw new Error('host database down');
      },
    });
    await sub.subscribed;
    await createContacts(connection(), ['Boom']);
    const error = await sub.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isCrmError(error) && error.code === 'WEBHOOK').toBe(true);
    expect(await storage.cursors.get(INTEGRATION, `salesforce:cdc:${CHANNEL}`)).toBeNull();
  });

  it('/data/ChangeEvents with replay -2 delivers every retained Contact and Lead event in order', async () => {
    const conn = connection();
    await createContacts(conn, ['Early']);
    const lead = await conn.sobject('Lead').create({ LastName: 'Hopper', Company: 'Navy' });
    if (!lead.success) throw new Error('create failed');
    await conn.sobject('Account').create({ Name: 'Not enabled for CDC' });
    const received: SalesforceChangeEvent[] = [];
    start({
      channel: '/data/ChangeEvents',
      initialReplayId: -2,
      onEvent: (event) => void received.push(event),
    });
    await waitFor(() => received.length === 2);
    expect(received.map((e) => [e.header.entityName, e.header.changeType])).toEqual([
      ['Contact', 'CREATE'],
      ['Lead', 'CREATE'],
    ]);
    expect(received[1]?.fields).toMatchObject({ LastName: 'Hopper', Company: 'Navy' });
    expect(received[1]?.header.recordIds).toEqual([lead.id]);
  });

  it('carries the changeOrigin of writes tagged with store.withOrigin (echo suppression)', async () => {
    const received: SalesforceChangeEvent[] = [];
    const sub = start({ onEvent: (event) => void received.push(event) });
    await sub.subscribed;
    sf.store.withOrigin('com/salesforce/api/rest/62.0;client=markmail-crm', () =>
      sf.store.insert('Contact', [{ LastName: 'Echo' }]),
    );
    sf.store.insert('Contact', [{ LastName: 'Human' }]);
    await waitFor(() => received.length === 2);
    expect(received.map((e) => changeEventClientTag(e.header.changeOrigin) ?? null)).toEqual([
      'markmail-crm',
      null,
    ]);
  });

  it('refuses a channel that is not enabled for Change Data Capture', async () => {
    const sub = start({ channel: '/data/AccountChangeEvent', onEvent: () => {} });
    const error = await sub.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isCrmError(error) && error.code === 'WEBHOOK' && error.providerCode === '403').toBe(true);
  });

  it('a session revoked mid-stream rejects with CrmAuthenticationError instead of going silent', async () => {
    const { accessToken } = sf.oauth.issueTokens();
    const received: SalesforceChangeEvent[] = [];
    const sub = start({ accessToken, onEvent: (event) => void received.push(event) });
    await sub.subscribed;
    // Let the client's next poll reach the server and be held there (with the still-valid token).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sf.oauth.revokeToken(accessToken)).toBe(true);
    // The held poll is answered with this event; the next poll carries the revoked token.
    await createContacts(connection(), ['Last']);
    const error = await sub.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isCrmError(error) && error.code === 'AUTHENTICATION').toBe(true);
    // The event that arrived before the refusal was still handled and its replay id stored.
    expect(received).toHaveLength(1);
    expect(await storage.cursors.get(INTEGRATION, `salesforce:cdc:${CHANNEL}`)).toBe(
      String(received[0]?.replayId),
    );
  });

  it('an invalid token at handshake rejects with CrmAuthenticationError (Faye alone would hang)', async () => {
    const sub = start({ accessToken: '00D000000000000!invalid-token-value', onEvent: () => {} });
    const error = await sub.done.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isCrmError(error) && error.code === 'AUTHENTICATION').toBe(true);
  });
});
