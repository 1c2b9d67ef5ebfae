import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CrmConfigurationError } from '../../src/core/errors.js';
import {
  createOutboundMessageHandler,
  type OutboundMessageHandlerOptions,
  outboundMessageAck,
  type SalesforceOutboundNotification,
  toNodeHttpListener,
} from '../../src/salesforce/index.js';
import { OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX } from '../../src/salesforce/webhooks/outbound-message-handler.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { contactNotification, ORG_ID, OTHER_ORG_ID, outboundMessage } from './webhook-fixtures.js';

const URL_ = 'https://hooks.example.test/salesforce/outbound';

function post(
  body: BodyInit | null,
  headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8' },
) {
  return new Request(URL_, {
    method: 'POST',
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

function handlerWith(overrides: Partial<OutboundMessageHandlerOptions> = {}) {
  const received: SalesforceOutboundNotification[][] = [];
  const handler = createOutboundMessageHandler({
    organizationIds: [ORG_ID],
    onNotifications: (notifications) => {
      received.push(notifications);
    },
    ...overrides,
  });
  return { handler, received };
}

const oneContact = outboundMessage({
  notifications: [contactNotification('04l5g000000AAAAAA1', 'ada@example.com')],
});

/** A body of `totalBytes` produced lazily in 64 KiB chunks; counts how many chunks were pulled. */
function lazyBody(totalBytes: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  let produced = 0;
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls += 1;
      if (produced >= totalBytes) {
        controller.close();
        return;
      }
      produced += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulls: () => pulls, produced: () => produced };
}

describe('createOutboundMessageHandler: status codes', () => {
  it('ACKs a valid message with 200 and the exact SOAP ACK after onNotifications resolved', async () => {
    const order: string[] = [];
    const { handler } = handlerWith({
      onNotifications: async (notifications) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(`handled ${notifications.length}`);
      },
    });
    const response = await handler(post(oneContact));
    order.push('responded');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(await response.text()).toBe(outboundMessageAck(true));
    expect(order).toEqual(['handled 1', 'responded']);
  });

  it.each(['GET', 'PUT', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    const { handler, received } = handlerWith();
    const response = await handler(
      new Request(URL_, { method, ...(method === 'GET' ? {} : { body: oneContact }) } as RequestInit),
    );
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(received).toEqual([]);
  });

  it.each([
    ['application/json', 415],
    ['text/plain', 415],
    ['', 415],
    ['application/xml', 200],
    ['text/xml', 200],
    ['application/soap+xml; charset=utf-8', 200],
  ])('content type "%s" → %i', async (contentType, status) => {
    const { handler } = handlerWith();
    const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const response = await handler(post(new Blob([oneContact]), headers));
    expect(response.status).toBe(status);
  });

  it('answers malformed XML with a 400 SOAP Client fault and never calls onNotifications', async () => {
    const { handler, received } = handlerWith();
    const response = await handler(post('<soapenv:Envelope><broken>'));
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('<soapenv:Fault><faultcode>soapenv:Client</faultcode>');
    expect(received).toEqual([]);
  });

  it('answers an unknown OrganizationId with 403 (org ids compared on 15 characters)', async () => {
    const { handler, received } = handlerWith({ organizationIds: [ORG_ID.slice(0, 15)] });
    const wrong = await handler(
      post(
        outboundMessage({
          organizationId: OTHER_ORG_ID,
          notifications: [contactNotification('04l5g000000AAAAAA1', 'x@example.com')],
        }),
      ),
    );
    expect(wrong.status).toBe(403);
    expect(received).toEqual([]);
    const right = await handler(post(oneContact));
    expect(right.status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it('answers 500 with a Server fault when onNotifications throws, so Salesforce redelivers', async () => {
    let fail = true;
    const { handler } = handlerWith({
      onNotifications: () => {
        if (fail) throw new Error('database is down: password=hunter2');
      },
    });
    const first = await handler(post(oneContact));
    expect(first.status).toBe(500);
    const text = await first.text();
    expect(text).toContain('<faultcode>soapenv:Server</faultcode>');
    expect(text).not.toContain('hunter2');
    fail = false;
    const redelivery = await handler(post(oneContact));
    expect(redelivery.status).toBe(200);
  });

  it('rejects invalid options at creation', () => {
    expect(() => createOutboundMessageHandler({ organizationIds: [], onNotifications: () => {} })).toThrow(
      CrmConfigurationError,
    );
    expect(() =>
      createOutboundMessageHandler({ organizationIds: ['not-an-org'], onNotifications: () => {} }),
    ).toThrow(CrmConfigurationError);
    expect(() =>
      createOutboundMessageHandler({
        organizationIds: [ORG_ID],
        onNotifications: () => {},
        storage: new MemoryStorage(),
      }),
    ).toThrow(/integrationId/);
    expect(() =>
      createOutboundMessageHandler({
        organizationIds: [ORG_ID],
        onNotifications: () => {},
        maxBodyBytes: 0,
      }),
    ).toThrow(CrmConfigurationError);
  });
});

describe('createOutboundMessageHandler: hostile bodies', () => {
  it('refuses billion laughs with 400 in well under a second', async () => {
    const { handler, received } = handlerWith();
    const body = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ).join(
      '',
    )}]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol9;</soapenv:Body></soapenv:Envelope>`;
    const started = performance.now();
    const response = await handler(post(body));
    expect(response.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(500);
    expect(received).toEqual([]);
  });

  it('refuses an external entity (XXE) with 400', async () => {
    const { handler, received } = handlerWith();
    const body = oneContact
      .replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
      )
      .replace('Lovelace', '&xxe;');
    const response = await handler(post(body));
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('root:');
    expect(received).toEqual([]);
  });

  it('answers 413 from Content-Length alone without reading the body', async () => {
    const { handler } = handlerWith({ maxBodyBytes: 1024 });
    const body = lazyBody(50 * 1024 * 1024);
    const response = await handler(
      post(body.stream, { 'Content-Type': 'text/xml', 'Content-Length': String(50 * 1024 * 1024) }),
    );
    expect(response.status).toBe(413);
    expect(body.produced()).toBeLessThanOrEqual(64 * 1024);
  });

  it('streams a 50 MB body without Content-Length: stops at the limit, 413, small heap growth', async () => {
    const { handler, received } = handlerWith({ maxBodyBytes: 1024 * 1024 });
    const body = lazyBody(50 * 1024 * 1024);
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const response = await handler(post(body.stream, { 'Content-Type': 'text/xml' }));
    const after = process.memoryUsage().heapUsed;
    expect(response.status).toBe(413);
    expect(received).toEqual([]);
    // 1 MiB limit / 64 KiB chunks: about 17 chunks read (plus the stream's read-ahead), not 800.
    expect(body.pulls()).toBeLessThan(25);
    expect(body.produced()).toBeLessThan(2 * 1024 * 1024);
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('behind node:http, a 50 MB upload gets 413 and the server stops reading it', async () => {
    const { handler } = handlerWith({ maxBodyBytes: 256 * 1024 });
    const server = createServer(toNodeHttpListener(handler));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sockets: import('node:net').Socket[] = [];
    server.on('connection', (socket) => sockets.push(socket));
    const heapBefore = process.memoryUsage().heapUsed;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: { 'Content-Type': 'text/xml' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => {
        if (
          !(error as NodeJS.ErrnoException).code?.startsWith('EC') &&
          (error as NodeJS.ErrnoException).code !== 'EPIPE'
        )
          reject(error);
      });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.byteLength;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const serverRead = sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
    expect(serverRead).toBeLessThan(8 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('createOutboundMessageHandler: redelivery and dedupe', () => {
  it('with storage, a redelivered notification is ACKed without being handed over twice', async () => {
    const storage = new MemoryStorage();
    const { handler, received } = handlerWith({ storage, integrationId: 'int-1' });
    expect((await handler(post(oneContact))).status).toBe(200);
    expect((await handler(post(oneContact))).status).toBe(200);
    expect(received).toHaveLength(1);
    expect(
      await storage.cursors.get('int-1', `${OUTBOUND_MESSAGE_DEDUPE_STREAM_PREFIX}04l5g000000AAAAAA1`),
    ).not.toBeNull();

    // A later message mixing a known and a new id hands over only the new one.
    const mixed = outboundMessage({
      notifications: [
        contactNotification('04l5g000000AAAAAA1', 'ada@example.com'),
        contactNotification('04l5g000000AAAAAA2', 'grace@example.com'),
      ],
    });
    expect((await handler(post(mixed))).status).toBe(200);
    expect(received.map((batch) => batch.map((n) => n.id))).toEqual([
      ['04l5g000000AAAAAA1'],
      ['04l5g000000AAAAAA2'],
    ]);
  });

  it('marks ids only after onNotifications succeeded: a failed delivery is handed over again', async () => {
    const storage = new MemoryStorage();
    const onNotifications = vi.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValue(undefined);
    const { handler } = handlerWith({ storage, integrationId: 'int-1', onNotifications });
    expect((await handler(post(oneContact))).status).toBe(500);
    expect((await handler(post(oneContact))).status).toBe(200);
    expect((await handler(post(oneContact))).status).toBe(200);
    expect(onNotifications).toHaveBeenCalledTimes(2);
  });

  it('a concurrent redelivery of an id being handled is not ACKed (503) and not handed over', async () => {
    const storage = new MemoryStorage();
    let finish: () => void = () => {};
    const onNotifications = vi.fn(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
    );
    const { handler } = handlerWith({ storage, integrationId: 'int-1', onNotifications });
    const first = handler(post(oneContact));
    await vi.waitFor(() => expect(onNotifications).toHaveBeenCalledTimes(1));
    const second = await handler(post(oneContact));
    expect(second.status).toBe(503);
    finish();
    expect((await first).status).toBe(200);
    expect(onNotifications).toHaveBeenCalledTimes(1);
  });

  it('two workers sharing storage never both hand over the same notification', async () => {
    const storage = new MemoryStorage();
    const handedOver: string[] = [];
    let finish: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const worker = () =>
      createOutboundMessageHandler({
        organizationIds: [ORG_ID],
        storage,
        integrationId: 'int-1',
        onNotifications: async (notifications) => {
          handedOver.push(...notifications.map((n) => n.id));
          await slow;
        },
      });
    const [workerA, workerB] = [worker(), worker()];
    const first = workerA(post(oneContact));
    await vi.waitFor(() => expect(handedOver).toHaveLength(1));
    // Salesforce redelivers to the other worker while the first is still busy.
    expect((await workerB(post(oneContact))).status).toBe(503);
    finish();
    expect((await first).status).toBe(200);
    // Later redeliveries to either worker are ACKed without a second hand-over.
    expect((await workerB(post(oneContact))).status).toBe(200);
    expect((await workerA(post(oneContact))).status).toBe(200);
    expect(handedOver).toEqual(['04l5g000000AAAAAA1']);
  });

  it('without storage every delivery is handed over (the host must be idempotent)', async () => {
    const { handler, received } = handlerWith();
    await handler(post(oneContact));
    await handler(post(oneContact));
    expect(received).toHaveLength(2);
  });
});
