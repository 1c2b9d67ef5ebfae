import { parseVersionSegment } from '../versions.js';
import { EmulatorHttpError, EmulatorOAuthError, notFound } from './errors.js';
import type { EmulatorRouter } from './router.js';
import { normalisePath } from './server.js';
import type { EmulatorHttpMethod, EmulatorRequestContext, EmulatorResponse } from './types.js';

/** A request run inside another one (composite subrequests): no HTTP, no counting, no faults. */
export interface InternalRequest {
  method: string;
  /** Path with optional query string, e.g. `/services/data/v62.0/sobjects/Account`. */
  url: string;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Runs a route handler for a subrequest and returns its response; errors become their
 * Salesforce error responses. Only `api` routes are reachable (the caller is authenticated).
 */
export async function dispatchInternal(
  router: EmulatorRouter,
  parent: EmulatorRequestContext,
  request: InternalRequest,
): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
  const method = request.method.toUpperCase() as EmulatorHttpMethod;
  const queryIndex = request.url.indexOf('?');
  const path = normalisePath(queryIndex >= 0 ? request.url.slice(0, queryIndex) : request.url);
  const query = new URLSearchParams(queryIndex >= 0 ? request.url.slice(queryIndex + 1) : '');
  try {
    const { match } = router.match(method, path);
    if (match?.route.kind !== 'api') throw notFound();
    const text = request.body === undefined || request.body === null ? '' : JSON.stringify(request.body);
    const buffer = Buffer.from(text);
    const versionSegment = match.params.version ?? '';
    const headers = { ...parent.headers };
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
    const context: EmulatorRequestContext = {
      method,
      path,
      params: match.params,
      query,
      apiVersion: parseVersionSegment(versionSegment) ?? 0,
      versionSegment,
      headers,
      session: parent.session,
      req: parent.req,
      res: parent.res,
      baseUrl: parent.baseUrl,
      body: async () => buffer,
      json: async () => (text === '' ? undefined : (JSON.parse(text) as unknown)),
      form: async () => new URLSearchParams(text),
    };
    const response: EmulatorResponse | undefined = await match.route.handler(context);
    if (!response)
      throw new EmulatorHttpError(500, 'UNKNOWN_EXCEPTION', 'Streaming resources are not allowed here');
    return { status: response.status, body: response.body ?? null, headers: response.headers ?? {} };
  } catch (error) {
    if (error instanceof EmulatorHttpError)
      return { status: error.status, body: error.toBody(), headers: {} };
    if (error instanceof EmulatorOAuthError) {
      return {
        status: error.status,
        body: { error: error.error, error_description: error.description },
        headers: {},
      };
    }
    throw error;
  }
}
