import { formatDateTime } from '../dates.js';
import { FILTER_OPERATORS, meetsFilter } from '../filter-operators.js';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import { toId18 } from '../ids.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { owner, systemFields } from '../store/objects/common.js';
import { analyticsRegistryOf } from './analytics-registry.js';
import { REPORT_TYPES, type ReportColumn, type ReportType } from './report-types.js';

const BASE = '/services/data/:version/analytics/reports';

type Format = 'TABULAR' | 'SUMMARY';
interface ReportFilter {
  column: string;
  operator: string;
  value: string;
}
interface Grouping {
  name: string;
  sortOrder: 'Asc' | 'Desc';
  dateGranularity: string;
}
interface ReportDefinition {
  id: string;
  name: string;
  developerName: string;
  description: string | null;
  format: Format;
  type: ReportType;
  detailColumns: string[];
  groupingsDown: Grouping[];
  reportFilters: ReportFilter[];
}
interface ReportInstance {
  id: string;
  reportId: string;
  requestDate: string;
  completionDate: string;
  result: Record<string, unknown>;
}

/**
 * Reports of the Reports and Dashboards REST API (`/analytics/reports`) over the `LeadList`
 * report type: create (`POST /analytics/reports {reportMetadata}`), clone (`?cloneId=`), list,
 * describe, run synchronously (`GET`, or `POST` with `reportMetadata.reportFilters` overrides;
 * `includeDetails`) or as instances, `query?explain=<reportId>`, delete. Tabular and Summary
 * formats (grouped down by one or more columns), `RowCount` as the aggregate. Reports are also
 * `Report` records (`00O`) that SOQL can find by `Name`.
 */
export const reportsModule: EmulatorModule = {
  name: 'analytics-reports',
  create(context) {
    context.store.addObject({
      name: 'Report',
      label: 'Report',
      labelPlural: 'Reports',
      keyPrefix: '00O',
      createable: false,
      fields: [
        ...systemFields(),
        owner,
        { name: 'Name', type: 'string', length: 40, label: 'Report Name', updateable: false },
        { name: 'DeveloperName', type: 'string', length: 80, label: 'Report Unique Name', updateable: false },
        { name: 'Description', type: 'string', length: 255, updateable: false },
        {
          name: 'Format',
          type: 'picklist',
          length: 40,
          picklistValues: ['Tabular', 'Summary', 'Matrix', 'MultiBlock'],
        },
        { name: 'FolderName', type: 'string', length: 40, updateable: false },
        { name: 'LastRunDate', type: 'datetime', createable: false, updateable: false },
      ],
    });
    const reports = new Map<string, ReportDefinition>();
    const instances = new Map<string, ReportInstance>();
    context.registerResource('analytics');
    context.registerExplainSource((id) => {
      const report = reports.get(toId18(id) ?? '');
      return report ? soqlOf(report) : undefined;
    });
    registerRoutes(context, reports, instances);
    analyticsRegistryOf(context.store).runReport = (id, request) => {
      const report = reports.get(toId18(id) ?? '');
      return report ? execute(context, request, report, false) : undefined;
    };
    return {
      reset: () => {
        reports.clear();
        instances.clear();
      },
    };
  },
};

function notFound(): EmulatorHttpError {
  return new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
}

function badRequest(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, 'BAD_REQUEST', message);
}

function soqlOf(report: ReportDefinition): string {
  const paths = new Set(['Id', ...report.type.columns.map((c) => c.path)]);
  return `SELECT ${[...paths].join(', ')} FROM ${report.type.sobject}`;
}

function registerRoutes(
  context: EmulatorModuleContext,
  reports: Map<string, ReportDefinition>,
  instances: Map<string, ReportInstance>,
): void {
  const { router, store } = context;
  const prefix = (request: EmulatorRequestContext) =>
    `/services/data/${request.versionSegment}/analytics/reports`;
  const reportOf = (request: EmulatorRequestContext): ReportDefinition => {
    const report = reports.get(toId18(request.params.id ?? '') ?? '');
    if (!report) throw notFound();
    return report;
  };

  const save = (report: ReportDefinition): void => {
    reports.set(report.id, report);
  };
  const create = (metadata: Record<string, unknown>, base?: ReportDefinition): ReportDefinition => {
    const definition = parseMetadata(metadata, base);
    const [result] = store.insert(
      'Report',
      [
        {
          Name: definition.name,
          DeveloperName: definition.developerName,
          Description: definition.description,
          Format: definition.format === 'SUMMARY' ? 'Summary' : 'Tabular',
          FolderName: 'Private Reports',
        },
      ],
      { bypassFieldPermissions: true },
    );
    if (!result?.success) throw badRequest(result?.errors[0]?.message ?? 'The report could not be saved');
    const report = { ...definition, id: result.id as string };
    save(report);
    return report;
  };

  // The analytics directory lists what is served.
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/analytics',
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: {
        dashboards: `/services/data/${request.versionSegment}/analytics/dashboards`,
        reports: prefix(request),
      },
    }),
  });
  router.add({
    method: 'GET',
    pattern: BASE,
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: [...reports.values()].map((report) => ({
        describeUrl: `${prefix(request)}/${report.id}/describe`,
        id: report.id,
        instancesUrl: `${prefix(request)}/${report.id}/instances`,
        name: report.name,
        url: `${prefix(request)}/${report.id}`,
      })),
    }),
  });
  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { reportMetadata?: Record<string, unknown> } | undefined;
      const cloneId = request.query.get('cloneId');
      const source = cloneId === null ? undefined : reports.get(toId18(cloneId) ?? '');
      if (cloneId !== null && !source) throw notFound();
      const report = create(body?.reportMetadata ?? {}, source);
      return { status: 200, body: describe(request, report) };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/describe`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: describe(request, reportOf(request)) }),
  });
  router.add({
    method: 'DELETE',
    pattern: `${BASE}/:id`,
    kind: 'api',
    handler: (request) => {
      const report = reportOf(request);
      store.hardDelete([report.id], { bypassFieldPermissions: true });
      reports.delete(report.id);
      for (const [id, instance] of instances) if (instance.reportId === report.id) instances.delete(id);
      return { status: 204 };
    },
  });
  const run = async (request: EmulatorRequestContext, details: boolean) => {
    const report = reportOf(request);
    const body =
      request.method === 'POST'
        ? ((await request.json()) as { reportMetadata?: unknown } | undefined)
        : undefined;
    const override = body?.reportMetadata as { reportFilters?: unknown } | undefined;
    const filters =
      override?.reportFilters === undefined
        ? report.reportFilters
        : parseFilters(report.type, override.reportFilters);
    store.update('Report', [{ Id: report.id, LastRunDate: formatDateTime(context.clock.now()) }], {
      bypassFieldPermissions: true,
    });
    return execute(context, request, { ...report, reportFilters: filters }, details);
  };
  for (const method of ['GET', 'POST'] as const) {
    router.add({
      method,
      pattern: `${BASE}/:id`,
      kind: 'api',
      handler: async (request) => ({
        status: 200,
        body: await run(request, request.query.get('includeDetails') === 'true'),
      }),
    });
  }
  router.add({
    method: 'POST',
    pattern: `${BASE}/:id/instances`,
    kind: 'api',
    handler: async (request) => {
      const result = await run(request, request.query.get('includeDetails') === 'true');
      const now = formatDateTime(context.clock.now());
      const instance: ReportInstance = {
        id: context.ids.next('0LG'),
        reportId: reportOf(request).id,
        requestDate: now,
        completionDate: now,
        result,
      };
      instances.set(instance.id, instance);
      return { status: 200, body: instanceView(request, instance) };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/instances`,
    kind: 'api',
    handler: (request) => {
      const report = reportOf(request);
      return {
        status: 200,
        body: [...instances.values()]
          .filter((i) => i.reportId === report.id)
          .map((i) => instanceView(request, i)),
      };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/instances/:instanceId`,
    kind: 'api',
    handler: (request) => {
      const report = reportOf(request);
      const instance = instances.get(toId18(request.params.instanceId ?? '') ?? '');
      if (!instance || instance.reportId !== report.id) throw notFound();
      return {
        status: 200,
        body: {
          ...instance.result,
          attributes: {
            completionDate: instance.completionDate,
            id: instance.id,
            ownerId: context.userId,
            reportId: report.id,
            reportName: report.name,
            requestDate: instance.requestDate,
            status: 'Success',
            type: 'ReportInstance',
          },
        },
      };
    },
  });

  const instanceView = (request: EmulatorRequestContext, instance: ReportInstance) => ({
    completionDate: instance.completionDate,
    hasDetailRows: (instance.result as { hasDetailRows?: boolean }).hasDetailRows ?? false,
    id: instance.id,
    ownerId: context.userId,
    queryable: true,
    requestDate: instance.requestDate,
    // Runs complete before the request returns, so an instance is never seen New or Running.
    status: 'Success',
    url: `${prefix(request)}/${instance.reportId}/instances/${instance.id}`,
  });
}

/**
 * `reportMetadata` of a create or clone: `name` (required, ≤ 40), `reportType.type` (LeadList),
 * `reportFormat` TABULAR/SUMMARY, `detailColumns`, `groupingsDown[{name, sortOrder}]` (SUMMARY
 * needs at least one), `reportFilters[{column, operator, value}]`; a clone starts from the source.
 */
function parseMetadata(
  metadata: Record<string, unknown>,
  base: ReportDefinition | undefined,
): Omit<ReportDefinition, 'id'> {
  const name = typeof metadata.name === 'string' ? metadata.name.trim() : '';
  if (name === '') throw badRequest('A report name is required: reportMetadata.name');
  if (name.length > 40) throw badRequest('The report name is too long (max 40 characters)');
  const typeName = (metadata.reportType as { type?: unknown } | undefined)?.type ?? base?.type.type;
  const type = REPORT_TYPES.find((t) => t.type === typeName);
  if (!type) throw badRequest(`Unsupported report type: ${String(typeName)}`);
  const format = (metadata.reportFormat ?? base?.format ?? 'TABULAR') as Format;
  if (format !== 'TABULAR' && format !== 'SUMMARY')
    throw badRequest(`Unsupported report format: ${String(format)}`);
  const detailColumns = Array.isArray(metadata.detailColumns)
    ? metadata.detailColumns.map((c) => columnOf(type, c).name)
    : (base?.detailColumns ?? type.columns.map((c) => c.name));
  const groupingsDown = Array.isArray(metadata.groupingsDown)
    ? (metadata.groupingsDown as Array<{ name?: unknown; sortOrder?: unknown }>).map((g) => ({
        name: columnOf(type, g?.name).name,
        sortOrder: g?.sortOrder === 'Desc' ? ('Desc' as const) : ('Asc' as const),
        dateGranularity: 'None',
      }))
    : (base?.groupingsDown ?? []);
  if (format === 'SUMMARY' && groupingsDown.length === 0)
    throw badRequest('A summary report needs groupingsDown');
  if (format === 'TABULAR' && groupingsDown.length > 0) throw badRequest('A tabular report has no groupings');
  const reportFilters =
    metadata.reportFilters === undefined
      ? (base?.reportFilters ?? [])
      : parseFilters(type, metadata.reportFilters);
  return {
    name,
    developerName: name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'Report',
    description:
      typeof metadata.description === 'string' ? metadata.description : (base?.description ?? null),
    format,
    type,
    detailColumns,
    groupingsDown,
    reportFilters,
  };
}

function columnOf(type: ReportType, name: unknown): ReportColumn {
  const column = type.columns.find((c) => c.name === name);
  if (!column) throw badRequest(`The column ${String(name)} is not valid for the report type ${type.type}`);
  return column;
}

function parseFilters(type: ReportType, raw: unknown): ReportFilter[] {
  if (!Array.isArray(raw)) throw badRequest('reportFilters must be a list');
  return (raw as Array<{ column?: unknown; operator?: unknown; value?: unknown }>).map((f) => {
    const column = columnOf(type, f?.column).name;
    const operator = String(f?.operator ?? '');
    if (!FILTER_OPERATORS.has(operator)) throw badRequest(`Unsupported filter operator: ${operator}`);
    return { column, operator, value: f?.value === null || f?.value === undefined ? '' : String(f.value) };
  });
}

function describe(request: EmulatorRequestContext, report: ReportDefinition) {
  const columnInfo = (names: string[]) =>
    Object.fromEntries(
      names.map((name) => {
        const column = columnOf(report.type, name);
        return [name, { dataType: column.dataType, filterable: true, label: column.label }];
      }),
    );
  return {
    reportExtendedMetadata: {
      aggregateColumnInfo: {
        RowCount: {
          acrossGroupingContext: null,
          dataType: 'int',
          downGroupingContext: null,
          label: 'Record Count',
        },
      },
      detailColumnInfo: columnInfo(report.detailColumns),
      groupingColumnInfo: Object.fromEntries(
        report.groupingsDown.map((g, depth) => {
          const column = columnOf(report.type, g.name);
          return [g.name, { dataType: column.dataType, groupingLevel: depth, label: column.label }];
        }),
      ),
    },
    reportMetadata: metadataView(request, report),
    reportTypeMetadata: {
      categories: [
        {
          columns: columnInfo(report.type.columns.map((c) => c.name)),
          label: report.type.label,
        },
      ],
      dataTypeFilterOperatorMap: {},
      divisionInfo: null,
      scopeInfo: {
        defaultValue: 'organization',
        values: [{ allowsDivision: false, label: 'All leads', value: 'organization' }],
      },
      standardDateFilterDurationGroups: [],
      standardFilterInfos: {},
    },
  };
}

function metadataView(_request: EmulatorRequestContext, report: ReportDefinition) {
  return {
    aggregates: ['RowCount'],
    chart: null,
    currency: null,
    description: report.description,
    detailColumns: report.detailColumns,
    developerName: report.developerName,
    division: null,
    folderId: null,
    groupingsAcross: [],
    groupingsDown: report.groupingsDown,
    hasDetailRows: true,
    hasRecordCount: true,
    historicalSnapshotDates: [],
    id: report.id,
    name: report.name,
    reportBooleanFilter: null,
    reportFilters: report.reportFilters,
    reportFormat: report.format,
    reportType: { label: report.type.label, type: report.type.type },
    scope: 'organization',
    showGrandTotal: true,
    showSubtotals: true,
    sortBy: [],
    standardDateFilter: { column: 'CREATED_DATE', durationValue: 'CUSTOM', endDate: null, startDate: null },
    standardFilters: [],
  };
}

/** `contains` and friends take a comma-separated list of values (see `meetsFilter`). */
function matches(filter: ReportFilter, raw: unknown): boolean {
  return meetsFilter(
    filter.operator,
    raw,
    filter.value.split(',').map((v) => v.trim()),
  );
}

function cell(value: unknown): { label: string; value: unknown } {
  return {
    label: value === null || value === undefined || value === '' ? '-' : String(value),
    value: value ?? null,
  };
}

function valueAt(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) current = (current as Record<string, unknown> | null)?.[part];
  return current ?? null;
}

/**
 * Runs a report: rows of its report type filtered by `reportFilters`, grouped down
 * (`factMap` keys `0`, `0_1`, … per grouping and `T!T` for the grand total, each with the
 * `RowCount` aggregate and, with details, its `rows` of `dataCells`).
 */
function execute(
  context: EmulatorModuleContext,
  request: EmulatorRequestContext,
  report: ReportDefinition,
  details: boolean,
): Record<string, unknown> {
  const result = context.query(soqlOf(report), { apiVersion: request.apiVersion || 62 });
  const byName = new Map(report.type.columns.map((c) => [c.name, c]));
  const records = (result.records as Array<Record<string, unknown>>).filter((record) =>
    report.reportFilters.every((f) =>
      matches(f, valueAt(record, (byName.get(f.column) as ReportColumn).path)),
    ),
  );
  const row = (record: Record<string, unknown>) => ({
    dataCells: report.detailColumns.map((name) => {
      const column = byName.get(name) as ReportColumn;
      return cell(valueAt(record, column.path));
    }),
  });
  const fact = (rows: Array<Record<string, unknown>>) => ({
    aggregates: [{ label: String(rows.length), value: rows.length }],
    ...(details ? { rows: rows.map(row) } : {}),
  });
  const factMap: Record<string, unknown> = { 'T!T': fact(records) };
  const group = (rows: Array<Record<string, unknown>>, depth: number, keyPrefix: string): unknown[] => {
    const grouping = report.groupingsDown[depth];
    if (!grouping) return [];
    const column = byName.get(grouping.name) as ReportColumn;
    const buckets = new Map<string, Array<Record<string, unknown>>>();
    for (const record of rows) {
      const value = valueAt(record, column.path);
      const key = value === null ? '' : String(value);
      buckets.set(key, [...(buckets.get(key) ?? []), record]);
    }
    const keys = [...buckets.keys()].sort((a, b) =>
      grouping.sortOrder === 'Desc' ? b.localeCompare(a) : a.localeCompare(b),
    );
    return keys.map((value, index) => {
      const key = keyPrefix === '' ? String(index) : `${keyPrefix}_${index}`;
      const members = buckets.get(value) ?? [];
      factMap[`${key}!T`] = fact(members);
      return {
        groupings: group(members, depth + 1, key),
        key,
        label: value === '' ? '-' : value,
        value: value === '' ? null : value,
      };
    });
  };
  const groupings = group(records, 0, '');
  return {
    allData: true,
    attributes: {
      describeUrl: `/services/data/${request.versionSegment}/analytics/reports/${report.id}/describe`,
      instancesUrl: `/services/data/${request.versionSegment}/analytics/reports/${report.id}/instances`,
      reportId: report.id,
      reportName: report.name,
      type: 'Report',
    },
    factMap,
    groupingsAcross: { groupings: [] },
    groupingsDown: { groupings },
    hasDetailRows: details,
    picklistColors: {},
    reportExtendedMetadata: describe(request, report).reportExtendedMetadata,
    reportMetadata: metadataView(request, report),
  };
}
