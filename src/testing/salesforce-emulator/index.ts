/**
 * The local Salesforce emulator (`startSalesforceEmulator`) and the types of its controls and
 * extension points.
 *
 * @packageDocumentation
 */
export {
  type BulkControlTarget,
  failNextBulkJob,
  INJECTED_FAILURE_MESSAGE,
  setBulkProcessingDelay,
  setBulkQueryPageSize,
} from './bulk/bulk-controls.js';
export {
  type BulkRecordFaultSpec,
  failBulkRecords,
  failNextBulkJobWhileRunning,
  RUNNING_FAILURE_MESSAGE,
} from './bulk/bulk-faults.js';
export { type SalesforceEmulator, startSalesforceEmulator } from './emulator.js';
export type { EmulatorFault, EmulatorFaultSpec, EmulatorFaults } from './faults.js';
export { EmulatorHttpError, EmulatorOAuthError } from './http/errors.js';
export type { EmulatorRouter, RouteMatch } from './http/router.js';
export type {
  EmulatorHttpMethod,
  EmulatorRequestContext,
  EmulatorResponse,
  EmulatorRoute,
  EmulatorRouteHandler,
  EmulatorRouteKind,
  EmulatorSession,
} from './http/types.js';
export { checksumSuffix, SALESFORCE_KEY_PREFIXES, toId15, toId18 } from './ids.js';
export type { EmulatorModule, EmulatorModuleContext, EmulatorModuleInstance } from './module.js';
export type { EmulatorOAuthControls } from './oauth/oauth-routes.js';
export type { SalesforceEmulatorOptions } from './options.js';
export type { EmulatorQueryResult } from './soql/execute.js';
export type { EmulatorStats } from './stats.js';
export type { EmulatorClock, OrgStore, StoreWriteOperation, StoreWriteOptions } from './store/org-store.js';
export type { EmulatorSaveError, EmulatorSaveResult } from './store/record-error.js';
export type {
  EmulatorFieldDefinition,
  EmulatorFieldType,
  EmulatorObjectDefinition,
  EmulatorRecord,
  EmulatorValue,
} from './store/schema.js';
