import { generateKeyPairSync } from 'node:crypto';
import type { CrmLogger } from '../../src/core/logger.js';
import { computeTokenSignature } from '../../src/salesforce/auth/token-set.js';

/** Salesforce-shaped ids and secrets used across the auth unit tests (all fake). */
export const ORG_ID = '00D5g000004SXyzEAG';
export const USER_ID = '0055g00000AbCdEAAZ';
export const CLIENT_ID = '3MVG9fakeConsumerKeyForTests.abcdefghijklmnopqrstuvwxyz';
export const CLIENT_SECRET = 'F4KE5ECRET0123456789ABCDEF';
export const LOGIN_URL = 'https://acme.my.salesforce.com';
export const INSTANCE_URL = 'https://acme.my.salesforce.com';
export const REDIRECT_URI = 'https://app.example.com/oauth/salesforce/callback';

let counter = 0;
/** A fresh access token in Salesforce's session id shape. */
export function accessToken(): string {
  counter++;
  return `${ORG_ID}!AQ0AQ${'x'.repeat(20)}Tok${counter}${'Z'.repeat(40)}`;
}
/** A fresh refresh token in Salesforce's shape. */
export function refreshToken(): string {
  counter++;
  return `5Aep861fakeRefresh${counter}${'Q'.repeat(60)}`;
}

/** A token response body as Salesforce sends it, signed with `secret`. */
export function tokenResponse(
  overrides: Record<string, unknown> = {},
  secret: string | null = CLIENT_SECRET,
): Record<string, unknown> {
  const issuedAt = String(overrides.issued_at ?? Date.now());
  const id = String(overrides.id ?? `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`);
  const body: Record<string, unknown> = {
    access_token: accessToken(),
    instance_url: INSTANCE_URL,
    id,
    token_type: 'Bearer',
    issued_at: issuedAt,
    scope: 'api refresh_token',
    ...overrides,
  };
  if (secret !== null && !('signature' in overrides))
    body.signature = computeTokenSignature(secret, id, issuedAt);
  return body;
}

/** One recorded request of {@link fakeFetch}. */
export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  form: URLSearchParams;
}

type Handler = (request: RecordedRequest) => Response | Promise<Response>;

/** A `fetch` that answers from a queue of handlers and records every request. */
export function fakeFetch(...handlers: Handler[]): {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  requests: RecordedRequest[];
  push: (...more: Handler[]) => void;
} {
  const queue = [...handlers];
  const requests: RecordedRequest[] = [];
  return {
    requests,
    push: (...more) => queue.push(...more),
    fetch: async (input, init) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const request: RecordedRequest = {
        url: input,
        method: init.method ?? 'GET',
        headers,
        form: new URLSearchParams(typeof init.body === 'string' ? init.body : ''),
      };
      requests.push(request);
      const handler = queue.shift();
      if (!handler) throw new Error(`unexpected request ${request.method} ${request.url}`);
      return handler(request);
    },
  };
}

/** JSON response helper. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A logger that keeps every line (message + JSON data) for secret scans. */
export function recordingLogger(): CrmLogger & { lines: string[] } {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, data?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${data ? JSON.stringify(data) : ''}`);
    };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A fresh 2048-bit RSA key pair (PEM). */
export function rsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

/** A controllable clock. */
export function manualClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)): {
  now: () => Date;
  advance: (ms: number) => void;
} {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}
