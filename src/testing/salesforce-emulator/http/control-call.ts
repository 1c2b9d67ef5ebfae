import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatorHttpError } from './errors.js';
import type { EmulatorRouter } from './router.js';
import type { EmulatorHttpMethod, EmulatorSession } from './types.js';

/**
 * One test-control request to an emulator's `/__emulator/…` routes: resolves to the parsed JSON
 * answer (`undefined` for an empty one), rejects with an `Error` naming the route and the refusal.
 * The emulator handle's control namespaces (`bulk`, `realtime`) are built on this, in process or
 * over HTTP, so both speak exactly the same routes and validation.
 */
export type EmulatorControlCall = (
  method: EmulatorHttpMethod,
  path: string,
  body?: unknown,
) => Promise<unknown>;

function refused(method: string, path: string, status: number, text: string): Error {
  return new Error(`Emulator control ${method} /__emulator/${path} failed: HTTP ${status} ${text}`);
}

/**
 * Calls the control routes of an emulator in this process, straight through its router: no
 * socket, no access token (a test that expired or revoked every token can still steer the
 * emulator), no fault injection and no request counting (controls are not traffic under test).
 */
export function inProcessControlCall(
  router: EmulatorRouter,
  session: () => EmulatorSession,
  baseUrl: () => string,
): EmulatorControlCall {
  return async (method, path, body) => {
    const fullPath = `/__emulator/${path}`;
    const { match } = router.match(method, fullPath);
    if (!match) throw refused(method, path, 404, 'no such control route');
    const text = body === undefined ? '' : JSON.stringify(body);
    try {
      const response = await match.route.handler({
        method,
        path: fullPath,
        params: match.params,
        query: new URLSearchParams(),
        apiVersion: 0,
        versionSegment: '',
        headers: {},
        session: session(),
        // Control handlers read only the parsed body; they never touch the raw request or response.
        req: undefined as unknown as IncomingMessage,
        res: undefined as unknown as ServerResponse,
        body: async () => Buffer.from(text, 'utf8'),
        json: async () => (text === '' ? undefined : (JSON.parse(text) as unknown)),
        form: async () => new URLSearchParams(),
        baseUrl: baseUrl(),
      });
      if (response && response.status >= 400) {
        throw refused(method, path, response.status, JSON.stringify(response.body ?? ''));
      }
      // A JSON round trip, so an in-process answer looks exactly like one read over HTTP.
      return response?.body === undefined
        ? undefined
        : (JSON.parse(JSON.stringify(response.body)) as unknown);
    } catch (error) {
      if (error instanceof EmulatorHttpError) {
        throw refused(method, path, error.status, JSON.stringify(error.toBody()));
      }
      throw error;
    }
  };
}

/** Where a running emulator listens and a valid access token for its control routes. */
export interface EmulatorControlTarget {
  instanceUrl: string;
  accessToken: string;
}

/** Calls the control routes of an emulator over HTTP (e.g. a standalone `markmail-crm-emulator`). */
export function httpControlCall(
  target: EmulatorControlTarget,
  fetchImpl: typeof fetch = globalThis.fetch,
): EmulatorControlCall {
  return async (method, path, body) => {
    const response = await fetchImpl(`${target.instanceUrl}/__emulator/${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${target.accessToken}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw refused(method, path, response.status, text);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
}
