import { formatDateTime } from '../dates.js';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import { toId18 } from '../ids.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { systemFields } from '../store/objects/common.js';
import {
  type AnalyticsRegistry,
  analyticsRegistryOf,
  type DashboardDefinition,
  insertDashboardComponents,
} from './analytics-registry.js';

const BASE = '/services/data/:version/analytics/dashboards';

/**
 * Dashboards of the Reports and Dashboards REST API (`/analytics/dashboards`): list, describe,
 * results of all or some components (`GET`, `POST {componentIds}`), status, refresh (`PUT`), clone
 * (`POST ?cloneId=`) and delete (to the recycle bin: afterwards `ENTITY_IS_DELETED`). Dashboards are
 * made through the Metadata API (`createMetadata` of `DashboardFolder` and `Dashboard`, see
 * metadata/dashboards.ts) or by cloning; they are `Dashboard` records (`01Z`, SOQL by `Title`) with
 * `DashboardComponent` records (`01a`). A component's data is its report's summary result.
 */
export const dashboardsModule: EmulatorModule = {
  name: 'analytics-dashboards',
  create(context) {
    addObjects(context);
    const registry = analyticsRegistryOf(context.store);
    registerRoutes(context, registry);
    return {
      reset: () => {
        registry.dashboards.clear();
        registry.dashboardFolders.clear();
      },
    };
  },
};

function addObjects(context: EmulatorModuleContext): void {
  // Read-only through the API (Salesforce: "Access is read-only"): written by the Metadata API.
  const picklist = (name: string, values: string[]) => ({
    name,
    type: 'picklist' as const,
    length: 40,
    picklistValues: values,
    updateable: false,
  });
  context.store.addObject({
    name: 'Folder',
    label: 'Folder',
    labelPlural: 'Folders',
    keyPrefix: '00l',
    createable: false,
    updateable: false,
    deletable: false,
    fields: [
      ...systemFields(),
      { name: 'Name', type: 'string', length: 40, updateable: false },
      { name: 'DeveloperName', type: 'string', length: 80, label: 'Folder Unique Name', updateable: false },
      picklist('AccessType', ['Hidden', 'Public', 'Shared', 'PublicInternal']),
      picklist('Type', ['Dashboard', 'Document', 'Email', 'Report']),
    ],
  });
  context.store.addObject({
    name: 'Dashboard',
    label: 'Dashboard',
    labelPlural: 'Dashboards',
    keyPrefix: '01Z',
    createable: false,
    updateable: false,
    deletable: false,
    fields: [
      ...systemFields(),
      { name: 'Title', type: 'string', length: 80, updateable: false },
      {
        name: 'DeveloperName',
        type: 'string',
        length: 80,
        label: 'Dashboard Unique Name',
        updateable: false,
      },
      { name: 'Description', type: 'string', length: 255, updateable: false },
      {
        name: 'FolderId',
        type: 'reference',
        referenceTo: ['Folder', 'User'],
        label: 'Folder ID',
        updateable: false,
      },
      { name: 'FolderName', type: 'string', length: 256, updateable: false },
      {
        name: 'RunningUserId',
        type: 'reference',
        referenceTo: ['User'],
        relationshipName: 'RunningUser',
        updateable: false,
      },
      picklist('Type', ['SpecifiedUser', 'LoggedInUser', 'MyTeamUser']),
      picklist('LeftSize', ['Narrow', 'Medium', 'Wide']),
      picklist('MiddleSize', ['Narrow', 'Medium', 'Wide']),
      picklist('RightSize', ['Narrow', 'Medium', 'Wide']),
    ],
  });
  context.store.addObject({
    name: 'DashboardComponent',
    label: 'Dashboard Component',
    labelPlural: 'Dashboard Components',
    keyPrefix: '01a',
    createable: false,
    updateable: false,
    deletable: false,
    fields: [
      { name: 'Id', type: 'id', label: 'Dashboard Component ID' },
      { name: 'Name', type: 'string', length: 80, label: 'Dashboard Component Name', updateable: false },
      {
        name: 'DashboardId',
        type: 'reference',
        referenceTo: ['Dashboard'],
        relationshipName: 'Dashboard',
        updateable: false,
      },
      {
        name: 'CustomReportId',
        type: 'reference',
        referenceTo: ['Report'],
        relationshipName: 'CustomReport',
        label: 'Report ID',
        updateable: false,
      },
    ],
  });
}

function registerRoutes(context: EmulatorModuleContext, registry: AnalyticsRegistry): void {
  const { router, store } = context;
  const prefix = (request: EmulatorRequestContext) =>
    `/services/data/${request.versionSegment}/analytics/dashboards`;

  /** The live dashboard `rawId`; a deleted one answers ENTITY_IS_DELETED, an unknown one NOT_FOUND. */
  const dashboardById = (rawId: string): DashboardDefinition => {
    const id = toId18(rawId) ?? '';
    const dashboard = registry.dashboards.get(id);
    const record = dashboard ? store.get(id, { includeDeleted: true }) : undefined;
    if (!dashboard || !record)
      throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (record.IsDeleted === true) throw new EmulatorHttpError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    return dashboard;
  };
  const dashboardOf = (request: EmulatorRequestContext) => dashboardById(request.params.id ?? '');
  const live = () => [...registry.dashboards.values()].filter((d) => store.get(d.id) !== undefined);
  const components = (dashboard: DashboardDefinition) => dashboard.sections.flatMap((s) => s.components);
  const userName = (id: string): string => {
    const user = store.get(id);
    return typeof user?.Name === 'string' ? user.Name : '';
  };

  const describe = (request: EmulatorRequestContext, dashboard: DashboardDefinition) => {
    let index = 0;
    const all = components(dashboard);
    return {
      attributes: {
        dashboardId: dashboard.id,
        dashboardName: dashboard.title,
        statusUrl: `${prefix(request)}/${dashboard.id}/status`,
        type: 'Dashboard',
      },
      canChangeRunningUser: false,
      canUseStickyFilter: false,
      components: all.map((component, position) => {
        const report = registry.runReport(component.reportId, request) as
          | { reportMetadata?: { groupingsDown?: Array<{ name: string; sortOrder: string }> } }
          | undefined;
        const grouping = report?.reportMetadata?.groupingsDown?.[0];
        return {
          componentData: position,
          footer: component.footer,
          header: component.header,
          id: component.id,
          properties: {
            aggregates: [{ name: 'RowCount' }],
            autoSelectColumns: component.properties.autoselectColumnsFromReport !== 'false',
            filterColumns: [],
            groupings: grouping ? [{ name: grouping.name }] : [],
            maxRows: null,
            sort: grouping ? { column: grouping.name, sortOrder: grouping.sortOrder.toLowerCase() } : null,
            useReportChart: component.properties.useReportChart === 'true',
            visualizationProperties: {},
            visualizationType: component.componentType,
          },
          reportId: component.reportId,
          title: component.title,
          type: 'Report',
        };
      }),
      dashboardType: dashboard.dashboardType,
      description: dashboard.description,
      developerName: dashboard.developerName,
      filters: [],
      folderId: dashboard.folderId,
      id: dashboard.id,
      // Classic layout: one column per section, listing the indexes of its components.
      layout: {
        columns: dashboard.sections.map((section) => ({
          components: section.components.map(() => index++),
        })),
      },
      name: dashboard.title,
      runningUser: { displayName: userName(dashboard.runningUserId), id: dashboard.runningUserId },
    };
  };

  const results = (request: EmulatorRequestContext, dashboard: DashboardDefinition, ids?: string[]) => {
    const all = components(dashboard);
    const selected =
      ids === undefined
        ? all
        : ids.map((raw) => {
            const found = all.find((c) => c.id === toId18(raw));
            if (!found)
              throw new EmulatorHttpError(
                400,
                'BAD_REQUEST',
                `The component ${raw} is not on this dashboard`,
              );
            return found;
          });
    return {
      componentData: selected.map((component) => ({
        componentId: component.id,
        reportResult: registry.runReport(component.reportId, request) ?? null,
        status: {
          dataStatus: 'DATA',
          errorCode: null,
          errorMessage: null,
          errorSeverity: null,
          refreshDate: dashboard.refreshDate,
          refreshStatus: 'IDLE',
        },
      })),
      dashboardMetadata: describe(request, dashboard),
    };
  };

  router.add({
    method: 'GET',
    pattern: BASE,
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: live().map((dashboard) => ({
        id: dashboard.id,
        name: dashboard.title,
        statusUrl: `${prefix(request)}/${dashboard.id}/status`,
        url: `${prefix(request)}/${dashboard.id}`,
      })),
    }),
  });
  router.add({
    method: 'POST',
    pattern: BASE,
    kind: 'api',
    handler: async (request) => {
      const cloneId = request.query.get('cloneId');
      if (cloneId === null)
        throw new EmulatorHttpError(400, 'BAD_REQUEST', 'cloneId is required to create a dashboard');
      const source = dashboardById(cloneId);
      const body = ((await request.json()) ?? {}) as { name?: unknown; folderId?: unknown };
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      if (name === '') throw new EmulatorHttpError(400, 'BAD_REQUEST', 'A dashboard name is required: name');
      if (name.length > 80)
        throw new EmulatorHttpError(400, 'BAD_REQUEST', 'The dashboard name is too long (max 80 characters)');
      const folderId = typeof body.folderId === 'string' ? (toId18(body.folderId) ?? '') : source.folderId;
      const folder = [...registry.dashboardFolders.values()].find((f) => f.id === folderId);
      if (!folder)
        throw new EmulatorHttpError(400, 'BAD_REQUEST', `The folder ${String(body.folderId)} does not exist`);
      const developerName = name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'Dashboard';
      const [saved] = store.insert(
        'Dashboard',
        [
          {
            Title: name,
            DeveloperName: developerName,
            Description: source.description,
            FolderId: folder.id,
            FolderName: folder.name,
            Type: source.dashboardType,
            RunningUserId: source.runningUserId,
          },
        ],
        { bypassFieldPermissions: true },
      );
      if (!saved?.success)
        throw new EmulatorHttpError(400, 'BAD_REQUEST', saved?.errors[0]?.message ?? 'not saved');
      const id = saved.id as string;
      const copy: DashboardDefinition = {
        ...source,
        id,
        title: name,
        developerName,
        folderId: folder.id,
        folderName: folder.developerName,
        refreshDate: formatDateTime(context.clock.now()),
        sections: insertDashboardComponents(store, id, source.sections),
      };
      registry.dashboards.set(id, copy);
      return { status: 200, body: describe(request, copy) };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/describe`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: describe(request, dashboardOf(request)) }),
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id/status`,
    kind: 'api',
    handler: (request) => {
      const dashboard = dashboardOf(request);
      return {
        status: 200,
        body: {
          // Refreshes complete before the request returns: components are never seen RUNNING.
          componentStatus: components(dashboard).map((component) => ({
            componentId: component.id,
            refreshDate: dashboard.refreshDate,
            refreshStatus: 'IDLE',
          })),
        },
      };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${BASE}/:id`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: results(request, dashboardOf(request)) }),
  });
  router.add({
    method: 'POST',
    pattern: `${BASE}/:id`,
    kind: 'api',
    handler: async (request) => {
      const dashboard = dashboardOf(request);
      const body = ((await request.json()) ?? {}) as { componentIds?: unknown };
      const ids = body.componentIds;
      if (ids !== undefined && !(Array.isArray(ids) && ids.every((i) => typeof i === 'string')))
        throw new EmulatorHttpError(400, 'BAD_REQUEST', 'componentIds must be a list of component ids');
      return { status: 200, body: results(request, dashboard, ids as string[] | undefined) };
    },
  });
  router.add({
    method: 'PUT',
    pattern: `${BASE}/:id`,
    kind: 'api',
    handler: (request) => {
      const dashboard = dashboardOf(request);
      dashboard.refreshDate = formatDateTime(context.clock.now());
      return { status: 200, body: { statusUrl: `${prefix(request)}/${dashboard.id}/status` } };
    },
  });
  router.add({
    method: 'DELETE',
    pattern: `${BASE}/:id`,
    kind: 'api',
    handler: (request) => {
      const dashboard = dashboardOf(request);
      store.delete([dashboard.id], { bypassFieldPermissions: true });
      return { status: 204 };
    },
  });
}
