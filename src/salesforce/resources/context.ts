import type { Connection } from 'jsforce';
import type { CrmClock } from '../../core/clock.js';
import type { CrmLogger } from '../../core/logger.js';
import type { CrmFieldMapping } from '../../core/models.js';
import type { CrmSleep } from '../../core/sleep.js';
import type { ResolvedBulkOptions } from '../bulk.js';
import type { SalesforceClient, SalesforceHttpRequest } from '../client.js';
import type { ContactMappingOptions } from '../mapping.js';
import type { ResolvedRetryOptions } from '../retry.js';

/** A field of a describe result, as far as the provider reads it. */
export interface DescribeField {
  name: string;
  label: string;
  type: string;
  createable?: boolean;
  updateable?: boolean;
  nillable?: boolean;
  defaultedOnCreate?: boolean;
  picklistValues?: Array<{ active?: boolean; value: string }>;
}

/**
 * What every resource function of the Salesforce provider works over: the client all calls go
 * through, the injected seams and the resolved options. One per `SalesforceProvider`; only
 * `fieldMappings` (set by `mapCustomFields`) and the describe cache change after construction.
 */
export interface SalesforceContext {
  readonly client: SalesforceClient;
  readonly connection: Connection;
  readonly logger: CrmLogger;
  readonly clock: CrmClock;
  readonly sleep: CrmSleep;
  readonly retry: ResolvedRetryOptions;
  readonly bulk: ResolvedBulkOptions;
  readonly externalIdField: string | null;
  readonly campaignExternalIdField: string;
  readonly leadExternalIdField: string | null;
  readonly activityExternalIdField: string | null;
  readonly bulkThreshold: number;
  /** The contact change feed reads through a Bulk API 2.0 query above this many records (`null`: never). */
  readonly bulkQueryThreshold: number | null;
  /** Records per Bulk query results page (`maxRecords`). */
  readonly bulkQueryPageSize: number;
  /** How far before its cursor the contact change feed re-reads, ms. */
  readonly changeLookbackMs: number;
  readonly concurrency: number;
  readonly leadConvertedStatus: string | undefined;
  fieldMappings: CrmFieldMapping[];
  /** Contact describe, fetched once and shared; cleared when the fetch fails. */
  describeContact: Promise<DescribeField[]> | undefined;
}

/** How contacts map to records under the context's current options. */
export function contactMapping(context: SalesforceContext): ContactMappingOptions {
  return { externalIdField: context.externalIdField, fieldMappings: context.fieldMappings };
}

/** The REST path of `path` under the connection's API version. */
export function apiUrl(context: SalesforceContext, path: string): string {
  return `/services/data/v${context.connection.version}${path}`;
}

/** A JSON request to `path`. */
export function jsonRequest(
  context: SalesforceContext,
  method: SalesforceHttpRequest['method'],
  path: string,
  body: unknown,
): SalesforceHttpRequest {
  return {
    method,
    url: apiUrl(context, path),
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  };
}
