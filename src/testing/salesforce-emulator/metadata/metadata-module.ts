import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { ApprovalEngine } from '../process/approval-engine.js';
import { ProcessDefinitions } from '../process/process-definitions.js';
import { installProcessObjects } from '../process/process-records.js';
import { registerProcessRoutes } from '../process/process-routes.js';
import { workflowOnSave } from '../process/workflow-on-save.js';
import { readSoapCall } from '../soap/soap-endpoint.js';
import { SoapFault, soapFaultXml, xmlElement, xmlText } from '../soap/soap-envelope.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';
import { asyncOperation, type MetadataJobs } from './async-operations.js';
import { ComponentError } from './component-error.js';
import type { MetadataComponent } from './component-xml.js';
import { CustomObjectMetadata } from './custom-objects.js';
import { DASHBOARD_METADATA_TYPES, DashboardMetadata } from './dashboards.js';
import { DeployJobs } from './deploy-jobs.js';
import { registerDeployRequestRoutes } from './deploy-request-routes.js';
import { fieldXml } from './field-xml.js';
import { metadataTypeHandlers } from './metadata-type-list.js';
import { type MetadataTypeHandler, MetadataTypeRegistry } from './metadata-types.js';
import type { PackageManifest } from './package-archive.js';
import { apexTypes } from './types/apex-types.js';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';
const XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

/**
 * The Metadata API (`POST /services/Soap/m/{version}`): `readMetadata` and `listMetadata` of what
 * the emulator knows (`CustomField` of any emulated field, `LeadConvertSettings`, and the types
 * of the registry), the CRUD calls for `CustomObject` (plus `createMetadata` of `CustomField`,
 * `Workflow`, `ApprovalProcess`), and `deploy` / `retrieve` with their status calls through the
 * per-type handlers of `metadata-type-list.ts` (also `POST /services/data/vXX.X/metadata/deployRequest`).
 * Workflow rules and approval processes defined here drive the Process Rules and Process
 * Approvals REST resources. `Dashboard` and `DashboardFolder` create/read/delete go to their own
 * handler (`dashboards.ts`), which the registry's `Dashboard` type (deploy, retrieve, list) shares.
 * Session from the `SessionHeader`.
 */
export const metadataModule: EmulatorModule = {
  name: 'metadata',
  create(context) {
    const objects = new CustomObjectMetadata(context);
    const definitions = new ProcessDefinitions(context.ids);
    // Rules are evaluated on saves once there are any (no change listener before that).
    let evaluating = false;
    definitions.onWorkflowDefined(() => {
      if (evaluating) return;
      evaluating = true;
      context.store.onChange(workflowOnSave(context.store, definitions, () => context.clock.now()));
    });
    const approvalObjects = installProcessObjects(context.store);
    const apex = apexTypes(context.ids, context.store);
    const dashboards = new DashboardMetadata(context);
    const registry = new MetadataTypeRegistry(
      metadataTypeHandlers({
        context,
        objects,
        definitions,
        apex,
        dashboards,
        onApprovalObject: approvalObjects.add,
      }),
    );
    const packages = new Map<string, PackageManifest>();
    const user = { id: context.userId, name: 'Emulator User' };
    const deploys = new DeployJobs(
      context.ids,
      { registry, apexTestClasses: apex.testClasses, now: () => context.clock.now().toISOString() },
      (manifest) => packages.set(String(manifest.fullName).toLowerCase(), manifest),
    );
    const jobs: MetadataJobs = { deploys, retrieves: new Map(), packages, registry, user };
    const handler = (request: EmulatorRequestContext): Promise<EmulatorResponse> =>
      handle(context, objects, jobs, request, dashboards);
    for (const pattern of ['/services/Soap/m/:soapVersion', '/services/Soap/m/:soapVersion/:orgId']) {
      context.router.add({ method: 'POST', pattern, kind: 'public', name: `POST ${pattern}`, handler });
    }
    registerDeployRequestRoutes(context, deploys, user);
    const approvals = new ApprovalEngine(context.store, definitions, () => context.clock.now());
    registerProcessRoutes(context, definitions, approvals);
    return {
      reset: () => {
        deploys.clear();
        jobs.retrieves.clear();
        approvals.clear();
      },
    };
  },
};

async function handle(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
  jobs: MetadataJobs,
  request: EmulatorRequestContext,
  dashboards: DashboardMetadata,
): Promise<EmulatorResponse> {
  try {
    const soap = await readSoapCall(context, request, { attributes: true });
    soap.body = plain(soap.body) as Record<string, unknown>;
    const dashboardResult = dashboardCall(dashboards, soap.operation, soap.body);
    if (dashboardResult !== undefined) return xmlResponse(soap.operation, dashboardResult);
    const write = writeCall(objects, jobs.registry, soap.operation, soap.body);
    if (write !== undefined) return xmlResponse(soap.operation, write);
    const asynchronous = asyncOperation(context, jobs, soap.operation, soap.body);
    if (asynchronous !== undefined) return xmlResponse(soap.operation, asynchronous);
    if (soap.operation === 'listMetadata')
      return xmlResponse('listMetadata', listMetadata(context, objects, jobs.registry, soap.body));
    if (soap.operation !== 'readMetadata') {
      throw new SoapFault(
        'soapenv:Client',
        `No operation available for request {${METADATA_NS}}${soap.operation}, please check the WSDL for the service.`,
        true,
      );
    }
    const type = String(soap.body.type ?? '');
    const raw = soap.body.fullNames;
    const fullNames = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((n) =>
      String(n).trim(),
    );
    if (fullNames.length > 10) {
      throw new SoapFault('INVALID_CROSS_REFERENCE_KEY', 'readMetadata accepts at most 10 full names');
    }
    // An unknown component still gets its (empty) record, so results line up with fullNames.
    const records = fullNames
      .map(
        (fullName) =>
          readRecord(context, objects, jobs.registry, type, fullName) ??
          `<records xsi:type="${xmlText(type)}"/>`,
      )
      .join('');
    return xmlResponse('readMetadata', `<result>${records}</result>`);
  } catch (error) {
    if (!(error instanceof SoapFault)) throw error;
    return { status: 500, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: soapFaultXml(error) };
  }
}

function xmlResponse(operation: string, content: string): EmulatorResponse {
  return {
    status: 200,
    headers: { 'Content-Type': XML_CONTENT_TYPE },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="${METADATA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<soapenv:Body><${operation}Response>${content}</${operation}Response></soapenv:Body></soapenv:Envelope>`,
  };
}

/**
 * `listMetadata(ListMetadataQuery[] ≤ 3, asOfVersion)`: one `FileProperties` `<result>` per
 * component — every object for `CustomObject`, every custom field for `CustomField`, the stored
 * components of a registry type (of the query's `folder` for a type kept in folders; its folders
 * for `DashboardFolder`/`ReportFolder`); other types list nothing.
 */
function listMetadata(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
  registry: MetadataTypeRegistry,
  body: Record<string, unknown>,
): string {
  const raw = body.queries;
  const queries = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as Array<
    Record<string, unknown>
  >;
  if (queries.length > 3)
    throw new SoapFault('INVALID_CROSS_REFERENCE_KEY', 'listMetadata accepts at most 3 queries');
  const modified = context.store.schemaModifiedAt.toISOString();
  const file = (type: string, fullName: string, fileName: string, id = ''): string =>
    '<result>' +
    xmlElement('createdById', context.userId) +
    xmlElement('createdByName', 'Emulator User') +
    xmlElement('createdDate', modified) +
    xmlElement('fileName', fileName) +
    xmlElement('fullName', fullName) +
    xmlElement('id', id) +
    xmlElement('lastModifiedById', context.userId) +
    xmlElement('lastModifiedByName', 'Emulator User') +
    xmlElement('lastModifiedDate', modified) +
    xmlElement('manageableState', 'unmanaged') +
    xmlElement('type', type) +
    '</result>';
  return queries
    .map((query) => {
      const type = String(query?.type ?? '').trim();
      const schemas = context.store.schemas();
      if (type === 'CustomObject')
        return schemas
          .filter((s) => s.keyPrefix !== '')
          .map((s) => file(type, s.name, `objects/${s.name}.object`, objects.idOf(s.name)))
          .join('');
      if (type === 'CustomField')
        return schemas
          .flatMap((s) => s.fields.filter((f) => f.custom).map((f) => `${s.name}.${f.name}`))
          .map((name) => file(type, name, `objects/${name.split('.')[0]}.object`))
          .join('');
      const handler = registry.get(type);
      if (!handler) return folderTypeList(registry, type, file);
      // A type kept in folders lists the components of the folder the query names (none without one).
      const folder = String(query?.folder ?? '').trim();
      if (handler.inFolders && folder === '') return '';
      const names = handler.inFolders
        ? handler.list().filter((name) => name.toLowerCase().startsWith(`${folder.toLowerCase()}/`))
        : handler.list();
      return names
        .map((name) => file(handler.type, name, `${handler.directory}/${name}.${handler.suffix}`))
        .join('');
    })
    .join('');
}

/**
 * `listMetadata` of a folder type (`DashboardFolder`, `ReportFolder`): the folders of the type kept
 * in them (its members without `/`), as `dashboards/Folder`; `''` for any other unknown type.
 */
function folderTypeList(
  registry: MetadataTypeRegistry,
  type: string,
  file: (type: string, fullName: string, fileName: string) => string,
): string {
  const contents = type.toLowerCase().endsWith('folder') ? registry.get(type.slice(0, -6)) : undefined;
  if (!contents?.inFolders) return '';
  const folderType = `${contents.type}Folder`;
  return contents
    .list()
    .filter((name) => !name.includes('/'))
    .map((name) => file(folderType, name, `${contents.directory}/${name}`))
    .join('');
}

/** One `<records xsi:type="…">`, or undefined when the component does not exist. */
function readRecord(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
  registry: MetadataTypeRegistry,
  type: string,
  fullName: string,
): string | undefined {
  const handler = registry.get(type);
  if (handler?.createMetadata) {
    const found = handler.retrieve(fullName);
    return found
      ? `<records xsi:type="${xmlText(handler.type)}">${xmlElement('fullName', fullName)}${found.innerXml}</records>`
      : undefined;
  }
  if (type === 'CustomObject') {
    return objects.read(fullName, (schema, fieldName) =>
      fieldXml(schema, schema.field(fieldName) as ResolvedField, fieldName),
    );
  }
  if (type === 'LeadConvertSettings' && fullName === 'LeadConvertSettings') {
    return (
      '<records xsi:type="LeadConvertSettings">' +
      xmlElement('fullName', fullName) +
      xmlElement('allowOwnerChange', true) +
      xmlElement('opportunityCreationOptions', 'VisibleOptional') +
      '</records>'
    );
  }
  if (type !== 'CustomField') return undefined;
  const dot = fullName.indexOf('.');
  const schema: ObjectSchema | undefined = dot > 0 ? context.store.schema(fullName.slice(0, dot)) : undefined;
  const field = schema?.field(fullName.slice(dot + 1));
  if (!schema || !field) return undefined;
  return `<records xsi:type="CustomField">${fieldXml(schema, field)}</records>`;
}

/**
 * The CRUD calls (`createMetadata`, `updateMetadata`, `upsertMetadata`, `deleteMetadata`,
 * `renameMetadata`) for `CustomObject` (and `createMetadata` of a `CustomField`); `undefined`
 * for any other operation.
 */
function writeCall(
  objects: CustomObjectMetadata,
  registry: MetadataTypeRegistry,
  operation: string,
  body: Record<string, unknown>,
): string | undefined {
  const list = (value: unknown): unknown[] =>
    Array.isArray(value) ? value : value === undefined ? [] : [value];
  const components = (): MetadataComponent[] =>
    list(body.metadata).map((item) =>
      typeof item === 'object' && item !== null ? (item as MetadataComponent) : {},
    );
  switch (operation) {
    case 'createMetadata': {
      const all = components();
      if (all.length > 10)
        throw new SoapFault(
          'INVALID_CROSS_REFERENCE_KEY',
          'Cannot process more than 10 components in one call',
        );
      // Types with a handler that allows it go through the same validate/apply as a deploy.
      return all
        .map((component) => {
          const handler = registry.get(String(component['@type'] ?? ''));
          return handler?.createMetadata
            ? createThroughHandler(handler, component)
            : objects.create([component]);
        })
        .join('');
    }
    case 'updateMetadata':
      return objects.update(components());
    case 'upsertMetadata':
      return objects.upsert(components());
    case 'deleteMetadata':
      return objects.delete(
        String(body.type ?? ''),
        list(body.fullNames).map((n) => String(n).trim()),
      );
    case 'renameMetadata':
      return objects.rename(
        String(body.type ?? ''),
        String(body.oldFullName ?? '').trim(),
        String(body.newFullName ?? '').trim(),
      );
    default:
      return undefined;
  }
}

/**
 * `createMetadata` / `readMetadata` / `deleteMetadata` of `Dashboard` and `DashboardFolder` go to
 * their own handler; `undefined` for every other call.
 */
function dashboardCall(
  dashboards: DashboardMetadata,
  operation: string,
  body: Record<string, unknown>,
): string | undefined {
  const list = (value: unknown): unknown[] =>
    Array.isArray(value) ? value : value === undefined ? [] : [value];
  const names = () => list(body.fullNames).map((n) => String(n).trim());
  if (operation === 'createMetadata') {
    const components = list(body.metadata).map((item) =>
      typeof item === 'object' && item !== null ? (item as MetadataComponent) : {},
    );
    const types = new Set(components.map((c) => c['@type']));
    if (components.length === 0 || ![...types].every((t) => DASHBOARD_METADATA_TYPES.has(String(t))))
      return undefined;
    return dashboards.create(components);
  }
  const type = String(body.type ?? '');
  if (!DASHBOARD_METADATA_TYPES.has(type)) return undefined;
  if (operation === 'deleteMetadata') return dashboards.delete(type, names());
  if (operation === 'readMetadata') {
    if (names().length > 10)
      throw new SoapFault('INVALID_CROSS_REFERENCE_KEY', 'readMetadata accepts at most 10 full names');
    const records = names()
      .map((fullName) => dashboards.read(type, fullName) ?? `<records xsi:type="${xmlText(type)}"/>`)
      .join('');
    return `<result>${records}</result>`;
  }
  return undefined;
}

/**
 * Parsed XML with attributes → plain values: `xsi:nil="true"` → null, text with attributes → the
 * text; `@type` (`xsi:type`) is kept on components, other attributes dropped.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record['@nil'] === 'true') return null;
  if ('#text' in record) return record['#text'];
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    if (key.startsWith('@') && key !== '@type') continue;
    out[key] = plain(item);
  }
  return out;
}

/** `createMetadata` of one component through its type handler: a `SaveResult`. */
function createThroughHandler(handler: MetadataTypeHandler, component: MetadataComponent): string {
  const fullName = typeof component.fullName === 'string' ? component.fullName.trim() : '';
  const { '@type': _type, ...properties } = component;
  const item = { fullName, component: { ...properties, fullName } };
  const noOtherComponents = { includes: () => false, component: () => undefined };
  try {
    if (!fullName) throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', 'A component needs a fullName');
    if (handler.retrieve(fullName))
      throw new ComponentError(
        'DUPLICATE_DEVELOPER_NAME',
        `There is already a ${handler.type} named ${fullName}`,
      );
    handler.validate(item, noOtherComponents);
    handler.apply(item);
    return `<result>${xmlElement('fullName', fullName)}${xmlElement('success', true)}</result>`;
  } catch (error) {
    if (!(error instanceof ComponentError)) throw error;
    return (
      '<result>' +
      `<errors>${xmlElement('message', error.message)}${xmlElement('statusCode', error.statusCode)}</errors>` +
      xmlElement('fullName', fullName) +
      xmlElement('success', false) +
      '</result>'
    );
  }
}
