/**
 * `@markmail/crm/testing`: test utilities for hosts and for authors of providers and storage
 * adapters. Importing this module does not load any test runner.
 *
 * @packageDocumentation
 */

import { assertSupportedNode } from '../internal/node-floor.js';

// First, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

export * from './fake-provider.js';
export * from './hubspot-emulator/index.js';
export * from './provider-conformance.js';
export * from './salesforce-emulator/index.js';
export * from './salesforce-emulator/realtime/index.js';
export * from './storage-conformance.js';
