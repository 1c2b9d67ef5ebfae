import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { CONVERTED_STATUSES } from '../soap/convert-lead.js';
import { readSoapCall } from '../soap/soap-endpoint.js';
import { SoapFault, soapFaultXml, xmlElement, xmlText } from '../soap/soap-envelope.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';
import { CustomObjectMetadata, type MetadataComponent } from './custom-objects.js';
import { DASHBOARD_METADATA_TYPES, DashboardMetadata } from './dashboards.js';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';
const XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

/** Metadata API field types by describe type. */
const FIELD_TYPES: Readonly<Record<string, string>> = {
  string: 'Text',
  textarea: 'LongTextArea',
  email: 'Email',
  boolean: 'Checkbox',
  picklist: 'Picklist',
  multipicklist: 'MultiselectPicklist',
  reference: 'Lookup',
  date: 'Date',
  datetime: 'DateTime',
  double: 'Number',
  int: 'Number',
  currency: 'Currency',
  percent: 'Percent',
  phone: 'Phone',
  url: 'Url',
};

/**
 * The Metadata API's `readMetadata` and `listMetadata` (`POST /services/Soap/m/{version}`) for what the emulator
 * knows: `CustomField` (`Object.Field` of any emulated field, picklist values with `default` and,
 * on Lead.Status, `converted`) and `LeadConvertSettings`. An unknown type or full name answers an
 * empty record; other operations a SOAP fault. Session from the `SessionHeader`. `Dashboard` and
 * `DashboardFolder` create/read/delete go to their own handler (`dashboards.ts`).
 */
export const metadataModule: EmulatorModule = {
  name: 'metadata',
  create(context) {
    const objects = new CustomObjectMetadata(context);
    const dashboards = new DashboardMetadata(context);
    const handler = (request: EmulatorRequestContext): Promise<EmulatorResponse> =>
      handle(context, objects, request, dashboards);
    for (const pattern of ['/services/Soap/m/:soapVersion', '/services/Soap/m/:soapVersion/:orgId']) {
      context.router.add({ method: 'POST', pattern, kind: 'public', name: `POST ${pattern}`, handler });
    }
    return undefined;
  },
};

async function handle(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
  request: EmulatorRequestContext,
  dashboards: DashboardMetadata,
): Promise<EmulatorResponse> {
  try {
    const soap = await readSoapCall(context, request, { attributes: true });
    soap.body = plain(soap.body) as Record<string, unknown>;
    const dashboardResult = dashboardCall(dashboards, soap.operation, soap.body);
    if (dashboardResult !== undefined) return xmlResponse(soap.operation, dashboardResult);
    const write = writeCall(objects, soap.operation, soap.body);
    if (write !== undefined) return xmlResponse(soap.operation, write);
    if (soap.operation === 'listMetadata')
      return xmlResponse('listMetadata', listMetadata(context, objects, soap.body));
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
          readRecord(context, objects, type, fullName) ?? `<records xsi:type="${xmlText(type)}"/>`,
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
 * component — every object for `CustomObject`, every custom field for `CustomField`; other types
 * list nothing.
 */
function listMetadata(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
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
      return '';
    })
    .join('');
}

/** One `<records xsi:type="…">`, or undefined when the component does not exist. */
function readRecord(
  context: EmulatorModuleContext,
  objects: CustomObjectMetadata,
  type: string,
  fullName: string,
): string | undefined {
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

/** A field's `CustomField` properties; `fullName` is `Object.Field` unless given (inside a CustomObject). */
function fieldXml(
  schema: ObjectSchema,
  field: ResolvedField,
  fullName = `${schema.name}.${field.name}`,
): string {
  let xml = xmlElement('fullName', fullName);
  if (field.externalId) xml += xmlElement('externalId', true);
  xml += xmlElement('label', field.label);
  if (field.length > 0 && (field.type === 'string' || field.type === 'textarea'))
    xml += xmlElement('length', String(field.length));
  if (field.picklistValues.length > 0) {
    const converted = schema.name === 'Lead' && field.name === 'Status';
    xml +=
      '<picklist>' +
      field.picklistValues
        .map(
          (value) =>
            '<picklistValues>' +
            xmlElement('fullName', value) +
            (converted ? xmlElement('converted', CONVERTED_STATUSES.has(value)) : '') +
            xmlElement('default', field.defaultValue === value) +
            '</picklistValues>',
        )
        .join('') +
      xmlElement('sorted', false) +
      '</picklist>';
  }
  if (field.referenceTo.length > 0) xml += xmlElement('referenceTo', field.referenceTo[0] ?? '');
  if (field.required) xml += xmlElement('required', true);
  xml += xmlElement('type', field.autoNumber ? 'AutoNumber' : (FIELD_TYPES[field.type] ?? 'Text'));
  if (field.unique) xml += xmlElement('unique', true);
  return xml;
}

/**
 * The CRUD calls (`createMetadata`, `updateMetadata`, `upsertMetadata`, `deleteMetadata`,
 * `renameMetadata`) for `CustomObject` (and `createMetadata` of a `CustomField`); `undefined`
 * for any other operation.
 */
function writeCall(
  objects: CustomObjectMetadata,
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
    case 'createMetadata':
      return objects.create(components());
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
