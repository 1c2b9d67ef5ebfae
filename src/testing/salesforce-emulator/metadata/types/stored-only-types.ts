import type { IdGenerator } from '../../ids.js';
import type { MetadataTypeHandler } from '../metadata-types.js';
import { StoredComponents } from './stored-components.js';

/**
 * A type the emulator keeps as deployed (retrieve gives it back) without giving it its effect in
 * the org; every deploy of one says so in a `Warning` on its `DeployMessage`.
 */
function storedOnly(
  ids: IdGenerator,
  spec: Pick<
    MetadataTypeHandler,
    'type' | 'directory' | 'suffix' | 'rootElement' | 'inFolders' | 'parent'
  > & {
    keyPrefix: string;
    warning: string;
  },
): MetadataTypeHandler {
  const stored = new StoredComponents();
  const { keyPrefix, ...handler } = spec;
  return {
    ...handler,
    validate: () => undefined,
    apply: (item) =>
      stored.put(item.fullName, item.component, undefined, () => (keyPrefix ? ids.next(keyPrefix) : '')),
    retrieve: (fullName) => stored.retrieve(fullName),
    list: () => stored.names(),
  };
}

/**
 * Types found in ordinary packages (jsforce's test package has each) that the emulator stores
 * but does not act on: page layouts (the UI API's layouts are generated from the schema),
 * permission sets (the emulator checks no permissions), org settings, list views (the UI API's
 * list views are its own) and report folders and reports (the Reports REST API lists reports
 * created through it).
 */
export function storedOnlyTypes(ids: IdGenerator): MetadataTypeHandler[] {
  return [
    storedOnly(ids, {
      type: 'ListView',
      directory: 'objects',
      suffix: 'object',
      parent: { type: 'CustomObject', element: 'listViews' },
      keyPrefix: '00B',
      warning: 'Stored only: the emulator does not add deployed list views to the UI API list views',
    }),
    storedOnly(ids, {
      type: 'Layout',
      directory: 'layouts',
      suffix: 'layout',
      keyPrefix: '00h',
      warning:
        'Stored only: the emulator generates layouts from the object schema and does not use deployed layouts',
    }),
    storedOnly(ids, {
      type: 'PermissionSet',
      directory: 'permissionsets',
      suffix: 'permissionset',
      keyPrefix: '0PS',
      warning: 'Stored only: the emulator enforces no permissions, so a permission set changes nothing',
    }),
    storedOnly(ids, {
      type: 'Settings',
      directory: 'settings',
      suffix: 'settings',
      rootElement: (fullName) => `${fullName}Settings`,
      keyPrefix: '',
      warning: 'Stored only: org settings have no effect in the emulator',
    }),
    storedOnly(ids, {
      type: 'Report',
      directory: 'reports',
      suffix: 'report',
      inFolders: true,
      rootElement: (fullName) => (fullName.includes('/') ? 'Report' : 'ReportFolder'),
      keyPrefix: '00O',
      warning: "Stored only: deployed reports are not served by the emulator's Reports REST API",
    }),
  ];
}
