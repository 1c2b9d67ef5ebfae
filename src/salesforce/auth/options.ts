import { CrmConfigurationError } from '../../core/errors.js';

/**
 * Reject option keys a constructor does not know, so a typo (`clientSecert`) fails loudly instead
 * of silently disabling a feature. Values are never echoed.
 *
 * @throws CrmConfigurationError naming the unknown keys.
 */
export function assertKnownOptions(component: string, options: object, known: ReadonlyArray<string>): void {
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new CrmConfigurationError(`${component} got unknown option(s): ${unknown.join(', ')}`, {
      provider: 'salesforce',
      fields: unknown,
    });
  }
}
