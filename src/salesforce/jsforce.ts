import type * as Jsforce from 'jsforce';
import { requireOptionalPeer } from '../internal/optional-peer.js';

/**
 * jsforce, loaded when a provider is first built rather than when `@markmail/crm/salesforce` is
 * imported: jsforce is an optional peer dependency, so a host without it gets a
 * `CrmConfigurationError` saying `npm install jsforce` instead of a module-resolution crash.
 */
export function loadJsforce(): typeof Jsforce {
  return requireOptionalPeer<typeof Jsforce>('jsforce', 'SalesforceProvider');
}
