/**
 * The local Salesforce emulator (`startSalesforceEmulator`), the types of its controls, and what an
 * extension module (the `modules` option) needs. Internals (the org store, the router, id helpers,
 * the built-in modules) stay private: reach the store through `emulator.store` and
 * `EmulatorModuleContext`.
 *
 * @packageDocumentation
 */
export type { EmulatorBulkControls } from './bulk/bulk-control-api.js';
export {
  failNextBulkJob,
  setBulkProcessingDelay,
  setBulkQueryPageSize,
} from './bulk/bulk-controls.js';
export {
  type BulkRecordFaultSpec,
  failBulkRecords,
  failNextBulkJobWhileRunning,
} from './bulk/bulk-faults.js';
export { connectSalesforceEmulator, type SalesforceEmulatorControls } from './connect.js';
export { type SalesforceEmulator, startSalesforceEmulator } from './emulator.js';
export type { EmulatorFault, EmulatorFaultSpec, EmulatorFaults } from './faults.js';
export { EmulatorHttpError } from './http/errors.js';
export type {
  EmulatorHttpMethod,
  EmulatorRequestContext,
  EmulatorResponse,
  EmulatorRoute,
  EmulatorRouteHandler,
  EmulatorRouteKind,
  EmulatorSession,
} from './http/types.js';
export type { EmulatorModule, EmulatorModuleContext, EmulatorModuleInstance } from './module.js';
export type { EmulatorOAuthControls } from './oauth/oauth-routes.js';
export type { SalesforceEmulatorOptions } from './options.js';
export type { EmulatorQueryResult } from './soql/execute.js';
export type { EmulatorStats } from './stats.js';
export type { EmulatorClock } from './store/org-store.js';
export type { EmulatorSaveError, EmulatorSaveResult } from './store/record-error.js';
export type {
  EmulatorFieldDefinition,
  EmulatorFieldType,
  EmulatorObjectDefinition,
  EmulatorRecord,
  EmulatorValue,
} from './store/schema.js';
