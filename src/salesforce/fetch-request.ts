import { Duplex, PassThrough, Readable } from 'node:stream';

/** A request as jsforce hands it to its transport. */
export interface JsforceHttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string> | undefined;
  body?: string | Buffer | undefined;
}

/** What jsforce's HTTP layer expects back from `transport.httpRequest`. */
export interface JsforceHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** jsforce's `StreamPromise`: the response, plus the request stream (streamed uploads write into it). */
export type JsforceStreamPromise = Promise<JsforceHttpResponse> & { stream(): Duplex };

/** Options of {@link fetchRequest}. */
export interface FetchRequestOptions {
  fetch: typeof globalThis.fetch;
  /** The caller's signal: when it fires, the request is cancelled at the socket. */
  signal?: AbortSignal | undefined;
  /** Cancel the request (and the reading of its body) after this long, ms. */
  timeoutMs?: number | undefined;
  /** Response body encoding. @default 'utf8' */
  encoding?: BufferEncoding | undefined;
  /**
   * Hand a successful (2xx) response's body to this callback unread, instead of reading it into
   * the response (whose `body` is then `''`): a large download (a Bulk result set of tens of MB)
   * need not become one string. Error responses are read as usual (jsforce maps their body).
   */
  onBody?: ((body: StreamedBody) => void) | undefined;
}

/**
 * A response body handed over unread ({@link FetchRequestOptions.onBody}). It is read off the
 * socket at once and as fast as it arrives, into buffers outside the V8 heap, so the download
 * takes as long as it did when read whole (the request timeout covers it exactly as before, and
 * a slow reader never stalls the server); the reader takes the pieces as it goes. A dropped
 * socket, a timeout or an abort fails the iteration once the pieces received before it are
 * taken. `cancel()` cuts the socket (also after a complete read: then a no-op).
 */
export interface StreamedBody extends AsyncIterable<Uint8Array> {
  cancel(): void;
}

/**
 * Send one jsforce request with `fetch`, in place of jsforce's own request function: jsforce 3
 * creates the `AbortController` of each fetch itself and offers no way to pass a signal in, so a
 * caller's abort could only stop the waiting while the HTTP request ran on. Here one controller
 * per request is fired by the timeout and by the caller's signal alike, so both close the socket
 * (the server sees the client go). Rejections keep jsforce's shape: an `AbortError` for both,
 * which the client tells apart by looking at the caller's signal.
 *
 * A request with no body and a body-carrying method (a streamed Bulk upload) sends what is written
 * into `stream()`; the response body is also pushed into that stream for readers of it.
 */
export function fetchRequest(
  request: JsforceHttpRequest,
  options: FetchRequestOptions,
): JsforceStreamPromise {
  const controller = new AbortController();
  const { signal } = options;
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    options.timeoutMs !== undefined ? setTimeout(() => controller.abort(), options.timeoutMs) : undefined;
  const release = (): void => {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  let releaseOnSettle = true;

  const input = new PassThrough();
  const duplex = new Duplex({
    write(chunk: Buffer, encoding, callback) {
      input.write(chunk, encoding, callback);
    },
    final(callback) {
      input.end();
      callback();
    },
    read() {
      // Pushed once the response arrived.
    },
  });
  const carriesBody = /^(post|put|patch)$/i.test(request.method);
  const body =
    request.body !== undefined
      ? request.body
      : carriesBody
        ? (Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>)
        : undefined;

  const promise = (async (): Promise<JsforceHttpResponse> => {
    try {
      const response = await options.fetch(request.url, {
        method: request.method,
        headers: fetchHeaders(request.headers),
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        redirect: 'follow',
        signal: controller.signal,
      } as RequestInit);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key.toLowerCase()] = value;
      });
      if (options.onBody && response.ok && response.body) {
        // The timer and the abort listener stay on until the body was read (or cancelled).
        releaseOnSettle = false;
        options.onBody(readAhead(response.body, controller, release));
        duplex.push(null);
        return { statusCode: response.status, headers, body: '' };
      }
      const buffer = Buffer.from(await response.arrayBuffer());
      duplex.push(buffer);
      duplex.push(null);
      return { statusCode: response.status, headers, body: buffer.toString(options.encoding ?? 'utf8') };
    } catch (error) {
      // Closed without an error event: the promise carries the error, and an 'error' nobody
      // listens to (jsforce pipes into this stream) would crash the process.
      input.destroy();
      duplex.destroy();
      throw controller.signal.aborted && !isAbortError(error) ? abortErrorFrom(error) : error;
    } finally {
      if (releaseOnSettle) release();
    }
  })();
  return Object.assign(promise, { stream: () => duplex });
}

/**
 * Read `body` to its end at once, into a queue the returned iterable drains (Uint8Array chunks
 * from the socket live outside the V8 heap). `release` runs once the read is over, however it ends.
 */
function readAhead(
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  release: () => void,
): StreamedBody {
  const reader = body.getReader();
  const queue: Uint8Array[] = [];
  let head = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        queue.push(next.value);
        wake?.();
      }
    } catch (error) {
      failure = {
        error: controller.signal.aborted && !isAbortError(error) ? abortErrorFrom(error) : error,
      };
    } finally {
      ended = true;
      release();
      wake?.();
    }
  })();
  void pump;
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (head < queue.length) {
          const chunk = queue[head] as Uint8Array;
          queue[head++] = EMPTY;
          // Drop the taken part of the queue now and then, not on every chunk.
          if (head >= 1024) {
            queue.splice(0, head);
            head = 0;
          }
          yield chunk;
          continue;
        }
        if (failure) throw failure.error;
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    cancel() {
      // Through the request's controller, as an abort is: that is what closes the socket.
      if (!ended) controller.abort();
      queue.length = 0;
      head = 0;
    },
  };
}

const EMPTY = new Uint8Array(0);

/** Headers fetch sets itself and refuses from callers (jsforce adds `content-length`). */
const FETCH_OWNED_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'keep-alive',
]);

function fetchHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!FETCH_OWNED_HEADERS.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** A fetch cancelled by its controller rejects with the abort reason; jsforce callers expect an `AbortError`. */
function abortErrorFrom(cause: unknown): Error {
  const error = new Error('The operation was aborted', { cause });
  error.name = 'AbortError';
  return error;
}
