import { CrmConfigurationError, isCrmError } from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger, silentLogger } from '../../core/logger.js';
import { readLimited } from '../../internal/read-limited-body.js';
import type { CrmLease, CrmStorage } from '../../storage/types.js';
import { type HubSpotWebhookEvent, parseHubSpotWebhookEvents } from './events.js';
import { HUBSPOT_SIGNATURE_MAX_AGE_MS, verifyHubSpotSignatureV3 } from './signature.js';

/** `storage.cursors` stream prefix under which handed-over event ids are recorded. */
export const HUBSPOT_WEBHOOK_DEDUPE_STREAM_PREFIX = 'hubspot-webhook:';
const DEDUPE_LEASE_TTL_MS = 60_000;

/** Options of {@link createHubSpotWebhookHandler}. Unknown keys are an error. */
export interface HubSpotWebhookHandlerOptions {
  /** The app's client secret: the signing key. Never logged. */
  clientSecret: string;
  /**
   * Receives the events not handed over before (all of them without `storage`); the response is a
   * 200 only after it resolved, otherwise a 500 and HubSpot retries. Turn them into core change
   * events with `hubSpotEventsToChangeEvents` for `SyncEngine.handleChangeEvent`.
   */
  onEvents: (events: HubSpotWebhookEvent[]) => Promise<void> | void;
  /** Where handed-over event ids are recorded (`storage.cursors`), with a lease per id across workers. */
  storage?: CrmStorage;
  /** Integration the dedupe records belong to. Required with `storage`. */
  integrationId?: string;
  /** Largest accepted body, bytes; larger → 413 before it is read whole. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Largest accepted age of `X-HubSpot-Request-Timestamp`, ms. @default 300000 (HubSpot's 5 minutes) */
  maxAgeMs?: number;
  /**
   * The URL HubSpot called, when it differs from `request.url` (behind a proxy that rewrites the
   * host or scheme). The signature covers this URL.
   */
  publicUrl?: (request: Request) => string;
  /** Clock for the timestamp window. */
  clock?: { now(): Date };
  /** Logger (redacted; the client secret never reaches it). */
  logger?: CrmLogger;
}

const ALLOWED = new Set([
  'clientSecret',
  'onEvents',
  'storage',
  'integrationId',
  'maxBodyBytes',
  'maxAgeMs',
  'publicUrl',
  'clock',
  'logger',
]);

function validate(options: HubSpotWebhookHandlerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new CrmConfigurationError('createHubSpotWebhookHandler: options are required');
  }
  for (const key of Object.keys(options)) {
    if (!ALLOWED.has(key))
      throw new CrmConfigurationError(`createHubSpotWebhookHandler: unknown option ${key}`, {
        fields: [key],
      });
  }
  if (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0) {
    throw new CrmConfigurationError('createHubSpotWebhookHandler: clientSecret is required', {
      fields: ['clientSecret'],
    });
  }
  if (typeof options.onEvents !== 'function') {
    throw new CrmConfigurationError('createHubSpotWebhookHandler: onEvents must be a function', {
      fields: ['onEvents'],
    });
  }
  if (options.storage !== undefined && !options.integrationId) {
    throw new CrmConfigurationError('createHubSpotWebhookHandler: integrationId is required with storage', {
      fields: ['integrationId'],
    });
  }
  const max = options.maxBodyBytes;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new CrmConfigurationError('createHubSpotWebhookHandler: maxBodyBytes must be a positive integer', {
      fields: ['maxBodyBytes'],
    });
  }
}

const json = (status: number, message: string) =>
  new Response(JSON.stringify({ status: status < 300 ? 'ok' : 'error', message }), {
    status,
    headers: { 'content-type': 'application/json' },
  });

/**
 * A Web-standard `(request) => Promise<Response>` for HubSpot webhooks: signature v3 checked in
 * constant time over the raw body, timestamp window, body cap, dedupe by `eventId` in `storage`,
 * and a 200 only after `onEvents` resolved. Answers 405 (not POST), 413 (body over the cap, not
 * read further), 401 (missing or wrong signature, stale timestamp), 400 (not a JSON event array),
 * 503 (the same event is being handled elsewhere), 500 (`onEvents` threw: HubSpot retries).
 *
 * @example
 * ```ts
 * const handler = createHubSpotWebhookHandler({
 *   clientSecret: process.env.HUBSPOT_CLIENT_SECRET!,
 *   storage, integrationId,
 *   onEvents: async (events) => {
 *     for (const change of hubSpotEventsToChangeEvents(events)) await engine.handleChangeEvent(change, { apply });
 *   },
 * });
 * ```
 */
export function createHubSpotWebhookHandler(
  options: HubSpotWebhookHandlerOptions,
): (request: Request) => Promise<Response> {
  validate(options);
  const secret = options.clientSecret;
  const logger = createRedactingLogger(options.logger ?? silentLogger, () => [secret]);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const clock = options.clock ?? { now: () => new Date() };
  const storage = options.storage;
  const integrationId = options.integrationId ?? '';
  const inFlight = new Set<string>();

  return async (request) => {
    if (request.method.toUpperCase() !== 'POST') {
      await request.body?.cancel().catch(() => {});
      return new Response(null, { status: 405, headers: { Allow: 'POST' } });
    }
    const body = await readLimited(request, maxBodyBytes);
    if (body === undefined) {
      logger.warn('HubSpot webhook rejected: body too large', { status: 413, maxBodyBytes });
      return json(413, 'Request body too large');
    }
    const verdict = verifyHubSpotSignatureV3({
      clientSecret: secret,
      method: request.method.toUpperCase(),
      uri: options.publicUrl ? options.publicUrl(request) : request.url,
      body,
      timestamp: request.headers.get('x-hubspot-request-timestamp'),
      signature: request.headers.get('x-hubspot-signature-v3'),
      now: clock.now().getTime(),
      maxAgeMs: options.maxAgeMs ?? HUBSPOT_SIGNATURE_MAX_AGE_MS,
    });
    if (verdict !== 'valid') {
      logger.warn('HubSpot webhook rejected: signature check failed', { status: 401, reason: verdict });
      return json(401, 'Invalid signature');
    }
    const events = parseHubSpotWebhookEvents(body);
    if (!events) {
      logger.warn('HubSpot webhook rejected: body is not a JSON array of events', { status: 400 });
      return json(400, 'Malformed webhook body');
    }
    const ids = [...new Set(events.map((e) => String(e.eventId)))];
    if (ids.some((id) => inFlight.has(id))) return json(503, 'Event is being processed');
    for (const id of ids) inFlight.add(id);
    const leases: CrmLease[] = [];
    try {
      let fresh = events;
      if (storage) {
        for (const id of ids) {
          const lease = await storage.leases.acquire(
            `${HUBSPOT_WEBHOOK_DEDUPE_STREAM_PREFIX}${integrationId}:${id}`,
            DEDUPE_LEASE_TTL_MS,
          );
          if (!lease) return json(503, 'Event is being processed');
          leases.push(lease);
        }
        const seen = await Promise.all(
          ids.map((id) => storage.cursors.get(integrationId, HUBSPOT_WEBHOOK_DEDUPE_STREAM_PREFIX + id)),
        );
        const done = new Set(ids.filter((_, i) => seen[i] !== null));
        const handed = new Set<string>();
        fresh = events.filter((e) => {
          const id = String(e.eventId);
          if (done.has(id) || handed.has(id)) return false;
          handed.add(id);
          return true;
        });
      }
      if (fresh.length) {
        await options.onEvents(fresh);
        if (storage) {
          const at = clock.now().toISOString();
          for (const e of fresh)
            await storage.cursors.set(integrationId, HUBSPOT_WEBHOOK_DEDUPE_STREAM_PREFIX + e.eventId, at);
        }
      }
      logger.debug('HubSpot webhook acknowledged', { events: events.length, handedOver: fresh.length });
      return json(200, 'ok');
    } catch (error) {
      logger.error('HubSpot webhook not acknowledged: handling failed, HubSpot will retry', {
        status: 500,
        error: isCrmError(error) ? error.toJSON() : error instanceof Error ? error.name : 'unknown',
      });
      return json(500, 'Events could not be processed');
    } finally {
      for (const id of ids) inFlight.delete(id);
      for (const lease of leases) await storage?.leases.release(lease).catch(() => {});
    }
  };
}
