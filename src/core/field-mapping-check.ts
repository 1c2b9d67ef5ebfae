import { CrmDataConversionError, type CrmFieldIssue } from './errors.js';
import {
  type CrmCustomField,
  type CrmFieldMapping,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmFieldType,
  parseModel,
} from './models.js';

/** Host field types each CRM field type accepts. */
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

/**
 * Parses a field mapping (before any network call).
 *
 * @throws {CrmDataConversionError} when it is not an array or an entry is invalid.
 */
export function parseFieldMapping(mapping: readonly CrmFieldMappingInput[]): CrmFieldMapping[] {
  if (!Array.isArray(mapping)) {
    throw new CrmDataConversionError('Invalid field mapping: must be an array', {
      fields: [{ field: 'mapping', message: 'must be an array' }],
    });
  }
  return mapping.map((m, i) => parseModel(CrmFieldMappingSchema, m, `mapping[${i}]`));
}

/**
 * Validates a field mapping against a CRM's contact fields (what `mapCustomFields` does in every
 * provider): each `crmField` must exist, be updateable unless it only flows `from_crm`, and take
 * the mapping's type. Returns the parsed mapping.
 *
 * @throws {CrmDataConversionError} naming every bad entry (`mapping.N.crmField`, `mapping.N.fieldType`).
 */
export function checkFieldMapping(
  mapping: readonly CrmFieldMappingInput[],
  fields: readonly CrmCustomField[],
): CrmFieldMapping[] {
  const parsed = parseFieldMapping(mapping);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const issues: CrmFieldIssue[] = [];
  for (const [i, m] of parsed.entries()) {
    const field = byName.get(m.crmField);
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
  if (issues.length) {
    throw new CrmDataConversionError(
      `Invalid field mapping: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
      { fields: issues },
    );
  }
  return parsed;
}
