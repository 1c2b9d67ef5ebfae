import { createHash, createHmac } from 'node:crypto';

/**
 * The `signature` of a token response: base64(HMAC-SHA256(key = client secret,
 * message = id + issued_at)), as the OAuth token response documentation describes.
 */
export function tokenSignature(clientSecret: string, identityUrl: string, issuedAt: string): string {
  return createHmac('sha256', clientSecret)
    .update(identityUrl + issuedAt)
    .digest('base64');
}

/** PKCE S256: base64url(SHA-256(verifier)). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
