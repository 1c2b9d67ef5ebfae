import { EmulatorHttpError } from '../http/errors.js';
import { dispatchInternal } from '../http/internal-dispatch.js';
import type { EmulatorModuleContext } from '../module.js';

/** Most subrequests a `/composite` or `/composite/batch` call may carry. */
export const COMPOSITE_SUBREQUEST_LIMIT = 25;

interface CompositeSubrequest {
  method?: unknown;
  url?: unknown;
  referenceId?: unknown;
  body?: unknown;
  httpHeaders?: unknown;
}

const HALTED = 'The transaction was rolled back since another operation in the same transaction failed.';

/** Reads `@{ref.path.to.value}` from earlier subresponse bodies. */
function resolveReferences(value: string, results: Map<string, unknown>): string {
  return value.replace(/@\{([^.}[\]]+)((?:\.[^}.[\]]+|\[\d+\])*)\}/g, (whole, ref: string, path: string) => {
    if (!results.has(ref)) {
      throw new EmulatorHttpError(
        400,
        'PROCESSING_HALTED',
        `Invalid reference specified. No value for ${ref} found.`,
      );
    }
    let current: unknown = results.get(ref);
    for (const part of path.match(/\.[^.[\]]+|\[\d+\]/g) ?? []) {
      const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
      current = (current as Record<string | number, unknown> | null | undefined)?.[key];
    }
    if (current === undefined || current === null) {
      throw new EmulatorHttpError(
        400,
        'PROCESSING_HALTED',
        `Invalid reference specified. No value for ${whole} found.`,
      );
    }
    return String(current);
  });
}

/**
 * Registers `/composite` (dependent subrequests with `@{ref.field}` references and `allOrNone`)
 * and `/composite/batch` (independent subrequests). Each whole call counts as one API request.
 */
export function registerCompositeRoutes(context: EmulatorModuleContext): void {
  context.router.add({
    method: 'POST',
    pattern: '/services/data/:version/composite',
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { allOrNone?: unknown; compositeRequest?: unknown } | undefined;
      const subrequests = body?.compositeRequest;
      if (!Array.isArray(subrequests)) {
        throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', 'compositeRequest must be an array');
      }
      if (subrequests.length > COMPOSITE_SUBREQUEST_LIMIT) {
        throw new EmulatorHttpError(
          400,
          'LIMIT_EXCEEDED',
          `Max number of subrequests allowed is ${COMPOSITE_SUBREQUEST_LIMIT}`,
        );
      }
      const allOrNone = body?.allOrNone === true;
      const transaction = allOrNone ? context.store.beginTransaction() : undefined;
      const results = new Map<string, unknown>();
      const responses: Array<{
        body: unknown;
        httpHeaders: Record<string, string>;
        httpStatusCode: number;
        referenceId: string;
      }> = [];
      let failed = false;
      try {
        for (const raw of subrequests as CompositeSubrequest[]) {
          const referenceId = String(raw.referenceId ?? '');
          if (failed && allOrNone) {
            responses.push({
              body: [{ errorCode: 'PROCESSING_HALTED', message: HALTED }],
              httpHeaders: {},
              httpStatusCode: 400,
              referenceId,
            });
            continue;
          }
          let response: { status: number; body: unknown; headers: Record<string, string> };
          try {
            const url = resolveReferences(String(raw.url ?? ''), results);
            const subBody =
              raw.body === undefined
                ? undefined
                : (JSON.parse(resolveReferences(JSON.stringify(raw.body), results)) as unknown);
            response = await dispatchInternal(context.router, request, {
              method: String(raw.method ?? 'GET'),
              url,
              body: subBody,
              headers: (raw.httpHeaders ?? {}) as Record<string, string>,
            });
          } catch (error) {
            if (!(error instanceof EmulatorHttpError)) throw error;
            response = { status: error.status, body: error.toBody(), headers: {} };
          }
          if (response.status >= 400) failed = true;
          else results.set(referenceId, response.body);
          const headers = { ...response.headers };
          if (response.status === 201 && typeof (response.body as { id?: unknown })?.id === 'string') {
            headers.Location = `${String(raw.url ?? '').split('?')[0]}/${(response.body as { id: string }).id}`;
          }
          responses.push({
            body: response.body,
            httpHeaders: headers,
            httpStatusCode: response.status,
            referenceId,
          });
        }
      } finally {
        if (transaction) {
          if (failed) transaction.rollback();
          else transaction.end();
        }
      }
      if (failed && allOrNone) {
        // Earlier successes were undone: report them as halted, as Salesforce does.
        for (const response of responses) {
          if (response.httpStatusCode < 400) {
            response.body = [{ errorCode: 'PROCESSING_HALTED', message: HALTED }];
            response.httpHeaders = {};
            response.httpStatusCode = 400;
          }
        }
      }
      return { status: 200, body: { compositeResponse: responses } };
    },
  });

  context.router.add({
    method: 'POST',
    pattern: '/services/data/:version/composite/batch',
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { haltOnError?: unknown; batchRequests?: unknown } | undefined;
      const subrequests = body?.batchRequests;
      if (!Array.isArray(subrequests)) {
        throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', 'batchRequests must be an array');
      }
      if (subrequests.length > COMPOSITE_SUBREQUEST_LIMIT) {
        throw new EmulatorHttpError(
          400,
          'LIMIT_EXCEEDED',
          `Max number of subrequests allowed is ${COMPOSITE_SUBREQUEST_LIMIT}`,
        );
      }
      const results: Array<{ statusCode: number; result: unknown }> = [];
      let hasErrors = false;
      for (const raw of subrequests as Array<{ method?: unknown; url?: unknown; richInput?: unknown }>) {
        if (hasErrors && body?.haltOnError === true) {
          results.push({
            statusCode: 412,
            result: [
              { errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' },
            ],
          });
          continue;
        }
        // Batch URLs are relative to /services/data (e.g. `v62.0/sobjects/Account`).
        const url = `/services/data/${String(raw.url ?? '').replace(/^\/?(services\/data\/)?/, '')}`;
        const response = await dispatchInternal(context.router, request, {
          method: String(raw.method ?? 'GET'),
          url,
          body: raw.richInput,
        });
        if (response.status >= 400) hasErrors = true;
        results.push({ statusCode: response.status, result: response.body });
      }
      return { status: 200, body: { hasErrors, results } };
    },
  });
}
