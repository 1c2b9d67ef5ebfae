import type { EmulatorOutboundDelivery, EmulatorOutboundMessageConfig } from './outbound-messages-module.js';

/** What {@link emulatorRealtime} needs from a running emulator. */
export interface EmulatorRealtimeTarget {
  instanceUrl: string;
  accessToken: string;
}

/** Input of {@link EmulatorRealtimeControls.addOutboundMessage}. */
export interface EmulatorOutboundMessageInput {
  /** Object whose creates and edits send a message, e.g. `Contact`. */
  sobject: string;
  /** Fields to include (besides `Id`). */
  fields: string[];
  /** Loopback listener URL, e.g. `http://127.0.0.1:3000/salesforce/outbound`. */
  endpointUrl: string;
  /** Retry schedule. @default { baseMs: 200, maxMs: 5000, maxAttempts: 10 } */
  retry?: { baseMs?: number; maxMs?: number; maxAttempts?: number };
}

/** A retained change event as the emulator reports it. */
export interface EmulatorRetainedChangeEvent {
  replayId: number;
  entityName: string;
  channel: string;
  publishedAt: number;
  payload: Record<string, unknown>;
}

/** Test controls of the emulator's real-time features (outbound messages, CometD/CDC). */
export interface EmulatorRealtimeControls {
  /** Configures an outbound message (like Setup → Outbound Messages + a workflow rule on every edit). */
  addOutboundMessage(input: EmulatorOutboundMessageInput): Promise<EmulatorOutboundMessageConfig>;
  /** Removes an outbound message; its unsent notifications are dropped. */
  removeOutboundMessage(id: string): Promise<void>;
  /** Every notification and its delivery state, oldest first. */
  outboundDeliveries(): Promise<EmulatorOutboundDelivery[]>;
  /** Objects that publish change events. @default ['Contact', 'Lead'] */
  setChangeEventEntities(entities: string[]): Promise<void>;
  /** Retained change events, oldest first. */
  changeEvents(): Promise<EmulatorRetainedChangeEvent[]>;
  /** Drops all but the newest `keepLast` retained events (simulates the retention window passing). */
  trimChangeEvents(keepLast: number): Promise<void>;
  /** Publishes a hand-made event, e.g. `{ entityName: 'Contact', changeType: 'GAP_OVERFLOW' }`. */
  publishChangeEvent(input: {
    entityName: string;
    changeType: string;
    recordIds?: string[];
    fields?: Record<string, unknown>;
  }): Promise<{ replayId: number }>;
  /** Forgets every CometD client (their next poll gets `403::Unknown client` and re-handshakes). */
  forgetCometdClients(): Promise<void>;
}

/**
 * Typed access to the emulator's real-time test controls (HTTP routes under `/__emulator/`,
 * authenticated with the emulator's access token, so they also work against a standalone
 * `markmail-crm-emulator`).
 *
 * @param emulator the running emulator (or its `instanceUrl` and `accessToken`).
 * @param fetchImpl injectable fetch. @default globalThis.fetch
 * @example
 * ```ts
 * const sf = await startSalesforceEmulator();
 * const realtime = emulatorRealtime(sf);
 * await realtime.addOutboundMessage({ sobject: 'Contact', fields: ['Email'], endpointUrl: 'http://127.0.0.1:3000/om' });
 * ```
 */
export function emulatorRealtime(
  emulator: EmulatorRealtimeTarget,
  fetchImpl: typeof fetch = globalThis.fetch,
): EmulatorRealtimeControls {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetchImpl(`${emulator.instanceUrl}/__emulator/${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${emulator.accessToken}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(
        `Emulator control ${method} /__emulator/${path} failed: HTTP ${response.status} ${text}`,
      );
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    addOutboundMessage: (input) => call('POST', 'outbound-messages', input),
    removeOutboundMessage: async (id) => {
      await call('DELETE', `outbound-messages/${encodeURIComponent(id)}`);
    },
    outboundDeliveries: () => call('GET', 'outbound-messages/deliveries'),
    setChangeEventEntities: async (entities) => {
      await call('POST', 'change-events/entities', { entities });
    },
    changeEvents: async () =>
      (await call<{ events: EmulatorRetainedChangeEvent[] }>('GET', 'change-events')).events,
    trimChangeEvents: async (keepLast) => {
      await call('POST', 'change-events/trim', { keepLast });
    },
    publishChangeEvent: (input) => call('POST', 'change-events/publish', input),
    forgetCometdClients: async () => {
      await call('POST', 'cometd/forget-clients');
    },
  };
}
