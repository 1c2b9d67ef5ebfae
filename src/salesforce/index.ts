/**
 * `@markmail/crm/salesforce`: the Salesforce provider (jsforce 3 inside).
 *
 * @packageDocumentation
 */
export type { SalesforceBulkOptions } from './bulk.js';
export type { SalesforceRefreshResult } from './client.js';
export { toSalesforceError } from './errors.js';
export {
  DEFAULT_SALESFORCE_API_VERSION,
  type SalesforceOAuthClientConfig,
  type SalesforceProviderOptions,
  type SalesforceRefreshedTokens,
  type SalesforceTokenRefresher,
} from './options.js';
export { COLLECTION_LIMIT, registerSalesforceProvider, SalesforceProvider } from './provider.js';
export type { SalesforceRetryOptions, SleepFunction } from './retry.js';
export { escapeSoqlLiteral, soqlString } from './soql.js';
