/**
 * `@markmail/crm/http`: the host surface — the original `/api/crm` endpoints as one Web-standard
 * handler, and the dashboard page it serves.
 *
 * @packageDocumentation
 */
export { toNodeHttpListener, type WebRequestHandler } from '../salesforce/webhooks/node-http.js';
export {
  type CrmHttpAuthProvider,
  type CrmHttpHandler,
  type CrmHttpHandlerOptions,
  type CrmHttpHostData,
  type CrmHttpHostField,
  type CrmHttpProviderContext,
  createCrmHttpHandler,
} from './handler.js';
export type { CrmHttpErrorBody } from './responses.js';
export type { CrmHttpSyncRun } from './sync-runs.js';
