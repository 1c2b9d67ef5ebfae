/**
 * `@markmail/crm/testing`: test utilities for hosts and for authors of providers and storage
 * adapters. Importing this module does not load any test runner.
 *
 * @packageDocumentation
 */
export * from './storage-conformance.js';
export * from './fake-provider.js';
