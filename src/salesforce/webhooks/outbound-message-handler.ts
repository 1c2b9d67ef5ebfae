import { CrmConfigurationError, isCrmError } from '../../core/errors.js';
import { type CrmLogger, silentLogger } from '../../core/logger.js';
import { readLimited } from '../../internal/read-limited-body.js';
import type { CrmLease, CrmStorage } from '../../storage/types.js';
import {
  hasDoctype,
  outboundMessageAck,
  outboundMessageFault,
  parseOutboundMessage,
  type SalesforceOutboundMessage,
  type SalesforceOutboundNotification,
} from './outbound-message.js';

/**
 * Default body limit, 8 MiB: a message holds up to 100 notifications and may carry long text
 * fields (up to 131 072 characters each), so a tight limit would refuse legitimate messages forever
 * (Salesforce retries a refused message for 24 hours, then drops it).
 */
export const DEFAULT_OUTBOUND_MESSAGE_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Prefix of the `storage.cursors` stream key under which delivered notification ids are recorded
 * (`salesforce:outbound-message:<notificationId>`, value = ISO time it was handed over).
 */
export const OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX = 'salesforce:outbound-message:';

/** Options of {@link createOutboundMessageHandler}. */
export interface OutboundMessageHandlerOptions {
  /**
   * Org ids (15- or 18-character `00D…`) whose messages are accepted; any other org gets 403.
   * Required: Salesforce's IP ranges and client certificate are shared by all customers, so the
   * org id is the only proof that a message comes from *your* org.
   */
  organizationIds: readonly string[];
  /**
   * Receives the notifications not handed over before (all of them without `storage`). The ACK is
   * sent only after the returned promise resolves; a throw answers 500 so Salesforce redelivers.
   * Must be idempotent per record when used without `storage` (Salesforce delivers at least once).
   */
  onNotifications(
    notifications: SalesforceOutboundNotification[],
    message: SalesforceOutboundMessage,
  ): void | Promise<void>;
  /**
   * Where delivered notification ids are recorded (in `storage.cursors`, see
   * {@link OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX}) so a redelivered id is acknowledged without
   * being handed over again, also across worker processes (a `storage.leases` lease per id is held
   * while `onNotifications` runs; a concurrent duplicate gets 503 and is redelivered later).
   * Requires `integrationId`. @default no deduplication
   */
  storage?: CrmStorage;
  /** Integration the dedupe records belong to. Required with `storage`. */
  integrationId?: string;
  /** Largest accepted body in bytes; larger requests get 413 and are not read further. @default 8388608 (8 MiB) */
  maxBodyBytes?: number;
  /** Receives one line per rejected or failed request (no payloads). @default silent */
  logger?: CrmLogger;
}

/** A Web-standard request handler (Fetch API `Request` in, `Response` out). */
export type OutboundMessageRequestHandler = (request: Request) => Promise<Response>;

const XML_CONTENT_TYPE = 'text/xml; charset=utf-8';
/**
 * How long a worker may hold a notification id while `onNotifications` runs. A handler slower
 * than this could let a second worker hand the same id over again.
 */
const DEDUPE_LEASE_TTL_MS = 10 * 60 * 1000;
const ACCEPTED_TYPES = new Set(['text/xml', 'application/xml', 'application/soap+xml']);
const ALLOWED_OPTIONS = new Set([
  'organizationIds',
  'onNotifications',
  'storage',
  'integrationId',
  'maxBodyBytes',
  'logger',
]);

/**
 * Creates a listener for Salesforce outbound messages as a Web-standard
 * `(request: Request) => Promise<Response>` (mount it on `node:http`, Hono, Next.js route
 * handlers, Cloudflare Workers, …).
 *
 * Answers: 405 for a method other than POST, 415 for a non-XML content type, 413 above
 * `maxBodyBytes` (the body is read incrementally and the read stops at the limit), 400 with a
 * SOAP fault for malformed XML, a DOCTYPE or a body that is not an outbound message, 403 for an
 * org not in `organizationIds`, 500 with a SOAP fault when `onNotifications` throws (Salesforce
 * then redelivers), and 200 with {@link outboundMessageAck} once `onNotifications` resolved.
 *
 * @throws {CrmConfigurationError} for invalid options (at creation, not per request).
 * @example
 * ```ts
 * const handler = createOutboundMessageHandler({
 *   organizationIds: ['00D5g000004ABCDEAA'],
 *   storage, integrationId,
 *   onNotifications: async (notifications) => {
 *     for (const n of notifications) await upsertSubscriber(n.sObject.fields);
 *   },
 * });
 * ```
 */
export function createOutboundMessageHandler(
  options: OutboundMessageHandlerOptions,
): OutboundMessageRequestHandler {
  validateOptions(options);
  const orgs = new Set(options.organizationIds.map((id) => id.slice(0, 15)));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_OUTBOUND_MESSAGE_MAX_BODY_BYTES;
  const logger = options.logger ?? silentLogger;
  const storage = options.storage;
  const integrationId = options.integrationId ?? '';
  // Ids being handled right now by this handler: a concurrent redelivery must not race the first.
  const inFlight = new Set<string>();

  return async (request) => {
    if (request.method.toUpperCase() !== 'POST') {
      await discard(request);
      return new Response(null, { status: 405, headers: { Allow: 'POST' } });
    }
    const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!ACCEPTED_TYPES.has(mediaType)) {
      await discard(request);
      logger.warn('Outbound message rejected: content type is not XML', { status: 415 });
      return fault(415, 'Client', 'Content-Type must be text/xml');
    }
    const body = await readLimited(request, maxBodyBytes);
    if (body === undefined) {
      logger.warn('Outbound message rejected: body too large', { status: 413, maxBodyBytes });
      return fault(413, 'Client', 'Request body too large');
    }
    if (hasDoctype(body)) {
      logger.warn('Outbound message rejected: DOCTYPE present', { status: 400 });
      return fault(400, 'Client', 'DOCTYPE is not allowed');
    }
    let message: SalesforceOutboundMessage;
    try {
      message = parseOutboundMessage(body);
    } catch (error) {
      const reason = isCrmError(error) ? error.details?.reason : undefined;
      logger.warn('Outbound message rejected: not a valid outbound message', { status: 400, reason });
      return fault(400, 'Client', 'Malformed outbound message');
    }
    if (!orgs.has(message.organizationId.slice(0, 15))) {
      logger.warn('Outbound message rejected: unknown OrganizationId', { status: 403 });
      return fault(403, 'Client', 'Unknown OrganizationId');
    }

    const ids = message.notifications.map((n) => n.id);
    if (ids.some((id) => inFlight.has(id))) {
      // Do not ACK: the first delivery may still fail. Salesforce retries later.
      return fault(503, 'Server', 'Notification is being processed');
    }
    for (const id of ids) inFlight.add(id);
    const leases: CrmLease[] = [];
    try {
      let fresh = message.notifications;
      if (storage) {
        // Several listener processes behind a load balancer may get the same redelivery at once:
        // hold a lease per notification id, then (re-)check the dedupe record under it.
        for (const id of new Set(ids)) {
          const lease = await storage.leases.acquire(
            `${OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX}${integrationId}:${id}`,
            DEDUPE_LEASE_TTL_MS,
          );
          if (!lease) {
            logger.info('Outbound message not acknowledged: another worker is handling it', { status: 503 });
            return fault(503, 'Server', 'Notification is being processed');
          }
          leases.push(lease);
        }
        const seen = await Promise.all(
          ids.map((id) => storage.cursors.get(integrationId, OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX + id)),
        );
        // Also drops an id repeated inside one message.
        const handed = new Set<string>();
        fresh = message.notifications.filter((n, i) => {
          if (seen[i] !== null || handed.has(n.id)) return false;
          handed.add(n.id);
          return true;
        });
      }
      if (fresh.length > 0) {
        await options.onNotifications(fresh, message);
        if (storage) {
          const at = new Date().toISOString();
          for (const n of fresh) {
            await storage.cursors.set(integrationId, OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX + n.id, at);
          }
        }
      }
      logger.debug('Outbound message acknowledged', {
        notifications: ids.length,
        handedOver: fresh.length,
      });
      return new Response(outboundMessageAck(true), {
        status: 200,
        headers: { 'Content-Type': XML_CONTENT_TYPE },
      });
    } catch (error) {
      logger.error('Outbound message not acknowledged: handling failed, Salesforce will redeliver', {
        status: 500,
        error: isCrmError(error) ? error.toJSON() : error instanceof Error ? error.name : 'unknown',
      });
      return fault(500, 'Server', 'Notifications could not be processed');
    } finally {
      for (const id of ids) inFlight.delete(id);
      if (storage) {
        for (const lease of leases) await storage.leases.release(lease).catch(() => {});
      }
    }
  };
}

function validateOptions(options: OutboundMessageHandlerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new CrmConfigurationError('createOutboundMessageHandler: options are required');
  }
  for (const key of Object.keys(options)) {
    if (!ALLOWED_OPTIONS.has(key)) {
      throw new CrmConfigurationError(`createOutboundMessageHandler: unknown option ${key}`, {
        fields: [key],
      });
    }
  }
  if (
    !Array.isArray(options.organizationIds) ||
    options.organizationIds.length === 0 ||
    options.organizationIds.some(
      (id) => typeof id !== 'string' || !/^00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?$/.test(id),
    )
  ) {
    throw new CrmConfigurationError(
      'createOutboundMessageHandler: organizationIds must list at least one 15- or 18-character org id',
      { fields: ['organizationIds'] },
    );
  }
  if (typeof options.onNotifications !== 'function') {
    throw new CrmConfigurationError('createOutboundMessageHandler: onNotifications must be a function', {
      fields: ['onNotifications'],
    });
  }
  if (options.storage !== undefined && !options.integrationId) {
    throw new CrmConfigurationError('createOutboundMessageHandler: integrationId is required with storage', {
      fields: ['integrationId'],
    });
  }
  const max = options.maxBodyBytes;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new CrmConfigurationError('createOutboundMessageHandler: maxBodyBytes must be a positive integer', {
      fields: ['maxBodyBytes'],
    });
  }
}

async function discard(request: Request): Promise<void> {
  await request.body?.cancel().catch(() => {});
}

function fault(status: number, code: 'Client' | 'Server', text: string): Response {
  return new Response(outboundMessageFault(code, text), {
    status,
    headers: { 'Content-Type': XML_CONTENT_TYPE },
  });
}
