/**
 * Secret redaction shared by every error, log and `toJSON` path.
 *
 * Salesforce access tokens look like `00D5g000004SXyz!AQ0AQ…` (org id, `!`, opaque part); refresh
 * tokens are long opaque `5Aep…` strings; both travel in `Authorization: Bearer …` headers, in
 * `access_token=`/`refresh_token=` form fields and in JSON bodies. We redact by shape and by key,
 * because a token can reach an error through any of those routes.
 */

/** What replaces a secret. Stable so tests and log scrapers can look for it. */
export const REDACTED = '[REDACTED]';

/** Object keys whose values are always secrets, compared case-insensitively without `_`/`-`. */
const SECRET_KEYS = new Set([
  'accesstoken',
  'refreshtoken',
  'clientsecret',
  'password',
  'passwd',
  'secret',
  'authorization',
  'sessionid',
  'token',
  'idtoken',
  'codeverifier',
  'privatekey',
  'assertion',
  'credentials',
  'apikey',
  'devicecode',
]);

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization headers: Bearer / OAuth schemes followed by any token.
  [/\b(Bearer|OAuth)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // Salesforce session ids / access tokens: 15 or 18 char org id starting 00D, '!', opaque tail.
  [/\b00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?![A-Za-z0-9._-]+/g, REDACTED],
  // key=value pairs in query strings, form bodies and prose.
  [
    /\b(access_token|refresh_token|client_secret|password|code_verifier|id_token|assertion|device_code|sessionId|session_id)=([^&\s"',;]+)/gi,
    `$1=${REDACTED}`,
  ],
  // OAuth authorization codes only in URLs (`?code=`/`&code=`), so prose like "error code" survives.
  [/([?&]code=)([^&\s"',;]+)/g, `$1${REDACTED}`],
  // JSON-ish "key": "value" pairs.
  [
    /("(?:access_token|accessToken|refresh_token|refreshToken|client_secret|clientSecret|password|code_verifier|codeVerifier|id_token|sessionId|authorization|Authorization)"\s*:\s*")([^"]*)(")/g,
    `$1${REDACTED}$3`,
  ],
  // PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // SOAP session headers.
  [/(<(?:\w+:)?sessionId>)([^<]*)(<\/(?:\w+:)?sessionId>)/g, `$1${REDACTED}$3`],
];

/**
 * Replace every secret-looking substring of `text` with {@link REDACTED}.
 *
 * Also removes any exact value listed in `knownSecrets` (for example the client secret the
 * host configured), which catches secrets whose shape we cannot recognise.
 *
 * @example
 * redactText('Authorization: Bearer 00D5g000004SXyzEAG!AQ0AQH…') // 'Authorization: Bearer [REDACTED]'
 */
export function redactText(text: string, knownSecrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    // Very short values would redact ordinary words; real secrets are long.
    if (secret && secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** True when an object key names a secret (`accessToken`, `refresh_token`, `Authorization`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(normaliseKey(key));
}

/**
 * Deep-copy `value`, replacing secret keys' values and secret-looking strings.
 * Cycles are cut, depth is bounded, and class instances other than plain objects, arrays,
 * errors and dates are rendered by their string form, so nothing unexpected is serialised.
 */
export function redactValue(value: unknown, knownSecrets: Iterable<string> = [], depth = 0): unknown {
  const known = [...knownSecrets];
  const seen = new WeakSet<object>();
  const walk = (v: unknown, d: number): unknown => {
    if (typeof v === 'string') return redactText(v, known);
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Date) return v.toISOString();
    if (seen.has(v)) return '[Circular]';
    if (d > 8) return '[Truncated]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((item) => walk(item, d + 1));
    if (v instanceof Error) {
      return { name: v.name, message: redactText(v.message, known) };
    }
    if (v instanceof Uint8Array) return `[${v.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) {
      out[key] = isSecretKey(key) && item != null && item !== '' ? REDACTED : walk(item, d + 1);
    }
    return out;
  };
  return walk(value, depth);
}
