import { CrmDataConversionError } from '../core/errors.js';

// SOQL string-literal escapes, per the SOQL reference ("Quoted String Escape Sequences").
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// String.prototype.isWellFormed is ES2024; the project targets ES2023.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Escape `value` for use inside a single-quoted SOQL string literal.
 *
 * Backslashes, both quote characters, and the control characters SOQL has escapes for
 * (newline, carriage return, tab, backspace, form feed) are escaped. Other Unicode passes through
 * unchanged (the query travels URL-encoded as UTF-8). Control characters SOQL cannot express and
 * lone UTF-16 surrogates are refused rather than silently altered, because altering a value used
 * in a `WHERE` clause would match a different record.
 *
 * @param field - name used in the error, never the value.
 * @throws {CrmDataConversionError} when the value contains a character SOQL cannot express.
 * @example
 * `WHERE Email = '${escapeSoqlLiteral("o'brien@example.com")}'` // o\'brien@example.com
 */
export function escapeSoqlLiteral(value: string, field = 'value'): string {
  if (LONE_SURROGATE.test(value)) {
    throw new CrmDataConversionError(`Invalid ${field}: contains an unpaired UTF-16 surrogate`, {
      fields: [{ field, message: 'contains an unpaired UTF-16 surrogate', code: 'invalid_string' }],
    });
  }
  let out = '';
  for (const char of value) {
    const escaped = ESCAPES[char];
    if (escaped !== undefined) {
      out += escaped;
      continue;
    }
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) {
      throw new CrmDataConversionError(`Invalid ${field}: contains a control character`, {
        fields: [
          { field, message: 'contains a control character SOQL cannot express', code: 'invalid_string' },
        ],
      });
    }
    out += char;
  }
  return out;
}

/** `value` as a quoted SOQL string literal: `'…'` with {@link escapeSoqlLiteral} applied. */
export function soqlString(value: string, field?: string): string {
  return `'${escapeSoqlLiteral(value, field)}'`;
}

/** A SOQL `IN (…)` list of quoted literals. */
export function soqlStringList(values: Iterable<string>, field?: string): string {
  return `(${[...values].map((v) => soqlString(v, field)).join(', ')})`;
}

/**
 * A Salesforce record id: 15 or 18 alphanumeric characters. Checked before an id is placed in a
 * URL path or a SOQL literal.
 */
export function isSalesforceId(value: string): boolean {
  return /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(value);
}

/**
 * Throw unless `value` is a Salesforce record id.
 * @throws {CrmDataConversionError} naming `field`.
 */
export function assertSalesforceId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isSalesforceId(value)) {
    throw new CrmDataConversionError(`Invalid ${field}: must be a 15 or 18 character Salesforce id`, {
      fields: [{ field, message: 'must be a 15 or 18 character Salesforce id', code: 'invalid_format' }],
    });
  }
  return value;
}
