import { randomUUID } from 'node:crypto';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModule } from '../module.js';
import type { StoreChange } from '../store/org-store.js';
import {
  type ChangeEventCommit,
  changeEventPayload,
  type EmulatorChangeEventPayload,
  syntheticChangeEventPayload,
} from './change-event-payload.js';
import { pushTopicNotifications } from './push-topic-events.js';

/** Oldest and newest Streaming API versions Salesforce serves (23.0–36.0 are retired). */
const MIN_STREAMING_VERSION = 37;
const MAX_STREAMING_VERSION = 68;
/** How long an idle `/meta/connect` is held, ms (Salesforce: 110 s). */
const HOLD_MS = 110_000;
/** A client that has not polled for this long is forgotten (`403::Unknown client`). */
const CLIENT_TIMEOUT_MS = 40_000 + HOLD_MS;
/** Salesforce retains change events 72 hours. */
const RETENTION_MS = 72 * 60 * 60 * 1000;
/** Salesforce retains PushTopic events 24 hours. */
const TOPIC_RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * Delay between a write and its PushTopic notification. Salesforce evaluates PushTopics
 * asynchronously after the commit with an unspecified latency; clients (jsforce's own streaming
 * test) subscribe and write concurrently and rely on it.
 */
const TOPIC_PUBLISH_DELAY_MS = 200;
const MAX_RETAINED = 10_000;
/** How many expired events may accumulate before the log is compacted. */
const TRIM_SLACK = 1_000;
/** Streaming Channel Push: "Cannot exceed 3,000 single-byte characters." */
const MAX_PUSH_PAYLOAD = 3000;
/** Fixed schema id: the emulator has one payload shape per object. */
const SCHEMA_ID = 'emulatorCdcSchema1';

/** One retained change event. */
export interface RetainedChangeEvent {
  replayId: number;
  entityName: string;
  /** The per-object channel, e.g. `/data/ContactChangeEvent`. */
  channel: string;
  publishedAt: number;
  payload: EmulatorChangeEventPayload;
}

/** One retained PushTopic (`/topic/<Name>`) or generic streaming (`/u/…`) event. */
interface RetainedTopicEvent {
  replayId: number;
  channel: string;
  publishedAt: number;
  /** `{event: {type?, createdDate, replayId}, sobject | payload}`. */
  data: { event: { createdDate: string; replayId: number; type?: string } } & Record<string, unknown>;
}

interface BayeuxMessage {
  channel?: unknown;
  clientId?: unknown;
  id?: unknown;
  subscription?: unknown;
  advice?: { timeout?: unknown };
  ext?: { replay?: Record<string, unknown> };
}

interface HeldPoll {
  release(events: object[]): void;
}

interface BayeuxClient {
  id: string;
  subscriptions: Set<string>;
  queue: object[];
  poll: HeldPoll | undefined;
  lastSeen: number;
}

/** The per-object channel of an entity: `Contact` → `/data/ContactChangeEvent`. */
function channelOf(entityName: string): string {
  return `/data/${entityName.endsWith('__c') ? entityName.slice(0, -1) : entityName}ChangeEvent`;
}

/**
 * CometD (Bayeux 1.0, long polling) endpoint `/cometd/<version>` publishing Change Data Capture
 * events for records changed through the emulator store, with replay (`-1`, `-2`, a retained id)
 * within a retention window. Enabled objects default to Contact and Lead. Test controls live
 * under `/__emulator/change-events` and `/__emulator/cometd` (see `emulatorRealtime`).
 */
export const cometdModule: EmulatorModule = {
  name: 'cometd-cdc',
  create(context) {
    const clients = new Map<string, BayeuxClient>();
    const enabled = new Set(['Contact', 'Lead']);
    let log: RetainedChangeEvent[] = [];
    let topicLog: RetainedTopicEvent[] = [];
    const pendingTopicTimers = new Set<ReturnType<typeof setTimeout>>();
    let nextReplayId = 1;
    let commitNumber = 1;

    const commit = (): ChangeEventCommit => ({
      transactionKey: randomUUID(),
      commitTimestamp: context.clock.now().getTime(),
      commitNumber: commitNumber++,
      commitUser: context.userId,
    });

    const trim = (): void => {
      const oldest = context.clock.now().getTime() - RETENTION_MS;
      let drop = 0;
      while (drop < log.length && (log[drop] as RetainedChangeEvent).publishedAt < oldest) drop++;
      drop = Math.max(drop, log.length - MAX_RETAINED);
      // Compact in steps, not per event: slicing a 10,000-event log on every write made bulk
      // loads quadratic. Up to TRIM_SLACK extra events may linger; replay still honours order.
      if (drop >= TRIM_SLACK || (drop > 0 && drop === log.length)) log = log.slice(drop);
    };

    const deliver = (event: RetainedChangeEvent): void => {
      for (const client of clients.values()) {
        for (const subscription of client.subscriptions) {
          if (matches(subscription, event)) client.queue.push(message(subscription, event));
        }
        flush(client);
      }
    };

    const publish = (entityName: string, payload: EmulatorChangeEventPayload): RetainedChangeEvent => {
      const event: RetainedChangeEvent = {
        replayId: nextReplayId++,
        entityName,
        channel: channelOf(entityName),
        publishedAt: context.clock.now().getTime(),
        payload,
      };
      log.push(event);
      trim();
      deliver(event);
      return event;
    };

    const publishTopicEvents = (changes: readonly StoreChange[]): void => {
      const now = context.clock.now();
      const notifications = pushTopicNotifications(context.store, changes, now);
      if (notifications.length === 0) return;
      // Evaluated at commit (the row as written), published a moment later, as Salesforce's event
      // bus does: a client that subscribes right after its own write still gets the event.
      const timer = setTimeout(() => {
        pendingTopicTimers.delete(timer);
        for (const notification of notifications) {
          publishTopicEvent(
            `/topic/${notification.topic}`,
            { type: notification.type, createdDate: now.toISOString() },
            { sobject: notification.sobject },
          );
        }
      }, TOPIC_PUBLISH_DELAY_MS);
      timer.unref?.();
      pendingTopicTimers.add(timer);
    };

    /** Retains and delivers one `/topic/…` or `/u/…` event. */
    const publishTopicEvent = (
      channel: string,
      eventFields: { type?: string; createdDate?: string },
      body: Record<string, unknown>,
    ): void => {
      const now = context.clock.now();
      const oldest = now.getTime() - TOPIC_RETENTION_MS;
      if (topicLog.length > 0 && (topicLog[0] as RetainedTopicEvent).publishedAt < oldest) {
        topicLog = topicLog.filter((event) => event.publishedAt >= oldest);
      }
      if (topicLog.length >= MAX_RETAINED + TRIM_SLACK) topicLog = topicLog.slice(-MAX_RETAINED);
      const replayId = nextReplayId++;
      const event: RetainedTopicEvent = {
        replayId,
        channel,
        publishedAt: now.getTime(),
        data: { event: { createdDate: now.toISOString(), ...eventFields, replayId }, ...body },
      };
      topicLog.push(event);
      for (const client of clients.values()) {
        if (!client.subscriptions.has(channel)) continue;
        client.queue.push(topicMessage(event));
        flush(client);
      }
    };

    const subscriberCount = (channel: string): number =>
      [...clients.values()].filter((client) => client.subscriptions.has(channel)).length;

    const onChanges = (changes: readonly StoreChange[]): void => {
      publishTopicEvents(changes);
      const relevant = changes.filter((change) => enabled.has(change.sobject));
      if (relevant.length === 0) return;
      const transaction = commit();
      let sequence = 0;
      for (const change of relevant) {
        const payload = changeEventPayload(change, sequence + 1, transaction);
        if (!payload) continue;
        sequence++;
        publish(change.sobject, payload);
      }
    };
    const unsubscribeStore = context.store.onChange(onChanges);

    const flush = (client: BayeuxClient): void => {
      if (!client.poll || client.queue.length === 0) return;
      const poll = client.poll;
      client.poll = undefined;
      poll.release(client.queue.splice(0));
    };

    const sweep = (): void => {
      const now = performance.now();
      for (const [id, client] of clients) {
        if (!client.poll && now - client.lastSeen > CLIENT_TIMEOUT_MS) clients.delete(id);
      }
    };

    const handleBayeux = async (request: EmulatorRequestContext): Promise<EmulatorResponse | undefined> => {
      checkVersion(request.params.cometdVersion ?? '');
      const parsed = await request.json();
      const messages = (Array.isArray(parsed) ? parsed : [parsed]) as BayeuxMessage[];
      if (messages.some((m) => typeof m !== 'object' || m === null)) {
        throw new EmulatorHttpError(400, 'INVALID_REQUEST', 'Bayeux messages must be JSON objects');
      }
      sweep();
      const refusal = authenticationFailure(request, messages);
      if (refusal) return refusal;
      const replies: object[] = [];
      let connect: { client: BayeuxClient; message: BayeuxMessage } | undefined;
      for (const m of messages) {
        const channel = String(m.channel ?? '');
        const base = { channel, ...(m.id !== undefined ? { id: m.id } : {}) };
        if (channel === '/meta/handshake') {
          const client: BayeuxClient = {
            id: randomUUID().replace(/-/g, ''),
            subscriptions: new Set(),
            queue: [],
            poll: undefined,
            lastSeen: performance.now(),
          };
          clients.set(client.id, client);
          replies.push({
            ...base,
            successful: true,
            clientId: client.id,
            version: '1.0',
            minimumVersion: '1.0',
            supportedConnectionTypes: ['long-polling'],
            advice: { interval: 0, timeout: HOLD_MS, reconnect: 'retry' },
            ext: { replay: true, 'payload.format': true },
          });
          continue;
        }
        const client = clients.get(String(m.clientId ?? ''));
        if (!client) {
          replies.push({
            ...base,
            clientId: m.clientId,
            successful: false,
            error: '403::Unknown client',
            advice: { reconnect: 'handshake', interval: 0 },
          });
          continue;
        }
        client.lastSeen = performance.now();
        if (channel === '/meta/connect') {
          // A second poll replaces the first; answer the old one empty so it reconnects.
          client.poll?.release([]);
          client.poll = undefined;
          connect = { client, message: m };
        } else if (channel === '/meta/subscribe') {
          replies.push(subscribe(client, m, base));
        } else if (channel === '/meta/unsubscribe') {
          client.subscriptions.delete(String(m.subscription ?? ''));
          replies.push({ ...base, clientId: client.id, subscription: m.subscription, successful: true });
        } else if (channel === '/meta/disconnect') {
          client.poll?.release([]);
          clients.delete(client.id);
          replies.push({ ...base, clientId: client.id, successful: true });
        } else {
          replies.push({
            ...base,
            clientId: client.id,
            successful: false,
            error: '403::Publish not allowed',
          });
        }
      }
      if (!connect) return json(replies);
      const { client, message } = connect;
      const connectReply = {
        channel: '/meta/connect',
        ...(message.id !== undefined ? { id: message.id } : {}),
        clientId: client.id,
        successful: true,
        advice: { interval: 0, timeout: HOLD_MS, reconnect: 'retry' },
      };
      const answerNow = replies.length > 0 || client.queue.length > 0 || message.advice?.timeout === 0;
      if (answerNow) return json([...replies, ...client.queue.splice(0), connectReply]);
      return new Promise<EmulatorResponse>((resolve) => {
        const timer = setTimeout(() => poll.release([]), HOLD_MS);
        const poll: HeldPoll = {
          release: (events) => {
            clearTimeout(timer);
            if (client.poll === poll) client.poll = undefined;
            client.lastSeen = performance.now();
            resolve(json([...events, connectReply]));
          },
        };
        client.poll = poll;
        request.req.socket.once('close', () => {
          if (client.poll === poll) {
            clearTimeout(timer);
            client.poll = undefined;
          }
        });
      });
    };

    const subscribe = (client: BayeuxClient, m: BayeuxMessage, base: object): object => {
      const channel = String(m.subscription ?? '');
      const reply = { ...base, clientId: client.id, subscription: channel };
      if (channel.startsWith('/topic/') || channel.startsWith('/u/'))
        return subscribeTopic(client, m, reply, channel);
      const entity = /^\/data\/(.+)ChangeEvent$/.exec(channel)?.[1];
      const known =
        channel === '/data/ChangeEvents' ||
        (entity !== undefined && [...enabled].some((name) => channelOf(name) === channel));
      if (!known) return { ...reply, successful: false, error: `403::Unknown channel` };
      const requested = m.ext?.replay?.[channel];
      const replayId = requested === undefined || requested === null ? -1 : Number(requested);
      trim();
      let backlog: RetainedChangeEvent[];
      if (replayId === -1) backlog = [];
      else if (replayId === -2) backlog = log.filter((event) => matches(channel, event));
      else {
        const index = Number.isInteger(replayId) ? log.findIndex((event) => event.replayId === replayId) : -1;
        if (index < 0) {
          return {
            ...reply,
            successful: false,
            error: `400::The replayId {${String(requested)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
          };
        }
        backlog = log.slice(index + 1).filter((event) => matches(channel, event));
      }
      client.subscriptions.add(channel);
      for (const event of backlog) client.queue.push(message(channel, event));
      flush(client);
      return { ...reply, successful: true };
    };

    /**
     * `/topic/<Name>` (an active PushTopic) or `/u/…` (a StreamingChannel's Name), with replay
     * from the topic log.
     */
    const subscribeTopic = (
      client: BayeuxClient,
      m: BayeuxMessage,
      reply: object,
      channel: string,
    ): object => {
      const exists = channel.startsWith('/u/')
        ? [...context.store.rows('StreamingChannel')].some((row) => row.Name === channel)
        : [...context.store.rows('PushTopic')].some(
            (row) => row.Name === channel.slice('/topic/'.length) && row.IsActive !== false,
          );
      if (!exists) return { ...reply, successful: false, error: '403::Unknown channel' };
      const requested = m.ext?.replay?.[channel];
      const replayId = requested === undefined || requested === null ? -1 : Number(requested);
      const retained = topicLog.filter((event) => event.channel === channel);
      let backlog: RetainedTopicEvent[];
      if (replayId === -1) backlog = [];
      else if (replayId === -2) backlog = retained;
      else {
        const index = Number.isInteger(replayId)
          ? retained.findIndex((event) => event.replayId === replayId)
          : -1;
        if (index < 0) {
          return {
            ...reply,
            successful: false,
            error: `400::The replayId {${String(requested)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
          };
        }
        backlog = retained.slice(index + 1);
      }
      client.subscriptions.add(channel);
      for (const event of backlog) client.queue.push(topicMessage(event));
      flush(client);
      return { ...reply, successful: true };
    };

    // Authenticates itself so a bad session gets a Bayeux error (what Faye understands), not a
    // REST error array.
    const authenticationFailure = (request: EmulatorRequestContext, messages: BayeuxMessage[]) => {
      const header = request.headers.authorization ?? '';
      const token = /^(?:OAuth|Bearer)\s+(.+)$/i.exec(header.trim())?.[1];
      if (token && context.authenticate(token)) return undefined;
      const replies = messages.map((m) => {
        const channel = String(m.channel ?? '');
        const base = { channel, ...(m.id !== undefined ? { id: m.id } : {}), successful: false };
        if (!token)
          return { ...base, error: '401::Request requires authentication', advice: { reconnect: 'none' } };
        if (channel === '/meta/handshake') {
          return {
            ...base,
            error: '403::Handshake denied',
            advice: { reconnect: 'none' },
            ext: { sfdc: { failureReason: '401::Authentication invalid' } },
          };
        }
        return {
          ...base,
          ...(m.clientId !== undefined ? { clientId: m.clientId } : {}),
          error: '401::Authentication invalid',
          advice: { reconnect: 'none', interval: 0 },
        };
      });
      return { status: 401, headers: { 'Content-Type': 'application/json;charset=UTF-8' }, body: replies };
    };

    context.router.add({
      method: 'POST',
      pattern: '/cometd/:cometdVersion',
      kind: 'public',
      name: 'POST /cometd',
      handler: handleBayeux,
    });
    context.router.add({
      method: 'GET',
      pattern: '/cometd/:cometdVersion',
      kind: 'public',
      name: 'GET /cometd',
      // Faye probes WebSocket first; Salesforce only speaks long polling.
      handler: () => ({ status: 400, body: 'Invalid connection type' }),
    });

    const streamingChannel = (request: EmulatorRequestContext) => {
      const row = context.store.get(request.params.id ?? '');
      if (!row || context.store.schemaForId(row.Id as string)?.name !== 'StreamingChannel') {
        throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
      }
      return String(row.Name);
    };
    // Streaming Channel Push REST API: the emulator's only user is the API user.
    context.router.add({
      method: 'GET',
      pattern: '/services/data/:version/sobjects/StreamingChannel/:id/push',
      kind: 'api',
      name: 'GET StreamingChannel push',
      handler: (request) => {
        const channel = streamingChannel(request);
        return json({
          OnlineUserIds: subscriberCount(channel) > 0 ? [context.userId] : [],
          ChannelName: channel,
        });
      },
    });
    context.router.add({
      method: 'POST',
      pattern: '/services/data/:version/sobjects/StreamingChannel/:id/push',
      kind: 'api',
      name: 'POST StreamingChannel push',
      handler: async (request) => {
        const channel = streamingChannel(request);
        const body = (await request.json()) as { pushEvents?: unknown } | undefined;
        const events = body?.pushEvents;
        if (!Array.isArray(events) || events.length === 0) {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'pushEvents must be a non-empty array');
        }
        const parsed = events.map((event: { payload?: unknown; userIds?: unknown }) => {
          if (typeof event?.payload !== 'string' || event.payload.length > MAX_PUSH_PAYLOAD) {
            throw new EmulatorHttpError(
              400,
              'INVALID_FIELD',
              `payload must be a string of at most ${MAX_PUSH_PAYLOAD} characters`,
            );
          }
          const userIds = Array.isArray(event.userIds) ? event.userIds.map(String) : [];
          return { payload: event.payload, userIds };
        });
        return json(
          parsed.map(({ payload, userIds }) => {
            const online = subscriberCount(channel) > 0;
            if (userIds.length === 0) {
              // Broadcast: -1 when sent to all subscribers, 0 when the channel has none.
              publishTopicEvent(channel, {}, { payload });
              return { fanoutCount: online ? -1 : 0, userOnlineStatus: {} };
            }
            const status = Object.fromEntries(
              userIds.map((id) => [id, online && sameUser(id, context.userId)]),
            );
            const reached = Object.values(status).filter(Boolean).length;
            if (reached > 0) publishTopicEvent(channel, {}, { payload });
            return { fanoutCount: reached, userOnlineStatus: status };
          }),
        );
      },
    });

    context.router.add({
      method: 'GET',
      pattern: '/__emulator/change-events',
      kind: 'api-free',
      handler: () => {
        trim();
        return json({ enabled: [...enabled], events: log });
      },
    });
    context.router.add({
      method: 'POST',
      pattern: '/__emulator/change-events/entities',
      kind: 'api-free',
      handler: async (request) => {
        const body = (await request.json()) as { entities?: unknown } | undefined;
        const entities = body?.entities;
        if (
          !Array.isArray(entities) ||
          entities.some((e) => typeof e !== 'string' || !context.store.schema(e))
        ) {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'entities must list known sObject types');
        }
        enabled.clear();
        for (const entity of entities as string[]) enabled.add(context.store.schema(entity)?.name ?? entity);
        return json({ enabled: [...enabled] });
      },
    });
    context.router.add({
      method: 'POST',
      pattern: '/__emulator/change-events/trim',
      kind: 'api-free',
      handler: async (request) => {
        const body = (await request.json()) as { keepLast?: unknown } | undefined;
        const keep = Number(body?.keepLast ?? 0);
        if (!Number.isInteger(keep) || keep < 0) {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'keepLast must be a non-negative integer');
        }
        log = keep === 0 ? [] : log.slice(-keep);
        return json({ retained: log.length });
      },
    });
    context.router.add({
      method: 'POST',
      pattern: '/__emulator/change-events/publish',
      kind: 'api-free',
      handler: async (request) => {
        const body = (await request.json()) as
          | { entityName?: unknown; changeType?: unknown; recordIds?: unknown; fields?: unknown }
          | undefined;
        if (typeof body?.entityName !== 'string' || typeof body.changeType !== 'string') {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'entityName and changeType are required');
        }
        const recordIds = Array.isArray(body.recordIds) ? body.recordIds.map(String) : [];
        const fields =
          typeof body.fields === 'object' && body.fields !== null
            ? (body.fields as Record<string, unknown>)
            : {};
        const event = publish(
          body.entityName,
          syntheticChangeEventPayload(
            { entityName: body.entityName, changeType: body.changeType, recordIds, fields },
            commit(),
          ),
        );
        return json({ replayId: event.replayId });
      },
    });
    context.router.add({
      method: 'POST',
      pattern: '/__emulator/cometd/forget-clients',
      kind: 'api-free',
      handler: () => {
        for (const client of clients.values()) client.poll?.release([]);
        const forgotten = clients.size;
        clients.clear();
        return json({ forgotten });
      },
    });

    const releaseAll = (): void => {
      for (const timer of pendingTopicTimers) clearTimeout(timer);
      pendingTopicTimers.clear();
      for (const client of clients.values()) client.poll?.release([]);
      clients.clear();
    };
    return {
      reset: () => {
        releaseAll();
        log = [];
        topicLog = [];
        enabled.clear();
        enabled.add('Contact');
        enabled.add('Lead');
      },
      stop: () => {
        unsubscribeStore();
        releaseAll();
      },
    };
  },
};

function matches(subscription: string, event: RetainedChangeEvent): boolean {
  return subscription === '/data/ChangeEvents' || subscription === event.channel;
}

function message(channel: string, event: RetainedChangeEvent): object {
  return {
    channel,
    data: { schema: SCHEMA_ID, payload: event.payload, event: { replayId: event.replayId } },
  };
}

function sameUser(left: string, right: string): boolean {
  return left.slice(0, 15) === right.slice(0, 15);
}

function topicMessage(event: RetainedTopicEvent): object {
  return { channel: event.channel, data: event.data };
}

function json(body: unknown): EmulatorResponse {
  return { status: 200, headers: { 'Content-Type': 'application/json;charset=UTF-8' }, body };
}

function checkVersion(segment: string): void {
  const match = /^(\d{2})\.0$/.exec(segment);
  const version = match ? Number(match[1]) : Number.NaN;
  if (!(version >= MIN_STREAMING_VERSION && version <= MAX_STREAMING_VERSION)) {
    throw new EmulatorHttpError(400, 'UNSUPPORTED_API_VERSION', `Unsupported API version: ${segment}`);
  }
}
