import {
  analyticsRegistryOf,
  type DashboardComponentDefinition,
  type DashboardDefinition,
  type DashboardFolderDefinition,
} from '../analytics/analytics-registry.js';
import { formatDateTime } from '../dates.js';
import type { EmulatorModuleContext } from '../module.js';
import { xmlElement, xmlText } from '../soap/soap-envelope.js';
import { ComponentError } from './component-error.js';
import type { MetadataComponent } from './component-xml.js';
import { each, saveResult } from './custom-objects.js';

/** Developer names: letter first, letters/digits/single underscores, no trailing underscore. */
const DEVELOPER_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$/;

/** The column sections of a (classic) dashboard, left to right. */
const SECTIONS = ['leftSection', 'middleSection', 'rightSection'] as const;

/** Metadata types this handler stores. */
export const DASHBOARD_METADATA_TYPES: ReadonlySet<string> = new Set(['Dashboard', 'DashboardFolder']);

/**
 * `Dashboard` (full name `Folder/DeveloperName`) and `DashboardFolder` components through the
 * Metadata API's `createMetadata`, `readMetadata` and `deleteMetadata`. A dashboard needs its folder
 * and a `title`; each component of its `leftSection`/`middleSection`/`rightSection` needs a
 * `componentType` and a `report` (`Folder/ReportDeveloperName`) naming an existing report. It
 * becomes a `Dashboard` record (`01Z`) with `DashboardComponent` records (`01a`), served by the
 * Reports and Dashboards REST API (`/analytics/dashboards`).
 */
export class DashboardMetadata {
  constructor(private readonly context: EmulatorModuleContext) {}

  private get registry() {
    return analyticsRegistryOf(this.context.store);
  }

  /** `createMetadata`: `SaveResult` per component. */
  create(components: MetadataComponent[]): string {
    return each(components, (component) =>
      saveResult(
        component['@type'] === 'DashboardFolder'
          ? this.createFolder(component)
          : this.createDashboard(component),
        true,
      ),
    );
  }

  /** `readMetadata`: the component as created, or `undefined` when there is none. */
  read(type: string, fullName: string): string | undefined {
    if (type === 'DashboardFolder') {
      const folder = this.registry.dashboardFolders.get(fullName.toLowerCase());
      return folder && recordXml(type, folder.developerName, folder.properties);
    }
    const dashboard = this.find(fullName);
    if (!dashboard) return undefined;
    const sections: Record<string, unknown> = {};
    for (const section of dashboard.sections)
      sections[section.name] = {
        columnSize: section.columnSize,
        components: section.components.map((c) => c.properties),
      };
    return recordXml(type, `${dashboard.folderName}/${dashboard.developerName}`, {
      ...dashboard.properties,
      ...sections,
    });
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

  private createFolder(component: MetadataComponent): string {
    const fullName = text(component.fullName);
    checkDeveloperName(fullName);
    const name = text(component.name);
    if (name === '') throw new ComponentError('REQUIRED_FIELD_MISSING', 'Required field is missing: name');
    if (this.registry.dashboardFolders.has(fullName.toLowerCase()))
      throw new ComponentError(
        'DUPLICATE_DEVELOPER_NAME',
        `There is already a DashboardFolder named ${fullName}`,
      );
    const { '@type': _type, ...properties } = component;
    const [record] = this.context.store.insert(
      'Folder',
      [{ Name: name, DeveloperName: fullName, Type: 'Dashboard', AccessType: 'Public' }],
      { bypassFieldPermissions: true },
    );
    if (!record?.success)
      throw new ComponentError(
        record?.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION',
        record?.errors[0]?.message ?? 'not saved',
      );
    const folder: DashboardFolderDefinition = {
      id: record.id as string,
      developerName: fullName,
      name,
      properties,
    };
    this.registry.dashboardFolders.set(fullName.toLowerCase(), folder);
    return fullName;
  }

  private createDashboard(component: MetadataComponent): string {
    const fullName = text(component.fullName);
    const [folderName = '', developerName = '', ...rest] = fullName.split('/');
    if (rest.length > 0 || developerName === '')
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `The full name ${fullName} is not Folder/DashboardName`,
      );
    checkDeveloperName(developerName);
    const folder = this.registry.dashboardFolders.get(folderName.toLowerCase());
    if (!folder)
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no DashboardFolder named ${folderName} found`,
      );
    if (this.find(fullName))
      throw new ComponentError('DUPLICATE_DEVELOPER_NAME', `There is already a Dashboard named ${fullName}`);
    const title = text(component.title);
    if (title === '') throw new ComponentError('REQUIRED_FIELD_MISSING', 'Required field is missing: title');
    if (title.length > 80)
      throw new ComponentError('STRING_TOO_LONG', 'title: data value too large (max length=80)');
    // Resolve every reference before writing anything, so a bad component leaves no half dashboard.
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
          return { properties, componentType, reportId: this.reportId(text(properties.report)) };
        }),
      };
    });
    const dashboardType = text(component.dashboardType) || 'SpecifiedUser';
    const [record] = this.context.store.insert(
      'Dashboard',
      [
        {
          Title: title,
          DeveloperName: developerName,
          Description: text(component.description) || null,
          FolderId: folder.id,
          FolderName: folder.name,
          Type: dashboardType,
          RunningUserId: this.context.userId,
          LeftSize: sections[0]?.columnSize ?? null,
          MiddleSize: sections[1]?.components.length ? sections[1].columnSize : null,
          RightSize: sections[2]?.columnSize ?? null,
        },
      ],
      { bypassFieldPermissions: true },
    );
    if (!record?.success)
      throw new ComponentError(
        record?.errors[0]?.statusCode ?? 'UNKNOWN_EXCEPTION',
        record?.errors[0]?.message ?? 'not saved',
      );
    const id = record.id as string;
    const built = sections.map((section) => ({
      name: section.name,
      columnSize: section.columnSize,
      components: section.components.map((c): DashboardComponentDefinition => {
        const header = text(c.properties.header) || null;
        const [saved] = this.context.store.insert(
          'DashboardComponent',
          [{ Name: header, DashboardId: id, CustomReportId: c.reportId }],
          { bypassFieldPermissions: true },
        );
        return {
          id: saved?.id as string,
          componentType: c.componentType,
          reportId: c.reportId,
          header,
          footer: text(c.properties.footer) || null,
          title: text(c.properties.title) || null,
          properties: c.properties,
        };
      }),
    }));
    const { '@type': _type, leftSection: _l, middleSection: _m, rightSection: _r, ...properties } = component;
    this.registry.dashboards.set(id, {
      id,
      developerName,
      title,
      description: text(component.description) || null,
      folderId: folder.id,
      folderName: folder.developerName,
      dashboardType,
      runningUserId: this.context.userId,
      sections: built.filter((s) => s.components.length > 0),
      properties,
      refreshDate: formatDateTime(this.context.clock.now()),
    });
    return fullName;
  }

  /** A component's `report` (`Folder/DeveloperName`) → the report's id. */
  private reportId(reference: string): string {
    const developerName = reference.split('/').pop() ?? '';
    const found =
      developerName === ''
        ? undefined
        : this.context.query(
            `SELECT Id FROM Report WHERE DeveloperName = '${developerName.replace(/'/g, "\\'")}'`,
          ).records[0];
    if (!found)
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: report - no Report named ${reference || '(none)'} found`,
      );
    return (found as { Id: string }).Id;
  }
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
