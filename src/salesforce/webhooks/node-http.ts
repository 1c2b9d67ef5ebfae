import type { IncomingMessage, ServerResponse } from 'node:http';
import { REMOTE_ADDRESS } from './ip-allowlist.js';

/** A Web-standard handler, e.g. the result of `createOutboundMessageHandler`. */
export type WebRequestHandler = (request: Request) => Promise<Response>;

/**
 * Adapts a Web-standard `(Request) => Promise<Response>` handler to a `node:http` request
 * listener, so it mounts on `http.createServer`, Express (`app.post(path, listener)`) or any
 * framework exposing Node's `req`/`res`.
 *
 * The body is streamed, not buffered: when the handler stops reading (a body over its limit),
 * the rest is not read, and the connection is closed after the response so the unread bytes are
 * never consumed.
 *
 * @param handler the Web handler.
 * @returns a `(req, res) => void` listener.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(toNodeHttpListener(createOutboundMessageHandler({ … }))).listen(3000);
 * ```
 */
export function toNodeHttpListener(
  handler: WebRequestHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(handler, req, res);
  };
}

async function serve(handler: WebRequestHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let abandoned = false;
  try {
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const host = req.headers.host ?? 'localhost';
    const url = new URL(req.url ?? '/', `http://${host}`);
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const body = hasBody
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            req.on('data', (chunk: Buffer) => {
              controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
              // Back-pressure: read the next chunk only when the handler asks for it.
              if ((controller.desiredSize ?? 0) <= 0) req.pause();
            });
            req.on('end', () => controller.close());
            req.on('error', (error) => controller.error(error));
          },
          pull() {
            req.resume();
          },
          cancel() {
            abandoned = true;
            req.pause();
            req.removeAllListeners('data');
          },
        })
      : null;
    const request = new Request(url, {
      method,
      headers,
      body,
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
    // The peer address, for IP allowlisting; a symbol property no client can forge.
    Object.defineProperty(request, REMOTE_ADDRESS, { value: req.socket.remoteAddress });
    const response = await handler(request);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => {
      res.setHeader(name, value);
    });
    if (abandoned) res.setHeader('Connection', 'close');
    if (!response.body) {
      res.end();
    } else {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    }
  } catch {
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('Connection', 'close');
    }
    res.end();
  }
}
