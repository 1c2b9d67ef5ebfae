import { CrmAuthenticationError } from '../../core/errors.js';
import type { SalesforceTokens } from './token-set.js';

/**
 * What the package stores (encrypted with `CredentialCipher`) in `CrmIntegration.credentials` for
 * a Salesforce integration. The plaintext is this object as JSON; only the ciphertext is stored.
 */
export interface SalesforceStoredCredentials {
  /** Format version. */
  v: 1;
  accessToken: string;
  refreshToken?: string;
  instanceUrl: string;
  /** Identity URL. */
  id?: string;
  /** Milliseconds since the epoch. */
  issuedAt?: number;
  scope?: string;
}

/** Serialise tokens to the plaintext JSON that is then encrypted. */
export function encodeSalesforceCredentials(tokens: SalesforceTokens): string {
  const stored: SalesforceStoredCredentials = {
    v: 1,
    accessToken: tokens.accessToken,
    instanceUrl: tokens.instanceUrl,
  };
  if (tokens.refreshToken) stored.refreshToken = tokens.refreshToken;
  if (tokens.id) stored.id = tokens.id;
  if (tokens.issuedAt) stored.issuedAt = tokens.issuedAt.getTime();
  if (tokens.scope) stored.scope = tokens.scope;
  return JSON.stringify(stored);
}

/**
 * Parse decrypted credentials back into tokens.
 *
 * @throws CrmAuthenticationError when the plaintext is not Salesforce credentials (the message
 *   never includes the plaintext).
 */
export function decodeSalesforceCredentials(plaintext: string): SalesforceTokens {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    parsed = undefined;
  }
  const value = (parsed ?? {}) as Partial<SalesforceStoredCredentials>;
  if (typeof value.accessToken !== 'string' || typeof value.instanceUrl !== 'string') {
    throw new CrmAuthenticationError(
      'Stored Salesforce credentials are unreadable; re-authorise the integration',
      {
        provider: 'salesforce',
        providerCode: 'invalid_stored_credentials',
      },
    );
  }
  const tokens: SalesforceTokens = { accessToken: value.accessToken, instanceUrl: value.instanceUrl };
  if (typeof value.refreshToken === 'string' && value.refreshToken) tokens.refreshToken = value.refreshToken;
  if (typeof value.id === 'string') tokens.id = value.id;
  if (typeof value.issuedAt === 'number') tokens.issuedAt = new Date(value.issuedAt);
  if (typeof value.scope === 'string') tokens.scope = value.scope;
  return tokens;
}

/**
 * The part of `CredentialCipher` (from `@markmail/crm`) the auth code uses. Declared structurally
 * so a host may pass its own KMS-backed implementation; sync or async results both work.
 */
export interface CredentialCipherLike {
  /** `options.context` is associated data (AES-GCM AAD) binding a ciphertext to its use. */
  encrypt(plaintext: string, options?: { context?: string }): string | Promise<string>;
  decrypt(ciphertext: string, options?: { context?: string }): string | Promise<string>;
}
