import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import { owner, systemFields } from './common.js';

/**
 * StreamingChannel (Object Reference "StreamingChannel"; Streaming API Developer Guide "Generic
 * Streaming"): a named `/u/…` channel whose custom events are pushed through
 * `sobjects/StreamingChannel/<id>/push`. The CometD module reads these rows.
 */
export function streamingChannelDefinition(): EmulatorObjectDefinition {
  return {
    name: 'StreamingChannel',
    label: 'Streaming Channel',
    labelPlural: 'Streaming Channels',
    keyPrefix: SALESFORCE_KEY_PREFIXES.StreamingChannel,
    uniqueTogether: [{ fields: ['Name'], message: 'duplicate value found: Name' }],
    fields: [
      ...systemFields(),
      owner,
      { name: 'Name', type: 'string', label: 'Streaming Channel Name', length: 80, required: true },
      { name: 'Description', type: 'string', length: 255 },
    ],
  };
}
