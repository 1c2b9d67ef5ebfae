import type { Connection } from 'jsforce';
import type { CrmApiUsage } from '../core/errors.js';
import { fetchRequest, type JsforceHttpRequest, type StreamedBody } from './fetch-request.js';

/** What one HTTP attempt observed; filled in by the instrumented transport. */
export interface AttemptRecord {
  /** Status of the last response seen in this attempt. */
  status?: number;
  /** `Retry-After` of that response, in milliseconds. */
  retryAfterMs?: number;
  /** Access token the request was sent with (to tell a stale-token 401 from a fresh one). */
  accessToken?: string | undefined;
  /** Lower-cased headers of that response (e.g. `sforce-locator` of a Bulk query results page). */
  headers?: Record<string, string>;
  /**
   * The body of a successful response, handed over unread when the call asked for it
   * ({@link CallContext.streamBody}) and the request went out through `fetch`.
   */
  body?: StreamedBody;
}

/** Per-operation counters shared by every attempt of one public call. */
export interface OperationCounters {
  /** HTTP requests sent (Salesforce counts each REST call against the daily limit). */
  apiCalls: number;
  /** Calls sent again after a transient failure (a session refresh is not counted). */
  retries?: number;
}

/** Per-request context, passed to jsforce as part of `conn.request(request, options)`. */
export interface CallContext {
  attempt: AttemptRecord;
  counters: OperationCounters;
  /** Cut the request (cancelling it at the socket) after this many milliseconds. */
  timeoutMs?: number | undefined;
  /** The caller's signal: aborting it cancels the request at the socket, not only the waiting. */
  signal?: AbortSignal | undefined;
  /**
   * Leave a successful response's body unread in {@link AttemptRecord.body} (jsforce gets `''`),
   * for downloads too large to hold as one string. Without `fetch` (jsforce sends the request)
   * the body arrives whole as usual.
   */
  streamBody?: boolean | undefined;
}

/**
 * Key of the {@link CallContext} inside jsforce's per-request options. jsforce hands those options
 * unchanged to the transport, so the context travels with the request without AsyncLocalStorage
 * (whose promise hooks slow every await in the process).
 */
export const CALL_CONTEXT = 'markmailCallContext';

interface TransportLike {
  httpRequest(request: unknown, options?: Record<string, unknown>): PromiseLike<unknown>;
}

interface ConnectionInternals {
  _transport: TransportLike;
}

const INSTRUMENTED = Symbol.for('@markmail/crm.salesforce.instrumented');

/** Hooks the instrumented transport calls for every HTTP request. */
export interface TransportHooks {
  /** Before sending; may throw (e.g. the API-usage guard) to refuse the request. */
  beforeRequest(): void;
  /** After a response arrived, with its lower-cased headers. */
  onResponse(status: number, headers: Record<string, string>): void;
  /** Timeout of requests sent outside a client call (e.g. the usage probe). */
  timeoutMs?(): number | undefined;
  /**
   * Send requests with this `fetch` (cancellable by the caller's signal) instead of jsforce's own
   * request function, whose fetch only its timeout can cancel. Absent: jsforce sends them.
   */
  fetch?: typeof globalThis.fetch | undefined;
}

/**
 * Observes every HTTP request a jsforce `Connection` makes (REST, Bulk 2.0, SOAP — they all go
 * through `conn._transport`), so the provider can count API calls, read `Sforce-Limit-Info`,
 * learn the status of failed calls (jsforce's error has no status) and switch off jsforce's own
 * retry: jsforce 3 retries GET/PUT/DELETE on 420/429/5xx and socket errors up to 5 times, and
 * this package owns retries instead, so there is exactly one retry layer.
 */
export class InstrumentedTransport {
  constructor(
    private readonly connection: Connection,
    private readonly hooks: TransportHooks,
  ) {
    const internals = connection as unknown as ConnectionInternals & { [INSTRUMENTED]?: true };
    const original = internals._transport;
    const wrapped = Object.create(original) as TransportLike & { [INSTRUMENTED]?: true };
    wrapped[INSTRUMENTED] = true;
    const baseTransport = (original as TransportLike & { [INSTRUMENTED]?: true })[INSTRUMENTED]
      ? (Object.getPrototypeOf(original) as TransportLike)
      : original;
    wrapped.httpRequest = (request: unknown, options: Record<string, unknown> = {}) => {
      this.hooks.beforeRequest();
      const context = options[CALL_CONTEXT] as CallContext | undefined;
      if (context) {
        context.counters.apiCalls += 1;
        context.attempt.accessToken = this.connection.accessToken ?? undefined;
      }
      const retry = {
        ...((options.retry as Record<string, unknown> | undefined) ?? {}),
        methods: [],
        maxRetries: 0,
      };
      const timeout = context?.timeoutMs ?? this.hooks.timeoutMs?.();
      const fetch = this.hooks.fetch;
      const pending = fetch
        ? fetchRequest(request as JsforceHttpRequest, {
            fetch,
            signal: context?.signal,
            timeoutMs: timeout,
            encoding: options.encoding as BufferEncoding | undefined,
            onBody: context?.streamBody
              ? (body) => {
                  context.attempt.body = body;
                }
              : undefined,
          })
        : // jsforce's own per-request timeout aborts the fetch itself (its default is 30 minutes).
          baseTransport.httpRequest(request, {
            ...options,
            retry,
            ...(timeout !== undefined ? { timeout } : {}),
          });
      // Observe without changing what jsforce receives; jsforce handles the rejection itself.
      pending.then(
        (response) => {
          const res = response as { statusCode?: number; headers?: Record<string, string> } | undefined;
          if (!res || typeof res.statusCode !== 'number') return;
          const headers = res.headers ?? {};
          if (context) {
            context.attempt.status = res.statusCode;
            context.attempt.headers = headers;
            const retryAfter = parseRetryAfter(headers['retry-after']);
            if (retryAfter !== undefined) context.attempt.retryAfterMs = retryAfter;
            else delete context.attempt.retryAfterMs;
          }
          this.hooks.onResponse(res.statusCode, headers);
        },
        () => undefined,
      );
      return pending;
    };
    internals._transport = wrapped;
  }
}

/** Parse `Sforce-Limit-Info: api-usage=18/5000[; …]` into `{ used, max }`. */
export function parseLimitInfo(header: string | undefined): CrmApiUsage | undefined {
  if (!header) return undefined;
  const match = /api-usage=(\d+)\/(\d+)/.exec(header);
  if (!match) return undefined;
  return { used: Number(match[1]), max: Number(match[2]) };
}

/** Parse `Retry-After` (delta seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
