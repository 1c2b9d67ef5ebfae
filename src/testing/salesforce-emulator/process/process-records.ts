import type { OrgStore, StoreWriteOperation } from '../store/org-store.js';
import type { EmulatorSaveResult } from '../store/record-error.js';
import { processObjectDefinitions } from './process-objects.js';

/** A write the engine expected to succeed did not: the request fails with this Salesforce error. */
export class ProcessError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Adds ProcessInstance, ProcessInstanceWorkitem and ProcessInstanceStep to the org (once), and
 * returns how to let `ProcessInstance.TargetObjectId` point to another object.
 */
export function installProcessObjects(store: OrgStore): { add(object: string): void } {
  if (!store.schema('ProcessInstance'))
    for (const definition of processObjectDefinitions(['Account'])) store.addObject(definition);
  return {
    add: (object) => {
      const field = store.schema('ProcessInstance')?.field('TargetObjectId');
      // The polymorphic lookup lists every object that has an approval process.
      if (field && !field.referenceTo.includes(object)) field.referenceTo.push(object);
    },
  };
}

/** Runs writes as the system (read-only objects and fields too); the first failure throws. */
export function write(store: OrgStore, operations: StoreWriteOperation[], csv = false): string[] {
  const results: EmulatorSaveResult[] = store.apply(operations, {
    bypassFieldPermissions: true,
    ...(csv ? { valueFormat: 'csv' as const } : {}),
  });
  for (const result of results)
    if (!result.success) {
      const error = result.errors[0];
      throw new ProcessError(error?.statusCode ?? 'UNKNOWN_EXCEPTION', error?.message ?? 'The write failed');
    }
  return results.map((result) => result.id as string);
}
