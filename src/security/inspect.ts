/**
 * Redacted `util.inspect` / `JSON.stringify` views for objects that hold live credentials.
 *
 * `console.log(provider)` walks every enumerable property, so a provider that exposes its jsforce
 * `Connection` would print the raw access and refresh tokens. Giving such objects (and the
 * connection itself) a custom inspect and `toJSON` keeps a host's debug print free of secrets.
 */
import { REDACTED } from './redact.js';

/** The symbol Node's `util.inspect` (and so `console.log`) calls for a custom view. */
export const INSPECT_CUSTOM: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** Shape of a safe summary: plain values only, secrets already replaced. */
export type SafeSummary = Record<string, string | number | boolean | null | undefined>;

/** `[REDACTED]` when a secret is set, `undefined` when it is not (so an operator sees which). */
export function maskSecret(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? REDACTED : undefined;
}

/**
 * Render `summary()` as `Name { … }` for `util.inspect`, honouring the caller's inspect options
 * (colours, depth) through the `inspect` function Node passes in.
 */
export function inspectSummary(
  name: string,
  summary: SafeSummary,
  options: unknown,
  inspect: ((value: unknown, options: unknown) => string) | undefined,
): string {
  const body = inspect ? inspect(summary, options) : JSON.stringify(summary);
  return `${name} ${body}`;
}

/**
 * Give an object we do not own (a jsforce `Connection`) a redacted inspect and `toJSON` as own,
 * non-enumerable properties, so the object behaves as before in every other way.
 */
export function installRedactedView(target: object, name: string, summary: () => SafeSummary): void {
  Object.defineProperty(target, INSPECT_CUSTOM, {
    value: (_depth: number, options: unknown, inspect?: (value: unknown, options: unknown) => string) =>
      inspectSummary(name, summary(), options, inspect),
    enumerable: false,
    configurable: true,
    writable: true,
  });
  Object.defineProperty(target, 'toJSON', {
    value: () => summary(),
    enumerable: false,
    configurable: true,
    writable: true,
  });
}
