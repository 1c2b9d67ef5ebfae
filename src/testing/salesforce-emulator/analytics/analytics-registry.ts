import type { EmulatorRequestContext } from '../http/types.js';
import type { OrgStore } from '../store/org-store.js';

/** One component of a dashboard, as the Metadata API `DashboardComponent` gave it. */
export interface DashboardComponentDefinition {
  /** `01a…` id (also the `DashboardComponent` record). */
  id: string;
  /** Metadata `componentType`: Bar, Column, Donut, Funnel, Gauge, Line, Metric, Pie, Table, … */
  componentType: string;
  reportId: string;
  header: string | null;
  footer: string | null;
  title: string | null;
  /** The component as given (read back by `readMetadata`). */
  properties: Record<string, unknown>;
}

/** A dashboard: a `Dashboard` record (`01Z`) plus its column sections of components. */
export interface DashboardDefinition {
  id: string;
  developerName: string;
  title: string;
  description: string | null;
  folderId: string;
  /** Folder developer name (the `Folder/` part of the Metadata full name). */
  folderName: string;
  /** Metadata `dashboardType`: SpecifiedUser, LoggedInUser, MyTeamUser. */
  dashboardType: string;
  runningUserId: string;
  /** leftSection, middleSection, rightSection (only those present), in that order. */
  sections: Array<{ name: string; columnSize: string; components: DashboardComponentDefinition[] }>;
  /** The dashboard component as given, without its sections (read back by `readMetadata`). */
  properties: Record<string, unknown>;
  /** When the components were last refreshed (ISO). */
  refreshDate: string;
}

/** A dashboard folder created through `createMetadata` (type `DashboardFolder`). */
export interface DashboardFolderDefinition {
  id: string;
  developerName: string;
  name: string;
  properties: Record<string, unknown>;
}

/**
 * What the Reports and Dashboards REST API modules and the Metadata API share in one emulator:
 * dashboards (created through `createMetadata`, served by `/analytics/dashboards`) and the report
 * runner (dashboard components show their report's results).
 */
export interface AnalyticsRegistry {
  /** By `01Z` id (18 characters). */
  dashboards: Map<string, DashboardDefinition>;
  /** By lower-case developer name. */
  dashboardFolders: Map<string, DashboardFolderDefinition>;
  /** Runs a report as `GET /analytics/reports/{id}` does; `undefined` when no such report. */
  runReport(reportId: string, request: EmulatorRequestContext): Record<string, unknown> | undefined;
}

// Keyed by the emulator's store: the registry lives and dies with one emulator, never shared
// between emulators, while the Metadata (SOAP) and Analytics (REST) modules both reach it.
const registries = new WeakMap<OrgStore, AnalyticsRegistry>();

/** The analytics registry of the emulator owning `store` (created on first use). */
export function analyticsRegistryOf(store: OrgStore): AnalyticsRegistry {
  let registry = registries.get(store);
  if (!registry) {
    registry = { dashboards: new Map(), dashboardFolders: new Map(), runReport: () => undefined };
    registries.set(store, registry);
  }
  return registry;
}

/**
 * Writes one `DashboardComponent` record (`01a`) per component of `sections` for dashboard
 * `dashboardId`, and returns the sections with each component's new id — how a dashboard gets its
 * components whether the Metadata API created it or the REST API cloned it.
 */
export function insertDashboardComponents(
  store: OrgStore,
  dashboardId: string,
  sections: ReadonlyArray<{
    name: string;
    columnSize: string;
    components: ReadonlyArray<Omit<DashboardComponentDefinition, 'id'>>;
  }>,
): DashboardDefinition['sections'] {
  return sections.map((section) => ({
    name: section.name,
    columnSize: section.columnSize,
    components: section.components.map((component) => {
      const [row] = store.insert(
        'DashboardComponent',
        [{ Name: component.header, DashboardId: dashboardId, CustomReportId: component.reportId }],
        { bypassFieldPermissions: true },
      );
      return { ...component, id: row?.id as string };
    }),
  }));
}
