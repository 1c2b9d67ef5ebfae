import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { CrmConfigurationError } from '../../core/errors.js';

/** Claims of a Salesforce JWT bearer assertion. */
export interface SalesforceJwtClaims {
  /** Connected app (or External Client App) consumer key. */
  iss: string;
  /** Username of the user to act as. */
  sub: string;
  /** Login host: `https://login.salesforce.com`, `https://test.salesforce.com` or a site URL. */
  aud: string;
  /** Expiry, seconds since the epoch. Salesforce accepts at most 3 minutes ahead plus skew. */
  exp: number;
}

/** Options of {@link createJwtAssertion}. */
export interface CreateJwtAssertionOptions {
  /** Consumer key of the connected app. */
  clientId: string;
  /** Salesforce username the token is issued for. */
  username: string;
  /** `aud` claim. */
  audience: string;
  /** RSA private key: PEM text or a `KeyObject`. The matching certificate is uploaded to the app. */
  privateKey: string | KeyObject;
  /** Current time. */
  now: Date;
  /** Lifetime of the assertion. @default 180 (seconds; Salesforce's maximum) */
  expiresInSeconds?: number;
}

/**
 * Build and sign (RS256, `node:crypto`) the assertion for the JWT bearer flow.
 *
 * @throws CrmConfigurationError when the key is not an RSA private key.
 */
export function createJwtAssertion(options: CreateJwtAssertionOptions): string {
  let key: KeyObject;
  try {
    key = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  } catch (cause) {
    // The cause (from OpenSSL) never contains key material, but keep the message generic anyway.
    throw new CrmConfigurationError('JWT bearer privateKey is not a readable PEM private key', {
      provider: 'salesforce',
      fields: ['privateKey'],
      cause,
    });
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
    throw new CrmConfigurationError('JWT bearer privateKey must be an RSA private key (RS256)', {
      provider: 'salesforce',
      fields: ['privateKey'],
    });
  }
  const claims: SalesforceJwtClaims = {
    iss: options.clientId,
    sub: options.username,
    aud: options.audience,
    exp: Math.floor(options.now.getTime() / 1000) + (options.expiresInSeconds ?? 180),
  };
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}
