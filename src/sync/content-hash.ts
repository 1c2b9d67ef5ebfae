import { createHash } from 'node:crypto';

/**
 * Serialise `value` as JSON with object keys sorted at every depth, so two objects with the same
 * content always produce the same string whatever order their keys were set in. `undefined`
 * properties are dropped (as `JSON.stringify` does), dates become ISO strings, non-finite numbers
 * become `null`.
 *
 * @example
 * stableStringify({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(toStable(value)) ?? 'null';
}

function toStable(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((item) => toStable(item));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined && typeof item !== 'function') out[key] = toStable(item);
    }
    return out;
  }
  if (typeof value === 'function' || typeof value === 'symbol') return null;
  return value;
}

/**
 * SHA-256 (hex) of {@link stableStringify}`(value)`: the content hash the sync engine stores per
 * record, so an unchanged record is recognised without asking the CRM.
 */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

/** True when `a` and `b` serialise to the same stable JSON. */
export function stableEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}
