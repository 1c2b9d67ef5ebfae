import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConnectionError,
  type CrmError,
  REDACTED,
  redactText,
  redactValue,
} from '../../src/index.js';
import { isSecretKey } from '../../src/security/redact.js';

// Realistic shapes (made up, never real credentials).
/** Salesforce access token: 18-char org id, '!', long opaque tail with '.', '_' and '-'. */
const ACCESS_TOKEN =
  '00D5g000004SXyzEAG!AQ0AQH7fQ2xYz9_kLm3NpQrStUvWx.Yz0123456789abcdefGHIJKLmnop_QRSTuvwxyz.ABcdEF-ghIJ3kLmNoPq';
/** Same with a 15-char org id. */
const ACCESS_TOKEN_15 = '00D5g000004SXyz!ARgAQBzLr6mN.Wq2_Zx8Yt4UvS3RqP1OnM0LkJiHgFeDcBa9876543210zyxwvu';
/** Salesforce refresh token. */
const REFRESH_TOKEN = '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJvfCR9tSJZw7ZQm9ZzDTUpnE.f8SiVv.m9lQ6bgHh4fBkkEQ';
/** Connected-app consumer secret (hex), only recognisable because the host lists it. */
const CLIENT_SECRET = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
/** A password with URL- and JSON-special characters, plus a security token appended. */
const PASSWORD = 'hunter2 "pa$$&w0rd"/+XyZsecTok3n';
const PRIVATE_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

/** Distinctive pieces of each secret: none may survive anywhere. */
const FRAGMENTS = [
  ACCESS_TOKEN,
  ACCESS_TOKEN.slice(18),
  'AQ0AQH7fQ2xYz9',
  'QRSTuvwxyz.ABcdEF',
  ACCESS_TOKEN_15.slice(15),
  'ARgAQBzLr6mN',
  REFRESH_TOKEN,
  'TSESvWeug',
  'DTUpnE.f8SiVv',
  CLIENT_SECRET,
  CLIENT_SECRET.slice(10, 40),
  'pa$$',
  'XyZsecTok3n',
  btoa('client:XyZsecTok3n'),
  'MIIEowIBAAKCAQEAu1SU1',
  'BstIs+bMY2Zkp18gnTxK',
];

function expectNoSecrets(text: string): void {
  for (const fragment of FRAGMENTS) expect(text).not.toContain(fragment);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
}

/** Every route by which a token reaches an error or a log line. */
const carriers: Array<[string, string]> = [
  ['a bare access token in prose', `Session ${ACCESS_TOKEN} is no longer valid`],
  ['a bare 15-char-org access token', `token ${ACCESS_TOKEN_15} rejected`],
  ['an Authorization: Bearer header', `GET /services/data/v62.0 Authorization: Bearer ${ACCESS_TOKEN}`],
  ['a lower-case OAuth scheme header', `authorization: OAuth ${ACCESS_TOKEN}`],
  [
    'a Bearer token that is not Salesforce-shaped',
    'Authorization: Bearer ya29.a0AfB_byC-opaque_TOKEN.XyZsecTok3n',
  ],
  ['an Authorization: Basic header', `authorization: Basic ${btoa('client:XyZsecTok3n')}`],
  [
    'a refresh-token form body',
    `grant_type=refresh_token&client_id=3MVG9abc&refresh_token=${REFRESH_TOKEN}&client_secret=${CLIENT_SECRET}`,
  ],
  [
    'a token response form body',
    `access_token=${ACCESS_TOKEN}&refresh_token=${REFRESH_TOKEN}&token_type=Bearer`,
  ],
  [
    'a password grant form body',
    `grant_type=password&username=ada%40example.com&password=${encodeURIComponent(PASSWORD)}`,
  ],
  [
    'a token JSON body',
    JSON.stringify({
      access_token: ACCESS_TOKEN,
      refresh_token: REFRESH_TOKEN,
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00D5g000004SXyzEAG/0055g000003AbCdAAK',
      token_type: 'Bearer',
    }),
  ],
  [
    'a pretty-printed JSON body',
    JSON.stringify({ accessToken: ACCESS_TOKEN, clientSecret: CLIENT_SECRET }, null, 2),
  ],
  ['a JSON password with escaped quotes', JSON.stringify({ username: 'ada', password: PASSWORD })],
  ['a bare refresh token', `Refreshing with ${REFRESH_TOKEN} failed: invalid_grant`],
  ['a revoke call', `POST /services/oauth2/revoke token=${REFRESH_TOKEN}`],
  [
    'a frontdoor URL with "!" percent-encoded',
    `https://acme.my.salesforce.com/secur/frontdoor.jsp?retURL=%2Fhome&sid=${ACCESS_TOKEN.replace('!', '%21')}`,
  ],
  ['a percent-encoded token in a redirect URL', `https://app/next?u=${ACCESS_TOKEN.replace('!', '%21')}`],
  ['a sid cookie', `Cookie: sid=${ACCESS_TOKEN_15}; oid=00D5g000004SXyz`],
  ['a PEM private key', `jwtBearer failed for key ${PRIVATE_KEY} (user ada)`],
  ['a PEM private key cut off before its END line', `key: ${PRIVATE_KEY.slice(0, 120)}`],
  [
    'a SOAP session header',
    `<soapenv:Header><urn:SessionHeader><urn:sessionId>${ACCESS_TOKEN}</urn:sessionId></urn:SessionHeader>`,
  ],
  ['a SOAP outbound message sessionId', `<sessionId>${ACCESS_TOKEN_15}</sessionId>`],
  [
    'a SOAP login password',
    `<urn:login><urn:username>ada</urn:username><urn:password>${PASSWORD}</urn:password></urn:login>`,
  ],
  [
    'an inspected options object',
    inspect({ instanceUrl: 'https://x', accessToken: ACCESS_TOKEN, password: 'XyZsecTok3n' }),
  ],
  ['a jsforce-style error message', `INVALID_SESSION_ID: Session expired or invalid (sid=${ACCESS_TOKEN})`],
];

describe('redactText', () => {
  it.each(carriers)('redacts %s', (_label, text) => {
    const out = redactText(text);
    expectNoSecrets(out);
    expect(out).toContain(REDACTED);
  });

  it('removes known secrets whatever their shape, also URL-encoded and JSON-escaped', () => {
    const secret = 'p@ss word/+"quoted"';
    const text = [
      `secret ${CLIENT_SECRET} in prose`,
      `x=${encodeURIComponent(secret)}`,
      `y=${encodeURIComponent(secret).replace(/%20/g, '+')}`,
      JSON.stringify({ value: secret }),
      `raw ${secret}`,
    ].join(' | ');
    const out = redactText(text, [CLIENT_SECRET, secret]);
    expectNoSecrets(out);
    expect(out).not.toContain('quoted');
    expect(out).not.toContain('ss%20word');
    expect(out).not.toContain('ss+word');
  });

  it('ignores known secrets shorter than 8 characters (they would redact ordinary words)', () => {
    expect(redactText('the contact was updated', ['the', 'was', ''])).toBe('the contact was updated');
  });

  it.each([
    'error code INVALID_FIELD',
    "INVALID_FIELD: No such column 'Foo__c' on entity 'Contact'",
    'INVALID_SESSION_ID: Session expired or invalid',
    'Contact 0035g00000AbCdEAAZ not found',
    'Organization 00D5g000004SXyzEAG (no token attached)',
    'DUPLICATE_VALUE: duplicate value found: MarkMail_ID__c duplicates value on record with id: 0035g00000AbCdEAAZ',
    'https://acme.my.salesforce.com/services/data/v62.0/sobjects/Contact/0035g00000AbCdEAAZ',
    'INVALID_LOGIN: Invalid username, password, security token; or user locked out.',
    'The refresh token was revoked',
    'Invalid contact: email is not a valid email address; firstName must be at most 40 characters',
    'Bulk job 7505g00000AbCdEAAZ state JobComplete, 2000 records processed',
    'ada+newsletter@example.com unsubscribed',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('keeps the scheme and key names so a redacted line stays readable', () => {
    expect(redactText(`Authorization: Bearer ${ACCESS_TOKEN}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText(`a=1&access_token=${ACCESS_TOKEN}&b=2`)).toBe(`a=1&access_token=${REDACTED}&b=2`);
    expect(redactText(`{"refresh_token":"${REFRESH_TOKEN}","x":1}`)).toBe(
      `{"refresh_token":"${REDACTED}","x":1}`,
    );
    expect(redactText(`<sessionId>${ACCESS_TOKEN}</sessionId>`)).toBe(`<sessionId>${REDACTED}</sessionId>`);
    expect(redactText('https://app/callback?code=aPrxYXyxzkuBzbiwD1b4&state=s1')).toBe(
      `https://app/callback?code=${REDACTED}&state=s1`,
    );
  });

  it('is idempotent', () => {
    for (const [, text] of carriers) {
      const once = redactText(text);
      expect(redactText(once)).toBe(once);
    }
  });
});

describe('isSecretKey', () => {
  it.each([
    'accessToken',
    'access_token',
    'refreshToken',
    'REFRESH_TOKEN',
    'clientSecret',
    'client-secret',
    'password',
    'Authorization',
    'sessionId',
    'privateKey',
    'codeVerifier',
    'apiKey',
  ])('%s names a secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['instanceUrl', 'email', 'tokenType', 'id', 'username', 'orgId', 'token_type', 'code'])(
    '%s does not',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('redactValue', () => {
  it('replaces values of secret keys at any depth and redacts secret-shaped strings elsewhere', () => {
    const input = {
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: ACCESS_TOKEN,
      nested: {
        refresh_token: REFRESH_TOKEN,
        list: [{ client_secret: CLIENT_SECRET }, `Bearer ${ACCESS_TOKEN}`],
      },
      headers: { Authorization: `Bearer ${ACCESS_TOKEN}`, 'Content-Type': 'application/json' },
      note: `body was access_token=${ACCESS_TOKEN}`,
      count: 3,
      ok: true,
      none: null,
    };
    expect(redactValue(input)).toEqual({
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: REDACTED,
      nested: { refresh_token: REDACTED, list: [{ client_secret: REDACTED }, `Bearer ${REDACTED}`] },
      headers: { Authorization: REDACTED, 'Content-Type': 'application/json' },
      note: `body was access_token=${REDACTED}`,
      count: 3,
      ok: true,
      none: null,
    });
  });

  it('keeps empty or missing secret values as they are (they reveal nothing and aid debugging)', () => {
    expect(redactValue({ password: '', refreshToken: null, accessToken: undefined })).toEqual({
      password: '',
      refreshToken: null,
      accessToken: undefined,
    });
  });

  it('does not modify its input', () => {
    const input = { accessToken: ACCESS_TOKEN };
    redactValue(input);
    expect(input.accessToken).toBe(ACCESS_TOKEN);
  });

  it('applies known secrets to every string', () => {
    expect(redactValue({ anything: `x ${CLIENT_SECRET} y` }, [CLIENT_SECRET])).toEqual({
      anything: `x ${REDACTED} y`,
    });
  });

  it('cuts cycles and bounds depth', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ name: 'a', self: '[Circular]' });
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { child: deep };
    expect(JSON.stringify(redactValue(deep))).toContain('[Truncated]');
  });

  it('renders dates, bytes, errors and URLs safely', () => {
    const out = redactValue({
      at: new Date('2024-05-06T07:08:09Z'),
      bytes: new Uint8Array(12),
      error: new Error(`bad token ${ACCESS_TOKEN}`),
      crmError: new CrmAuthenticationError('expired', { status: 401, providerCode: 'INVALID_SESSION_ID' }),
      url: new URL(`https://acme.my.salesforce.com/x?access_token=${ACCESS_TOKEN}&a=1`),
    });
    expect(out).toEqual({
      at: '2024-05-06T07:08:09.000Z',
      bytes: '[12 bytes]',
      error: { name: 'Error', message: `bad token ${REDACTED}` },
      crmError: {
        name: 'CrmAuthenticationError',
        code: 'AUTHENTICATION',
        message: 'expired',
        retryable: false,
        status: 401,
        providerCode: 'INVALID_SESSION_ID',
      },
      url: `https://acme.my.salesforce.com/x?access_token=${REDACTED}&a=1`,
    });
  });

  it('catches secret keys inside Map, Headers and URLSearchParams', () => {
    const out = redactValue({
      map: new Map([['refreshToken', REFRESH_TOKEN]]),
      headers: new Headers({ authorization: `Bearer ${ACCESS_TOKEN}`, accept: 'application/json' }),
      form: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN }),
      set: new Set([`sid=${ACCESS_TOKEN}`]),
    });
    expect(out).toEqual({
      map: { refreshToken: REDACTED },
      headers: { authorization: REDACTED, accept: 'application/json' },
      form: { grant_type: 'refresh_token', refresh_token: REDACTED },
      set: [`sid=${REDACTED}`],
    });
  });
});

describe('redaction through errors', () => {
  /** Every way an error is commonly turned into text. */
  function renderings(error: CrmError): string[] {
    return [
      error.message,
      String(error),
      String(error.stack),
      JSON.stringify(error),
      JSON.stringify(error.toJSON()),
      inspect(error),
      inspect(error, { depth: 20, showHidden: true }),
      `${error}`,
    ];
  }

  it.each(carriers)('an error built from %s never shows the secret', (_label, text) => {
    const root = new Error(`upstream said: ${text}`);
    const middle = new Error(`request failed: ${text}`, { cause: root });
    const error = new CrmApiError(`Salesforce call failed: ${text}`, {
      status: 401,
      providerCode: 'INVALID_SESSION_ID',
      cause: middle,
      details: {
        body: text,
        accessToken: ACCESS_TOKEN,
        request: { headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } },
      },
    });
    for (const rendering of renderings(error)) expectNoSecrets(rendering);
    // The attached cause chain is a redacted copy, so whoever walks it (a logger, Node's uncaught
    // handler printing `[cause]`) finds no token either, while the caller's errors stay untouched.
    const attached = error.cause as Error;
    const attachedRoot = attached.cause as Error;
    expect(attached).not.toBe(middle);
    expectNoSecrets(attached.message);
    expectNoSecrets(String(attached.stack));
    expectNoSecrets(attachedRoot.message);
    expectNoSecrets(String(attachedRoot.stack));
    expectNoSecrets(inspect(attached, { depth: 20 }));
    expect(middle.message).toBe(`request failed: ${text}`);
    expect(root.message).toBe(`upstream said: ${text}`);
    expect(middle.cause).toBe(root);
  });

  it('attaches a redacted copy of the cause with its class and extra properties, never mutating the original', () => {
    class UpstreamError extends Error {}
    const cause = Object.assign(new UpstreamError(`Bearer ${ACCESS_TOKEN} refused`), {
      errorCode: 'INVALID_SESSION_ID',
    });
    const error = new CrmAuthenticationError('Session refused', { cause });
    const attached = error.cause as UpstreamError & { errorCode: string };
    expect(attached).toBeInstanceOf(UpstreamError);
    expect(attached.errorCode).toBe('INVALID_SESSION_ID');
    expect(attached.message).toBe(`Bearer ${REDACTED} refused`);
    expect(cause.message).toBe(`Bearer ${ACCESS_TOKEN} refused`);
  });

  it('keeps the identity of a cause that holds no secret', () => {
    const cause = new Error('socket hang up');
    expect(new CrmConnectionError('reset', { cause }).cause).toBe(cause);
  });

  it('redacts a string cause', () => {
    const error = new CrmConnectionError('reset', { cause: `sid=${ACCESS_TOKEN}` });
    expect(error.cause).toBe(`sid=${REDACTED}`);
  });

  it('redacts a CrmError nested as a cause', () => {
    const inner = new CrmAuthenticationError(`refresh ${REFRESH_TOKEN} revoked`);
    const outer = new CrmApiError('sync failed', { cause: inner });
    for (const rendering of renderings(outer)) expectNoSecrets(rendering);
  });

  it('redacts plain-object causes and details in toJSON', () => {
    const error = new CrmApiError('failed', {
      cause: { body: { access_token: ACCESS_TOKEN }, text: `password=${encodeURIComponent(PASSWORD)}` },
      details: { clientSecret: CLIENT_SECRET, soql: 'SELECT Id FROM Contact' },
    });
    const json = error.toJSON();
    expectNoSecrets(JSON.stringify(json));
    expect(json.details).toEqual({ clientSecret: REDACTED, soql: 'SELECT Id FROM Contact' });
  });
});

describe('redaction edges (found by mutation testing)', () => {
  it('removes a known secret of exactly 8 characters, not a shorter one', () => {
    expect(redactText('pw=abcd1234 pin=abc1234', ['abcd1234', 'abc1234'])).toBe('pw=[REDACTED] pin=abc1234');
  });

  it('removes a known secret where it sits inside a longer JSON string, escaped', () => {
    const secret = 'pa"ss\\word-1';
    const body = JSON.stringify({ error: `refresh failed for ${secret} at login` });
    const out = redactText(body, [secret]);
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(out).toContain('refresh failed for [REDACTED] at login');
  });

  it('treats FormData like an object: secret keys are caught by name', () => {
    const form = new FormData();
    form.append('client_secret', 'not-a-recognisable-shape');
    form.append('grant_type', 'refresh_token');
    expect(redactValue(form)).toEqual({ client_secret: REDACTED, grant_type: 'refresh_token' });
  });

  it('bounds depth through objects, arrays, sets, maps and errors alike', () => {
    const nest = (wrap: (inner: unknown) => unknown, levels: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i += 1) value = wrap(value);
      return value;
    };
    // Nine levels of containers fit (depths 0–8); a tenth is cut.
    expect(JSON.stringify(redactValue(nest((inner) => ({ a: inner }), 9)))).not.toContain('[Truncated]');
    expect(JSON.stringify(redactValue(nest((inner) => ({ a: inner }), 10)))).toContain('[Truncated]');
    class Wrapped extends Error {
      constructor(readonly inner: unknown) {
        super('wrapped');
      }
      toJSON() {
        return { inner: this.inner };
      }
    }
    for (const wrap of [
      (inner: unknown) => [inner],
      (inner: unknown) => new Set([inner]),
      (inner: unknown) => new Map([['k', inner]]),
      (inner: unknown) => new Wrapped(inner),
    ]) {
      expect(JSON.stringify(redactValue(nest(wrap, 30)))).toContain('[Truncated]');
    }
  });
});
