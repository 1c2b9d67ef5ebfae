/**
 * `@markmail/crm` core: models, the provider contract, errors, the storage contract, the sync
 * engine and credential encryption. Imports no CRM SDK or database driver.
 *
 * @packageDocumentation
 */
export * from './core/errors.js';
export * from './core/logger.js';
export * from './core/models.js';
export * from './core/provider.js';
export * from './core/registry.js';
export * from './security/cipher.js';
export { isSecretKey, REDACTED, redactText, redactValue } from './security/redact.js';
export * from './storage/types.js';
export * from './storage/memory.js';
