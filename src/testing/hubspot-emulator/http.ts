import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EMULATOR_KEEP_ALIVE_TIMEOUT_MS } from '../emulator-keep-alive.js';
import { type FaultTable, watchDisconnect } from '../salesforce-emulator/faults.js';
import type { EmulatorStats } from '../salesforce-emulator/stats.js';

/** An error answered in HubSpot's error shape (`{ status: 'error', message, correlationId, category }`). */
export class HubSpotEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return {
      status: 'error',
      message: this.message,
      correlationId: randomUUID(),
      category: this.category,
      ...this.extra,
    };
  }
}

/** What a route handler receives. */
export interface HubSpotRequest {
  method: string;
  /** Canonical (v3) path: date-based `2026-03` paths are rewritten to their v3 form first. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  baseUrl: string;
  json(): Promise<unknown>;
  form(): Promise<URLSearchParams>;
}

/** What a route handler returns. */
export interface HubSpotResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One route: `auth` routes need a bearer token and count as API calls (with rate-limit headers). */
export interface HubSpotRoute {
  method: string;
  pattern: RegExp;
  name: string;
  auth: boolean;
  handler(request: HubSpotRequest): HubSpotResponse | Promise<HubSpotResponse>;
}

/** Builds a route from a pattern such as `/crm/v3/objects/:objectType/:id`. */
export function route(
  method: string,
  pattern: string,
  handler: HubSpotRoute['handler'],
  auth = true,
): HubSpotRoute {
  const source = pattern.replace(/:([a-zA-Z]+)/g, (_, name: string) => `(?<${name}>[^/]+)`);
  return { method, pattern: new RegExp(`^${source}$`), name: `${method} ${pattern}`, auth, handler };
}

// Date-based (2026-03) paths have the same shapes as v3; the emulator serves both from one table.
const DATED_PATHS: Array<[RegExp, string]> = [
  [/^\/crm\/objects\/\d{4}-\d{2}\//, '/crm/v3/objects/'],
  [/^\/crm\/properties\/\d{4}-\d{2}\//, '/crm/v3/properties/'],
  [/^\/crm\/lists\/\d{4}-\d{2}(\/|$)/, '/crm/v3/lists$1'],
  [/^\/marketing\/campaigns\/\d{4}-\d{2}(\/|$)/, '/marketing/v3/campaigns$1'],
  [/^\/oauth\/\d{4}-\d{2}\/token/, '/oauth/v1/token'],
];

/** Rewrites a 2026-03 path to its v3 twin; other paths are returned unchanged. */
export function canonicalPath(path: string): string {
  for (const [pattern, replacement] of DATED_PATHS)
    if (pattern.test(path)) return path.replace(pattern, replacement);
  return path;
}

/** What the HTTP layer needs from the emulator. */
export interface HubSpotServerDependencies {
  routes: HubSpotRoute[];
  faults: FaultTable;
  stats: EmulatorStats;
  authenticate(token: string): 'ok' | 'expired' | 'invalid';
  /** Takes one call from the rate-limit window: headers to send, or a 429 error. */
  rateLimit(): { headers: Record<string, string>; error?: HubSpotEmulatorError };
  latencyMs(): number;
  maxBodyBytes: number;
}

const JSON_TYPE = 'application/json;charset=utf-8';

/** The default HubSpot error body a fault answers with when it gives none. */
export function defaultHubSpotFaultBody(status: number): unknown {
  const category =
    status === 401
      ? 'INVALID_AUTHENTICATION'
      : status === 404
        ? 'OBJECT_NOT_FOUND'
        : status === 429
          ? 'RATE_LIMITS'
          : status >= 500
            ? 'INTERNAL_ERROR'
            : 'VALIDATION_ERROR';
  const extra = status === 429 ? { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' } : {};
  return new HubSpotEmulatorError(status, category, `Injected fault (HTTP ${status})`, extra).body();
}

/** Starts the server and resolves once it listens. */
export async function listenHubSpot(
  deps: HubSpotServerDependencies,
  host: string,
  port: number,
): Promise<{ server: Server; baseUrl: string }> {
  let baseUrl = '';
  const server = createServer((req, res) => {
    void handle(deps, req, res, baseUrl);
  });
  // As the Salesforce emulator: idle connections outlive any client's idle timeout, so a loaded
  // machine never sees a client reuse a connection the emulator just closed.
  server.keepAliveTimeout = EMULATOR_KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  return { server, baseUrl };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HubSpotEmulatorError(413, 'VALIDATION_ERROR', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function handle(
  deps: HubSpotServerDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  baseUrl: string,
): Promise<void> {
  deps.stats.requests += 1;
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = canonicalPath(url.pathname.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'));
  const method = (req.method ?? 'GET').toUpperCase();
  let extraHeaders: Record<string, string> = {};
  try {
    const latency = deps.latencyMs();
    if (latency > 0) await wait(latency);
    const fault = deps.faults.take(method, path);
    if (fault) {
      watchDisconnect(fault, res);
      if (fault.delayMs) await wait(fault.delayMs);
      if (fault.drop) {
        deps.stats.byRoute.fault = (deps.stats.byRoute.fault ?? 0) + 1;
        req.resume();
        res.socket?.destroy();
        return;
      }
      if (fault.status !== undefined) {
        deps.stats.byRoute.fault = (deps.stats.byRoute.fault ?? 0) + 1;
        req.resume();
        const body = fault.body === undefined ? defaultHubSpotFaultBody(fault.status) : fault.body;
        send(res, { status: fault.status, headers: fault.headers ?? {}, body });
        return;
      }
    }
    let matched: { route: HubSpotRoute; params: Record<string, string> } | undefined;
    for (const candidate of deps.routes) {
      if (candidate.method !== method) continue;
      const found = candidate.pattern.exec(path);
      if (found) {
        const params: Record<string, string> = {};
        for (const [key, value] of Object.entries(found.groups ?? {}))
          params[key] = decodeURIComponent(value);
        matched = { route: candidate, params };
        break;
      }
    }
    if (!matched) {
      deps.stats.byRoute.unmatched = (deps.stats.byRoute.unmatched ?? 0) + 1;
      req.resume();
      throw new HubSpotEmulatorError(404, 'OBJECT_NOT_FOUND', `Unknown route ${method} ${path}`);
    }
    const { route: found, params } = matched;
    deps.stats.byRoute[found.name] = (deps.stats.byRoute[found.name] ?? 0) + 1;
    if (found.auth) {
      const header = req.headers.authorization ?? '';
      const token = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
      const verdict = token ? deps.authenticate(token) : 'invalid';
      if (verdict !== 'ok') {
        req.resume();
        throw verdict === 'expired'
          ? new HubSpotEmulatorError(
              401,
              'EXPIRED_AUTHENTICATION',
              'The OAuth token used to make this call expired.',
            )
          : new HubSpotEmulatorError(
              401,
              'INVALID_AUTHENTICATION',
              'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
            );
      }
      deps.stats.apiCalls += 1;
      const limit = deps.rateLimit();
      extraHeaders = limit.headers;
      if (limit.error) {
        req.resume();
        throw limit.error;
      }
    } else if (found.name.includes('/oauth/')) {
      deps.stats.tokenRequests += 1;
    }
    let buffered: Promise<Buffer> | undefined;
    const body = () => {
      buffered ??= readBody(req, deps.maxBodyBytes);
      return buffered;
    };
    const request: HubSpotRequest = {
      method,
      path,
      params,
      query: url.searchParams,
      headers: req.headers,
      baseUrl,
      async json() {
        const raw = (await body()).toString('utf8');
        try {
          return raw ? JSON.parse(raw) : undefined;
        } catch {
          throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1');
        }
      },
      async form() {
        return new URLSearchParams((await body()).toString('utf8'));
      },
    };
    const response = await found.handler(request);
    if (!buffered) req.resume();
    send(res, { ...response, headers: { ...extraHeaders, ...response.headers } });
  } catch (error) {
    if (error instanceof HubSpotEmulatorError) {
      send(res, { status: error.status, headers: { ...extraHeaders, ...error.headers }, body: error.body() });
      return;
    }
    send(res, {
      status: 500,
      body: new HubSpotEmulatorError(500, 'INTERNAL_ERROR', 'Internal error in the emulator').body(),
    });
  }
}

function send(res: ServerResponse, response: HubSpotResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | undefined;
  if (response.body !== undefined) {
    payload = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    headers['content-type'] ??= typeof response.body === 'string' ? 'text/plain' : JSON_TYPE;
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}
