import {
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmConnectionError,
  CrmWebhookError,
  isCrmError,
} from '../../core/errors.js';
import { type CrmLogger, silentLogger } from '../../core/logger.js';
import { assertKnownOptions } from '../../internal/options.js';
import type { CrmStorage } from '../../storage/types.js';
import { decodeChangeEvent, type SalesforceChangeEvent } from './change-event.js';

/** Replay from new events only (Salesforce's `-1`). */
export const REPLAY_NEW_EVENTS = -1;
/** Replay every retained event (Salesforce's `-2`, up to 72 hours back). */
export const REPLAY_ALL_RETAINED = -2;

/** Why `onGap` was called: something may have been missed and must be re-read. */
export type SalesforceChangeGapReason =
  /** A `GAP_CREATE`/`GAP_UPDATE`/`GAP_DELETE`/`GAP_UNDELETE` event: re-read `recordIds`. */
  | 'gap_event'
  /** A `GAP_OVERFLOW` event: too many changes in one transaction; resync `entityName`. */
  | 'overflow'
  /**
   * The stored replay id is outside Salesforce's retention (or unknown): events since it may be
   * lost; run an incremental pull from your own cursor. The stream continues with new events.
   */
  | 'replay_id_invalid';

/** What `onGap` receives. */
export interface SalesforceChangeGap {
  reason: SalesforceChangeGapReason;
  channel: string;
  /** The object concerned (gap events); `undefined` for `replay_id_invalid` on a multi-object channel. */
  entityName: string | undefined;
  /** Records to re-read (gap events); `[]` when a whole object or stream must be resynced. */
  recordIds: string[];
  /** The gap event itself, when there was one. */
  event: SalesforceChangeEvent | undefined;
  /** The replay id that was refused (`replay_id_invalid`). */
  replayId: number | undefined;
}

/** Context passed to the callbacks. */
export interface SalesforceChangeHandlerContext {
  /** Aborted when the subscription stops; pass it to your own I/O. */
  signal: AbortSignal;
}

/**
 * The part of a jsforce `Connection` the subscriber uses: `streaming.createClient` (jsforce's
 * Faye-based CometD client) and, optionally, the `refresh` event to update the client's token.
 */
export interface SalesforceStreamingConnection {
  streaming: { createClient(extensions: unknown[]): unknown };
  on?(event: 'refresh', listener: (accessToken: string) => void): unknown;
  removeListener?(event: 'refresh', listener: (accessToken: string) => void): unknown;
}

/** Options of {@link subscribeToChangeEvents}. */
export interface SubscribeToChangeEventsOptions {
  /** A jsforce `Connection` (its `streaming` API is used, one CometD client per subscription). */
  connection: SalesforceStreamingConnection;
  /** `/data/ContactChangeEvent`, `/data/ChangeEvents`, `/data/Foo__ChangeEvent`, `/data/Name__chn`. */
  channel: string;
  /** Where the last handled replay id is kept (`storage.cursors`). */
  storage: CrmStorage;
  /** Integration the cursor belongs to. */
  integrationId: string;
  /**
   * Handles one event. Called one at a time, in delivery order; the replay id is stored only after
   * it resolves, so after a crash the event is delivered again (make it idempotent per record,
   * e.g. compare `LastModifiedDate`). A throw stops the subscription (the promise rejects).
   */
  onEvent(event: SalesforceChangeEvent, context: SalesforceChangeHandlerContext): void | Promise<void>;
  /**
   * Fallback when changes may have been missed (gap/overflow events, expired replay id): re-read
   * the records or run an incremental pull. Events arriving meanwhile wait until it resolves.
   * Without it, gap events go to `onEvent` and an expired replay id rejects the subscription
   * (`CrmWebhookError`, `providerCode: 'REPLAY_ID_INVALID'`). @default none
   */
  onGap?(gap: SalesforceChangeGap, context: SalesforceChangeHandlerContext): void | Promise<void>;
  /** Stops the subscription; the returned promise then resolves. */
  signal: AbortSignal;
  /** Replay position when nothing is stored yet. @default -1 (new events only) */
  initialReplayId?: number;
  /** `storage.cursors` stream key. @default `salesforce:cdc:<channel>` */
  cursorStream?: string;
  /**
   * How long the transport may stay down (Faye retries forever) before the subscription fails
   * with a retryable `CrmConnectionError`, ms. @default 300000
   */
  transportDownTimeoutMs?: number;
  /** @default silent */
  logger?: CrmLogger;
}

/** Minimal view of the Faye client jsforce returns (its bundled typings omit `disconnect`/`on`). */
interface FayeClient {
  subscribe(channel: string, listener: (data: unknown) => void): FayeSubscription;
  disconnect?(): { then?(onDone: () => void, onFail: () => void): unknown } | undefined;
  setHeader?(name: string, value: string): void;
  on?(event: string, listener: () => void): void;
}
interface FayeSubscription {
  cancel?(): void;
  then?(onFulfilled: () => void, onRejected: (error: unknown) => void): unknown;
}
interface BayeuxMessage {
  channel?: string;
  subscription?: string;
  successful?: boolean;
  error?: string;
  advice?: { reconnect?: string };
  ext?: Record<string, unknown>;
}
type ExtensionCallback = (message: BayeuxMessage) => void;

const ALLOWED_OPTIONS = new Set([
  'connection',
  'channel',
  'storage',
  'integrationId',
  'onEvent',
  'onGap',
  'signal',
  'initialReplayId',
  'cursorStream',
  'transportDownTimeoutMs',
  'logger',
]);
const CHANNEL_PATTERN = /^\/data\/[A-Za-z][A-Za-z0-9_]*$/;
const SEEN_LIMIT = 10_000;

/**
 * Subscribes to a Change Data Capture channel through jsforce's streaming client (CometD long
 * polling) and hands each decoded event to `onEvent`, strictly one after another.
 *
 * Exactly-once toward the host as far as the wire allows: the replay id is stored in
 * `storage.cursors` after each event was handled and the subscription resumes from it after a
 * restart; a redelivery within the process (re-handshake) is recognised by replay id; gap and
 * overflow events and an expired replay id go to `onGap` so an incremental pull can fill the hole.
 *
 * It uses its own replay extension rather than jsforce's `StreamingExtension.Replay`: that one
 * advances before the listener ran and, with two on one client, overwrites the other channel's id
 * (jsforce#1700). Auth failures (`401::`, `403::Handshake denied`, `reconnect: none`), which Faye
 * never surfaces, reject the promise with `CrmAuthenticationError`.
 *
 * @returns a promise that resolves when `signal` aborts (after the event being handled finished
 *   and its replay id was stored), and rejects when the subscription cannot continue.
 * @throws {CrmConfigurationError} for invalid options.
 * @throws {CrmAuthenticationError} when Salesforce refuses the session.
 * @throws {CrmWebhookError} when `onEvent`/`onGap` throw (as `cause`), an event cannot be decoded,
 *   the subscribe is refused, or the replay id expired without `onGap`.
 * @throws {CrmConnectionError} when the transport stayed down longer than `transportDownTimeoutMs`.
 * @example
 * ```ts
 * const controller = new AbortController();
 * await subscribeToChangeEvents({
 *   connection, channel: '/data/ContactChangeEvent', storage, integrationId,
 *   onEvent: async (event) => {
 *     const change = toCrmChangeEvent(event, provider);
 *     if (change) await engine.handleChangeEvent(change, { apply });
 *   },
 *   onGap: () => engine.pullContacts({ apply }),
 *   signal: controller.signal,
 * });
 * ```
 */
export async function subscribeToChangeEvents(options: SubscribeToChangeEventsOptions): Promise<void> {
  validateOptions(options);
  const { connection, channel, storage, integrationId, signal } = options;
  const logger = options.logger ?? silentLogger;
  const stream = options.cursorStream ?? `salesforce:cdc:${channel}`;
  if (signal.aborted) return;
  const stored = await storage.cursors.get(integrationId, stream);
  const storedId = stored === null ? undefined : Number(stored);
  // The id sent in the next subscribe: the last *handled* event, so an in-process re-handshake
  // loses nothing.
  let replayFrom =
    storedId !== undefined && Number.isFinite(storedId)
      ? storedId
      : (options.initialReplayId ?? REPLAY_NEW_EVENTS);
  if (stored !== null && (storedId === undefined || !Number.isFinite(storedId))) {
    logger.warn('Stored CDC replay id is not a number; treating it as expired', { channel });
  }

  const internal = new AbortController();
  const context: SalesforceChangeHandlerContext = { signal: internal.signal };
  const seen = new Set<number>();
  let chain: Promise<void> = Promise.resolve();
  // finishing: no new events are accepted; stopping: queued events are skipped (left for replay).
  let finishing = false;
  let stopping = false;
  let client: FayeClient | undefined;
  let downTimer: ReturnType<typeof setTimeout> | undefined;

  return new Promise<void>((resolve, reject) => {
    /**
     * Ends the subscription. On abort the event being handled finishes (and its replay id is
     * stored) and queued ones are left for the next run; with `drain` (transport or session loss)
     * the events already received are handled first; after a handler failure nothing more runs.
     */
    const finish = (error?: unknown, drain = false): void => {
      if (finishing) return;
      finishing = true;
      if (!drain) stopping = true;
      if (downTimer) clearTimeout(downTimer);
      signal.removeEventListener('abort', onAbort);
      connection.removeListener?.('refresh', onRefresh);
      const settle = async (): Promise<void> => {
        if (error === undefined || drain) await chain;
        stopping = true;
        internal.abort(error ?? signal.reason);
        if (client) await shutdown(client);
        if (error === undefined) resolve();
        else reject(error);
      };
      void settle();
    };
    const onAbort = (): void => finish();
    const onRefresh = (accessToken: string): void =>
      client?.setHeader?.('Authorization', `OAuth ${accessToken}`);

    const enqueue = (task: () => Promise<void>): void => {
      chain = chain.then(async () => {
        if (stopping) return;
        try {
          await task();
        } catch (error) {
          finish(
            isCrmError(error)
              ? error
              : new CrmWebhookError(`Change event handling failed on ${channel}; the subscription stopped`, {
                  cause: error,
                  details: { channel },
                }),
          );
        }
      });
    };

    const handleEvent = (data: unknown): void => {
      if (finishing) return;
      enqueue(async () => {
        const event = decodeChangeEvent(data, channel);
        if (seen.has(event.replayId)) {
          logger.debug('Duplicate CDC event skipped', { channel, replayId: event.replayId });
          return;
        }
        if (event.isGap && options.onGap) {
          const overflow = event.header.changeType === 'GAP_OVERFLOW';
          await options.onGap(
            {
              reason: overflow ? 'overflow' : 'gap_event',
              channel,
              entityName: event.header.entityName,
              recordIds: overflow ? [] : event.header.recordIds,
              event,
              replayId: event.replayId,
            },
            context,
          );
        } else {
          await options.onEvent(event, context);
        }
        await storage.cursors.set(integrationId, stream, String(event.replayId));
        replayFrom = event.replayId;
        seen.add(event.replayId);
        if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as number);
      });
    };

    const subscribe = (): void => {
      if (stopping || !client) return;
      const subscription = client.subscribe(channel, handleEvent);
      subscription.then?.(
        () => logger.info('Subscribed to change events', { channel, replayFrom }),
        // Failures are handled by the incoming extension, which sees the Bayeux error text.
        () => {},
      );
    };

    const onReplayInvalid = (refused: number): void => {
      if (!options.onGap) {
        finish(
          new CrmWebhookError(
            `The stored replay id for ${channel} is no longer available; events may have been missed (pass onGap to resync)`,
            { providerCode: 'REPLAY_ID_INVALID', details: { channel, replayId: refused } },
          ),
        );
        return;
      }
      logger.warn('CDC replay id expired; falling back to a resync and continuing with new events', {
        channel,
        replayId: refused,
      });
      // Queue the resync first, then subscribe for new events: they wait behind it, so nothing
      // between the resync and the subscribe is lost (at worst applied twice, idempotently).
      const onGap = options.onGap;
      enqueue(async () => {
        await onGap(
          {
            reason: 'replay_id_invalid',
            channel,
            entityName: entityOfChannel(channel),
            recordIds: [],
            event: undefined,
            replayId: refused,
          },
          context,
        );
      });
      replayFrom = REPLAY_NEW_EVENTS;
      subscribe();
    };

    const replayExtension = {
      outgoing(message: BayeuxMessage, callback: ExtensionCallback): void {
        if (message.channel === '/meta/subscribe' && message.subscription === channel) {
          const ext = message.ext ?? {};
          const replay = (ext.replay as Record<string, number> | undefined) ?? {};
          message.ext = { ...ext, replay: { ...replay, [channel]: replayFrom } };
        }
        callback(message);
      },
    };
    const failureExtension = {
      incoming(message: BayeuxMessage, callback: ExtensionCallback): void {
        if (message.channel?.startsWith('/meta/') && message.successful === false) {
          const error = String(message.error ?? '');
          if (
            message.channel === '/meta/subscribe' &&
            message.subscription === channel &&
            /^400::.*replayId/i.test(error)
          ) {
            const refused = replayFrom;
            queueMicrotask(() => onReplayInvalid(refused));
          } else if (
            /^401::/.test(error) ||
            /^403::Handshake denied/i.test(error) ||
            message.advice?.reconnect === 'none'
          ) {
            finish(
              new CrmAuthenticationError(`Salesforce refused the streaming session on ${channel}`, {
                status: 401,
                providerCode: error.split('::')[0] || 'AUTHENTICATION',
                provider: 'salesforce',
                retryable: true,
                details: { channel, bayeuxChannel: message.channel },
              }),
              true,
            );
          } else if (message.channel === '/meta/subscribe' && message.subscription === channel) {
            finish(
              new CrmWebhookError(`Salesforce refused the subscription to ${channel}`, {
                providerCode: error.split('::')[0] || 'SUBSCRIBE_FAILED',
                details: { channel, error },
              }),
            );
          } else {
            logger.debug('Bayeux meta failure (client will recover)', { channel: message.channel, error });
          }
        }
        callback(message);
      },
    };

    signal.addEventListener('abort', onAbort, { once: true });
    connection.on?.('refresh', onRefresh);
    try {
      client = connection.streaming.createClient([replayExtension, failureExtension]) as FayeClient;
    } catch (error) {
      finish(
        new CrmConnectionError(`Could not create the streaming client for ${channel}`, { cause: error }),
      );
      return;
    }
    const downLimit = options.transportDownTimeoutMs ?? 300_000;
    client.on?.('transport:down', () => {
      if (finishing) return;
      logger.warn('Streaming transport down; the client retries', { channel });
      downTimer ??= setTimeout(
        () =>
          finish(
            new CrmConnectionError(`Streaming transport for ${channel} stayed down for ${downLimit} ms`, {
              retryable: true,
              details: { channel },
            }),
            true,
          ),
        downLimit,
      );
    });
    client.on?.('transport:up', () => {
      if (downTimer) clearTimeout(downTimer);
      downTimer = undefined;
    });
    subscribe();
  });
}

/** How long a polite `/meta/disconnect` may take before the client is torn down anyway. */
const DISCONNECT_WAIT_MS = 1_000;

/**
 * Disconnects a Faye client and makes sure nothing of it keeps running: Faye retries undelivered
 * messages forever (e.g. a poll cut by a server restart), which would keep the process alive.
 */
async function shutdown(client: FayeClient): Promise<void> {
  try {
    const done = client.disconnect?.();
    if (done && typeof done.then === 'function') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => done.then?.(resolve, resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DISCONNECT_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
  } catch {
    // Already disconnected.
  }
  // Faye internals (1.4): the dispatcher holds per-message retry timers and requests.
  const dispatcher = (client as { _dispatcher?: FayeDispatcher })._dispatcher;
  if (!dispatcher || typeof dispatcher !== 'object') return;
  try {
    dispatcher.close?.();
    if (dispatcher._envelopes instanceof Map) {
      for (const envelope of dispatcher._envelopes.values()) {
        if (envelope.timer) clearTimeout(envelope.timer);
        envelope.request?.then?.((request) => request?.abort?.());
      }
      dispatcher._envelopes.clear();
    }
  } catch {
    // Best effort: a different Faye version may lay this out differently.
  }
}

interface FayeDispatcher {
  close?(): void;
  _envelopes?: Map<
    string,
    {
      timer?: ReturnType<typeof setTimeout> | null;
      request?: { then?(fn: (request: { abort?(): void } | undefined) => void): unknown } | null;
    }
  >;
}

function entityOfChannel(channel: string): string | undefined {
  const match = /^\/data\/(.+)ChangeEvent$/.exec(channel);
  if (!match?.[1] || match[1] === '') return undefined;
  const base = match[1];
  return base.endsWith('__') ? `${base}c` : base;
}

function validateOptions(options: SubscribeToChangeEventsOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new CrmConfigurationError('subscribeToChangeEvents: options are required');
  }
  assertKnownOptions('subscribeToChangeEvents', options, ALLOWED_OPTIONS, { provider: 'salesforce' });
  const problems: string[] = [];
  if (typeof options.connection?.streaming?.createClient !== 'function') problems.push('connection');
  if (typeof options.channel !== 'string' || !CHANNEL_PATTERN.test(options.channel)) problems.push('channel');
  if (typeof options.storage?.cursors?.get !== 'function') problems.push('storage');
  if (typeof options.integrationId !== 'string' || options.integrationId === '')
    problems.push('integrationId');
  if (typeof options.onEvent !== 'function') problems.push('onEvent');
  if (options.onGap !== undefined && typeof options.onGap !== 'function') problems.push('onGap');
  if (!(options.signal instanceof AbortSignal)) problems.push('signal');
  if (options.initialReplayId !== undefined && !Number.isInteger(options.initialReplayId))
    problems.push('initialReplayId');
  const down = options.transportDownTimeoutMs;
  if (down !== undefined && !(Number.isFinite(down) && down > 0)) problems.push('transportDownTimeoutMs');
  if (problems.length > 0) {
    throw new CrmConfigurationError(`subscribeToChangeEvents: invalid ${problems.join(', ')}`, {
      fields: problems,
    });
  }
}
