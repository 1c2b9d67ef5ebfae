import { HubSpotEmulatorError, type HubSpotRequest, type HubSpotRoute, route } from '../http.js';
import {
  HUBSPOT_OBJECT_TYPES,
  type HubSpotEmulatorObject,
  type HubSpotEmulatorStore,
  type HubSpotObjectType,
} from '../store.js';

const BATCH_LIMIT = 100;
const SEARCH_PAGE_LIMIT = 200;
const SEARCH_RESULT_CAP = 10_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Properties HubSpot returns when a request names none. */
const DEFAULT_PROPERTIES: Record<HubSpotObjectType, string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  emails: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};
const ALWAYS: Record<HubSpotObjectType, string[]> = {
  contacts: ['createdate', 'hs_object_id', 'lastmodifieddate'],
  emails: ['hs_createdate', 'hs_object_id', 'hs_lastmodifieddate'],
};

interface WriteError {
  status: number;
  category: string;
  message: string;
  context?: Record<string, string[]>;
  subCategory?: string;
}

class WriteFailure extends Error {
  constructor(readonly detail: WriteError) {
    super(detail.message);
  }
}

function objectType(request: HubSpotRequest): HubSpotObjectType {
  const type = request.params.objectType ?? '';
  if (type in HUBSPOT_OBJECT_TYPES) return type as HubSpotObjectType;
  throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`);
}

/** `SimplePublicObject` JSON of a stored object with the requested properties. */
export function toPublic(type: HubSpotObjectType, object: HubSpotEmulatorObject, requested?: string[]) {
  const names = requested?.length ? [...new Set([...requested, ...ALWAYS[type]])] : DEFAULT_PROPERTIES[type];
  const properties: Record<string, string | null> = {};
  for (const name of names) properties[name] = object.properties[name] ?? null;
  return {
    id: object.id,
    properties,
    createdAt: object.createdAt.toISOString(),
    updatedAt: object.updatedAt.toISOString(),
    archived: object.archived,
    ...(object.archivedAt ? { archivedAt: object.archivedAt.toISOString() } : {}),
  };
}

function requestedProperties(request: HubSpotRequest): string[] | undefined {
  const raw = request.query.getAll('properties').flatMap((p) => p.split(','));
  return raw.length ? raw.filter(Boolean) : undefined;
}

function validationFailure(message: string, code: string, propertyName: string): WriteFailure {
  return new WriteFailure({
    status: 400,
    category: 'VALIDATION_ERROR',
    message: `Property values were not valid: ${message}`,
    context: { propertyName: [propertyName] },
    subCategory: code,
  });
}

/** Validates and applies `properties` to a new or existing object (HubSpot's write rules). */
function write(
  store: HubSpotEmulatorStore,
  type: HubSpotObjectType,
  input: unknown,
  existing?: HubSpotEmulatorObject,
): { object: HubSpotEmulatorObject; created: boolean } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new WriteFailure({
      status: 400,
      category: 'VALIDATION_ERROR',
      message: 'properties must be an object',
    });
  }
  const values: Record<string, string | null> = {};
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const property = store.property(type, name);
    if (!property)
      throw validationFailure(`Property "${name}" does not exist`, 'PROPERTY_DOESNT_EXIST', name);
    if (property.readOnlyValue) {
      throw validationFailure(
        `"${name}" is a read only property; its value cannot be set.`,
        'READ_ONLY_VALUE',
        name,
      );
    }
    const value = raw === null || raw === undefined ? '' : String(raw);
    if (name === 'email' && value && !EMAIL.test(value)) {
      throw validationFailure(`Email address ${value} is invalid`, 'INVALID_EMAIL', name);
    }
    if (property.type === 'number' && value && !Number.isFinite(Number(value))) {
      throw validationFailure(`${value} was not a valid number.`, 'INVALID_INTEGER', name);
    }
    if (property.type === 'enumeration' && value && property.options.length) {
      const allowed = new Set(property.options.map((o) => o.value));
      if (value.split(';').some((v) => !allowed.has(v))) {
        throw validationFailure(`${value} was not one of the allowed options`, 'INVALID_OPTION', name);
      }
    }
    if (property.hasUniqueValue && value) {
      const clash = store.findBy(type, name, value);
      if (clash && clash.id !== existing?.id) {
        throw new WriteFailure({
          status: 409,
          category: 'CONFLICT',
          message: `A ${type.slice(0, -1)} with the ${name} already exists. Existing ID: ${clash.id}`,
          context: { id: [clash.id] },
        });
      }
    }
    if (name === 'email' && value && store.blockedEmails.has(value.toLowerCase())) {
      throw validationFailure(
        'This email was permanently deleted (GDPR) and cannot be re-created',
        'GDPR_BLOCKED',
        name,
      );
    }
    values[name] = value === '' ? null : value;
  }
  const stamp = store.stamp();
  const iso = stamp.toISOString();
  const created = !existing;
  const object: HubSpotEmulatorObject = existing ?? {
    id: store.newId(),
    properties: {},
    createdAt: stamp,
    updatedAt: stamp,
    archived: false,
    associations: {},
  };
  const changed = Object.keys(values).filter((name) => object.properties[name] !== values[name]);
  if (!created) store.reindex(type, object, values);
  Object.assign(object.properties, values);
  object.properties.hs_object_id = object.id;
  object.updatedAt = stamp;
  if (type === 'contacts') {
    object.properties.lastmodifieddate = iso;
    object.properties.createdate ??= iso;
  } else {
    object.properties.hs_lastmodifieddate = iso;
    object.properties.hs_createdate ??= iso;
  }
  store.objects[type].set(object.id, object);
  if (created) store.reindex(type, { ...object, properties: {} }, values);
  if (type === 'contacts') {
    if (created) store.record({ subscriptionType: 'contact.creation', objectId: Number(object.id) });
    else
      for (const name of changed) {
        store.record({
          subscriptionType: 'contact.propertyChange',
          objectId: Number(object.id),
          propertyName: name,
          propertyValue: values[name] ?? '',
        });
      }
  }
  return { object, created };
}

function lookup(
  store: HubSpotEmulatorStore,
  type: HubSpotObjectType,
  id: string,
  idProperty: string | null,
): HubSpotEmulatorObject | undefined {
  if (!idProperty || idProperty === 'hs_object_id') {
    const object = store.objects[type].get(id);
    return object && !object.archived ? object : undefined;
  }
  const property = store.property(type, idProperty);
  if (!property?.hasUniqueValue) {
    throw new HubSpotEmulatorError(
      400,
      'VALIDATION_ERROR',
      `Property ${idProperty} is not a unique identifier property`,
    );
  }
  return store.findBy(type, idProperty, id);
}

function associate(object: HubSpotEmulatorObject, toType: string, id: string): void {
  const ids = object.associations[toType] ?? new Set<string>();
  ids.add(id);
  object.associations[toType] = ids;
}

function notFound(type: HubSpotObjectType, id: string): HubSpotEmulatorError {
  return new HubSpotEmulatorError(404, 'OBJECT_NOT_FOUND', `resource not found`, {
    context: { id: [id], type: [type] },
  });
}

function archive(store: HubSpotEmulatorStore, type: HubSpotObjectType, object: HubSpotEmulatorObject): void {
  store.reindex(type, object, null);
  object.archived = true;
  object.archivedAt = store.stamp();
  if (type === 'contacts')
    store.record({ subscriptionType: 'contact.deletion', objectId: Number(object.id) });
}

async function batchInputs(request: HubSpotRequest): Promise<Array<Record<string, unknown>>> {
  const body = (await request.json()) as { inputs?: unknown } | undefined;
  if (!body || !Array.isArray(body.inputs)) {
    throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'Invalid input JSON: inputs is required');
  }
  if (body.inputs.length > BATCH_LIMIT) {
    throw new HubSpotEmulatorError(
      400,
      'VALIDATION_ERROR',
      `Batch input must contain at most ${BATCH_LIMIT} inputs (got ${body.inputs.length})`,
    );
  }
  return body.inputs as Array<Record<string, unknown>>;
}

/** Per-input errors become a 207 Multi-Status, HubSpot's shape: results and errors side by side. */
function batchResponse(results: unknown[], errors: unknown[], startedAt: Date) {
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
  };
  if (errors.length) {
    body.errors = errors;
    body.numErrors = errors.length;
  }
  return { status: errors.length ? 207 : 200, body };
}

function standardError(failure: WriteError, id: string | undefined, traceId: unknown) {
  const context: Record<string, string[]> = { ...(failure.context ?? {}) };
  if (id !== undefined) context.ids = [id];
  if (typeof traceId === 'string') context.objectWriteTraceId = [traceId];
  return {
    status: 'error',
    category: failure.category,
    ...(failure.subCategory ? { subCategory: failure.subCategory } : {}),
    message: failure.message,
    context,
    errors: [],
    links: {},
  };
}

function properties(input: Record<string, unknown>): unknown {
  return input.properties ?? {};
}

function compare(
  a: string | null | undefined,
  b: string,
  property: string,
  store: HubSpotEmulatorStore,
  type: HubSpotObjectType,
) {
  const definition = store.property(type, property);
  if (a === null || a === undefined) return Number.NaN;
  if (definition?.type === 'datetime' || definition?.type === 'date') {
    const left = Date.parse(a);
    const right = /^\d+$/.test(b) ? Number(b) : Date.parse(b);
    return left - right;
  }
  if (definition?.type === 'number' || property === 'hs_object_id') return Number(a) - Number(b);
  const left = property === 'email' ? a.toLowerCase() : a;
  const right = property === 'email' ? b.toLowerCase() : b;
  return left < right ? -1 : left > right ? 1 : 0;
}

interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string | number;
  values?: Array<string | number>;
}

function matchesFilter(
  store: HubSpotEmulatorStore,
  type: HubSpotObjectType,
  object: HubSpotEmulatorObject,
  filter: SearchFilter,
) {
  const actual = filter.propertyName === 'hs_object_id' ? object.id : object.properties[filter.propertyName];
  const value = filter.value === undefined ? '' : String(filter.value);
  const c = () => compare(actual, value, filter.propertyName, store, type);
  switch (filter.operator) {
    case 'EQ':
      return c() === 0;
    case 'NEQ':
      return !(c() === 0);
    case 'GT':
      return c() > 0;
    case 'GTE':
      return c() >= 0;
    case 'LT':
      return c() < 0;
    case 'LTE':
      return c() <= 0;
    case 'HAS_PROPERTY':
      return actual !== null && actual !== undefined && actual !== '';
    case 'NOT_HAS_PROPERTY':
      return actual === null || actual === undefined || actual === '';
    case 'IN':
      return (filter.values ?? []).some(
        (v) => compare(actual, String(v), filter.propertyName, store, type) === 0,
      );
    default:
      throw new HubSpotEmulatorError(
        400,
        'VALIDATION_ERROR',
        `Unsupported filter operator ${filter.operator}`,
      );
  }
}

/** The objects routes: basic, batch, search, GDPR delete, and v4 default associations. */
export function objectRoutes(store: HubSpotEmulatorStore): HubSpotRoute[] {
  const base = '/crm/v3/objects/:objectType';
  return [
    route('POST', `${base}/batch/upsert`, async (request) => {
      const type = objectType(request);
      const startedAt = new Date();
      const inputs = await batchInputs(request);
      const ids = inputs.map((input) => `${String(input.idProperty)}:${String(input.id)}`);
      if (new Set(ids).size !== ids.length) {
        throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'Duplicate IDs found in batch input');
      }
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of inputs) {
        const id = String(input.id ?? '');
        try {
          const idProperty = typeof input.idProperty === 'string' ? input.idProperty : '';
          const property = store.property(type, idProperty);
          if (!property?.hasUniqueValue) {
            throw new WriteFailure({
              status: 400,
              category: 'VALIDATION_ERROR',
              message: `Property ${idProperty || '(none)'} is not a unique identifier property`,
            });
          }
          const existing = store.findBy(type, idProperty, id);
          const values = {
            ...(properties(input) as Record<string, unknown>),
            [idProperty]: existing ? undefined : id,
          };
          if (existing) delete values[idProperty];
          const { object, created } = write(store, type, values, existing);
          const written = Object.keys(values);
          results.push({
            ...toPublic(type, object, [...DEFAULT_PROPERTIES[type], ...written, idProperty]),
            new: created,
          });
        } catch (error) {
          if (!(error instanceof WriteFailure)) throw error;
          errors.push(standardError(error.detail, id, input.objectWriteTraceId));
        }
      }
      return batchResponse(results, errors, startedAt);
    }),
    route('POST', `${base}/batch/create`, async (request) => {
      const type = objectType(request);
      const startedAt = new Date();
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of await batchInputs(request)) {
        try {
          const { object } = write(store, type, properties(input));
          results.push(toPublic(type, object, Object.keys(properties(input) as object)));
        } catch (error) {
          if (!(error instanceof WriteFailure)) throw error;
          errors.push(standardError(error.detail, undefined, input.objectWriteTraceId));
        }
      }
      return batchResponse(results, errors, startedAt);
    }),
    route('POST', `${base}/batch/update`, async (request) => {
      const type = objectType(request);
      const startedAt = new Date();
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of await batchInputs(request)) {
        const id = String(input.id ?? '');
        try {
          const existing = lookup(
            store,
            type,
            id,
            typeof input.idProperty === 'string' ? input.idProperty : null,
          );
          if (!existing) {
            throw new WriteFailure({
              status: 404,
              category: 'OBJECT_NOT_FOUND',
              message: 'Object not found',
            });
          }
          const { object } = write(store, type, properties(input), existing);
          results.push(toPublic(type, object, Object.keys(properties(input) as object)));
        } catch (error) {
          if (!(error instanceof WriteFailure)) throw error;
          errors.push(standardError(error.detail, id, input.objectWriteTraceId));
        }
      }
      return batchResponse(results, errors, startedAt);
    }),
    route('POST', `${base}/batch/read`, async (request) => {
      const type = objectType(request);
      const startedAt = new Date();
      const body = (await request.json()) as { idProperty?: string; properties?: string[] };
      const inputs = await batchInputs(request);
      const results: unknown[] = [];
      const errors: unknown[] = [];
      const missing: string[] = [];
      for (const input of inputs) {
        const id = String(input.id ?? '');
        const object = lookup(store, type, id, body.idProperty ?? null);
        if (object)
          results.push(
            toPublic(type, object, [
              ...(body.properties ?? []),
              ...(body.idProperty ? [body.idProperty] : []),
            ]),
          );
        else missing.push(id);
      }
      if (missing.length) {
        errors.push({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${type} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
          errors: [],
          links: {},
        });
      }
      return batchResponse(results, errors, startedAt);
    }),
    route('POST', `${base}/batch/archive`, async (request) => {
      const type = objectType(request);
      for (const input of await batchInputs(request)) {
        const object = store.objects[type].get(String(input.id ?? ''));
        if (object && !object.archived) archive(store, type, object);
      }
      return { status: 204 };
    }),
    route('POST', `${base}/search`, async (request) => {
      const type = objectType(request);
      const body = ((await request.json()) ?? {}) as {
        filterGroups?: Array<{ filters?: SearchFilter[] }>;
        sorts?: Array<string | { propertyName: string; direction?: string }>;
        properties?: string[];
        limit?: number;
        after?: string | number;
      };
      const limit = body.limit ?? 10;
      if (limit > SEARCH_PAGE_LIMIT) {
        throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', `limit must be at most ${SEARCH_PAGE_LIMIT}`);
      }
      const groups = body.filterGroups ?? [];
      const filterCount = groups.reduce((n, g) => n + (g.filters?.length ?? 0), 0);
      if (groups.length > 5 || groups.some((g) => (g.filters?.length ?? 0) > 10) || filterCount > 25) {
        throw new HubSpotEmulatorError(
          400,
          'VALIDATION_ERROR',
          'Too many filters: at most 5 groups, 10 per group, 25 total',
        );
      }
      const offset = Number(body.after ?? 0);
      if (offset >= SEARCH_RESULT_CAP) {
        throw new HubSpotEmulatorError(
          400,
          'VALIDATION_ERROR',
          `The maximum number of results a search can page through is ${SEARCH_RESULT_CAP}`,
        );
      }
      let matched = [...store.objects[type].values()].filter(
        (object) =>
          !object.archived &&
          (groups.length === 0 ||
            groups.some((g) => (g.filters ?? []).every((f) => matchesFilter(store, type, object, f)))),
      );
      const sort = body.sorts?.[0];
      const sortProperty =
        typeof sort === 'string' ? sort.replace(/^-/, '') : (sort?.propertyName ?? 'hs_object_id');
      const descending = typeof sort === 'string' ? sort.startsWith('-') : sort?.direction === 'DESCENDING';
      // Decorate once per query: parsing dates inside the comparator would parse each value log(n) times.
      const definition = store.property(type, sortProperty);
      const numeric =
        sortProperty === 'hs_object_id' || ['number', 'date', 'datetime'].includes(definition?.type ?? '');
      const keyed = matched.map((object) => {
        const raw = sortProperty === 'hs_object_id' ? object.id : (object.properties[sortProperty] ?? '');
        const key: number | string = numeric ? (/^\d+$/.test(raw) ? Number(raw) : Date.parse(raw) || 0) : raw;
        return { object, key, id: Number(object.id) };
      });
      keyed.sort((a, b) => {
        const byKey = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
        return (descending ? -byKey : byKey) || a.id - b.id;
      });
      matched = keyed.map((k) => k.object);
      const page = matched.slice(offset, offset + limit);
      const next = offset + limit;
      return {
        status: 200,
        body: {
          total: matched.length,
          results: page.map((o) => toPublic(type, o, body.properties)),
          ...(next < matched.length ? { paging: { next: { after: String(next), link: '' } } } : {}),
        },
      };
    }),
    route('POST', '/crm/v3/objects/contacts/gdpr-delete', async (request) => {
      const body = (await request.json()) as { objectId?: string; idProperty?: string } | undefined;
      const id = String(body?.objectId ?? '');
      if (!id) throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'objectId is required');
      const object = lookup(store, 'contacts', id, body?.idProperty ?? null);
      if (body?.idProperty === 'email') store.blockedEmails.add(id.toLowerCase());
      if (!object) {
        if (body?.idProperty === 'email') return { status: 204 };
        throw notFound('contacts', id);
      }
      // Permanent: the record is gone, not archived (HubSpot's GDPR delete cannot be restored).
      store.reindex('contacts', object, null);
      store.objects.contacts.delete(object.id);
      if (object.properties.email) store.blockedEmails.add(object.properties.email.toLowerCase());
      store.record({ subscriptionType: 'contact.privacyDeletion', objectId: Number(object.id) });
      return { status: 204 };
    }),
    route('GET', base, (request) => {
      const type = objectType(request);
      const archived = request.query.get('archived') === 'true';
      const limit = Math.min(Number(request.query.get('limit') ?? 10), 100);
      const offset = Number(request.query.get('after') ?? 0);
      const all = [...store.objects[type].values()].filter((o) => o.archived === archived);
      const page = all.slice(offset, offset + limit);
      const next = offset + limit;
      return {
        status: 200,
        body: {
          results: page.map((o) => toPublic(type, o, requestedProperties(request))),
          ...(next < all.length ? { paging: { next: { after: String(next), link: '' } } } : {}),
        },
      };
    }),
    route('POST', base, async (request) => {
      const type = objectType(request);
      const body = ((await request.json()) ?? {}) as {
        properties?: unknown;
        associations?: Array<{ to?: { id?: string } }>;
      };
      try {
        const { object } = write(store, type, body.properties ?? {});
        for (const association of body.associations ?? []) {
          const target = association.to?.id;
          if (target) associate(object, 'contacts', String(target));
        }
        return { status: 201, body: toPublic(type, object, Object.keys(body.properties ?? {})) };
      } catch (error) {
        if (error instanceof WriteFailure) {
          const { status, category, message, context } = error.detail;
          throw new HubSpotEmulatorError(status, category, message, context ? { context } : {});
        }
        throw error;
      }
    }),
    route('GET', `${base}/:id`, (request) => {
      const type = objectType(request);
      const id = request.params.id ?? '';
      const object = lookup(store, type, id, request.query.get('idProperty'));
      if (!object) throw notFound(type, id);
      return { status: 200, body: toPublic(type, object, requestedProperties(request)) };
    }),
    route('PATCH', `${base}/:id`, async (request) => {
      const type = objectType(request);
      const id = request.params.id ?? '';
      const existing = lookup(store, type, id, request.query.get('idProperty'));
      if (!existing) throw notFound(type, id);
      const body = ((await request.json()) ?? {}) as { properties?: unknown };
      try {
        const { object } = write(store, type, body.properties ?? {}, existing);
        return { status: 200, body: toPublic(type, object, Object.keys(body.properties ?? {})) };
      } catch (error) {
        if (error instanceof WriteFailure) {
          const { status, category, message, context } = error.detail;
          throw new HubSpotEmulatorError(status, category, message, context ? { context } : {});
        }
        throw error;
      }
    }),
    route('DELETE', `${base}/:id`, (request) => {
      const type = objectType(request);
      const object = store.objects[type].get(request.params.id ?? '');
      // HubSpot answers 204 for an id that is already archived or never existed.
      if (object && !object.archived) archive(store, type, object);
      return { status: 204 };
    }),
    route('GET', '/crm/v4/objects/:objectType/:id/associations/:toType', (request) => {
      const type = objectType(request);
      const object = store.objects[type].get(request.params.id ?? '');
      if (!object || object.archived) throw notFound(type, request.params.id ?? '');
      const ids = [...(object.associations[request.params.toType ?? ''] ?? [])];
      return {
        status: 200,
        body: {
          results: ids.map((id) => ({
            toObjectId: Number(id),
            associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 198, label: null }],
          })),
        },
      };
    }),
    route('PUT', '/crm/v4/objects/:objectType/:id/associations/default/:toType/:toId', (request) => {
      const type = objectType(request);
      const object = store.objects[type].get(request.params.id ?? '');
      const toType = request.params.toType as HubSpotObjectType;
      const target = store.objects[toType]?.get(request.params.toId ?? '');
      if (!object || object.archived || !target || target.archived)
        throw notFound(type, request.params.id ?? '');
      associate(object, toType, target.id);
      associate(target, type, object.id);
      return {
        status: 200,
        body: {
          status: 'COMPLETE',
          results: [
            {
              from: { id: object.id },
              to: { id: target.id },
              associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 198 },
            },
          ],
          startedAt: new Date().toISOString(),
          completedAt: new Date().toISOString(),
        },
      };
    }),
  ];
}
