import {
  analyticsRegistryOf,
  type DashboardDefinition,
  insertDashboardComponents,
} from '../analytics/analytics-registry.js';
import { formatDateTime } from '../dates.js';
import type { EmulatorModuleContext } from '../module.js';
import { xmlElement, xmlText } from '../soap/soap-envelope.js';
import type { EmulatorSaveResult } from '../store/record-error.js';
import { ComponentError } from './component-error.js';
import { type MetadataComponent, propertiesXml } from './component-xml.js';
import { each, saveResult } from './custom-objects.js';
import type {
  AppliedComponent,
  DeployedComponent,
  DeployScope,
  RetrievedComponent,
} from './metadata-types.js';

/** Developer names: letter first, letters/digits/single underscores, no trailing underscore. */
const DEVELOPER_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$/;

/** The column sections of a (classic) dashboard, left to right. */
const SECTIONS = ['leftSection', 'middleSection', 'rightSection'] as const;

/** Metadata types this handler stores. */
export const DASHBOARD_METADATA_TYPES: ReadonlySet<string> = new Set(['Dashboard', 'DashboardFolder']);

/** A folder as validated: what writing it needs. */
interface FolderPlan {
  fullName: string;
  name: string;
  properties: Record<string, unknown>;
}

/** A dashboard as validated: every reference resolved, nothing written yet. */
interface DashboardPlan {
  fullName: string;
  folderName: string;
  developerName: string;
  title: string;
  description: string | null;
  dashboardType: string;
  sections: Array<{
    name: string;
    columnSize: string;
    components: Array<{ properties: Record<string, unknown>; componentType: string; reportId: string }>;
  }>;
  properties: Record<string, unknown>;
}

/** Where a dashboard's folder and reports may be found besides the org. */
interface DashboardReferences {
  /** Whether a folder of that developer name is deployed with the dashboard. */
  folderDeployed(folderName: string): boolean;
  /** Whether a report of that full name is deployed with the dashboard (stored-only, see `reportId`). */
  reportDeployed(fullName: string): boolean;
}

const ORG_ONLY: DashboardReferences = { folderDeployed: () => false, reportDeployed: () => false };

/**
 * `Dashboard` (full name `Folder/DeveloperName`) and its folders: through the Metadata API's
 * `createMetadata`, `readMetadata` and `deleteMetadata` (types `Dashboard` and `DashboardFolder`),
 * and through deploy and retrieve (type `Dashboard`, a folder being a member without `/`, see
 * `types/dashboard-types.ts`). A dashboard needs its folder and a `title`; each component of its
 * `leftSection`/`middleSection`/`rightSection` needs a `componentType` and a `report`
 * (`Folder/ReportDeveloperName`) naming an existing report. It becomes a `Dashboard` record (`01Z`)
 * with `DashboardComponent` records (`01a`), served by the Reports and Dashboards REST API
 * (`/analytics/dashboards`). Every check runs before anything is written (`validate`), so a
 * refused component leaves nothing behind.
 */
export class DashboardMetadata {
  constructor(private readonly context: EmulatorModuleContext) {}

  private get registry() {
    return analyticsRegistryOf(this.context.store);
  }

  /** `createMetadata`: `SaveResult` per component; an existing full name is refused. */
  create(components: MetadataComponent[]): string {
    return each(components, (component) => {
      if (component['@type'] === 'DashboardFolder') {
        const plan = this.folderPlan(component);
        if (this.registry.dashboardFolders.has(plan.fullName.toLowerCase()))
          throw new ComponentError(
            'DUPLICATE_DEVELOPER_NAME',
            `There is already a DashboardFolder named ${plan.fullName}`,
          );
        this.writeFolder(plan);
        return saveResult(plan.fullName, true);
      }
      const plan = this.dashboardPlan(component, ORG_ONLY, { refuseExisting: true });
      this.writeDashboard(plan);
      return saveResult(plan.fullName, true);
    });
  }

  /**
   * Deploy validation of a member of type `Dashboard` (a folder when it has no `/`): everything
   * `apply` would refuse, writing nothing. The folder may be deployed with the dashboard.
   *
   * @throws {ComponentError} the component's failure.
   */
  validate(item: DeployedComponent, scope: DeployScope): void {
    if (!item.fullName.includes('/')) {
      this.folderPlan(item.component);
      return;
    }
    this.dashboardPlan(item.component, {
      folderDeployed: (name) => scope.includes('Dashboard', name),
      reportDeployed: (name) => scope.includes('Report', name),
    });
  }

  /**
   * Deploys a member of type `Dashboard`: creates the folder or dashboard, or replaces the one of
   * that name (a dashboard keeps its id and gets new components).
   *
   * @throws {ComponentError} when the org changed since validation (folder or report gone).
   */
  apply(item: DeployedComponent): AppliedComponent {
    if (!item.fullName.includes('/')) return this.writeFolder(this.folderPlan(item.component));
    return this.writeDashboard(this.dashboardPlan(item.component, ORG_ONLY));
  }

  /** Retrieve: the stored folder or dashboard as its file's properties, or undefined. */
  retrieve(fullName: string): RetrievedComponent | undefined {
    if (!fullName.includes('/')) {
      const folder = this.registry.dashboardFolders.get(fullName.toLowerCase());
      if (!folder) return undefined;
      const { fullName: _name, ...properties } = folder.properties;
      return { innerXml: propertiesXml(properties) };
    }
    const dashboard = this.find(fullName);
    if (!dashboard) return undefined;
    const { fullName: _name, ...properties } = dashboardProperties(dashboard);
    return { innerXml: propertiesXml(properties) };
  }

  /** Full names of every folder and live dashboard (what `*` retrieves). */
  fullNames(): string[] {
    return [
      ...[...this.registry.dashboardFolders.values()].map((f) => f.developerName),
      ...[...this.registry.dashboards.values()]
        .filter((d) => this.context.store.get(d.id) !== undefined)
        .map((d) => `${d.folderName}/${d.developerName}`),
    ];
  }

  /** `readMetadata`: the component as created, or `undefined` when there is none. */
  read(type: string, fullName: string): string | undefined {
    if (type === 'DashboardFolder') {
      const folder = this.registry.dashboardFolders.get(fullName.toLowerCase());
      return folder && recordXml(type, folder.developerName, folder.properties);
    }
    const dashboard = this.find(fullName);
    if (!dashboard) return undefined;
    return recordXml(
      type,
      `${dashboard.folderName}/${dashboard.developerName}`,
      dashboardProperties(dashboard),
    );
  }

  /** `deleteMetadata`: a dashboard goes to the recycle bin; a folder must be empty. */
  delete(type: string, fullNames: string[]): string {
    return each(fullNames, (fullName) => {
      if (type === 'DashboardFolder') {
        const folder = this.registry.dashboardFolders.get(fullName.toLowerCase());
        if (!folder) throw notFound(type, fullName);
        if ([...this.registry.dashboards.values()].some((d) => d.folderId === folder.id))
          throw new ComponentError('INVALID_CROSS_REFERENCE_KEY', `The folder ${fullName} is not empty`);
        this.context.store.hardDelete([folder.id], { bypassFieldPermissions: true });
        this.registry.dashboardFolders.delete(fullName.toLowerCase());
        return saveResult(fullName, true);
      }
      const dashboard = this.find(fullName);
      if (!dashboard) throw notFound(type, fullName);
      this.context.store.delete([dashboard.id], { bypassFieldPermissions: true });
      return saveResult(fullName, true);
    });
  }

  private find(fullName: string): DashboardDefinition | undefined {
    const [folderName, developerName] = fullName.split('/');
    return [...this.registry.dashboards.values()].find(
      (d) =>
        d.folderName.toLowerCase() === (folderName ?? '').toLowerCase() &&
        d.developerName.toLowerCase() === (developerName ?? '').toLowerCase() &&
        this.context.store.get(d.id) !== undefined,
    );
  }

  private folderPlan(component: MetadataComponent): FolderPlan {
    const fullName = text(component.fullName);
    checkDeveloperName(fullName);
    const name = text(component.name);
    if (name === '') throw new ComponentError('REQUIRED_FIELD_MISSING', 'Required field is missing: name');
    const { '@type': _type, fullName: _name, ...properties } = component;
    return { fullName, name, properties };
  }

  /** Creates the folder, or renames the existing one of that developer name. */
  private writeFolder(plan: FolderPlan): AppliedComponent {
    const existing = this.registry.dashboardFolders.get(plan.fullName.toLowerCase());
    const [record] = existing
      ? this.context.store.update('Folder', [{ Id: existing.id, Name: plan.name }], {
          bypassFieldPermissions: true,
        })
      : this.context.store.insert(
          'Folder',
          [{ Name: plan.name, DeveloperName: plan.fullName, Type: 'Dashboard', AccessType: 'Public' }],
          { bypassFieldPermissions: true },
        );
    const id = savedId(record);
    this.registry.dashboardFolders.set(plan.fullName.toLowerCase(), {
      id,
      developerName: existing?.developerName ?? plan.fullName,
      name: plan.name,
      properties: { fullName: plan.fullName, ...plan.properties },
    });
    return { created: existing === undefined, id };
  }

  private dashboardPlan(
    component: MetadataComponent,
    references: DashboardReferences,
    options: { refuseExisting?: boolean } = {},
  ): DashboardPlan {
    const fullName = text(component.fullName);
    const [folderName = '', developerName = '', ...rest] = fullName.split('/');
    if (rest.length > 0 || developerName === '')
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `The full name ${fullName} is not Folder/DashboardName`,
      );
    checkDeveloperName(developerName);
    if (
      !this.registry.dashboardFolders.has(folderName.toLowerCase()) &&
      !references.folderDeployed(folderName)
    )
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no DashboardFolder named ${folderName} found`,
      );
    if (options.refuseExisting && this.find(fullName))
      throw new ComponentError('DUPLICATE_DEVELOPER_NAME', `There is already a Dashboard named ${fullName}`);
    const title = text(component.title);
    if (title === '') throw new ComponentError('REQUIRED_FIELD_MISSING', 'Required field is missing: title');
    if (title.length > 80)
      throw new ComponentError('STRING_TOO_LONG', 'title: data value too large (max length=80)');
    const sections = SECTIONS.map((name) => {
      const section = component[name] as { columnSize?: unknown; components?: unknown } | undefined;
      return {
        name,
        columnSize: text(section?.columnSize) || 'Medium',
        components: list(section?.components).map((item) => {
          const properties = (typeof item === 'object' && item !== null ? item : {}) as Record<
            string,
            unknown
          >;
          const componentType = text(properties.componentType);
          if (componentType === '')
            throw new ComponentError('REQUIRED_FIELD_MISSING', 'Required field is missing: componentType');
          const reportId = this.reportId(text(properties.report), references);
          return { properties, componentType, reportId };
        }),
      };
    });
    const { '@type': _type, leftSection: _l, middleSection: _m, rightSection: _r, ...properties } = component;
    return {
      fullName,
      folderName,
      developerName,
      title,
      description: text(component.description) || null,
      dashboardType: text(component.dashboardType) || 'SpecifiedUser',
      sections,
      properties,
    };
  }

  /**
   * Creates the dashboard and its components, or replaces the live one of that full name: same
   * `01Z` id, its old `DashboardComponent` records removed and new ones written.
   */
  private writeDashboard(plan: DashboardPlan): AppliedComponent {
    const folder = this.registry.dashboardFolders.get(plan.folderName.toLowerCase());
    if (!folder)
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no DashboardFolder named ${plan.folderName} found`,
      );
    const existing = this.find(plan.fullName);
    const values = {
      Title: plan.title,
      DeveloperName: existing?.developerName ?? plan.developerName,
      Description: plan.description,
      FolderId: folder.id,
      FolderName: folder.name,
      Type: plan.dashboardType,
      RunningUserId: this.context.userId,
      LeftSize: plan.sections[0]?.columnSize ?? null,
      MiddleSize: plan.sections[1]?.components.length ? plan.sections[1].columnSize : null,
      RightSize: plan.sections[2]?.columnSize ?? null,
    };
    const writeOptions = { bypassFieldPermissions: true };
    const [record] = existing
      ? this.context.store.update('Dashboard', [{ Id: existing.id, ...values }], writeOptions)
      : this.context.store.insert('Dashboard', [values], writeOptions);
    const id = savedId(record);
    if (existing) {
      const old = existing.sections.flatMap((s) => s.components.map((c) => c.id));
      if (old.length > 0) this.context.store.hardDelete(old, writeOptions);
    }
    const built = insertDashboardComponents(
      this.context.store,
      id,
      plan.sections.map((section) => ({
        name: section.name,
        columnSize: section.columnSize,
        components: section.components.map((c) => ({
          componentType: c.componentType,
          reportId: c.reportId,
          header: text(c.properties.header) || null,
          footer: text(c.properties.footer) || null,
          title: text(c.properties.title) || null,
          properties: c.properties,
        })),
      })),
    );
    this.registry.dashboards.set(id, {
      id,
      developerName: values.DeveloperName,
      title: plan.title,
      description: plan.description,
      folderId: folder.id,
      folderName: folder.developerName,
      dashboardType: plan.dashboardType,
      runningUserId: this.context.userId,
      sections: built.filter((s) => s.components.length > 0),
      properties: plan.properties,
      refreshDate: formatDateTime(this.context.clock.now()),
    });
    return { created: existing === undefined, id };
  }

  /**
   * A component's `report` (`Folder/DeveloperName`) → the id of the `Report` record. Reports
   * exist as records only when made through the Reports REST API: a report deployed in the same
   * package is stored without a record, so a dashboard cannot show it and is refused, naming it.
   */
  private reportId(reference: string, references: DashboardReferences): string {
    const developerName = reference.split('/').pop() ?? '';
    const found =
      developerName === ''
        ? undefined
        : this.context.query(
            `SELECT Id FROM Report WHERE DeveloperName = '${developerName.replace(/'/g, "\\'")}'`,
          ).records[0];
    if (found) return (found as { Id: string }).Id;
    if (reference !== '' && references.reportDeployed(reference))
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: report - the Report ${reference} is deployed in this package, but the emulator stores deployed reports without creating them; create it through the Reports REST API (POST /analytics/reports) first`,
      );
    throw new ComponentError(
      'INVALID_CROSS_REFERENCE_KEY',
      `In field: report - no Report named ${reference || '(none)'} found`,
    );
  }
}

/** A stored dashboard as its Metadata properties: as given, with its sections. */
function dashboardProperties(dashboard: DashboardDefinition): Record<string, unknown> {
  const sections: Record<string, unknown> = {};
  for (const section of dashboard.sections)
    sections[section.name] = {
      columnSize: section.columnSize,
      components: section.components.map((c) => c.properties),
    };
  return { ...dashboard.properties, ...sections };
}

/** The id of a saved record, or the store's refusal as a component error. */
function savedId(record: EmulatorSaveResult | undefined): string {
  if (!record?.success)
    throw new ComponentError(
      record?.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION',
      record?.errors[0]?.message ?? 'not saved',
    );
  return record.id as string;
}

function notFound(type: string, fullName: string): ComponentError {
  return new ComponentError(
    'INVALID_CROSS_REFERENCE_KEY',
    `In field: fullName - no ${type} named ${fullName} found`,
  );
}

function checkDeveloperName(name: string): void {
  if (!DEVELOPER_NAME.test(name))
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `The name ${name} can only contain underscores and alphanumeric characters, must begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.`,
    );
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** `<records xsi:type=…>` of a component given as a plain object (lists repeat their element). */
function recordXml(type: string, fullName: string, properties: Record<string, unknown>): string {
  const xml = (name: string, value: unknown): string => {
    if (Array.isArray(value)) return value.map((v) => xml(name, v)).join('');
    if (typeof value === 'object' && value !== null)
      return `<${name}>${Object.entries(value)
        .map(([k, v]) => xml(k, v))
        .join('')}</${name}>`;
    return xmlElement(name, value === null || value === undefined ? '' : String(value));
  };
  const { fullName: _f, ...rest } = properties;
  return (
    `<records xsi:type="${xmlText(type)}">` +
    xmlElement('fullName', fullName) +
    Object.entries(rest)
      .map(([k, v]) => xml(k, v))
      .join('') +
    '</records>'
  );
}
