import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/core/errors.js';
import {
  createOutboundMessageHandler,
  type OutboundMessageHandlerOptions,
  toNodeHttpListener,
} from '../../src/salesforce/index.js';
import { contactNotification, ORG_ID, OTHER_ORG_ID, outboundMessage } from './webhook-fixtures.js';

const oneContact = (organizationId = ORG_ID) =>
  outboundMessage({
    organizationId,
    notifications: [contactNotification('04l5g000000AAAAAA1', 'ada@example.com')],
  });

function request(body: string, headers: Record<string, string> = {}, peer?: string) {
  const req = new Request('https://hooks.example.test/sf', {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml', ...headers },
    body,
  });
  if (peer !== undefined)
    Object.defineProperty(req, Symbol.for('@markmail/crm.remoteAddress'), { value: peer });
  return req;
}

function handlerWith(overrides: Partial<OutboundMessageHandlerOptions> = {}) {
  const received: unknown[] = [];
  const handler = createOutboundMessageHandler({
    organizationIds: [ORG_ID],
    onNotifications: (n) => {
      received.push(n);
    },
    ...overrides,
  });
  return { handler, received };
}

describe('outbound messages: unknown orgs are refused before the full parse', () => {
  it('regression: a large body from a wrong org gets 403 without the XML parser running', async () => {
    const { handler, received } = handlerWith();
    // Unparseable after its head: a parse-first handler would answer 400; the early check says 403.
    const big = `${oneContact(OTHER_ORG_ID).slice(0, 1200)}<unclosed>${'x'.repeat(2_000_000)}`;
    const response = await handler(request(big));
    expect(response.status).toBe(403);
    expect(received).toEqual([]);
  });

  it('a body with no OrganizationId at its head is malformed (400), also without a parse', async () => {
    const { handler } = handlerWith();
    const response = await handler(
      request(`<soapenv:Envelope>${' '.repeat(20_000)}<OrganizationId>${ORG_ID}</OrganizationId>`),
    );
    expect(response.status).toBe(400);
  });

  it('the known org still goes through', async () => {
    const { handler, received } = handlerWith();
    expect((await handler(request(oneContact()))).status).toBe(200);
    expect(received).toHaveLength(1);
  });
});

describe('outbound messages: IP allowlisting', () => {
  it('accepts listed addresses and ranges, refuses others with 403 before reading the body', async () => {
    const { handler, received } = handlerWith({
      ipAllowlist: { ranges: ['13.108.0.0/14', '2a01:111::/32'] },
    });
    expect((await handler(request(oneContact(), {}, '13.110.1.2'))).status).toBe(200);
    expect((await handler(request(oneContact(), {}, '::ffff:13.108.0.9'))).status).toBe(200);
    expect((await handler(request(oneContact(), {}, '2a01:111:f00::1'))).status).toBe(200);
    expect((await handler(request(oneContact(), {}, '203.0.113.7'))).status).toBe(403);
    // No peer address known: refused.
    expect((await handler(request(oneContact()))).status).toBe(403);
    expect(received).toHaveLength(3);
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy; then takes the rightmost untrusted hop', async () => {
    const direct = handlerWith({ ipAllowlist: { ranges: ['13.108.0.0/14'] } });
    // A client cannot talk its way in with a header.
    expect(
      (await direct.handler(request(oneContact(), { 'X-Forwarded-For': '13.108.0.1' }, '203.0.113.7')))
        .status,
    ).toBe(403);

    const proxied = handlerWith({
      ipAllowlist: { ranges: ['13.108.0.0/14'], trustedProxies: ['10.0.0.0/8'] },
    });
    const via = (xff: string, peer = '10.1.2.3') =>
      proxied.handler(request(oneContact(), { 'X-Forwarded-For': xff }, peer));
    expect((await via('13.108.0.1')).status).toBe(200);
    expect((await via('13.108.0.1, 10.9.9.9')).status).toBe(200);
    // A forged leftmost entry does not help: the rightmost untrusted hop is the real client.
    expect((await via('13.108.0.1, 203.0.113.7')).status).toBe(403);
    // From an untrusted peer the header is not read.
    expect((await via('13.108.0.1', '203.0.113.7')).status).toBe(403);
  });

  it('uses a host-supplied clientAddress on other runtimes', async () => {
    const { handler } = handlerWith({
      ipAllowlist: { ranges: ['192.0.2.0/24'], clientAddress: (req) => req.headers.get('x-test-peer') },
    });
    expect((await handler(request(oneContact(), { 'x-test-peer': '192.0.2.10' }))).status).toBe(200);
    expect((await handler(request(oneContact(), { 'x-test-peer': '192.0.3.10' }))).status).toBe(403);
  });

  it('rejects a bad range at creation', () => {
    expect(() => handlerWith({ ipAllowlist: { ranges: ['13.108.0.0/40'] } })).toThrow(CrmConfigurationError);
    expect(() => handlerWith({ ipAllowlist: { ranges: [] } })).toThrow(CrmConfigurationError);
    expect(() => handlerWith({ ipAllowlist: { ranges: ['1.2.3.4'], trustedProxies: ['nope'] } })).toThrow(
      /trustedProxies/,
    );
  });

  describe('through toNodeHttpListener (the socket peer address)', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    it('allows loopback when listed, refuses it when not', async () => {
      for (const [ranges, status] of [
        [['127.0.0.0/8', '::1/128'], 200],
        [['192.0.2.0/24'], 403],
      ] as const) {
        const { handler } = handlerWith({ ipAllowlist: { ranges } });
        server = createServer(toNodeHttpListener(handler));
        await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        const got = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Content-Type': 'text/xml' } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(oneContact());
        });
        expect(got).toBe(status);
        await new Promise<void>((resolve) => server?.close(() => resolve()));
        server = undefined;
      }
    });
  });
});
