import { checkFieldMapping, parseFieldMapping } from '../core/field-mapping-check.js';
import type { CrmCustomField, CrmFieldMapping, CrmFieldMappingInput, CrmFieldType } from '../core/models.js';
import type { CrmCallOptions } from '../core/provider.js';
import { type HubSpotContext, propertiesPath } from './context.js';

/** A HubSpot property definition (the parts this provider reads). */
interface HubSpotProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  hasUniqueValue?: boolean;
  options?: Array<{ value: string; hidden?: boolean }>;
  calculated?: boolean;
  modificationMetadata?: { readOnlyValue?: boolean };
}

/** HubSpot `type`/`fieldType` → the package's field type. */
function fieldTypeOf(property: HubSpotProperty): CrmFieldType {
  switch (property.type) {
    case 'number':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'bool':
      return 'boolean';
    case 'enumeration':
      return property.fieldType === 'checkbox'
        ? 'multipicklist'
        : property.fieldType === 'booleancheckbox'
          ? 'boolean'
          : 'picklist';
    case 'phone_number':
      return 'phone';
    default:
      if (property.name === 'email') return 'email';
      if (property.fieldType === 'phonenumber') return 'phone';
      return 'text';
  }
}

/** Contact properties from the properties API, as `CrmCustomField`s. */
export async function getCustomFields(
  context: HubSpotContext,
  options: CrmCallOptions = {},
): Promise<CrmCustomField[]> {
  const { body } = await context.client.request<{ results: HubSpotProperty[] }>({
    operation: 'list contact properties',
    method: 'GET',
    path: propertiesPath(context, 'contacts'),
    idempotent: true,
    signal: options.signal,
  });
  return body.results.map((property) => {
    const options = property.options?.filter((o) => !o.hidden).map((o) => o.value) ?? [];
    return {
      name: property.name,
      label: property.label,
      fieldType: fieldTypeOf(property),
      // HubSpot has no required contact properties at the API level (forms may require some).
      required: false,
      ...(options.length ? { options } : {}),
      updateable: !(property.modificationMetadata?.readOnlyValue ?? false) && !property.calculated,
    };
  });
}

/** Validates a mapping against the portal's contact properties. */
export async function mapCustomFields(
  context: HubSpotContext,
  mapping: CrmFieldMappingInput[],
  options: CrmCallOptions = {},
): Promise<CrmFieldMapping[]> {
  parseFieldMapping(mapping);
  return checkFieldMapping(mapping, await getCustomFields(context, options));
}
