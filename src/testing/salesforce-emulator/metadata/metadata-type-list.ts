import type { EmulatorModuleContext } from '../module.js';
import type { ProcessDefinitions } from '../process/process-definitions.js';
import type { CustomObjectMetadata } from './custom-objects.js';
import type { DashboardMetadata } from './dashboards.js';
import type { MetadataTypeHandler } from './metadata-types.js';
import type { apexTypes } from './types/apex-types.js';
import { customObjectTypes } from './types/custom-object-types.js';
import { dashboardTypes } from './types/dashboard-types.js';
import { processTypes } from './types/process-types.js';
import { storedOnlyTypes } from './types/stored-only-types.js';

/** What the type handlers are built from (one set per emulator). */
export interface MetadataTypeDependencies {
  context: EmulatorModuleContext;
  objects: CustomObjectMetadata;
  definitions: ProcessDefinitions;
  apex: ReturnType<typeof apexTypes>;
  dashboards: DashboardMetadata;
  /** Called when an approval process is defined on an object (its records may then be submitted). */
  onApprovalObject(object: string): void;
}

/**
 * Every metadata type the emulator deploys and retrieves, in deploy order: objects and fields
 * first, Apex, then automation that names fields (workflow field updates before the approval
 * processes that use them), dashboards (after the reports they show), then the rest. A type missing here fails in a deploy with a
 * component error. Add a type with one line.
 */
export function metadataTypeHandlers(deps: MetadataTypeDependencies): MetadataTypeHandler[] {
  const { context } = deps;
  return [
    ...customObjectTypes(deps.objects, context.store),
    ...deps.apex.handlers,
    ...processTypes(deps.definitions, context.store, deps.onApprovalObject),
    ...dashboardTypes(deps.dashboards),
    ...storedOnlyTypes(context.ids),
  ];
}
