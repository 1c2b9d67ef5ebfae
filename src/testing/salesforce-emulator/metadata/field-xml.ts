import { CONVERTED_STATUSES } from '../soap/convert-lead.js';
import { xmlElement } from '../soap/soap-envelope.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';

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

/** A field's `CustomField` properties; `fullName` is `Object.Field` unless given (inside a CustomObject). */
export function fieldXml(
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
