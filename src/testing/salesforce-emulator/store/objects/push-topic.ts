import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import { systemFields } from './common.js';

/**
 * PushTopic (Object Reference "PushTopic"; Streaming API Developer Guide "PushTopic Streaming"):
 * a SOQL query whose matching record changes are published on `/topic/<Name>`. The CometD module
 * reads these rows to decide what to publish.
 */
export function pushTopicDefinition(): EmulatorObjectDefinition {
  const flag = (name: string) => ({ name, type: 'boolean' as const, defaultValue: true });
  return {
    name: 'PushTopic',
    label: 'Push Topic',
    labelPlural: 'Push Topics',
    keyPrefix: SALESFORCE_KEY_PREFIXES.PushTopic,
    // "This value identifies the channel and must be unique."
    uniqueTogether: [{ fields: ['Name'], message: 'duplicate value found: Name' }],
    fields: [
      ...systemFields(),
      { name: 'Name', type: 'string', label: 'Topic Name', length: 25, required: true },
      { name: 'Query', type: 'string', label: 'SOQL Query', length: 1300, required: true },
      { name: 'ApiVersion', type: 'double', label: 'API Version', precision: 18, scale: 1, required: true },
      { name: 'IsActive', type: 'boolean', label: 'Is Active', defaultValue: true },
      {
        name: 'NotifyForFields',
        type: 'picklist',
        label: 'Notify For Fields',
        length: 40,
        picklistValues: ['All', 'Referenced', 'Select', 'Where'],
        defaultValue: 'Referenced',
      },
      flag('NotifyForOperationCreate'),
      flag('NotifyForOperationUpdate'),
      flag('NotifyForOperationDelete'),
      flag('NotifyForOperationUndelete'),
      { name: 'Description', type: 'string', length: 400 },
    ],
  };
}
