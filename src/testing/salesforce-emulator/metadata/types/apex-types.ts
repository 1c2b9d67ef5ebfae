import type { IdGenerator } from '../../ids.js';
import type { OrgStore } from '../../store/org-store.js';
import { ComponentError } from '../component-error.js';
import type { MetadataTypeHandler } from '../metadata-types.js';
import { StoredComponents } from './stored-components.js';

/** Said on every deployed Apex component: the source is kept, never compiled or run. */
export const APEX_NOT_EXECUTED =
  'Stored, not compiled: the emulator does not execute Apex (no triggers fire, no tests run, no Apex REST)';

/** Apex source with the comments and string literals removed, for the declaration checks. */
function code(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:\\.|[^'\\])*'/g, "''");
}

/** `ApexClass` and `ApexTrigger` handlers, plus the names of deployed `@isTest` classes. */
export function apexTypes(
  ids: IdGenerator,
  store: OrgStore,
): { handlers: MetadataTypeHandler[]; testClasses(): string[] } {
  const classes = new StoredComponents();
  const triggers = new StoredComponents();
  const apexClass: MetadataTypeHandler = {
    type: 'ApexClass',
    directory: 'classes',
    suffix: 'cls',
    hasContent: true,
    // Without a compiler the emulator checks only that the file declares the class it is named
    // after (Salesforce refuses a file whose class name differs from the file name).
    validate(item) {
      const source = code(item.content?.toString('utf8') ?? '');
      const name = item.fullName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (!new RegExp(`\\b(?:class|interface|enum)\\s+${name}\\b`, 'i').test(source))
        throw new ComponentError(
          'FIELD_INTEGRITY_EXCEPTION',
          `The file does not declare a class, interface or enum named ${item.fullName}`,
        );
    },
    warning: APEX_NOT_EXECUTED,
    apply: (item) => classes.put(item.fullName, item.component, item.content, () => ids.next('01p')),
    retrieve: (fullName) => classes.retrieve(fullName),
    list: () => classes.names(),
  };
  const apexTrigger: MetadataTypeHandler = {
    type: 'ApexTrigger',
    directory: 'triggers',
    suffix: 'trigger',
    hasContent: true,
    // `trigger Name on Object (events)`: the name must match and the object must exist.
    validate(item, scope) {
      const match = /\btrigger\s+([A-Za-z][A-Za-z0-9_]*)\s+on\s+([A-Za-z][A-Za-z0-9_]*)\s*\(/i.exec(
        code(item.content?.toString('utf8') ?? ''),
      );
      if (!match || match[1]?.toLowerCase() !== item.fullName.toLowerCase())
        throw new ComponentError(
          'FIELD_INTEGRITY_EXCEPTION',
          `The file does not declare a trigger named ${item.fullName} (trigger ${item.fullName} on Object (events))`,
        );
      const object = match[2] as string;
      if (!store.schema(object) && !scope.includes('CustomObject', object))
        throw new ComponentError('INVALID_CROSS_REFERENCE_KEY', `Invalid SObject type name: ${object}`);
    },
    warning: APEX_NOT_EXECUTED,
    apply: (item) => triggers.put(item.fullName, item.component, item.content, () => ids.next('01q')),
    retrieve: (fullName) => triggers.retrieve(fullName),
    list: () => triggers.names(),
  };
  return {
    handlers: [apexClass, apexTrigger],
    testClasses: () =>
      classes.names().filter((name) => /@isTest\b/i.test(classes.get(name)?.content?.toString('utf8') ?? '')),
  };
}
