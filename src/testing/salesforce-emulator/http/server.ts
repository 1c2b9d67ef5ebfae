import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { EMULATOR_KEEP_ALIVE_TIMEOUT_MS } from '../../emulator-keep-alive.js';
import { defaultFaultBody, type EmulatorFault, type FaultTable, watchDisconnect } from '../faults.js';
import type { EmulatorStats } from '../stats.js';
import { parseVersionSegment } from '../versions.js';
import { EmulatorHttpError, EmulatorOAuthError, notFound } from './errors.js';
import type { EmulatorRouter } from './router.js';
import type { TlsMaterial } from './self-signed.js';
import type {
  EmulatorHttpMethod,
  EmulatorRequestContext,
  EmulatorResponse,
  EmulatorSession,
} from './types.js';

/** JSON content type Salesforce answers with. */
export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/** Outcome of checking an access token. */
export type SessionLookup = { session: EmulatorSession } | { failure: 'invalid' };

/** What the HTTP layer needs from the rest of the emulator. */
export interface EmulatorServerDependencies {
  router: EmulatorRouter;
  faults: FaultTable;
  stats: EmulatorStats;
  /** Resolves a bearer token to a session. */
  authenticate(token: string): SessionLookup;
  /** Counts one API call; `false` when the daily limit is spent (the call is then refused). */
  consumeApiCall(): boolean;
  /** Current usage for `Sforce-Limit-Info`. */
  apiUsage(): { used: number; max: number };
  /** Artificial latency added to every request, ms. */
  latencyMs(): number;
  /** Called with unexpected handler errors (default: swallowed into a 500). */
  onError?(error: unknown): void;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

/**
 * Starts the server on `host:port` — node:http, or node:https with `tls` — and resolves once it
 * listens.
 */
export async function listen(
  deps: EmulatorServerDependencies,
  host: string,
  port: number,
  tls?: TlsMaterial,
): Promise<{ server: Server; baseUrl: string }> {
  const scheme = tls ? 'https' : 'http';
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(deps, req, res, baseUrlOf(server, host, scheme));
  };
  // An https.Server is an http.Server over TLS (same request/close API), hence the cast.
  const server: Server = tls
    ? (createTlsServer(tls, onRequest) as unknown as Server)
    : createServer(onRequest);
  // Idle connections outlive any client's own idle timeout (see the constant).
  server.keepAliveTimeout = EMULATOR_KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, baseUrl: baseUrlOf(server, host, scheme) };
}

function baseUrlOf(server: Server, host: string, scheme: 'http' | 'https'): string {
  const address = server.address() as AddressInfo | null;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shownHost}:${address?.port ?? 0}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collapses duplicate slashes (the `sf` CLI sends `//services/...`) and drops a trailing slash. */
export function normalisePath(rawPath: string): string {
  const collapsed = rawPath.replace(/\/{2,}/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

async function handle(
  deps: EmulatorServerDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  baseUrl: string,
): Promise<void> {
  deps.stats.requests += 1;
  const rawUrl = req.url ?? '/';
  const queryIndex = rawUrl.indexOf('?');
  const path = normalisePath(queryIndex >= 0 ? rawUrl.slice(0, queryIndex) : rawUrl);
  const query = new URLSearchParams(queryIndex >= 0 ? rawUrl.slice(queryIndex + 1) : '');
  const method = (req.method ?? 'GET').toUpperCase();
  try {
    const latency = deps.latencyMs();
    if (latency > 0) await sleep(latency);

    const fault = deps.faults.take(method, path);
    if (fault) watchDisconnect(fault, res);
    // A write the server received in full: processed after the delay whether the client waits or not.
    const prebuffered = fault?.received ? await readAll(req) : undefined;
    if (fault && (await applyFault(deps, fault, req, res, method))) return;

    if (!METHODS.has(method)) {
      throw new EmulatorHttpError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed.`);
    }
    const { match, pathExists, allowed } = deps.router.match(method as EmulatorHttpMethod, path);
    if (!match) {
      deps.stats.byRoute.unmatched = (deps.stats.byRoute.unmatched ?? 0) + 1;
      req.resume();
      if (pathExists) {
        throw new EmulatorHttpError(
          405,
          'METHOD_NOT_ALLOWED',
          `HTTP Method '${method}' not allowed. Allowed are ${allowed.join(',')}`,
        );
      }
      throw notFound();
    }
    deps.stats.byRoute[match.name] = (deps.stats.byRoute[match.name] ?? 0) + 1;
    const { route, params } = match;

    let session: EmulatorSession | undefined;
    if (route.kind === 'api' || route.kind === 'api-free') {
      const token = bearerToken(req, route.kind === 'api-free' ? query : undefined);
      const lookup = token === undefined ? undefined : deps.authenticate(token);
      if (!lookup || !('session' in lookup)) {
        req.resume();
        throw new EmulatorHttpError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      }
      session = lookup.session;
    }
    if (route.kind === 'api') {
      if (!deps.consumeApiCall()) {
        req.resume();
        res.setHeader('Sforce-Limit-Info', limitInfo(deps));
        throw new EmulatorHttpError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
      }
      deps.stats.apiCalls += 1;
      res.setHeader('Sforce-Limit-Info', limitInfo(deps));
    } else if (route.kind === 'oauth') {
      deps.stats.tokenRequests += 1;
    }

    const versionSegment = params.version ?? '';
    const context = createContext({
      method: method as EmulatorHttpMethod,
      path,
      params,
      query,
      versionSegment,
      apiVersion: parseVersionSegment(versionSegment) ?? 0,
      session,
      req,
      res,
      baseUrl,
      prebuffered,
    });
    const response = await route.handler(context);
    const late = response ? deps.faults.take(method, path, 'after') : undefined;
    if (late) watchDisconnect(late, res);
    if (late && (await applyFault(deps, late, req, res, method))) return;
    if (response) await send(method, res, response);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof EmulatorHttpError) {
      await send(method, res, { status: error.status, body: error.toBody() });
    } else if (error instanceof EmulatorOAuthError) {
      await send(method, res, {
        status: error.status,
        body: { error: error.error, error_description: error.description },
      });
    } else {
      deps.onError?.(error);
      await send(method, res, {
        status: 500,
        body: [{ message: 'An unexpected error occurred.', errorCode: 'UNKNOWN_EXCEPTION' }],
      });
    }
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Delays, drops or answers for a fault; `true` when the response was taken over. */
async function applyFault(
  deps: EmulatorServerDependencies,
  fault: EmulatorFault,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
): Promise<boolean> {
  if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
  if (fault.drop) {
    deps.stats.byRoute.fault = (deps.stats.byRoute.fault ?? 0) + 1;
    req.resume();
    res.socket?.destroy();
    return true;
  }
  if (fault.status !== undefined) {
    deps.stats.byRoute.fault = (deps.stats.byRoute.fault ?? 0) + 1;
    req.resume();
    const body = fault.body === undefined ? defaultFaultBody(fault.status) : fault.body;
    await send(method, res, { status: fault.status, headers: fault.headers ?? {}, body });
    return true;
  }
  return false;
}

function limitInfo(deps: EmulatorServerDependencies): string {
  const usage = deps.apiUsage();
  return `api-usage=${usage.used}/${usage.max}`;
}

function bearerToken(req: IncomingMessage, query: URLSearchParams | undefined): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
    if (match) return match[1];
  }
  // SOAP-less identity calls (jsforce `identity()`) pass the token as a query parameter.
  return query?.get('oauth_token') ?? undefined;
}

interface ContextInit {
  method: EmulatorHttpMethod;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  versionSegment: string;
  apiVersion: number;
  session: EmulatorSession | undefined;
  req: IncomingMessage;
  res: ServerResponse;
  baseUrl: string;
  /** The body, when it was read before the handler ran (`received` faults). */
  prebuffered?: Buffer | undefined;
}

function createContext({ prebuffered, ...init }: ContextInit): EmulatorRequestContext {
  let buffered: Promise<Buffer> | undefined = prebuffered ? Promise.resolve(prebuffered) : undefined;
  const body = (): Promise<Buffer> => {
    buffered ??= readAll(init.req);
    return buffered;
  };
  return {
    ...init,
    headers: init.req.headers,
    body,
    async json() {
      const text = (await body()).toString('utf8');
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new EmulatorHttpError(
          400,
          'JSON_PARSER_ERROR',
          'Unexpected character in request body: the body is not valid JSON',
        );
      }
    },
    async form() {
      return new URLSearchParams((await body()).toString('utf8'));
    },
  };
}

async function send(method: string, res: ServerResponse, response: EmulatorResponse): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  const body = response.body;
  if (body === undefined || response.status === 204 || response.status === 304) {
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!res.hasHeader('content-type')) res.setHeader('Content-Type', 'text/plain;charset=UTF-8');
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (isAsyncIterable(body)) {
    if (method === 'HEAD') {
      res.end();
      return;
    }
    const stream = Readable.from(body);
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      res.on('finish', resolve);
      res.on('close', resolve);
      stream.pipe(res);
    });
    return;
  }
  const text = JSON.stringify(body);
  if (!res.hasHeader('content-type')) res.setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.end(method === 'HEAD' ? undefined : text);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
