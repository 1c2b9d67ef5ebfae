import { HubSpotEmulatorError, type HubSpotRoute, route } from '../http.js';
import {
  HUBSPOT_OBJECT_TYPES,
  type HubSpotEmulatorProperty,
  type HubSpotEmulatorStore,
  type HubSpotObjectType,
} from '../store.js';

const TYPES = new Set(['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number']);

function typeOf(raw: string | undefined): HubSpotObjectType {
  if (raw && raw in HUBSPOT_OBJECT_TYPES) return raw as HubSpotObjectType;
  throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${raw}`);
}

/** `Property` JSON as the properties API returns it. */
function toPublic(property: HubSpotEmulatorProperty) {
  return {
    name: property.name,
    label: property.label,
    type: property.type,
    fieldType: property.fieldType,
    groupName: property.groupName,
    description: '',
    options: property.options,
    displayOrder: -1,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: property.hasUniqueValue,
    hidden: false,
    hubspotDefined: property.hubspotDefined,
    formField: !property.readOnlyValue,
    modificationMetadata: {
      archivable: !property.hubspotDefined,
      readOnlyDefinition: property.hubspotDefined,
      readOnlyValue: property.readOnlyValue,
    },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    archived: false,
  };
}

/** The properties API: list, read, create. */
export function propertyRoutes(store: HubSpotEmulatorStore): HubSpotRoute[] {
  return [
    route('GET', '/crm/v3/properties/:objectType', (request) => ({
      status: 200,
      body: { results: store.properties[typeOf(request.params.objectType)].map(toPublic) },
    })),
    route('GET', '/crm/v3/properties/:objectType/:name', (request) => {
      const property = store.property(typeOf(request.params.objectType), request.params.name ?? '');
      if (!property)
        throw new HubSpotEmulatorError(
          404,
          'OBJECT_NOT_FOUND',
          `Unable to find property ${request.params.name}`,
        );
      return { status: 200, body: toPublic(property) };
    }),
    route('POST', '/crm/v3/properties/:objectType', async (request) => {
      const type = typeOf(request.params.objectType);
      const body = ((await request.json()) ?? {}) as Partial<HubSpotEmulatorProperty>;
      if (!body.name || !body.label || !body.type || !TYPES.has(body.type) || !body.groupName) {
        throw new HubSpotEmulatorError(
          400,
          'VALIDATION_ERROR',
          'name, label, type, fieldType and groupName are required',
        );
      }
      if (store.property(type, body.name)) {
        throw new HubSpotEmulatorError(409, 'OBJECT_ALREADY_EXISTS', `Property already exists: ${body.name}`);
      }
      const property: HubSpotEmulatorProperty = {
        name: body.name,
        label: body.label,
        type: body.type,
        fieldType: body.fieldType ?? 'text',
        groupName: body.groupName,
        hasUniqueValue: body.hasUniqueValue ?? false,
        hubspotDefined: false,
        readOnlyValue: false,
        options: (body.options ?? []).map((o, i) => ({
          ...o,
          displayOrder: o.displayOrder ?? i,
          hidden: o.hidden ?? false,
        })),
      };
      store.properties[type].push(property);
      return { status: 201, body: toPublic(property) };
    }),
  ];
}
