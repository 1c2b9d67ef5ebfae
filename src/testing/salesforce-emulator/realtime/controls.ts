import { type EmulatorControlCall, httpControlCall } from '../http/control-call.js';
import type { EmulatorOutboundDelivery, EmulatorOutboundMessageConfig } from './outbound-messages-module.js';

/** What the deprecated `emulatorRealtime` needs from a running emulator. */
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

/** Test controls of the emulator's real-time features (`emulator.realtime`: outbound messages, CometD/CDC). */
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

/** The real-time controls over the emulator's `/__emulator/…` routes. */
export function realtimeControls(call: EmulatorControlCall): EmulatorRealtimeControls {
  return {
    addOutboundMessage: async (input) =>
      (await call('POST', 'outbound-messages', input)) as EmulatorOutboundMessageConfig,
    removeOutboundMessage: async (id) => {
      await call('DELETE', `outbound-messages/${encodeURIComponent(id)}`);
    },
    outboundDeliveries: async () =>
      (await call('GET', 'outbound-messages/deliveries')) as EmulatorOutboundDelivery[],
    setChangeEventEntities: async (entities) => {
      await call('POST', 'change-events/entities', { entities });
    },
    changeEvents: async () =>
      ((await call('GET', 'change-events')) as { events: EmulatorRetainedChangeEvent[] }).events,
    trimChangeEvents: async (keepLast) => {
      await call('POST', 'change-events/trim', { keepLast });
    },
    publishChangeEvent: async (input) =>
      (await call('POST', 'change-events/publish', input)) as { replayId: number },
    forgetCometdClients: async () => {
      await call('POST', 'cometd/forget-clients');
    },
  };
}

/**
 * Typed access to the emulator's real-time test controls over HTTP.
 *
 * @deprecated Use `emulator.realtime` (or, for a standalone emulator,
 *   `connectSalesforceEmulator(target).realtime`). Kept for one release.
 */
export function emulatorRealtime(
  emulator: EmulatorRealtimeTarget,
  fetchImpl: typeof fetch = globalThis.fetch,
): EmulatorRealtimeControls {
  return realtimeControls(httpControlCall(emulator, fetchImpl));
}
