import { createHmac, timingSafeEqual } from 'node:crypto';
import { CrmAuthenticationError } from '../../core/errors.js';

/**
 * The package's one Salesforce token shape: what a `TokenManager` starts from and persists
 * (encrypted), what `encodeSalesforceCredentials` / `decodeSalesforceCredentials` store and read,
 * and what `SalesforceProvider`'s `onTokenRefresh` receives after a refresh. A token call's full
 * answer, {@link SalesforceTokenSet}, is one of these with more guaranteed.
 */
export interface SalesforceTokens {
  /** The session id used as `Authorization: Bearer …`. Secret. */
  accessToken: string;
  /** Present for the web-server and device flows when the app has the `refresh_token` scope. Secret. */
  refreshToken?: string;
  /** Origin of the org's instance, e.g. `https://acme.my.salesforce.com` (no trailing slash). */
  instanceUrl: string;
  /** Identity URL `https://login.salesforce.com/id/<orgId>/<userId>`, when known. */
  id?: string;
  /** When Salesforce issued the token, when known. */
  issuedAt?: Date;
  /** Granted scopes, space separated, when reported. */
  scope?: string;
}

/**
 * What every Salesforce token call resolves to (authorization code, device, JWT bearer, refresh):
 * {@link SalesforceTokens} with the identity always present. Salesforce sends no `expires_in`: an
 * access token lives as long as the org's session timeout (2 hours by default) and is extended by
 * use, so {@link TokenManager} decides when to refresh.
 */
export interface SalesforceTokenSet extends SalesforceTokens {
  /** Identity URL `https://login.salesforce.com/id/<orgId>/<userId>`. */
  id: string;
  /** When Salesforce issued the token. */
  issuedAt: Date;
  /** 18-character org id parsed from {@link id}. */
  orgId: string;
  /** 18-character user id parsed from {@link id}. */
  userId: string;
  /** `api_instance_url` for orgs with a separate API host, when reported. */
  apiInstanceUrl?: string;
}

/** The raw OAuth token response body, as Salesforce sends it. */
export interface SalesforceTokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  instance_url?: unknown;
  id?: unknown;
  issued_at?: unknown;
  signature?: unknown;
  scope?: unknown;
  token_type?: unknown;
  api_instance_url?: unknown;
}

/**
 * Split an identity URL (`…/id/<orgId>/<userId>`) into its ids, the way jsforce does.
 *
 * @throws CrmAuthenticationError when the URL does not have that shape.
 */
export function parseIdentityUrl(id: string): { orgId: string; userId: string } {
  let segments: string[];
  try {
    segments = new URL(id).pathname.split('/').filter(Boolean);
  } catch {
    segments = [];
  }
  const [marker, orgId, userId] = segments.slice(-3);
  if (marker !== 'id' || !orgId || !userId || !/^00D/.test(orgId) || !/^005/.test(userId)) {
    throw new CrmAuthenticationError('Salesforce token response has a malformed identity URL', {
      provider: 'salesforce',
      providerCode: 'invalid_identity_url',
    });
  }
  return { orgId, userId };
}

/**
 * Compute the `signature` Salesforce puts on token responses:
 * base64(HMAC-SHA256(key = client secret, message = id + issued_at)).
 */
export function computeTokenSignature(clientSecret: string, id: string, issuedAt: string): string {
  return createHmac('sha256', clientSecret)
    .update(id + issuedAt)
    .digest('base64');
}

/** Constant-time check of a token response signature. */
export function verifyTokenSignature(
  clientSecret: string,
  id: string,
  issuedAt: string,
  signature: string,
): boolean {
  const expected = Buffer.from(computeTokenSignature(clientSecret, id, issuedAt));
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Options of {@link parseTokenResponse}. */
export interface ParseTokenResponseOptions {
  /** When set and the response carries a `signature`, it must verify against this secret. */
  clientSecret?: string;
  /** Reject a response without a `signature` (only meaningful with {@link clientSecret}). @default false */
  requireSignature?: boolean;
  /** Fallback `issuedAt` when the response has none. */
  now: Date;
  /** Name of the operation, for error messages. */
  operation: string;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Validate a token response body and turn it into a {@link SalesforceTokenSet}. Verifies the
 * `signature` when a client secret is known, so a tampered identity URL (and thereby a forged
 * org or user id) is detected.
 *
 * @throws CrmAuthenticationError when a field is missing or the signature does not verify.
 */
export function parseTokenResponse(
  body: SalesforceTokenResponse,
  options: ParseTokenResponseOptions,
): SalesforceTokenSet {
  const accessToken = str(body.access_token);
  const instanceUrl = str(body.instance_url);
  const id = str(body.id);
  if (!accessToken || !instanceUrl || !id) {
    const missing = [!accessToken && 'access_token', !instanceUrl && 'instance_url', !id && 'id'].filter(
      (f): f is string => typeof f === 'string',
    );
    throw new CrmAuthenticationError(
      `Salesforce ${options.operation} returned an incomplete token response (missing ${missing.join(', ')})`,
      { provider: 'salesforce', providerCode: 'invalid_token_response' },
    );
  }
  const issuedAtRaw = typeof body.issued_at === 'number' ? String(body.issued_at) : str(body.issued_at);
  const signature = str(body.signature);
  if (options.clientSecret && (signature || options.requireSignature)) {
    if (
      !signature ||
      !issuedAtRaw ||
      !verifyTokenSignature(options.clientSecret, id, issuedAtRaw, signature)
    ) {
      throw new CrmAuthenticationError(
        `Salesforce ${options.operation} returned a token response whose signature does not verify`,
        { provider: 'salesforce', providerCode: 'invalid_signature' },
      );
    }
  }
  const issuedAtMs = issuedAtRaw !== undefined ? Number(issuedAtRaw) : Number.NaN;
  const { orgId, userId } = parseIdentityUrl(id);
  const tokens: SalesforceTokenSet = {
    accessToken,
    instanceUrl: instanceUrl.replace(/\/+$/, ''),
    id,
    issuedAt: Number.isFinite(issuedAtMs) ? new Date(issuedAtMs) : options.now,
    orgId,
    userId,
  };
  const refreshToken = str(body.refresh_token);
  if (refreshToken) tokens.refreshToken = refreshToken;
  const scope = str(body.scope);
  if (scope) tokens.scope = scope;
  const apiInstanceUrl = str(body.api_instance_url);
  if (apiInstanceUrl) tokens.apiInstanceUrl = apiInstanceUrl.replace(/\/+$/, '');
  return tokens;
}
