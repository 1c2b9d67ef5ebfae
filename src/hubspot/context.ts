import type { HubSpotClient } from './client.js';
import type { HubSpotApiVersion } from './options.js';

/** What every per-resource function receives: the client and the provider's settings. */
export interface HubSpotContext {
  client: HubSpotClient;
  apiVersion: HubSpotApiVersion;
  externalIdProperty: string | null;
  activityIdProperty: string;
  customProperties: string[];
  pullOverlapMs: number;
  pullPageSize: number;
  now(): Date;
}

/** `/crm/objects/2026-03/{type}` or `/crm/v3/objects/{type}`. */
export function objectsPath(context: HubSpotContext, type: string): string {
  return context.apiVersion === 'v3'
    ? `/crm/v3/objects/${type}`
    : `/crm/objects/${context.apiVersion}/${type}`;
}

/** `/crm/properties/2026-03/{type}` or `/crm/v3/properties/{type}`. */
export function propertiesPath(context: HubSpotContext, type: string): string {
  return context.apiVersion === 'v3'
    ? `/crm/v3/properties/${type}`
    : `/crm/properties/${context.apiVersion}/${type}`;
}

/** `/crm/lists/2026-03` or `/crm/v3/lists`. */
export function listsPath(context: HubSpotContext): string {
  return context.apiVersion === 'v3' ? '/crm/v3/lists' : `/crm/lists/${context.apiVersion}`;
}

/** `/marketing/campaigns/2026-03` or `/marketing/v3/campaigns`. */
export function campaignsPath(context: HubSpotContext): string {
  return context.apiVersion === 'v3'
    ? '/marketing/v3/campaigns'
    : `/marketing/campaigns/${context.apiVersion}`;
}

/** HubSpot's `SimplePublicObject`. */
export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  archivedAt?: string;
}

/** One entry of a batch response's `errors`. */
export interface HubSpotBatchError {
  status?: string;
  category?: string;
  subCategory?: string;
  message?: string;
  context?: Record<string, string[]>;
}

/** A batch response (200 or 207). */
export interface HubSpotBatchResponse<T> {
  status?: string;
  results: T[];
  errors?: HubSpotBatchError[];
}
