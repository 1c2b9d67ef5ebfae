import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import type { ObjectSchema } from '../store/schema.js';

const BASE = '/services/data/:version/sobjects/:sobject/listviews';

/** Visible columns of the standard list views, per object (as a new org ships them). */
const COLUMNS: Readonly<Record<string, readonly string[]>> = {
  Account: ['Name', 'Site', 'BillingState', 'Phone', 'Type', 'Owner.Alias'],
  Contact: ['Name', 'Account.Name', 'Title', 'Phone', 'Email', 'Owner.Alias'],
  Lead: ['Name', 'Company', 'State', 'Email', 'Status', 'CreatedDate', 'Owner.Alias'],
  Opportunity: ['Name', 'Account.Name', 'Amount', 'CloseDate', 'StageName', 'Owner.Alias'],
  Campaign: ['Name', 'Type', 'Status', 'StartDate', 'EndDate', 'IsActive'],
};
/** Hidden columns every list view selects. */
const HIDDEN = ['Id', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'];

interface ListView {
  id: string;
  sobject: string;
  developerName: string;
  label: string;
  /** SOQL condition (without WHERE), or undefined for all records. */
  where?: (userId: string) => string;
  scope: 'everything' | 'mine';
  /** `whereCondition` as list view describe reports it. */
  condition?: Record<string, unknown>;
}

interface Column {
  ascendingLabel: string | null;
  descendingLabel: string | null;
  fieldNameOrPath: string;
  hidden: boolean;
  label: string;
  searchable: boolean;
  selectListItem: string;
  sortDirection: 'ascending' | null;
  sortIndex: number | null;
  sortable: boolean;
  type: string;
}

/**
 * Standard list views (`All <Objects>`, `My <Objects>`, `New This Week`) of the objects that
 * have an owner and a name, served under `sobjects/X/listviews` with describe, results and
 * `query?explain=<listViewId>`. Columns per object follow a new org's defaults.
 */
export function registerListViewRoutes(context: EmulatorModuleContext): void {
  const { router, store, ids } = context;
  const views = new Map<string, ListView>();
  const byObject = new Map<string, ListView[]>();

  const viewsOf = (schema: ObjectSchema): ListView[] => {
    let list = byObject.get(schema.name);
    if (list) return list;
    const plural = schema.labelPlural.replace(/\s+/g, '');
    list = [
      { developerName: `All${plural}`, label: `All ${schema.labelPlural}`, scope: 'everything' as const },
      ...(schema.field('OwnerId')
        ? [
            {
              developerName: `My${plural}`,
              label: `My ${schema.labelPlural}`,
              scope: 'mine' as const,
              where: (userId: string) => `OwnerId = '${userId}'`,
            },
          ]
        : []),
      {
        developerName: 'NewThisWeek',
        label: 'New This Week',
        scope: 'everything' as const,
        where: () => 'CreatedDate = THIS_WEEK',
        condition: { field: 'CreatedDate', operator: 'equals', values: ['THIS_WEEK'] },
      },
    ].map((view) => ({ ...view, id: ids.next('00B'), sobject: schema.name }));
    for (const view of list) views.set(view.id.slice(0, 15), view);
    byObject.set(schema.name, list);
    return list;
  };

  const columnsOf = (schema: ObjectSchema): Column[] => {
    const visible = (COLUMNS[schema.name] ?? [schema.field('Name') ? 'Name' : 'Id']).filter((path) =>
      resolvable(schema, path),
    );
    const sortBy = visible[0];
    return [...visible, ...HIDDEN.filter((h) => !visible.includes(h))].map((path) => {
      const hidden = !visible.includes(path);
      const field = fieldAt(schema, path);
      return {
        ascendingLabel: field?.type === 'string' ? 'A-Z' : null,
        descendingLabel: field?.type === 'string' ? 'Z-A' : null,
        fieldNameOrPath: path,
        hidden,
        label: field?.label ?? path,
        searchable: field?.type === 'string',
        selectListItem: path,
        sortDirection: path === sortBy ? 'ascending' : null,
        sortIndex: path === sortBy ? 0 : null,
        sortable: !hidden,
        type: field?.type ?? 'string',
      };
    });
  };

  const soqlOf = (view: ListView, schema: ObjectSchema): string => {
    const columns = columnsOf(schema).map((c) => c.selectListItem);
    const where = view.where ? ` WHERE ${view.where(context.userId)}` : '';
    const sortBy = columns[0] === 'Id' ? 'Id ASC' : `${columns[0]} ASC NULLS FIRST, Id ASC NULLS FIRST`;
    return `SELECT ${columns.join(', ')} FROM ${schema.name}${where} ORDER BY ${sortBy}`;
  };

  const schemaOf = (request: EmulatorRequestContext): ObjectSchema => {
    const schema = store.schema(request.params.sobject ?? '');
    if (!schema) throw notFound();
    return schema;
  };
  const viewOf = (request: EmulatorRequestContext): { view: ListView; schema: ObjectSchema } => {
    const schema = schemaOf(request);
    viewsOf(schema);
    const view = views.get((request.params.id ?? '').slice(0, 15));
    if (!view || view.sobject !== schema.name) throw notFound();
    return { view, schema };
  };
  const urls = (request: EmulatorRequestContext, view: ListView) => {
    const base = `/services/data/${request.versionSegment}/sobjects/${view.sobject}/listviews/${view.id}`;
    return { describeUrl: `${base}/describe`, resultsUrl: `${base}/results`, url: base };
  };

  context.registerExplainSource((id) => {
    const view = views.get(id.slice(0, 15));
    const schema = view ? store.schema(view.sobject) : undefined;
    return view && schema ? soqlOf(view, schema) : undefined;
  });

  router.add({
    method: 'GET',
    pattern: BASE,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const listviews = viewsOf(schema).map((view) => ({
        ...urls(request, view),
        developerName: view.developerName,
        id: view.id,
        label: view.label,
        soqlCompatible: true,
      }));
      return {
        status: 200,
        body: {
          done: true,
          listviews,
          nextRecordsUrl: null,
          size: listviews.length,
          sobjectType: schema.name,
        },
      };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/describe`,
    kind: 'api',
    handler: (request) => {
      const { view, schema } = viewOf(request);
      const columns = columnsOf(schema);
      return {
        status: 200,
        body: {
          columns,
          id: view.id,
          orderBy: [
            {
              fieldNameOrPath: columns[0]?.fieldNameOrPath,
              nullsPosition: 'first',
              sortDirection: 'ascending',
            },
            { fieldNameOrPath: 'Id', nullsPosition: 'first', sortDirection: 'ascending' },
          ],
          query: soqlOf(view, schema),
          relatedEntityId: null,
          scope: view.scope,
          scopeEntityId: null,
          sobjectType: schema.name,
          whereCondition: view.condition ?? { conditions: [], conjunction: 'and' },
        },
      };
    },
  });

  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/results`,
    kind: 'api',
    handler: (request) => {
      const { view, schema } = viewOf(request);
      const limit = numberParam(request, 'limit', 25, 1, 2000);
      const offset = numberParam(request, 'offset', 0, 0, 2000);
      const columns = columnsOf(schema);
      const result = context.query(soqlOf(view, schema), { apiVersion: request.apiVersion });
      const page = result.records.slice(offset, offset + limit);
      return {
        status: 200,
        body: {
          columns,
          developerName: view.developerName,
          done: offset + page.length >= result.records.length,
          id: view.id,
          label: view.label,
          records: page.map((record) => ({
            columns: columns.map((c) => ({
              fieldNameOrPath: c.fieldNameOrPath,
              value: valueAt(record, c.fieldNameOrPath),
            })),
          })),
          size: page.length,
        },
      };
    },
  });
}

function numberParam(
  request: EmulatorRequestContext,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = request.query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EmulatorHttpError(
      400,
      'INVALID_QUERY_FILTER_OPERATOR',
      `${name} must be an integer between ${min} and ${max}`,
    );
  }
  return value;
}

function fieldAt(schema: ObjectSchema, path: string) {
  const dot = path.indexOf('.');
  if (dot < 0) return schema.field(path);
  return schema.relationship(path.slice(0, dot)) ? { label: path, type: 'string' as const } : undefined;
}

function resolvable(schema: ObjectSchema, path: string): boolean {
  return fieldAt(schema, path) !== undefined;
}

/** A list view result cell is the value as a string (or null), parent paths followed. */
function valueAt(record: Record<string, unknown>, path: string): string | null {
  let value: unknown = record;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | null)?.[part] ?? null;
  return value === null || value === undefined ? null : String(value);
}
