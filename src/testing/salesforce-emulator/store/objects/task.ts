import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import { deriveTaskFields } from './activity.js';
import { owner, readOnly, systemFields } from './common.js';

/** Task (Object Reference "Task"): an activity on a person (`WhoId`) and/or a record (`WhatId`). */
export function taskDefinition(): EmulatorObjectDefinition {
  return {
    name: 'Task',
    label: 'Task',
    labelPlural: 'Tasks',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Task,
    derive: deriveTaskFields,
    fields: [
      ...systemFields(),
      {
        name: 'WhoId',
        type: 'reference',
        label: 'Name ID',
        referenceTo: ['Contact', 'Lead'],
        relationshipName: 'Who',
      },
      {
        name: 'WhatId',
        type: 'reference',
        label: 'Related To ID',
        referenceTo: ['Account', 'Opportunity', 'Campaign'],
        relationshipName: 'What',
      },
      { name: 'Subject', type: 'string', length: 255 },
      { name: 'ActivityDate', type: 'date', label: 'Due Date Only' },
      {
        name: 'Status',
        type: 'picklist',
        length: 40,
        defaultValue: 'Not Started',
        picklistValues: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'],
      },
      {
        name: 'Priority',
        type: 'picklist',
        length: 40,
        defaultValue: 'Normal',
        picklistValues: ['High', 'Normal', 'Low'],
      },
      readOnly({ name: 'IsHighPriority', type: 'boolean', label: 'High Priority', defaultValue: false }),
      owner,
      { name: 'Description', type: 'textarea', label: 'Comments' },
      { name: 'Type', type: 'picklist', length: 40, picklistValues: ['Call', 'Email', 'Meeting', 'Other'] },
      readOnly({ name: 'IsClosed', type: 'boolean', label: 'Closed', defaultValue: false }),
      readOnly({
        name: 'AccountId',
        type: 'reference',
        label: 'Account ID',
        referenceTo: ['Account'],
        relationshipName: 'Account',
      }),
      { name: 'CallDurationInSeconds', type: 'int', label: 'Call Duration', precision: 8 },
      { name: 'CallType', type: 'picklist', length: 40, picklistValues: ['Internal', 'Inbound', 'Outbound'] },
      { name: 'CallDisposition', type: 'string', label: 'Call Result', length: 255 },
      { name: 'CallObject', type: 'string', label: 'Call Object Identifier', length: 255 },
      { name: 'ReminderDateTime', type: 'datetime', label: 'Reminder Date/Time' },
      { name: 'IsReminderSet', type: 'boolean', label: 'Reminder Set', defaultValue: false },
      {
        name: 'CompletedDateTime',
        type: 'datetime',
        label: 'Completed Date/Time',
        createable: false,
        updateable: false,
      },
      {
        name: 'TaskSubtype',
        type: 'picklist',
        label: 'Task Subtype',
        length: 40,
        picklistValues: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'],
      },
    ],
  };
}
