import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import { isSalesforceIdShape, toId18 } from '../ids.js';
import type { EmulatorModuleContext } from '../module.js';
import { requestChangeOrigin } from '../realtime/change-origin.js';
import type { StoreWriteOperation } from '../store/org-store.js';
import type { EmulatorSaveResult } from '../store/record-error.js';
import { isUpsertKey } from '../store/schema.js';
import { formatRecord } from './record-format.js';

/** sObject Collections accept at most 200 records (or ids) per request. */
export const COLLECTION_LIMIT = 200;

const BASE = '/services/data/:version/composite/sobjects';

interface CollectionBody {
  allOrNone: boolean;
  records: Array<Record<string, unknown>>;
}

function exceeded(): EmulatorHttpError {
  return new EmulatorHttpError(
    400,
    'EXCEEDED_ID_LIMIT',
    `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
  );
}

async function collectionBody(request: EmulatorRequestContext): Promise<CollectionBody> {
  const body = (await request.json()) as { allOrNone?: unknown; records?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.records)) {
    throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', 'The request body must contain a records array');
  }
  if (body.records.length > COLLECTION_LIMIT) throw exceeded();
  return { allOrNone: body.allOrNone === true, records: body.records as Array<Record<string, unknown>> };
}

function minimumVersion(request: EmulatorRequestContext, version: number): void {
  if (request.apiVersion < version) throw notFound();
}

function typeOf(record: Record<string, unknown>): string | undefined {
  const attributes = record.attributes as { type?: unknown } | undefined;
  return typeof attributes?.type === 'string' ? attributes.type : undefined;
}

function strip(record: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...record };
  delete copy.attributes;
  return copy;
}

/** A failure result for a record that never reached the store. */
function invalidRecord(statusCode: string, message: string, fields: string[] = []): EmulatorSaveResult {
  return { success: false, errors: [{ statusCode, message, fields }] };
}

/**
 * Runs per-record operations; records that fail request-level checks get their error in place
 * and, with allOrNone, roll the others back.
 */
function runWithPrechecks(
  context: EmulatorModuleContext,
  request: EmulatorRequestContext,
  prepared: Array<StoreWriteOperation | EmulatorSaveResult>,
  allOrNone: boolean,
): EmulatorSaveResult[] {
  const operations = prepared.filter((p): p is StoreWriteOperation => 'kind' in p);
  const precheckFailed = operations.length !== prepared.length;
  if (precheckFailed && allOrNone) {
    return prepared.map((p) =>
      'kind' in p
        ? invalidRecord(
            'ALL_OR_NONE_OPERATION_ROLLED_BACK',
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          )
        : p,
    );
  }
  // Change events carry the caller's `Sforce-Call-Options` client tag, as Salesforce's do.
  const results = context.store.withOrigin(requestChangeOrigin(request), () =>
    context.store.apply(operations, { allOrNone }),
  );
  let next = 0;
  return prepared.map((p) => ('kind' in p ? (results[next++] as EmulatorSaveResult) : p));
}

/** Registers sObject Collections create/update/upsert/delete/retrieve. */
export function registerCollectionRoutes(context: EmulatorModuleContext): void {
  const { router, store } = context;

  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      minimumVersion(request, 42);
      const { allOrNone, records } = await collectionBody(request);
      const prepared = records.map((record): StoreWriteOperation | EmulatorSaveResult => {
        const type = typeOf(record);
        if (!type || !store.schema(type)) {
          return invalidRecord('INVALID_TYPE', `sObject type '${type ?? ''}' is not supported.`);
        }
        const values = strip(record);
        if (values.id !== undefined && values.id !== null) {
          return invalidRecord('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
        }
        return { kind: 'insert', sobject: type, values };
      });
      return { status: 200, body: runWithPrechecks(context, request, prepared, allOrNone) };
    },
  });

  router.add({
    method: 'PATCH',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      minimumVersion(request, 42);
      const { allOrNone, records } = await collectionBody(request);
      const prepared = records.map((record): StoreWriteOperation | EmulatorSaveResult => {
        const values = strip(record);
        const id = values.id ?? values.Id;
        delete values.id;
        if (typeof id !== 'string' || id === '') {
          return invalidRecord('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
        }
        const type = typeOf(record);
        return type === undefined
          ? { kind: 'update', id, values }
          : { kind: 'update', sobject: type, id, values };
      });
      return { status: 200, body: runWithPrechecks(context, request, prepared, allOrNone) };
    },
  });

  router.add({
    method: 'DELETE',
    pattern: BASE,
    kind: 'api',
    handler: (request) => {
      minimumVersion(request, 42);
      const ids = (request.query.get('ids') ?? '').split(',').filter((id) => id.length > 0);
      if (ids.length === 0) throw new EmulatorHttpError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
      if (ids.length > COLLECTION_LIMIT) throw exceeded();
      const allOrNone = request.query.get('allOrNone') === 'true';
      const prepared = ids.map((id): StoreWriteOperation => ({ kind: 'delete', id }));
      return { status: 200, body: runWithPrechecks(context, request, prepared, allOrNone) };
    },
  });

  const retrieve = (request: EmulatorRequestContext, ids: string[], fieldNames: string[]) => {
    const schema = store.schema(request.params.sobject ?? '');
    if (!schema) throw notFound();
    if (ids.length > 2000) throw exceeded();
    const fields = fieldNames.map((name) => {
      const field = schema.field(name.trim());
      if (!field) {
        throw new EmulatorHttpError(
          400,
          'INVALID_FIELD',
          `No such column '${name.trim()}' on entity '${schema.name}'.`,
        );
      }
      return field.name;
    });
    if (fields.length === 0)
      throw new EmulatorHttpError(400, 'MISSING_ARGUMENT', 'fields parameter is required');
    return {
      status: 200,
      body: ids.map((raw) => {
        const id = isSalesforceIdShape(raw) ? toId18(raw) : undefined;
        const row = id ? store.get(id) : undefined;
        return row && store.schemaForId(id as string) === schema
          ? formatRecord(schema, row, request.versionSegment, fields)
          : null;
      }),
    };
  };

  router.add({
    method: 'GET',
    pattern: `${BASE}/:sobject`,
    kind: 'api',
    handler: (request) =>
      retrieve(
        request,
        (request.query.get('ids') ?? '').split(',').filter(Boolean),
        (request.query.get('fields') ?? '').split(',').filter(Boolean),
      ),
  });

  router.add({
    method: 'POST',
    pattern: `${BASE}/:sobject`,
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { ids?: unknown; fields?: unknown } | undefined;
      const ids = Array.isArray(body?.ids) ? body.ids.map(String) : [];
      const fields = Array.isArray(body?.fields) ? body.fields.map(String) : [];
      return retrieve(request, ids, fields);
    },
  });

  router.add({
    method: 'PATCH',
    pattern: `${BASE}/:sobject/:field`,
    kind: 'api',
    handler: async (request) => {
      minimumVersion(request, 46);
      const schema = store.schema(request.params.sobject ?? '');
      if (!schema) throw notFound();
      const field = schema.field(request.params.field ?? '');
      if (!field || !isUpsertKey(field)) {
        throw new EmulatorHttpError(
          404,
          'NOT_FOUND',
          `Provided external ID field does not exist or is not accessible: ${request.params.field ?? ''}`,
        );
      }
      const { allOrNone, records } = await collectionBody(request);
      const prepared = records.map((record): StoreWriteOperation | EmulatorSaveResult => {
        const type = typeOf(record);
        if (type !== undefined && type.toLowerCase() !== schema.name.toLowerCase()) {
          return {
            ...invalidRecord('INVALID_TYPE', `Record type ${type} does not match ${schema.name}`),
            created: false,
          };
        }
        return { kind: 'upsert', sobject: schema.name, externalIdField: field.name, values: strip(record) };
      });
      return { status: 200, body: runWithPrechecks(context, request, prepared, allOrNone) };
    },
  });
}
