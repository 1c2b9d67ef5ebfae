import { createHmac, timingSafeEqual } from 'node:crypto';

/** HubSpot's documented maximum age of a signed webhook request. */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

/** Inputs of {@link verifyHubSpotSignatureV3}. */
export interface HubSpotSignatureInput {
  /** The app's client secret (the HMAC key). */
  clientSecret: string;
  method: string;
  /** The full URL HubSpot called (scheme, host, path and query). */
  uri: string;
  /** The raw body, exactly as received. */
  body: string;
  /** `X-HubSpot-Request-Timestamp` (ms since epoch). */
  timestamp: string | null;
  /** `X-HubSpot-Signature-v3`. */
  signature: string | null;
  /** Now, ms since epoch. */
  now: number;
  /** Largest accepted age (and clock skew), ms. @default 300000 */
  maxAgeMs?: number;
}

/** Computes the v3 signature: base64 HMAC-SHA256 of `method + uri + body + timestamp`. */
export function hubSpotSignatureV3(
  clientSecret: string,
  method: string,
  uri: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', clientSecret).update(`${method}${uri}${body}${timestamp}`).digest('base64');
}

/**
 * Checks a v3 signature in constant time (unlike the official SDK's `===`), and that the timestamp
 * is within `maxAgeMs` of `now`. `missing`: a header is absent; `stale`: the timestamp is out of
 * the window; `mismatch`: wrong signature.
 */
export function verifyHubSpotSignatureV3(
  input: HubSpotSignatureInput,
): 'valid' | 'missing' | 'stale' | 'mismatch' {
  if (!input.signature || !input.timestamp) return 'missing';
  const at = Number(input.timestamp);
  const maxAge = input.maxAgeMs ?? HUBSPOT_SIGNATURE_MAX_AGE_MS;
  if (!Number.isFinite(at) || Math.abs(input.now - at) > maxAge) return 'stale';
  const expected = Buffer.from(
    hubSpotSignatureV3(input.clientSecret, input.method, input.uri, input.body, input.timestamp),
  );
  const given = Buffer.from(input.signature);
  // Equal lengths first: timingSafeEqual throws otherwise, and the length of a base64 HMAC is public.
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'mismatch';
}
