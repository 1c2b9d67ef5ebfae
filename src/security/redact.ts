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

// Key names whose value is a secret wherever they appear as `key=value` or `key: value`.
const SECRET_FIELD_NAMES =
  'access_token|accessToken|refresh_token|refreshToken|client_secret|clientSecret|client_assertion|password|passwd|code_verifier|codeVerifier|id_token|idToken|assertion|device_code|sessionId|session_id|sid|token|api_key|apiKey';

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // PEM private keys, also when cut off before their END line (a truncated log or message).
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // Authorization headers: `Authorization: <scheme> <credentials>` (Basic too), any quoting.
  [/\b(authorization["']?\s*[:=]\s*["']?)(Bearer|OAuth|Basic|Token)\s+[^\s"',;]+/gi, `$1$2 ${REDACTED}`],
  [
    /\b(authorization["']?\s*[:=]\s*["']?)(?!(?:Bearer|OAuth|Basic|Token)\s|\[REDACTED\])[^\s"',;]+/gi,
    `$1${REDACTED}`,
  ],
  // Bearer / OAuth schemes anywhere else, followed by any token.
  [/\b(Bearer|OAuth)\s+(?!\[REDACTED\])[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // Salesforce session ids / access tokens: 15 or 18 char org id starting 00D, '!' (raw or
  // URL-encoded as %21, e.g. in a frontdoor URL), opaque tail.
  [/\b00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?(?:!|%21)[A-Za-z0-9._-]+/g, REDACTED],
  // Salesforce refresh tokens: long opaque strings starting 5Aep, wherever they appear.
  [/\b5Aep[A-Za-z0-9._-]{20,}/g, REDACTED],
  // JSON-ish "key": "value" pairs, escaped quotes inside the value included.
  [
    new RegExp(
      `("(?:${SECRET_FIELD_NAMES}|authorization|Authorization)"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`,
      'gi',
    ),
    `$1${REDACTED}$3`,
  ],
  // key=value pairs in query strings, form bodies and prose; `key: value` in headers and dumps.
  [
    new RegExp(`\\b(${SECRET_FIELD_NAMES})(\\s*[=:]\\s*["']?)(?!\\[REDACTED\\])([^&\\s"',;<]+)`, 'gi'),
    `$1$2${REDACTED}`,
  ],
  // OAuth authorization codes only in URLs (`?code=`/`&code=`), so prose like "error code" survives.
  [/([?&]code=)([^&\s"',;]+)/g, `$1${REDACTED}`],
  // XML elements carrying secrets: SOAP session headers, SOAP login passwords.
  [
    /(<(?:\w+:)?(?:sessionId|password|access_token|refresh_token|client_secret)>)([^<]*)(<\/(?:\w+:)?(?:sessionId|password|access_token|refresh_token|client_secret)>)/gi,
    `$1${REDACTED}$3`,
  ],
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
    if (!secret || secret.length < 8) continue;
    // Also the forms a secret takes inside a URL or form body, or a JSON string.
    const forms = new Set([
      secret,
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%20/g, '+'),
      JSON.stringify(secret).slice(1, -1),
    ]);
    for (const form of forms) out = out.split(form).join(REDACTED);
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

function isKeyedCollection(value: object): boolean {
  return (
    (typeof Headers !== 'undefined' && value instanceof Headers) ||
    (typeof URLSearchParams !== 'undefined' && value instanceof URLSearchParams) ||
    (typeof FormData !== 'undefined' && value instanceof FormData)
  );
}

/**
 * Deep-copy `value`, replacing secret keys' values and secret-looking strings.
 * Cycles are cut and depth is bounded. Dates become ISO strings, errors their `toJSON()` (or
 * name and message), byte arrays their length, URLs their redacted string, and keyed collections
 * (`Map`, `Headers`, `URLSearchParams`) plain objects so secret keys are caught by name; other
 * objects are copied by their own enumerable properties.
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
      // A CrmError (or any error with toJSON) knows its own safe shape; keep its code and status.
      const json = (v as { toJSON?: unknown }).toJSON;
      if (typeof json === 'function') return walk(json.call(v), d + 1);
      return { name: v.name, message: redactText(v.message, known) };
    }
    if (v instanceof Uint8Array) return `[${v.byteLength} bytes]`;
    if (v instanceof URL) return redactText(v.href, known);
    if (v instanceof Set) return walk([...v], d + 1);
    // Map, Headers, URLSearchParams, FormData: keyed entries, so secret keys are caught by name.
    if (v instanceof Map || isKeyedCollection(v)) {
      return walk(Object.fromEntries((v as Map<unknown, unknown>).entries()), d + 1);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) {
      out[key] = isSecretKey(key) && item != null && item !== '' ? REDACTED : walk(item, d + 1);
    }
    return out;
  };
  return walk(value, depth);
}
