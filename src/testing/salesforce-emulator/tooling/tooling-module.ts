import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRouter } from '../http/router.js';
import type { EmulatorRequestContext, EmulatorResponse, EmulatorRoute } from '../http/types.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { QueryCursors, registerQueryRoutes } from '../rest/query-routes.js';
import { toHttpError } from '../rest/single-record-error.js';
import { recordBody, registerSObjectRoutes } from '../rest/sobject-routes.js';
import { executeSoql } from '../soql/execute.js';
import { OrgStore } from '../store/org-store.js';
import type { ObjectSchema } from '../store/schema.js';
import { registerCompletionsRoute } from './completions-route.js';
import { toolingObjectDefinitions } from './tooling-objects.js';

const TOOLING = '/services/data/:version/tooling';

/**
 * The Tooling API (`/services/data/vXX.X/tooling/…`): its own objects in a store of their own
 * (ApexClass, StaticResource, DebugLevel), served by the REST module's own sObject and query
 * routes mounted under `tooling/` — describe, CRUD, query with the same rules — so record
 * `attributes.url` and `nextRecordsUrl` carry the `tooling/` path. Binary (`base64`) fields read as
 * blob URLs (`…/sobjects/StaticResource/{id}/Body`) that answer the raw bytes; creates accept JSON
 * or `multipart/form-data` (a JSON part plus one binary part per base64 field). Code completions
 * (`completions?type=apex|visualforce`) serve a documented subset of Salesforce's symbol tables.
 * Apex execution (`executeAnonymous`, `runTests*`) is not emulated.
 */
export const toolingModule: EmulatorModule = {
  name: 'tooling',
  create(context) {
    const store = new OrgStore(context.ids, context.clock, () => context.userId);
    for (const definition of toolingObjectDefinitions()) store.addObject(definition);
    const router = prefixedRouter(context.router);
    const tooling: EmulatorModuleContext = {
      ...context,
      store,
      router,
      query: (soql, options = {}) =>
        executeSoql(store, soql, {
          includeDeleted: options.includeDeleted ?? false,
          apiVersion: options.apiVersion ?? 62,
          now: context.clock.now(),
        }),
      registerResource: () => undefined,
      registerExplainSource: () => undefined,
      resolveExplainSource: () => undefined,
    };
    context.registerResource('tooling');
    registerCompletionsRoute(context.router);
    registerBlobAndCreateRoutes(tooling);
    const cursors = new QueryCursors();
    registerQueryRoutes(tooling, cursors);
    registerSObjectRoutes(tooling);
    return {
      reset: () => {
        cursors.clear();
        store.clear();
      },
    };
  },
};

/**
 * A router facade that mounts `/services/data/:version/…` routes under `…/tooling/…`, with
 * `versionSegment` = `vXX.X/tooling` so the URLs the shared handlers build point back here, and
 * base64 fields of returned records replaced by their blob URLs.
 */
function prefixedRouter(router: EmulatorRouter): EmulatorRouter {
  const add = (route: EmulatorRoute): void => {
    const pattern = route.pattern.replace(/^\/services\/data\/:version/, TOOLING);
    router.add({
      ...route,
      pattern,
      name: `tooling ${route.method} ${pattern}`,
      handler: async (request) => {
        const response = await route.handler({
          ...request,
          versionSegment: `${request.versionSegment}/tooling`,
        });
        if (response?.body && typeof response.body === 'object' && !Buffer.isBuffer(response.body))
          blobUrls(response.body);
        return response;
      },
    });
  };
  return { add } as unknown as EmulatorRouter;
}

/** Replaces base64 values of records (`attributes.url` + field) inside a JSON body, in place. */
function blobUrls(body: unknown): void {
  if (Array.isArray(body)) {
    for (const item of body) blobUrls(item);
    return;
  }
  if (typeof body !== 'object' || body === null) return;
  const record = body as Record<string, unknown>;
  const attributes = record.attributes as { type?: string; url?: string } | undefined;
  if (
    attributes?.type === 'StaticResource' &&
    typeof attributes.url === 'string' &&
    typeof record.Body === 'string'
  )
    record.Body = `${attributes.url}/Body`;
  for (const value of Object.values(record)) if (typeof value === 'object') blobUrls(value);
}

function registerBlobAndCreateRoutes(context: EmulatorModuleContext): void {
  const { router, store } = context;
  const schemaOf = (request: EmulatorRequestContext): ObjectSchema => {
    const schema = store.schema(request.params.sobject ?? '');
    if (!schema) throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return schema;
  };
  // The Tooling resource list, like `GET /services/data/vXX.X`: only what is served here.
  router.add({
    method: 'GET',
    pattern: '/services/data/:version',
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: Object.fromEntries(
        ['query', 'queryAll', 'sobjects'].map((name) => [
          name,
          `/services/data/${request.versionSegment}/${name}`,
        ]),
      ),
    }),
  });
  // Registered before the shared routes: `sobjects/X/{id}/Body` is not an external-id lookup.
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/sobjects/:sobject/:id/:field',
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const field = schema.field(request.params.field ?? '');
      const row = store.get(request.params.id ?? '');
      if (field?.type !== 'base64' || !row || store.schemaForId(row.Id as string) !== schema)
        throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
      const value = row[field.name];
      return {
        status: 200,
        headers: { 'Content-Type': 'application/octetstream' },
        body: Buffer.from(typeof value === 'string' ? value : '', 'base64'),
      };
    },
  });
  // Setup objects have no recycle bin (their supported calls have no undelete()): delete is final.
  router.add({
    method: 'DELETE',
    pattern: '/services/data/:version/sobjects/:sobject/:id',
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const row = store.get(request.params.id ?? '');
      if (!row || store.schemaForId(row.Id as string) !== schema)
        throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
      try {
        store.applySingle({ kind: 'hardDelete', id: row.Id as string });
      } catch (error) {
        throw toHttpError(error);
      }
      return { status: 204 };
    },
  });
  router.add({
    method: 'POST',
    pattern: '/services/data/:version/sobjects/:sobject',
    kind: 'api',
    handler: async (request): Promise<EmulatorResponse> => {
      const schema = schemaOf(request);
      const values = await createBody(request, schema);
      try {
        const result = store.applySingle({ kind: 'insert', sobject: schema.name, values });
        return { status: 201, body: { id: result.id, success: true, errors: [] } };
      } catch (error) {
        throw toHttpError(error);
      }
    },
  });
}

/**
 * A create body: JSON, or `multipart/form-data` whose JSON part (any name, `application/json`)
 * holds the fields and whose other parts are binary fields, named by the field (REST "Insert or
 * Update Blob Data").
 */
async function createBody(
  request: EmulatorRequestContext,
  schema: ObjectSchema,
): Promise<Record<string, unknown>> {
  const contentType = String(request.headers['content-type'] ?? '');
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return recordBody(await request.json());
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(await request.body()), {
      headers: { 'content-type': contentType },
    }).formData();
  } catch {
    throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', 'The multipart request body could not be parsed');
  }
  let values: Record<string, unknown> | undefined;
  const binaries: Record<string, string> = {};
  for (const [name, part] of form.entries()) {
    // The JSON part has no file name, so it arrives as text (jsforce names it after the object).
    if (typeof part === 'string' || part.type.startsWith('application/json')) {
      const text = typeof part === 'string' ? part : await part.text();
      try {
        values = recordBody(JSON.parse(text) as unknown);
      } catch {
        throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', `The part ${name} is not a JSON object`);
      }
    } else {
      const field = schema.field(name);
      if (field?.type !== 'base64')
        throw new EmulatorHttpError(
          400,
          'INVALID_FIELD',
          `No such column '${name}' on sobject of type ${schema.name}`,
        );
      binaries[field.name] = Buffer.from(await part.arrayBuffer()).toString('base64');
    }
  }
  if (!values)
    throw new EmulatorHttpError(
      400,
      'JSON_PARSER_ERROR',
      'The multipart request has no application/json part',
    );
  return { ...values, ...binaries };
}
