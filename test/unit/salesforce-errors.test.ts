import { describe, expect, it } from 'vitest';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConnectionError,
  CrmError,
  CrmNotFoundError,
  CrmRateLimitError,
} from '../../src/core/errors.js';
import { toSalesforceError } from '../../src/salesforce/errors.js';
import { isRetryable } from '../../src/salesforce/retry.js';
import { parseLimitInfo, parseRetryAfter } from '../../src/salesforce/transport.js';

// jsforce's HttpApiError is not exported: build the same shape (name = errorCode, data = body).
function httpApiError(errorCode: string, message: string, data: unknown = { errorCode, message }) {
  const error = new Error(message) as Error & { errorCode: string; data: unknown };
  error.name = errorCode;
  error.errorCode = errorCode;
  error.data = data;
  return error;
}

describe('toSalesforceError', () => {
  const op = { operation: 'upsert Contact' };

  it('regression: a 403 REQUEST_LIMIT_EXCEEDED whose body jsforce left unparsed (text read) is a rate limit', () => {
    const body = '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]';
    const error = toSalesforceError(httpApiError('ERROR_HTTP_403', body, body), {
      operation: 'read bulk successful results',
      status: 403,
    });
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(error).toMatchObject({ providerCode: 'REQUEST_LIMIT_EXCEEDED', status: 403 });
    // A text body that is not a Salesforce error keeps the HTTP code.
    const other = toSalesforceError(httpApiError('ERROR_HTTP_403', '<html>no</html>', ''), {
      ...op,
      status: 403,
    });
    expect(other).toMatchObject({ providerCode: 'ERROR_HTTP_403' });
    const garbled = toSalesforceError(httpApiError('ERROR_HTTP_500', '[{oops', ''), { ...op, status: 500 });
    expect(garbled).toMatchObject({ providerCode: 'ERROR_HTTP_500' });
  });

  it('maps by errorCode into the CrmError tree with providerCode and fields', () => {
    const error = toSalesforceError(
      httpApiError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', {
        errorCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [LastName]',
        fields: ['LastName'],
      }),
      { ...op, status: 400 },
    );
    expect(error).toBeInstanceOf(CrmApiError);
    expect(error).toMatchObject({
      providerCode: 'REQUIRED_FIELD_MISSING',
      fields: ['LastName'],
      status: 400,
      retryable: false,
    });
    expect(error.message).toBe('Salesforce upsert Contact failed: REQUIRED_FIELD_MISSING (fields: LastName)');
  });

  it('maps session, limit, not-found, ambiguous and transient codes', () => {
    expect(toSalesforceError(httpApiError('INVALID_SESSION_ID', 'Session expired'), op)).toBeInstanceOf(
      CrmAuthenticationError,
    );
    expect(
      toSalesforceError(httpApiError('invalid_grant', 'expired access/refresh token'), op),
    ).toBeInstanceOf(CrmAuthenticationError);
    const limit = toSalesforceError(httpApiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), {
      ...op,
      usage: { used: 15000, max: 15000 },
    });
    expect(limit).toBeInstanceOf(CrmRateLimitError);
    expect(limit).toMatchObject({ status: 403, usage: { used: 15000, max: 15000 } });
    expect(toSalesforceError(httpApiError('NOT_FOUND', 'gone'), op)).toBeInstanceOf(CrmNotFoundError);
    expect(
      toSalesforceError(httpApiError('MULTIPLE_CHOICES', 'Multiple records found', ['/a', '/b']), op),
    ).toMatchObject({
      providerCode: 'MULTIPLE_CHOICES',
      status: 300,
    });
    expect(
      toSalesforceError(httpApiError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access'), op),
    ).toMatchObject({
      retryable: true,
    });
    expect(toSalesforceError(httpApiError('ERROR_HTTP_503', 'Service Unavailable'), op)).toMatchObject({
      status: 503,
      retryable: true,
    });
  });

  it('uses the first error of MULTIPLE_API_ERRORS and collects every field', () => {
    const error = toSalesforceError(
      httpApiError('MULTIPLE_API_ERRORS', 'Multiple errors returned.', [
        { errorCode: 'INVALID_EMAIL_ADDRESS', message: 'bad', fields: ['Email'] },
        { errorCode: 'STRING_TOO_LONG', message: 'long', fields: ['LastName'] },
      ]),
      op,
    );
    expect(error).toMatchObject({ providerCode: 'INVALID_EMAIL_ADDRESS', fields: ['Email', 'LastName'] });
  });

  it('maps network failures to CrmConnectionError and leaves AbortError alone', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    const mapped = toSalesforceError(reset, op);
    expect(mapped).toBeInstanceOf(CrmConnectionError);
    expect(mapped).toMatchObject({ providerCode: 'ECONNRESET', retryable: true });
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toSalesforceError(abort, op)).toBe(abort);
    expect(toSalesforceError(new Error('???'), op)).toBeInstanceOf(CrmError);
  });

  it('keeps Salesforce message text and tokens out of the message and toJSON', () => {
    const error = toSalesforceError(
      httpApiError('INVALID_EMAIL_ADDRESS', 'Email: invalid email address: secret.person@@example.com'),
      op,
    ) as CrmError;
    expect(error.message).not.toContain('secret.person');
    const token = httpApiError('INVALID_SESSION_ID', 'Bearer 00D000000000001!AQ4AQFakeToken is invalid');
    expect(JSON.stringify((toSalesforceError(token, op) as CrmError).toJSON())).not.toContain(
      'AQ4AQFakeToken',
    );
  });
});

describe('retry decisions', () => {
  const op = { operation: 'x' };
  it('retries transient failures only for idempotent calls, lock errors and refused connections always', () => {
    const unavailable = toSalesforceError(httpApiError('SERVER_UNAVAILABLE', 'busy'), { ...op, status: 503 });
    expect(isRetryable(unavailable, true)).toBe(true);
    expect(isRetryable(unavailable, false)).toBe(false);
    const lock = toSalesforceError(httpApiError('UNABLE_TO_LOCK_ROW', 'lock'), op);
    expect(isRetryable(lock, false)).toBe(true);
    const refused = toSalesforceError(
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
      op,
    );
    expect(isRetryable(refused, false)).toBe(true);
    const invalid = toSalesforceError(httpApiError('INVALID_FIELD', 'No such column'), op);
    expect(isRetryable(invalid, true)).toBe(false);
  });
});

describe('header parsing', () => {
  it('reads api-usage out of Sforce-Limit-Info, ignoring other parts', () => {
    expect(parseLimitInfo('api-usage=18/5000; per-app-api-usage=17/250(appName=x)')).toEqual({
      used: 18,
      max: 5000,
    });
    expect(parseLimitInfo('api-bursts=1/750')).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:10 GMT', Date.parse('2026-11-25T12:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
