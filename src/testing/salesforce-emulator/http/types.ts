import type { IncomingMessage, ServerResponse } from 'node:http';

/** HTTP methods the emulator routes. */
export type EmulatorHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/**
 * How a route is guarded and counted:
 * - `api`: needs a valid access token, counts against the daily API limit, answers with
 *   `Sforce-Limit-Info` (REST, Bulk 2.0, SOAP data calls).
 * - `api-free`: needs a valid access token but is not counted (e.g. the versions list is
 *   public in Salesforce; identity calls).
 * - `oauth`: token endpoint traffic, counted in `stats.tokenRequests`.
 * - `public`: no authentication at all.
 */
export type EmulatorRouteKind = 'api' | 'api-free' | 'oauth' | 'public';

/** What an authenticated request knows about its caller. */
export interface EmulatorSession {
  accessToken: string;
  userId: string;
  orgId: string;
  clientId: string;
}

/** Everything a route handler receives. */
export interface EmulatorRequestContext {
  method: EmulatorHttpMethod;
  /** Path with duplicate slashes collapsed and the trailing slash removed (`/` stays `/`). */
  path: string;
  /** Decoded `:name` segments of the route pattern (`:version` is already validated). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** API version as a number (`62` for `v62.0`) when the route has a `:version` segment. */
  apiVersion: number;
  /** The version segment as written in the URL, e.g. `v62.0`. */
  versionSegment: string;
  /** Lower-cased request headers. */
  headers: IncomingMessage['headers'];
  /** Present on `api` and `api-free` routes. */
  session: EmulatorSession | undefined;
  /** Raw request, for handlers that stream the body (Bulk 2.0 CSV uploads). */
  req: IncomingMessage;
  /** Raw response, for handlers that stream their answer; return `undefined` after writing it. */
  res: ServerResponse;
  /** Buffers the whole body (once; later calls return the same buffer). */
  body(): Promise<Buffer>;
  /** Parses the body as JSON; throws an emulator error (400 JSON_PARSER_ERROR) on bad input. */
  json(): Promise<unknown>;
  /** Parses an `application/x-www-form-urlencoded` body (merged with nothing else). */
  form(): Promise<URLSearchParams>;
  /** Base URL of the emulator, e.g. `http://127.0.0.1:54321`. */
  baseUrl: string;
}

/** Body of an {@link EmulatorResponse}: JSON-serialised unless a string, Buffer or stream. */
export type EmulatorResponseBody = unknown;

/** What a handler returns; `undefined` means it wrote the response itself. */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects and arrays are sent as JSON; strings/Buffers as-is; `AsyncIterable` chunks are streamed. */
  body?: EmulatorResponseBody;
}

/** A route handler. */
export type EmulatorRouteHandler = (
  context: EmulatorRequestContext,
) => EmulatorResponse | undefined | Promise<EmulatorResponse | undefined>;

/** One entry of the route table. */
export interface EmulatorRoute {
  method: EmulatorHttpMethod;
  /**
   * Path pattern with `:name` segments and an optional trailing `*` (rest of the path in
   * `params['*']`), e.g. `/services/data/:version/sobjects/:sobject/:id`. A `:version` segment
   * only matches `vNN.0` for a supported API version.
   */
  pattern: string;
  kind: EmulatorRouteKind;
  handler: EmulatorRouteHandler;
  /** Key in `stats.byRoute`; defaults to `"<METHOD> <pattern>"`. */
  name?: string;
}
