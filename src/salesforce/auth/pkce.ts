import { createHash, randomBytes } from 'node:crypto';

/** A PKCE pair: keep the verifier secret until the code exchange, send the challenge. */
export interface PkcePair {
  /** High-entropy secret, 86 characters of base64url (RFC 7636 allows 43–128). */
  codeVerifier: string;
  /** base64url(SHA-256(codeVerifier)), sent as `code_challenge` with method `S256`. */
  codeChallenge: string;
}

/** base64url(SHA-256(verifier)) as RFC 7636 §4.2 defines for the `S256` method. */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url');
}

/** A fresh PKCE verifier and its S256 challenge. */
export function createPkcePair(): PkcePair {
  const codeVerifier = randomBytes(64).toString('base64url');
  return { codeVerifier, codeChallenge: pkceChallenge(codeVerifier) };
}

/** A random opaque value (base64url of 32 bytes) for OAuth `state`. */
export function randomState(): string {
  return randomBytes(32).toString('base64url');
}
