import type { DashboardMetadata } from '../dashboards.js';
import type { MetadataTypeHandler } from '../metadata-types.js';

/**
 * `Dashboard` in a deploy or retrieve: kept in folders, so a member without `/` is a dashboard
 * folder (`dashboards/Folder-meta.xml`, root `DashboardFolder`) and `Folder/Name` a dashboard
 * (`dashboards/Folder/Name.dashboard`). Both go through {@link DashboardMetadata}, the same code as
 * `createMetadata`, so a deployed dashboard is served by the Reports and Dashboards REST API.
 * `createMetadata` itself keeps its own dispatch (types `Dashboard` and `DashboardFolder`).
 */
export function dashboardTypes(dashboards: DashboardMetadata): MetadataTypeHandler[] {
  return [
    {
      type: 'Dashboard',
      directory: 'dashboards',
      suffix: 'dashboard',
      inFolders: true,
      rootElement: (fullName) => (fullName.includes('/') ? 'Dashboard' : 'DashboardFolder'),
      validate: (item, scope) => dashboards.validate(item, scope),
      apply: (item) => dashboards.apply(item),
      retrieve: (fullName) => dashboards.retrieve(fullName),
      list: () => dashboards.fullNames(),
    },
  ];
}
