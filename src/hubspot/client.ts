import {
  type CrmApiUsage,
  CrmAuthenticationError,
  CrmConfigurationError,
  type CrmError,
  createAbortError,
  isCrmError,
} from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import { type CrmSleep, sleep as defaultSleep } from '../core/sleep.js';
import { type HubSpotErrorBody, toHubSpotConnectionError, toHubSpotError } from './errors.js';

/** Resolves the bearer token for a call; `forceRefresh` after HubSpot said the token expired. */
export type HubSpotAccessTokenSource = (context: {
  forceRefresh: boolean;
  /** With `forceRefresh`: the token HubSpot refused (a concurrent caller may have replaced it already). */
  failedAccessToken?: string | undefined;
  signal?: AbortSignal | undefined;
}) => string | Promise<string>;

/** Options of {@link HubSpotClient}. */
export interface HubSpotClientOptions {
  baseUrl: string;
  getAccessToken: HubSpotAccessTokenSource;
  fetch: typeof globalThis.fetch;
  sleep: CrmSleep;
  logger: CrmLogger;
  /** Retries after the first attempt (429 always; 5xx and network errors only for idempotent calls). */
  maxRetries: number;
  /** First backoff delay, ms; doubles per attempt, with full jitter. */
  retryBaseMs: number;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
  /** Host secrets removed from the error a failing token source throws (the provider's `secrets`). */
  knownSecrets?: () => Iterable<string>;
}

/** One request. */
export interface HubSpotRequest {
  /** Names the call in errors and logs, e.g. `batch upsert contacts`. */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | string[] | undefined>;
  body?: unknown;
  /**
   * Safe to repeat after an unknown outcome (reads, searches, upserts keyed by a unique property,
   * archive, membership add/remove). Non-idempotent calls are retried only on 429, which HubSpot
   * answers before doing anything.
   */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
}

/** A response: status, parsed JSON body (or `undefined` for 204). */
export interface HubSpotResponse<T> {
  status: number;
  body: T;
}

const RETRY_CAP_MS = 30_000;

/**
 * The small typed `fetch` client every HubSpot resource function goes through: bearer token from
 * a callback (refreshed once when HubSpot says it expired), the package's one retry layer, and
 * rate-limit headers kept as {@link usage}.
 */
export class HubSpotClient {
  /** Latest usage from `X-HubSpot-RateLimit-*` headers (daily when reported, else the burst window). */
  usage: CrmApiUsage | undefined;
  /** HTTP requests sent, retries included. */
  requests = 0;
  /** Calls sent again after a transient failure (429, 5xx, network); a token refresh is not counted. */
  retries = 0;

  constructor(private readonly options: HubSpotClientOptions) {}

  async request<T>(request: HubSpotRequest): Promise<HubSpotResponse<T>> {
    let forceRefresh = false;
    let refreshed = false;
    let failedAccessToken: string | undefined;
    for (let attempt = 0; ; attempt += 1) {
      if (request.signal?.aborted) throw createAbortError(request.signal);
      let failure: CrmError;
      let waitMs: number | undefined;
      const token = await this.#token(forceRefresh, failedAccessToken, request.signal);
      try {
        forceRefresh = false;
        failedAccessToken = token;
        const response = await this.send(request, token);
        this.requests += 1;
        this.readUsage(response.headers);
        if (response.ok) {
          const text = response.status === 204 ? '' : await response.text();
          return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
        }
        const body = await readErrorBody(response);
        const retryAfterMs = retryAfter(response.headers);
        failure = toHubSpotError(request.operation, response.status, body, {
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          ...(this.usage ? { usage: this.usage } : {}),
        });
        if (response.status === 401 && !refreshed && body.category === 'EXPIRED_AUTHENTICATION') {
          // One refresh per call: a second 401 means the refreshed token is refused too.
          refreshed = true;
          forceRefresh = true;
          continue;
        }
        if (response.status === 429) {
          if (body.policyName === 'DAILY') throw failure;
          waitMs =
            retryAfterMs ??
            Number(response.headers.get('x-hubspot-ratelimit-interval-milliseconds') ?? 10_000);
        } else if (response.status < 500 || !request.idempotent) {
          throw failure;
        }
      } catch (error) {
        if (isAbort(error, request.signal)) throw createAbortError(request.signal);
        if (isCrmError(error)) throw error;
        if (!request.idempotent) throw toHubSpotConnectionError(request.operation, error);
        failure = toHubSpotConnectionError(request.operation, error);
      }
      if (attempt >= this.options.maxRetries) throw failure;
      const backoff =
        waitMs ?? Math.random() * Math.min(RETRY_CAP_MS, this.options.retryBaseMs * 2 ** attempt);
      this.retries += 1;
      this.options.logger.warn('hubspot: retrying', {
        operation: request.operation,
        attempt: attempt + 1,
        status: failure.status,
        waitMs: Math.round(backoff),
      });
      await this.options.sleep(backoff, request.signal);
    }
  }

  /**
   * The bearer token from the host's source. A `CrmError` it throws passes through as it is;
   * anything else becomes a `CrmAuthenticationError` (`TOKEN_SOURCE_FAILED`) with the host's
   * registered secrets removed from its message, stack and cause chain.
   */
  async #token(
    forceRefresh: boolean,
    failedAccessToken: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    try {
      return await this.options.getAccessToken({ forceRefresh, failedAccessToken, signal });
    } catch (error) {
      if (isAbort(error, signal)) throw createAbortError(signal);
      if (isCrmError(error)) throw error;
      throw new CrmAuthenticationError('HubSpot access token could not be obtained', {
        cause: error,
        provider: 'hubspot',
        providerCode: 'TOKEN_SOURCE_FAILED',
        knownSecrets: this.options.knownSecrets?.() ?? [],
      });
    }
  }

  private async send(request: HubSpotRequest, token: string): Promise<Response> {
    const url = new URL(request.path, this.options.baseUrl);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
    }
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    return this.options.fetch(url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal,
    });
  }

  private readUsage(headers: Headers): void {
    const daily = Number(headers.get('x-hubspot-ratelimit-daily'));
    const dailyRemaining = Number(headers.get('x-hubspot-ratelimit-daily-remaining'));
    if (daily > 0 && Number.isFinite(dailyRemaining)) {
      this.usage = { used: daily - dailyRemaining, max: daily };
      return;
    }
    const max = Number(headers.get('x-hubspot-ratelimit-max'));
    const remaining = Number(headers.get('x-hubspot-ratelimit-remaining'));
    if (max > 0 && Number.isFinite(remaining)) this.usage = { used: max - remaining, max };
  }
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (
    Boolean(signal?.aborted) &&
    error instanceof Error &&
    (error.name === 'AbortError' || error === signal?.reason)
  );
}

async function readErrorBody(response: Response): Promise<HubSpotErrorBody> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as HubSpotErrorBody) : {};
  } catch {
    return {};
  }
}

/** `Retry-After` in ms (seconds or an HTTP date). */
function retryAfter(headers: Headers): number | undefined {
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A token source from a static token (private app, service key) or a callback. */
export function tokenSource(options: {
  accessToken?: string | undefined;
  getAccessToken?: HubSpotAccessTokenSource | undefined;
}): HubSpotAccessTokenSource {
  if (options.getAccessToken) return options.getAccessToken;
  const token = options.accessToken;
  if (!token) throw new CrmConfigurationError('HubSpotProvider needs `accessToken` or `getAccessToken`');
  return () => token;
}

export { defaultSleep };
