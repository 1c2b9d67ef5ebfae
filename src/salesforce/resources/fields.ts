import { CrmDataConversionError, type CrmFieldIssue } from '../../core/errors.js';
import {
  type CrmCustomField,
  type CrmFieldMapping,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmFieldType,
  parseModel,
} from '../../core/models.js';
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
const COMPATIBLE: Record<CrmFieldType, ReadonlySet<CrmFieldType>> = {
  text: new Set(['text', 'email', 'phone', 'url', 'picklist']),
  number: new Set(['number', 'text']),
  date: new Set(['date', 'datetime', 'text']),
  datetime: new Set(['datetime', 'text']),
  boolean: new Set(['boolean']),
  picklist: new Set(['picklist', 'text']),
  multipicklist: new Set(['multipicklist']),
  email: new Set(['email', 'text']),
  phone: new Set(['phone', 'text']),
  url: new Set(['url', 'text']),
  reference: new Set(['reference']),
};

/** Contact's describe, fetched once per context (a failed fetch is not cached). */
function describeContact(
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
  if (!Array.isArray(mapping)) {
    throw new CrmDataConversionError('Invalid field mapping: must be an array', {
      fields: [{ field: 'mapping', message: 'must be an array' }],
    });
  }
  const parsed = mapping.map((m, i) => parseModel(CrmFieldMappingSchema, m, `mapping[${i}]`));
  const fields = new Map((await getCustomFields(context, options)).map((f) => [f.name, f]));
  const issues = mappingIssues(parsed, fields);
  if (issues.length) {
    throw new CrmDataConversionError(
      `Invalid field mapping: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
      { fields: issues },
    );
  }
  context.fieldMappings = parsed;
}

function mappingIssues(mapping: CrmFieldMapping[], fields: Map<string, CrmCustomField>): CrmFieldIssue[] {
  const issues: CrmFieldIssue[] = [];
  for (const [i, m] of mapping.entries()) {
    const field = fields.get(m.crmField);
    const at = `mapping.${i}.crmField`;
    if (!field) {
      issues.push({ field: at, message: `Contact has no field ${m.crmField}`, code: 'unknown_field' });
      continue;
    }
    if (m.syncDirection !== 'from_crm' && !field.updateable) {
      issues.push({ field: at, message: `${m.crmField} is not updateable`, code: 'not_updateable' });
    }
    if (!COMPATIBLE[m.fieldType].has(field.fieldType)) {
      issues.push({
        field: `mapping.${i}.fieldType`,
        message: `${m.fieldType} does not fit ${m.crmField} (${field.fieldType})`,
        code: 'incompatible_type',
      });
    }
  }
  return issues;
}
