import type { z } from 'zod';
import { toFieldIssues } from '../core/models.js';
import { readLimited } from '../internal/read-limited-body.js';
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
  const text = await readLimited(request, maxBytes);
  if (text === undefined) throw tooLarge(maxBytes);
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

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`);
}
