import type { z } from 'zod';
import { toFieldIssues } from '../core/models.js';
import { HttpProblem } from './responses.js';

/**
 * Read a JSON body of at most `maxBytes` (streamed, so an oversized body is never buffered whole)
 * and validate it with `schema`. An empty body validates as `{}`.
 *
 * @throws HttpProblem 413 over the cap, 415 for a non-JSON content type, 400 for bad JSON or a bad field.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  const text = await readText(request, maxBytes);
  let value: unknown = {};
  if (text.trim() !== '') {
    const type = request.headers.get('content-type') ?? '';
    // Requiring JSON also keeps out cross-site HTML forms, which cannot send this type.
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpProblem(400, 'BAD_REQUEST', 'Request body is not valid JSON', {
        fields: [{ field: 'body', message: 'is not valid JSON' }],
      });
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = toFieldIssues(result.error, undefined, value);
    throw new HttpProblem(
      400,
      'BAD_REQUEST',
      `Invalid request body: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
      {
        fields,
      },
    );
  }
  return result.data;
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`);
}
