import type { CrmFieldIssue } from '../core/errors.js';

/** Headers on every response: no caching of per-user data, no MIME sniffing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

/** The JSON error body every non-2xx JSON response carries. */
export interface CrmHttpErrorBody {
  error: {
    /** `BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `CONFLICT`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, or a `CrmError` code from the CRM (status 502). */
    code: string;
    message: string;
    /** For 400s: the fields that are wrong. */
    fields?: Array<{ field: string; message: string }>;
  };
}

/** An error that becomes a JSON response with its status; thrown inside route handlers. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Array<{ field: string; message: string }> | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      fields?: ReadonlyArray<CrmFieldIssue | { field: string; message: string }>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
    this.status = status;
    this.code = code;
    this.fields = options.fields?.map(({ field, message }) => ({ field, message }));
    this.headers = options.headers ?? {};
  }

  toResponse(): Response {
    const body: CrmHttpErrorBody = { error: { code: this.code, message: this.message } };
    if (this.fields?.length) body.error.fields = this.fields;
    return json(body, this.status, this.headers);
  }
}

/** A JSON response with the security headers. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}
