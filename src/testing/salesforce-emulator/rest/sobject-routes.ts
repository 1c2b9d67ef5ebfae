import { formatDateTime, parseDateTime, truncateToMinute } from '../dates.js';
import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import { isSalesforceIdShape, toId18 } from '../ids.js';
import type { EmulatorModuleContext } from '../module.js';
import { requestChangeOrigin } from '../realtime/change-origin.js';
import { RecordFailure } from '../store/record-error.js';
import { type EmulatorRecord, isUpsertKey, type ObjectSchema } from '../store/schema.js';
import { describeGlobal, describeGlobalEntry, describeObject } from './describe.js';
import { formatRecord } from './record-format.js';
import { toHttpError } from './single-record-error.js';

const DATA = '/services/data/:version';

/** Registers describe, record CRUD, upsert by external id and replication (`updated`/`deleted`). */
export function registerSObjectRoutes(context: EmulatorModuleContext): void {
  const { router, store } = context;
  // Change events carry the caller's `Sforce-Call-Options` client tag, as Salesforce's do.
  const writeAs = <T>(request: EmulatorRequestContext, write: () => T): T =>
    store.withOrigin(requestChangeOrigin(request), write);

  const schemaOf = (request: EmulatorRequestContext): ObjectSchema => {
    const schema = store.schema(request.params.sobject ?? '');
    if (!schema) throw notFound();
    return schema;
  };

  // `If-Modified-Since` → 304 when the schema has not changed since (describe resources only).
  const notModified = (request: EmulatorRequestContext): boolean => {
    const header = request.headers['if-modified-since'];
    const since = typeof header === 'string' ? Date.parse(header) : Number.NaN;
    return !Number.isNaN(since) && Math.floor(store.schemaModifiedAt.getTime() / 1000) * 1000 <= since;
  };

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects`,
    kind: 'api',
    handler: (request) =>
      notModified(request)
        ? { status: 304 }
        : { status: 200, body: describeGlobal(store.schemas(), request.versionSegment) },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject/describe`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      return notModified(request)
        ? { status: 304 }
        : { status: 200, body: describeObject(schema, request.versionSegment) };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject/updated`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const { start, end } = replicationWindow(request, context, 30);
      const ids: string[] = [];
      for (const row of store.rows(schema.name)) {
        const stamp = Date.parse(`${String(row.SystemModstamp).slice(0, 23)}Z`);
        if (stamp >= start.getTime() && stamp < end.getTime()) ids.push(row.Id as string);
      }
      if (ids.length > 600_000) {
        throw new EmulatorHttpError(
          400,
          'EXCEEDED_ID_LIMIT',
          'too many ids: more than 600000 ids in the result',
        );
      }
      return { status: 200, body: { ids, latestDateCovered: formatDateTime(end) } };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject/deleted`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const { start, end } = replicationWindow(request, context, 15);
      const deletedRecords = store
        .deletions(schema.name)
        .filter((d) => d.deletedDate >= start && d.deletedDate < end)
        .map((d) => ({ id: d.id, deletedDate: formatDateTime(d.deletedDate) }));
      return {
        status: 200,
        body: {
          deletedRecords,
          earliestDateAvailable: formatDateTime(truncateToMinute(context.createdAt)),
          latestDateCovered: formatDateTime(end),
        },
      };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      return {
        status: 200,
        body: { objectDescribe: describeGlobalEntry(schema, request.versionSegment), recentItems: [] },
      };
    },
  });

  router.add({
    method: 'POST',
    pattern: `${DATA}/sobjects/:sobject`,
    kind: 'api',
    handler: async (request) => {
      const schema = schemaOf(request);
      const body = recordBody(await request.json());
      try {
        const result = writeAs(request, () =>
          store.applySingle({ kind: 'insert', sobject: schema.name, values: body }),
        );
        return { status: 201, body: { id: result.id, success: true, errors: [] } };
      } catch (error) {
        throw toHttpError(error);
      }
    },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject/:id`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const row = liveRowById(store, schema, request.params.id ?? '');
      return {
        status: 200,
        body: formatRecord(schema, row, request.versionSegment, requestedFields(request, schema)),
      };
    },
  });

  router.add({
    method: 'PATCH',
    pattern: `${DATA}/sobjects/:sobject/:id`,
    kind: 'api',
    handler: async (request) => {
      const schema = schemaOf(request);
      const row = liveRowById(store, schema, request.params.id ?? '');
      const body = recordBody(await request.json());
      try {
        writeAs(request, () =>
          store.applySingle({ kind: 'update', sobject: schema.name, id: row.Id as string, values: body }),
        );
      } catch (error) {
        throw toHttpError(error);
      }
      return { status: 204 };
    },
  });

  router.add({
    method: 'DELETE',
    pattern: `${DATA}/sobjects/:sobject/:id`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const row = liveRowById(store, schema, request.params.id ?? '');
      try {
        writeAs(request, () => store.applySingle({ kind: 'delete', id: row.Id as string }));
      } catch (error) {
        throw toHttpError(error);
      }
      return { status: 204 };
    },
  });

  // `POST /sobjects/X/Id` with a null Id inserts (upsert on the Id field, API >= 37).
  router.add({
    method: 'POST',
    pattern: `${DATA}/sobjects/:sobject/:field`,
    kind: 'api',
    handler: async (request) => {
      const schema = schemaOf(request);
      if ((request.params.field ?? '').toLowerCase() !== 'id') throw notFound();
      const body = recordBody(await request.json());
      try {
        const result = writeAs(request, () =>
          store.applySingle({
            kind: 'insert',
            sobject: schema.name,
            values: { ...body, Id: null },
          }),
        );
        return upsertResponse(request, result.id as string, true);
      } catch (error) {
        throw toHttpError(error);
      }
    },
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/sobjects/:sobject/:field/:value`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const ids = externalIdMatches(context, request, schema);
      if (ids.length > 1) return multipleChoices(request, schema, ids);
      const row = ids[0] === undefined ? undefined : store.get(ids[0]);
      if (!row) throw notFound();
      return {
        status: 200,
        body: formatRecord(schema, row, request.versionSegment, requestedFields(request, schema)),
      };
    },
  });

  router.add({
    method: 'PATCH',
    pattern: `${DATA}/sobjects/:sobject/:field/:value`,
    kind: 'api',
    handler: async (request) => {
      const schema = schemaOf(request);
      const field = externalIdField(schema, request.params.field ?? '');
      const value = request.params.value ?? '';
      const body = recordBody(await request.json());
      const ids = externalIdMatches(context, request, schema);
      if (ids.length > 1) return multipleChoices(request, schema, ids);
      if (ids.length === 0 && request.query.get('updateOnly') === 'true' && request.apiVersion >= 61)
        throw notFound();
      try {
        const result = writeAs(request, () =>
          store.applySingle({
            kind: 'upsert',
            sobject: schema.name,
            externalIdField: field,
            values: { ...withoutField(body, field), [field]: value },
          }),
        );
        return upsertResponse(request, result.id as string, result.created === true);
      } catch (error) {
        if (error instanceof RecordFailure && error.httpStatus === 300)
          return multipleChoices(request, schema, error.matchingIds);
        throw toHttpError(error);
      }
    },
  });

  router.add({
    method: 'DELETE',
    pattern: `${DATA}/sobjects/:sobject/:field/:value`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const ids = externalIdMatches(context, request, schema);
      if (ids.length > 1) return multipleChoices(request, schema, ids);
      const id = ids[0];
      if (id === undefined) throw notFound();
      try {
        writeAs(request, () => store.applySingle({ kind: 'delete', id }));
      } catch (error) {
        throw toHttpError(error);
      }
      return { status: 204 };
    },
  });
}

/** A JSON object body, or 400 like Salesforce's deserializer. */
export function recordBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EmulatorHttpError(
      400,
      'JSON_PARSER_ERROR',
      'Cannot deserialize instance of SObject from the request body',
    );
  }
  const copy = { ...(body as Record<string, unknown>) };
  delete copy.attributes;
  return copy;
}

function withoutField(values: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values))
    if (key.toLowerCase() !== field.toLowerCase()) copy[key] = value;
  return copy;
}

function liveRowById(
  store: EmulatorModuleContext['store'],
  schema: ObjectSchema,
  rawId: string,
): EmulatorRecord {
  if (!isSalesforceIdShape(rawId)) {
    throw new EmulatorHttpError(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${rawId}`,
    );
  }
  const id = toId18(rawId) as string;
  const row = store.get(id, { includeDeleted: true });
  if (!row || store.schemaForId(id) !== schema) throw notFound();
  if (row.IsDeleted === true) throw new EmulatorHttpError(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
  return row;
}

function requestedFields(request: EmulatorRequestContext, schema: ObjectSchema): string[] | undefined {
  const raw = request.query.get('fields');
  if (raw === null || raw.trim() === '') return undefined;
  return raw.split(',').map((name) => {
    const field = schema.field(name.trim());
    if (!field) {
      throw new EmulatorHttpError(
        400,
        'INVALID_FIELD',
        `No such column '${name.trim()}' on entity '${schema.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return field.name;
  });
}

function externalIdField(schema: ObjectSchema, name: string): string {
  const field = schema.field(name);
  if (!field || !isUpsertKey(field)) {
    throw new EmulatorHttpError(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${name}`,
    );
  }
  return field.name;
}

function externalIdMatches(
  context: EmulatorModuleContext,
  request: EmulatorRequestContext,
  schema: ObjectSchema,
): string[] {
  const field = externalIdField(schema, request.params.field ?? '');
  return context.store.findByExternalId(schema.name, field, request.params.value ?? '');
}

function multipleChoices(
  request: EmulatorRequestContext,
  schema: ObjectSchema,
  ids: string[],
): EmulatorResponse {
  return {
    status: 300,
    body: ids.map((id) => `/services/data/${request.versionSegment}/sobjects/${schema.name}/${id}`),
  };
}

/** 201 created / 200 `created:false` (API >= 46) / 204 (API <= 45), per the upsert docs. */
function upsertResponse(request: EmulatorRequestContext, id: string, created: boolean): EmulatorResponse {
  const modern = request.apiVersion >= 46;
  if (created) {
    return {
      status: 201,
      body: modern ? { id, success: true, errors: [], created: true } : { id, success: true, errors: [] },
    };
  }
  return modern ? { status: 200, body: { id, success: true, errors: [], created: false } } : { status: 204 };
}

function replicationWindow(
  request: EmulatorRequestContext,
  context: EmulatorModuleContext,
  maxDays: number,
): { start: Date; end: Date } {
  const startRaw = request.query.get('start');
  const endRaw = request.query.get('end');
  if (!startRaw || !endRaw) {
    throw new EmulatorHttpError(400, 'MISSING_ARGUMENT', 'start and end parameters are required');
  }
  const start = parseDateTime(startRaw.trim().replace(' ', '+'));
  const end = parseDateTime(endRaw.trim().replace(' ', '+'));
  if (!start || !end) throw new EmulatorHttpError(400, 'INVALID_REPLICATION_DATE', 'invalid date format');
  // Seconds are truncated, as documented for getUpdated/getDeleted.
  const startMinute = truncateToMinute(start);
  const now = context.clock.now();
  const endMinute = truncateToMinute(end.getTime() > now.getTime() ? now : end);
  if (startMinute.getTime() > endMinute.getTime()) {
    throw new EmulatorHttpError(400, 'INVALID_REPLICATION_DATE', 'EndDate before StartDate');
  }
  if (now.getTime() - startMinute.getTime() > maxDays * 86_400_000) {
    throw new EmulatorHttpError(
      400,
      'INVALID_REPLICATION_DATE',
      `startDate cannot be more than ${maxDays} days ago`,
    );
  }
  return { start: startMinute, end: endMinute };
}
