import { createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';

/** Claims of a JWT bearer assertion the emulator checks. */
export interface JwtBearerClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
}

/** Why an assertion was refused (mapped to Salesforce's OAuth errors by the caller). */
export type JwtFailure = 'malformed' | 'algorithm' | 'signature';

/**
 * Public key from a PEM certificate (what a connected app stores) or a PEM public key.
 *
 * @throws {Error} when the PEM is neither.
 */
export function publicKeyFromPem(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  return createPublicKey(pem);
}

/** Verifies an RS256 compact JWS against any of `keys`; returns its claims or a failure. */
export function verifyRs256(
  assertion: string,
  keys: KeyObject[],
): { claims: JwtBearerClaims } | { failure: JwtFailure } {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { failure: 'malformed' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown };
  let claims: JwtBearerClaims;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as JwtBearerClaims;
  } catch {
    return { failure: 'malformed' };
  }
  if (header.alg !== 'RS256') return { failure: 'algorithm' };
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const ok = keys.some((key) => {
    try {
      return verify('RSA-SHA256', data, key, signature);
    } catch {
      return false;
    }
  });
  return ok ? { claims } : { failure: 'signature' };
}
