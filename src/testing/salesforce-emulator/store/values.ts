import { formatDate, formatDateTime, parseDateTime } from '../dates.js';
import { isSalesforceIdShape, toId18 } from '../ids.js';
import { RecordFailure } from './record-error.js';
import type { EmulatorValue, ResolvedField } from './schema.js';

/** How incoming values are written: JSON (REST) or CSV strings (Bulk API 2.0). */
export type EmulatorValueFormat = 'json' | 'csv';

/** Marker returned by {@link coerceValue} when a CSV cell means "leave unchanged". */
export const SKIP = Symbol('skip');

// Deliberately simple: Salesforce rejects missing local part/domain and whitespace.
const EMAIL_PATTERN = /^[^\s@,;<>()[\]\\"]+@[^\s@,;<>()[\]\\"]+\.[a-zA-Z0-9-]{2,}$/;

/**
 * Converts an incoming value to the stored representation and validates it against the field
 * (type, email format, length). Reference existence is checked by the store.
 *
 * @throws {RecordFailure} with Salesforce's status code for the problem.
 */
export function coerceValue(
  field: ResolvedField,
  raw: unknown,
  format: EmulatorValueFormat,
): EmulatorValue | typeof SKIP {
  const value = raw;
  if (format === 'csv' && typeof value === 'string') {
    if (value === '') return SKIP;
    if (value === '#N/A') return null;
  }
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') throw typeMismatch(field, JSON.stringify(value));
  switch (field.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const text = String(value).toLowerCase();
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw typeMismatch(field, String(value));
    }
    case 'int':
    case 'double':
    case 'currency':
    case 'percent': {
      const number = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || !Number.isFinite(number)) throw typeMismatch(field, String(value));
      if (field.type === 'int' && !Number.isInteger(number)) throw typeMismatch(field, String(value));
      return number;
    }
    case 'date': {
      const date = parseDateTime(String(value));
      if (!date) throw typeMismatch(field, String(value));
      return formatDate(date);
    }
    case 'datetime': {
      const date = parseDateTime(String(value));
      if (!date) throw typeMismatch(field, String(value));
      return formatDateTime(date);
    }
    case 'base64': {
      const text = String(value).replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
        throw typeMismatch(field, '(binary)');
      return text === '' ? null : text;
    }
    case 'id':
    case 'reference': {
      const text = String(value);
      if (text === '') return null;
      if (!isSalesforceIdShape(text)) {
        throw new RecordFailure('MALFORMED_ID', `${field.label}: id value of incorrect type: ${text}`, [
          field.name,
        ]);
      }
      return toId18(text) as string;
    }
    default: {
      const text = String(value);
      // Salesforce stores empty text as null.
      if (text === '') return null;
      if (field.type === 'email' && !EMAIL_PATTERN.test(text)) {
        throw new RecordFailure('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${text}`, [
          field.name,
        ]);
      }
      if (field.length > 0 && text.length > field.length) {
        throw new RecordFailure(
          'STRING_TOO_LONG',
          `${field.label}: data value too large: ${text} (max length=${field.length})`,
          [field.name],
        );
      }
      return text;
    }
  }
}

function typeMismatch(field: ResolvedField, shown: string): RecordFailure {
  return new RecordFailure(
    'INVALID_TYPE_ON_FIELD_IN_RECORD',
    `${field.label}: value not of required type: ${shown}`,
    [field.name],
  );
}
