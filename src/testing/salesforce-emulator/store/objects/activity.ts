import type { EmulatorFieldDefinition, EmulatorObjectDefinition, EmulatorRecord } from '../schema.js';
import { readOnly, systemFields } from './common.js';

/**
 * Fields ActivityHistory and OpenActivity share (Object Reference "ActivityHistory",
 * "OpenActivity"): read-only views over tasks (and events, which the emulator does not have).
 * `WhatId` points to non-account parents only: an account's activities come through `AccountId`,
 * so `Account.ActivityHistories` is keyed on it as in a real describe.
 */
function activityFields(): EmulatorFieldDefinition[] {
  return [
    ...systemFields(),
    readOnly({ name: 'AccountId', type: 'reference', referenceTo: ['Account'], relationshipName: 'Account' }),
    readOnly({
      name: 'WhoId',
      type: 'reference',
      label: 'Name ID',
      referenceTo: ['Contact', 'Lead'],
      relationshipName: 'Who',
    }),
    readOnly({
      name: 'WhatId',
      type: 'reference',
      label: 'Related To ID',
      referenceTo: ['Opportunity', 'Campaign'],
      relationshipName: 'What',
    }),
    readOnly({ name: 'Subject', type: 'string', length: 255 }),
    readOnly({ name: 'IsTask', type: 'boolean', label: 'Task' }),
    readOnly({ name: 'ActivityDate', type: 'date', label: 'Date' }),
    readOnly({
      name: 'OwnerId',
      type: 'reference',
      label: 'Assigned To ID',
      referenceTo: ['User'],
      relationshipName: 'Owner',
    }),
    readOnly({ name: 'Status', type: 'picklist', length: 40 }),
    readOnly({ name: 'Priority', type: 'picklist', length: 40 }),
    readOnly({ name: 'IsHighPriority', type: 'boolean', label: 'High Priority' }),
    readOnly({ name: 'ActivityType', type: 'picklist', length: 40, label: 'Type' }),
    readOnly({ name: 'IsClosed', type: 'boolean', label: 'Closed' }),
    readOnly({ name: 'Description', type: 'textarea', label: 'Comments' }),
    readOnly({ name: 'CallDurationInSeconds', type: 'int', label: 'Call Duration', precision: 8 }),
    readOnly({ name: 'CallType', type: 'picklist', length: 40 }),
    readOnly({ name: 'CallDisposition', type: 'string', label: 'Call Result', length: 255 }),
    readOnly({ name: 'CallObject', type: 'string', label: 'Call Object Identifier', length: 255 }),
  ];
}

/** ActivityHistory: closed tasks (Object Reference "ActivityHistory"); only `describeSObjects()` and sub-queries. */
export function activityHistoryDefinition(): EmulatorObjectDefinition {
  return {
    name: 'ActivityHistory',
    label: 'Activity History',
    labelPlural: 'Activity Histories',
    keyPrefix: '',
    createable: false,
    updateable: false,
    deletable: false,
    fields: activityFields(),
  };
}

/** OpenActivity: open tasks (Object Reference "OpenActivity"); only `describeSObjects()` and sub-queries. */
export function openActivityDefinition(): EmulatorObjectDefinition {
  return {
    name: 'OpenActivity',
    label: 'Open Activity',
    labelPlural: 'Open Activities',
    keyPrefix: '',
    createable: false,
    updateable: false,
    deletable: false,
    fields: activityFields(),
  };
}

/**
 * What Salesforce derives on a task (Object Reference "Task"): `IsClosed` "is only set indirectly
 * via the Status picklist" (a new org's only closed status is Completed), `IsHighPriority` from
 * `Priority` (High), and `AccountId` from `WhatId` when that is an account (the store fills the
 * other cases, which need the parent row).
 */
export function deriveTaskFields(row: EmulatorRecord): void {
  row.IsClosed = row.Status === 'Completed';
  row.IsHighPriority = row.Priority === 'High';
  if (typeof row.WhatId === 'string' && row.WhatId.startsWith('001')) row.AccountId = row.WhatId;
}
