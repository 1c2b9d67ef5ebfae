/**
 * Record values echoed in CRM error messages. Salesforce puts the offending value into several
 * per-record errors (`STRING_TOO_LONG: Title: data value too large: <value> (max length=128)`,
 * `INVALID_EMAIL_ADDRESS: Email: invalid email address: <value>`, restricted picklists, type
 * errors); HubSpot echoes emails and property values. Those values are a person's data, and a
 * stored error (status row, sync log) must not keep them: the field name stays, the value goes.
 */

/** What replaces a dropped value. Stable so tests and log scrapers can look for it. */
export const VALUE_REMOVED = '[value removed]';

// The value runs to the end of the message, to Bulk API's `:--` separator, or to Salesforce's
// ` (max length=N)` suffix, which carries no personal data and is kept.
const TAIL = String.raw`[\s\S]*?(?= \(max length=\d+\)|:--|$)`;

const ECHO_PATTERNS: ReadonlyArray<RegExp> = [
  new RegExp(`(data value too large: )${TAIL}`, 'gi'),
  new RegExp(`(bad value for restricted picklist field: )${TAIL}`, 'gi'),
  new RegExp(`(invalid email address: )${TAIL}`, 'gi'),
  new RegExp(`(value not of required type: )${TAIL}`, 'gi'),
  new RegExp(
    String.raw`(\binvalid (?:date|datetime|date\/time|time|number|integer|decimal|double|boolean|currency|percent|phone|url|id value|cross reference id)(?: value)?: )${TAIL}`,
    'gi',
  ),
];

// Email addresses anywhere (HubSpot: "Email address a@b.c is invalid"; duplicate messages).
const EMAIL = /[^\s"'<>()[\]{},;:]+@[^\s"'<>()[\]{},;:]+\.[A-Za-z]{2,}/g;

// Shorter values (`CA`, `No`) are too likely to be words or field names to replace.
const MIN_VALUE_LENGTH = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** String forms of the record's scalar values, deepest first (for `customFields`, `tags`). */
function collectValues(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 4 || value === null || value === undefined) return;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.length >= MIN_VALUE_LENGTH) out.add(trimmed);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    const text = String(value);
    if (text.length >= MIN_VALUE_LENGTH) out.add(text);
  } else if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) out.add(value.toISOString());
  } else if (Array.isArray(value)) {
    for (const item of value) collectValues(item, out, depth + 1);
  } else if (typeof value === 'object') {
    for (const item of Object.values(value)) collectValues(item, out, depth + 1);
  }
}

/**
 * Remove record values from an error message before it is stored or reported: the values that
 * CRMs are known to echo (by message shape), every email address, and — when `record` is given —
 * any of that record's own values (strings of four characters or more, numbers, dates) wherever
 * they appear, compared case-insensitively. Field names and error codes are kept.
 *
 * @example
 * stripRecordValues('STRING_TOO_LONG: Title: data value too large: Chief Everything (max length=10)')
 * // 'STRING_TOO_LONG: Title: data value too large: [value removed] (max length=10)'
 */
export function stripRecordValues(message: string, record?: unknown): string {
  let out = message;
  if (record !== undefined) {
    const values = new Set<string>();
    collectValues(record, values);
    // Longest first, so a value containing another is removed whole.
    for (const value of [...values].sort((a, b) => b.length - a.length)) {
      out = out.replace(new RegExp(escapeRegExp(value), 'gi'), VALUE_REMOVED);
    }
  }
  for (const pattern of ECHO_PATTERNS) out = out.replace(pattern, `$1${VALUE_REMOVED}`);
  return out.replace(EMAIL, VALUE_REMOVED);
}
