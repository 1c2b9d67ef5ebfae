import { createHmac } from 'node:crypto';
import type { HubSpotEmulatorStore } from './store.js';

/** The outcome of one webhook delivery. */
export interface HubSpotWebhookDelivery {
  status: number;
  /** Events sent in this request. */
  events: number;
}

/** Webhook test controls (`emulator.webhooks`). */
export interface HubSpotEmulatorWebhooks {
  /** Changes recorded since the last delivery (contact creation, property change, deletion, privacy deletion). */
  pending(): number;
  /**
   * POSTs every pending change to `targetUrl` as one JSON array signed with the v3 scheme
   * (`X-HubSpot-Signature-v3`, `X-HubSpot-Request-Timestamp`, key = client secret). Events stay
   * pending unless the target answers 2xx (HubSpot retries them later). `timestamp` overrides the
   * signed time (to test staleness).
   */
  deliver(
    targetUrl: string,
    options?: { timestamp?: number; signWith?: string },
  ): Promise<HubSpotWebhookDelivery>;
}

/** HubSpot's v3 signature: base64 HMAC-SHA256 of `method + uri + body + timestamp`, keyed by the app secret. */
function signV3(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${method}${uri}${body}${timestamp}`).digest('base64');
}

export function createWebhookControls(
  store: HubSpotEmulatorStore,
  app: { clientSecret: string; portalId: number; appId: number },
): HubSpotEmulatorWebhooks {
  return {
    pending: () => store.changes.length,
    async deliver(targetUrl, options = {}) {
      const batch = store.changes.slice();
      const events = batch.map((change) => ({
        eventId: change.eventId,
        subscriptionId: 1,
        portalId: app.portalId,
        appId: app.appId,
        occurredAt: change.occurredAt,
        subscriptionType: change.subscriptionType,
        attemptNumber: 0,
        objectId: change.objectId,
        ...(change.propertyName
          ? { propertyName: change.propertyName, propertyValue: change.propertyValue }
          : {}),
        changeSource: 'CRM',
      }));
      const body = JSON.stringify(events);
      const timestamp = String(options.timestamp ?? Date.now());
      const response = await fetch(targetUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-request-timestamp': timestamp,
          'x-hubspot-signature-v3': signV3(
            options.signWith ?? app.clientSecret,
            'POST',
            targetUrl,
            body,
            timestamp,
          ),
        },
        body,
      });
      await response.arrayBuffer();
      if (response.ok) store.changes.splice(0, batch.length);
      return { status: response.status, events: events.length };
    },
  };
}
