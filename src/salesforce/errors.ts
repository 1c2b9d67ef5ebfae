import {
  CrmApiError,
  type CrmApiUsage,
  CrmAuthenticationError,
  CrmConnectionError,
  CrmError,
  CrmNotFoundError,
  CrmRateLimitError,
  isCrmError,
} from '../core/errors.js';

/** Provider name stamped on every error this module produces. */
export const SALESFORCE_PROVIDER = 'salesforce';

/** What the transport saw of the failed call, beyond what jsforce's error carries. */
export interface SalesforceErrorContext {
  /** Operation in words, e.g. `upsert Contact`. Goes into the message; never a value. */
  operation: string;
  /** HTTP status of the failed response, when one arrived. */
  status?: number | undefined;
  /** `Retry-After` in milliseconds, when the response had one. */
  retryAfterMs?: number | undefined;
  /** API usage at the time. */
  usage?: CrmApiUsage | undefined;
}

// Salesforce error codes (REST `errorCode`, collection `statusCode`, OAuth `error`) by meaning.
const AUTH_CODES = new Set([
  'INVALID_SESSION_ID',
  'INVALID_AUTH_HEADER',
  'INVALID_OPERATION_WITH_EXPIRED_PASSWORD',
  'INVALID_LOGIN',
  'LOGIN_MUST_USE_SECURITY_TOKEN',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'invalid_grant',
  'invalid_client',
  'invalid_client_id',
  'unauthorized_client',
  'inactive_user',
  'inactive_org',
]);
const RATE_LIMIT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'TOO_MANY_REQUESTS', 'ERROR_HTTP_429']);
const NOT_FOUND_CODES = new Set([
  'NOT_FOUND',
  'ENTITY_IS_DELETED',
  'ERROR_HTTP_404',
  'INVALID_QUERY_LOCATOR',
]);
/** Codes that mean "try again later"; whether a retry is safe also depends on the operation. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'ERROR_HTTP_500',
  'ERROR_HTTP_502',
  'ERROR_HTTP_503',
  'ERROR_HTTP_504',
  'ERROR_HTTP_420',
]);
// Status Salesforce documents for a code, used when the transport did not report one.
const TYPICAL_STATUS: Record<string, number> = {
  INVALID_SESSION_ID: 401,
  REQUEST_LIMIT_EXCEEDED: 403,
  NOT_FOUND: 404,
  MULTIPLE_CHOICES: 300,
  SERVER_UNAVAILABLE: 503,
};
/** Error codes of network failures below HTTP. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface JsforceErrorShape {
  name?: unknown;
  message?: unknown;
  errorCode?: unknown;
  data?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** The network error code (`ECONNRESET`, `UND_ERR_SOCKET`, …) anywhere in `error`'s cause chain. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as JsforceErrorShape).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as JsforceErrorShape).cause;
  }
  return undefined;
}

function fieldsOf(data: unknown): string[] {
  const list = Array.isArray(data) ? data : [data];
  const out = new Set<string>();
  for (const item of list) {
    const fields = (item as { fields?: unknown } | null)?.fields;
    if (Array.isArray(fields)) for (const f of fields) if (typeof f === 'string') out.add(f);
  }
  return [...out];
}

/** The Salesforce error code of a jsforce error (`errorCode`, falling back to `name`). */
export function salesforceErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as JsforceErrorShape;
  if (e.errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(e.data)) {
    const first = e.data[0] as { errorCode?: unknown; statusCode?: unknown } | undefined;
    const code = first?.errorCode ?? first?.statusCode;
    if (typeof code === 'string') return code;
  }
  if (typeof e.errorCode === 'string' && e.errorCode) {
    // A body jsforce did not parse (text responses, e.g. Bulk result reads) leaves the real code
    // inside the message: `ERROR_HTTP_403` for `[{"errorCode":"REQUEST_LIMIT_EXCEEDED",…}]`.
    if (e.errorCode.startsWith('ERROR_HTTP_')) return codeInBody(e.message) ?? e.errorCode;
    return e.errorCode;
  }
  // OAuth errors from jsforce carry the OAuth `error` as `name`.
  if (
    typeof e.name === 'string' &&
    /^[A-Za-z_]+$/.test(e.name) &&
    e.name !== 'Error' &&
    e.name !== 'TypeError'
  ) {
    if (AUTH_CODES.has(e.name) || /^[A-Z][A-Z_]+$/.test(e.name)) return e.name;
  }
  return undefined;
}

/** The `errorCode` of a Salesforce JSON error body given as text, if it is one. */
function codeInBody(text: unknown): string | undefined {
  if (typeof text !== 'string' || !/^\s*[[{]/.test(text)) return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as { errorCode?: unknown } | undefined;
    return typeof first?.errorCode === 'string' && /^[A-Z][A-Z0-9_]+$/.test(first.errorCode)
      ? first.errorCode
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turn anything a jsforce call threw into the {@link CrmError} tree: by Salesforce `errorCode`
 * first, then HTTP status, then network error code. Unknown failures become a plain
 * {@link CrmError} with the original as `cause`. The message names the operation and the code,
 * never record values or credentials; Salesforce's own text stays on `cause`.
 *
 * An `AbortError` is returned unchanged so callers can rethrow it as is.
 */
export function toSalesforceError(error: unknown, context: SalesforceErrorContext): Error {
  if (isCrmError(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const base = { cause: error, provider: SALESFORCE_PROVIDER };
  const code = salesforceErrorCode(error);
  const httpStatusFromCode = code?.startsWith('ERROR_HTTP_') ? Number(code.slice(11)) : undefined;
  const status = context.status ?? httpStatusFromCode ?? (code ? TYPICAL_STATUS[code] : undefined);
  const data = (error as JsforceErrorShape | null)?.data;
  const fields = fieldsOf(data);
  const where = `Salesforce ${context.operation} failed`;

  const network = networkErrorCode(error);
  if (!code && network) {
    return new CrmConnectionError(`${where}: network error ${network}`, { ...base, providerCode: network });
  }
  if (!code && error instanceof TypeError && /fetch failed|terminated|socket/i.test(error.message)) {
    return new CrmConnectionError(`${where}: network error`, base);
  }
  if (!code && !status) {
    return new CrmError(`${where}: unexpected error`, base);
  }
  const withStatus = {
    ...base,
    ...(status !== undefined ? { status } : {}),
    ...(code ? { providerCode: code } : {}),
  };
  const label = code ?? `HTTP ${status}`;

  if ((code && AUTH_CODES.has(code)) || status === 401) {
    return new CrmAuthenticationError(`${where}: ${label}`, withStatus);
  }
  if ((code && RATE_LIMIT_CODES.has(code)) || status === 429) {
    return new CrmRateLimitError(`${where}: ${label}`, {
      ...withStatus,
      ...(context.retryAfterMs !== undefined ? { retryAfterMs: context.retryAfterMs } : {}),
      ...(context.usage ? { usage: context.usage } : {}),
    });
  }
  if ((code && NOT_FOUND_CODES.has(code)) || status === 404) {
    return new CrmNotFoundError(`${where}: ${label}`, withStatus);
  }
  if (code === 'MULTIPLE_CHOICES' || status === 300) {
    return new CrmApiError(`${where}: the external id matches more than one record (MULTIPLE_CHOICES)`, {
      ...withStatus,
      providerCode: 'MULTIPLE_CHOICES',
      status: 300,
      details: { matches: Array.isArray(data) ? data.length : undefined },
    });
  }
  const transient =
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    status === 420 ||
    status === 502 ||
    status === 503 ||
    status === 504;
  const suffix = fields.length ? ` (fields: ${fields.join(', ')})` : '';
  return new CrmApiError(`${where}: ${label}${suffix}`, { ...withStatus, fields, retryable: transient });
}
