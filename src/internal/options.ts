import { CrmConfigurationError } from '../core/errors.js';

/**
 * Reject option keys a constructor does not know, so a typo (`clientSecert`) fails loudly instead
 * of silently disabling a feature. Names the keys, never a value: `Component: unknown option 'a'`
 * (or `unknown options 'a', 'b'`).
 *
 * @throws {CrmConfigurationError} with `details` { reason: `unknown_option`, options: the keys }.
 */
export function assertKnownOptions(
  component: string,
  options: object,
  known: Iterable<string>,
  extra: { provider?: string } = {},
): void {
  const allowed = new Set(known);
  const unknown = Object.keys(options).filter((key) => !allowed.has(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => `'${key}'`).join(', ');
  throw new CrmConfigurationError(`${component}: unknown option${unknown.length > 1 ? 's' : ''} ${names}`, {
    ...(extra.provider ? { provider: extra.provider } : {}),
    fields: unknown,
    details: { reason: 'unknown_option', options: unknown },
  });
}
