import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorResponse } from '../http/types.js';
import type { EmulatorModule } from '../module.js';
import type { StoreChange } from '../store/org-store.js';
import { outboundNotificationXml } from './outbound-message-xml.js';

/** One configured outbound-message action (what Setup → Outbound Messages would hold). */
export interface EmulatorOutboundMessageConfig {
  /** Action id (`04k…`), assigned by the emulator. */
  id: string;
  /** Object whose creates and edits trigger the message, e.g. `Contact`. */
  sobject: string;
  /** Fields sent in each notification (`Id` is always sent first). */
  fields: string[];
  /** Listener URL; loopback only (`127.0.0.1`, `::1`, `localhost`). */
  endpointUrl: string;
  /** Retry schedule: `baseMs * 2^(attempt-1)`, capped at `maxMs`, at most `maxAttempts` tries. */
  retry: { baseMs: number; maxMs: number; maxAttempts: number };
}

/** Delivery state of one notification, as `GET /__emulator/outbound-messages/deliveries` reports it. */
export interface EmulatorOutboundDelivery {
  notificationId: string;
  actionId: string;
  recordId: string;
  attempts: number;
  acked: boolean;
  /** True once `maxAttempts` failed tries were made (Salesforce would keep trying up to 24 h). */
  gaveUp: boolean;
  lastStatus: number | undefined;
  lastError: string | undefined;
}

interface Pending extends EmulatorOutboundDelivery {
  dueAt: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const MAX_PER_MESSAGE = 100;
const ACK_PATTERN = /<(?:\w+:)?Ack>\s*true\s*<\/(?:\w+:)?Ack>/;

/**
 * Outbound messages: when a record of a configured object is created or edited through the
 * emulator, a notification is POSTed to the configured loopback URL in Salesforce's SOAP format
 * (up to 100 per message, current field values at send time), and retried with exponential
 * backoff until the listener answers 200 with `<Ack>true</Ack>`. Controls live under
 * `/__emulator/outbound-messages` (see `emulatorRealtime`).
 */
export const outboundMessagesModule: EmulatorModule = {
  name: 'outbound-messages',
  create(context) {
    const configs = new Map<string, EmulatorOutboundMessageConfig>();
    const deliveries: Pending[] = [];
    const inFlight = new Set<AbortController>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sending = false;
    let stopped = false;
    let baseUrl = '';

    const onChanges = (changes: readonly StoreChange[]): void => {
      for (const change of changes) {
        if (change.kind !== 'create' && change.kind !== 'update' && change.kind !== 'undelete') continue;
        for (const config of configs.values()) {
          if (config.sobject !== change.sobject) continue;
          deliveries.push({
            notificationId: context.ids.next('04l'),
            actionId: config.id,
            recordId: change.id,
            attempts: 0,
            acked: false,
            gaveUp: false,
            lastStatus: undefined,
            lastError: undefined,
            dueAt: 0,
          });
        }
      }
      schedule(0);
    };
    const unsubscribeStore = context.store.onChange(onChanges);

    const schedule = (delayMs: number): void => {
      if (stopped) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void sendDue();
      }, delayMs);
      timer.unref?.();
    };

    const sendDue = async (): Promise<void> => {
      if (sending || stopped) return;
      sending = true;
      try {
        const now = performance.now();
        for (const config of configs.values()) {
          const due = deliveries.filter(
            (d) => d.actionId === config.id && !d.acked && !d.gaveUp && d.dueAt <= now,
          );
          for (let i = 0; i < due.length && !stopped; i += MAX_PER_MESSAGE) {
            await send(config, due.slice(i, i + MAX_PER_MESSAGE));
          }
        }
      } finally {
        sending = false;
      }
      const waiting = deliveries.filter((d) => !d.acked && !d.gaveUp);
      if (waiting.length > 0 && !stopped) {
        const next = Math.min(...waiting.map((d) => d.dueAt));
        schedule(Math.max(0, next - performance.now()));
      }
    };

    const send = async (config: EmulatorOutboundMessageConfig, batch: Pending[]): Promise<void> => {
      const notifications = batch.flatMap((delivery) => {
        const record = context.store.get(delivery.recordId);
        if (!record) {
          // Deleted before it could be sent: Salesforce drops such notifications.
          delivery.gaveUp = true;
          delivery.lastError = 'record deleted';
          return [];
        }
        return [{ id: delivery.notificationId, sobject: config.sobject, fields: config.fields, record }];
      });
      if (notifications.length === 0) return;
      const sent = batch.filter((d) => !d.gaveUp);
      const body = outboundNotificationXml({
        organizationId: context.orgId,
        actionId: config.id,
        enterpriseUrl: `${baseUrl}/services/Soap/c/62.0/${context.orgId.slice(0, 15)}`,
        partnerUrl: `${baseUrl}/services/Soap/u/62.0/${context.orgId.slice(0, 15)}`,
        notifications,
      });
      const controller = new AbortController();
      inFlight.add(controller);
      let status: number | undefined;
      let error: string | undefined;
      try {
        const response = await fetch(config.endpointUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
          body,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]),
        });
        status = response.status;
        const text = await response.text();
        if (status !== 200 || !ACK_PATTERN.test(text)) error = `not acknowledged (HTTP ${status})`;
      } catch (caught) {
        error = caught instanceof Error ? caught.name : 'network error';
      } finally {
        inFlight.delete(controller);
      }
      for (const delivery of sent) {
        delivery.attempts += 1;
        delivery.lastStatus = status;
        delivery.lastError = error;
        if (error === undefined) {
          delivery.acked = true;
          continue;
        }
        if (delivery.attempts >= config.retry.maxAttempts) {
          delivery.gaveUp = true;
          continue;
        }
        const delay = Math.min(config.retry.maxMs, config.retry.baseMs * 2 ** (delivery.attempts - 1));
        delivery.dueAt = performance.now() + delay;
      }
    };

    const json = (status: number, body: unknown): EmulatorResponse => ({ status, body });

    context.router.add({
      method: 'POST',
      pattern: '/__emulator/outbound-messages',
      kind: 'api-free',
      handler: async (request) => {
        baseUrl = request.baseUrl;
        const input = (await request.json()) as Record<string, unknown> | undefined;
        const sobject =
          typeof input?.sobject === 'string' ? context.store.schema(input.sobject)?.name : undefined;
        if (!sobject) throw new EmulatorHttpError(400, 'INVALID_TYPE', 'sobject must name a known object');
        const schema = context.store.schema(sobject);
        const rawFields = Array.isArray(input?.fields) ? (input.fields as unknown[]) : [];
        const fields: string[] = [];
        for (const raw of rawFields) {
          const field = typeof raw === 'string' ? schema?.field(raw) : undefined;
          if (!field)
            throw new EmulatorHttpError(400, 'INVALID_FIELD', `No such field ${String(raw)} on ${sobject}`);
          if (field.name !== 'Id' && !fields.includes(field.name)) fields.push(field.name);
        }
        const endpointUrl = typeof input?.endpointUrl === 'string' ? input.endpointUrl : '';
        let url: URL;
        try {
          url = new URL(endpointUrl);
        } catch {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'endpointUrl must be an absolute URL');
        }
        if (!/^https?:$/.test(url.protocol) || !LOOPBACK_HOSTS.has(url.hostname)) {
          throw new EmulatorHttpError(400, 'INVALID_FIELD', 'endpointUrl must be an http(s) loopback URL');
        }
        const retryInput = (input?.retry ?? {}) as Record<string, unknown>;
        const retry = {
          baseMs: positive(retryInput.baseMs, 200),
          maxMs: positive(retryInput.maxMs, 5_000),
          maxAttempts: positive(retryInput.maxAttempts, 10),
        };
        const config: EmulatorOutboundMessageConfig = {
          id: context.ids.next('04k'),
          sobject,
          fields,
          endpointUrl,
          retry,
        };
        configs.set(config.id, config);
        return json(201, config);
      },
    });
    context.router.add({
      method: 'GET',
      pattern: '/__emulator/outbound-messages',
      kind: 'api-free',
      handler: () => json(200, [...configs.values()]),
    });
    context.router.add({
      method: 'GET',
      pattern: '/__emulator/outbound-messages/deliveries',
      kind: 'api-free',
      handler: () =>
        json(
          200,
          deliveries.map(({ dueAt: _dueAt, ...delivery }) => delivery),
        ),
    });
    context.router.add({
      method: 'DELETE',
      pattern: '/__emulator/outbound-messages/:id',
      kind: 'api-free',
      handler: (request) => {
        const id = request.params.id ?? '';
        if (!configs.delete(id)) throw new EmulatorHttpError(404, 'NOT_FOUND', 'No such outbound message');
        for (const delivery of deliveries) {
          if (delivery.actionId === id && !delivery.acked) delivery.gaveUp = true;
        }
        return { status: 204 };
      },
    });

    const abortAll = (): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const controller of inFlight) controller.abort();
    };
    return {
      reset: () => {
        abortAll();
        configs.clear();
        deliveries.length = 0;
      },
      stop: () => {
        stopped = true;
        unsubscribeStore();
        abortAll();
      },
    };
  },
};

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
