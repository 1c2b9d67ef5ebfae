import { checkFieldMapping, parseFieldMapping } from '../../core/field-mapping-check.js';
import type { CrmCustomField, CrmFieldMappingInput, CrmFieldType } from '../../core/models.js';
import type { CrmCallOptions } from '../../core/provider.js';
import { apiUrl, type DescribeField, type SalesforceContext } from './context.js';

/** Salesforce describe types → {@link CrmFieldType}. Compound and binary types are left out. */
const FIELD_TYPES: Record<string, CrmFieldType> = {
  string: 'text',
  textarea: 'text',
  encryptedstring: 'text',
  combobox: 'text',
  time: 'text',
  id: 'reference',
  reference: 'reference',
  double: 'number',
  currency: 'number',
  percent: 'number',
  int: 'number',
  long: 'number',
  date: 'date',
  datetime: 'datetime',
  boolean: 'boolean',
  picklist: 'picklist',
  multipicklist: 'multipicklist',
  email: 'email',
  phone: 'phone',
  url: 'url',
};

/** Which described types a mapping of a given type may target. */

/** Contact's describe, fetched once per context (a failed fetch is not cached). */
export function describeContact(
  context: SalesforceContext,
  signal: AbortSignal | undefined,
): Promise<DescribeField[]> {
  if (!context.describeContact) {
    const pending = context.client
      .request<{ fields: DescribeField[] }>(
        'describe Contact',
        { method: 'GET', url: apiUrl(context, '/sobjects/Contact/describe') },
        { idempotent: true, signal },
      )
      .then((d) => d.fields);
    context.describeContact = pending;
    pending.catch(() => {
      context.describeContact = undefined;
    });
  }
  return context.describeContact;
}

/**
 * Fields of the Salesforce Contact object from describe: normalised type, picklist options
 * (active values), `required` = createable, not nillable and not defaulted on create.
 * Compound (address, location) and binary fields are left out.
 */
export async function getCustomFields(
  context: SalesforceContext,
  options: CrmCallOptions = {},
): Promise<CrmCustomField[]> {
  const fields = await describeContact(context, options.signal);
  const out: CrmCustomField[] = [];
  for (const field of fields) {
    const fieldType = FIELD_TYPES[field.type];
    if (!fieldType) continue;
    const custom: CrmCustomField = {
      name: field.name,
      label: field.label,
      fieldType,
      required: Boolean(field.createable && !field.nillable && !field.defaultedOnCreate),
      updateable: Boolean(field.updateable),
    };
    if (fieldType === 'picklist' || fieldType === 'multipicklist') {
      custom.options = (field.picklistValues ?? []).filter((p) => p.active !== false).map((p) => p.value);
    }
    out.push(custom);
  }
  return out;
}

/**
 * Validate `mapping` against Contact's describe (field exists, updateable when it writes to
 * Salesforce, type compatible) and make it the context's mapping from now on.
 * @throws {CrmDataConversionError} naming every mapping entry that does not fit.
 */
export async function mapCustomFields(
  context: SalesforceContext,
  mapping: CrmFieldMappingInput[],
  options: CrmCallOptions = {},
): Promise<void> {
  parseFieldMapping(mapping);
  const parsed = checkFieldMapping(mapping, await getCustomFields(context, options));
  context.fieldMappings = parsed;
}
