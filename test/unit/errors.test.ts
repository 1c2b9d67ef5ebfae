import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CrmApiError,
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmConnectionError,
  CrmDataConversionError,
  CrmError,
  type CrmErrorCode,
  CrmErrorCodes,
  type CrmErrorOptions,
  CrmErrorReasons,
  CrmNotFoundError,
  CrmRateLimitError,
  CrmStorageError,
  CrmUnsupportedFeatureError,
  CrmWebhookError,
  createAbortError,
  isCrmError,
  throwIfAborted,
} from '../../src/index.js';

type ErrorClass = new (message: string, options?: CrmErrorOptions) => CrmError;

const subclasses: Array<[ErrorClass, string, CrmErrorCode, boolean]> = [
  [CrmConnectionError, 'CrmConnectionError', 'CONNECTION', true],
  [CrmAuthenticationError, 'CrmAuthenticationError', 'AUTHENTICATION', false],
  [CrmApiError, 'CrmApiError', 'API', false],
  [CrmNotFoundError, 'CrmNotFoundError', 'NOT_FOUND', false],
  [CrmRateLimitError, 'CrmRateLimitError', 'RATE_LIMIT', true],
  [CrmDataConversionError, 'CrmDataConversionError', 'DATA_CONVERSION', false],
  [CrmConfigurationError, 'CrmConfigurationError', 'CONFIGURATION', false],
  [CrmStorageError, 'CrmStorageError', 'STORAGE', false],
  [CrmUnsupportedFeatureError, 'CrmUnsupportedFeatureError', 'UNSUPPORTED_FEATURE', false],
  [CrmWebhookError, 'CrmWebhookError', 'WEBHOOK', false],
];

describe('CrmError subclasses', () => {
  it('cover every code of CrmErrorCodes except UNKNOWN (the base class)', () => {
    const codes = subclasses.map(([, , code]) => code).sort();
    const expected = Object.values(CrmErrorCodes)
      .filter((c) => c !== 'UNKNOWN')
      .sort();
    expect(codes).toEqual(expected);
    expect(new CrmError('x').code).toBe('UNKNOWN');
    expect(new CrmError('x').name).toBe('CrmError');
  });

  describe.each(subclasses)('%o', (ErrorClass, name, code, retryable) => {
    it(`has name ${name}, code ${code} and retryable ${retryable} by default`, () => {
      const error = new ErrorClass('Sync of Contact 0035g00000AbCdEAAZ failed');
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(CrmErrorCodes[code]).toBe(code);
      expect(error.retryable).toBe(retryable);
      expect(error.message).toBe('Sync of Contact 0035g00000AbCdEAAZ failed');
      expect(error.status).toBeUndefined();
      expect(error.providerCode).toBeUndefined();
      expect(error.provider).toBeUndefined();
      expect(error.cause).toBeUndefined();
    });

    it('is an instance of itself, CrmError and Error, and passes isCrmError', () => {
      const error = new ErrorClass('boom');
      expect(error).toBeInstanceOf(ErrorClass);
      expect(error).toBeInstanceOf(CrmError);
      expect(error).toBeInstanceOf(Error);
      expect(isCrmError(error)).toBe(true);
      expect(CrmError.isInstance(error)).toBe(true);
    });

    it('carries status, providerCode, provider, cause and an explicit retryable', () => {
      const cause = new Error('socket hang up');
      const error = new ErrorClass('boom', {
        status: 503,
        providerCode: 'SERVER_UNAVAILABLE',
        provider: 'salesforce',
        cause,
        retryable: !retryable,
      });
      expect(error.status).toBe(503);
      expect(error.providerCode).toBe('SERVER_UNAVAILABLE');
      expect(error.provider).toBe('salesforce');
      expect(error.cause).toBe(cause);
      expect(error.retryable).toBe(!retryable);
    });

    it('keeps its default retryable when options.retryable is undefined (plain JS callers)', () => {
      const options = { retryable: undefined } as unknown as CrmErrorOptions;
      expect(new ErrorClass('boom', options).retryable).toBe(retryable);
    });

    it('names its own class in the stack header (regression: stack said "CrmError")', () => {
      const error = new ErrorClass('boom');
      expect(error.stack?.split('\n')[0]).toBe(`${name}: boom`);
      expect(String(error)).toBe(`${name}: boom`);
    });

    it('serialises to a stable JSON shape', () => {
      const error = new ErrorClass('boom', { status: 400, providerCode: 'X', provider: 'toy' });
      expect(error.toJSON()).toMatchObject({
        name,
        code,
        message: 'boom',
        retryable,
        status: 400,
        providerCode: 'X',
        provider: 'toy',
      });
      expect(JSON.parse(JSON.stringify(error))).toEqual(error.toJSON());
    });
  });

  it('util.inspect shows the stack and the JSON form, but not the raw cause', () => {
    const cause = Object.assign(new Error('socket hang up'), { rawBody: 'RAW-PAYLOAD' });
    const error = new CrmConnectionError('Cannot reach Salesforce', { cause, status: 503 });
    const shown = inspect(error);
    expect(shown.startsWith('CrmConnectionError: Cannot reach Salesforce\n    at ')).toBe(true);
    expect(shown).toContain("code: 'CONNECTION'");
    expect(shown).toContain('status: 503');
    expect(shown).toContain("cause: { name: 'Error', message: 'socket hang up' }");
    expect(shown).not.toContain('RAW-PAYLOAD');
  });

  it('keeps cause off the enumerable properties (loggers walking them see no raw payload)', () => {
    const error = new CrmApiError('boom', { cause: { body: 'raw' } });
    expect(Object.keys(error)).not.toContain('cause');
    expect(error.cause).toEqual({ body: 'raw' });
  });

  it('CrmApiError exposes fields given as names or issues', () => {
    const error = new CrmApiError('Required fields are missing: [LastName]', {
      status: 400,
      providerCode: 'REQUIRED_FIELD_MISSING',
      fields: ['LastName', { field: 'Company', message: 'is required' }],
    });
    expect(error.fields).toEqual(['LastName', 'Company']);
    expect(new CrmApiError('x').fields).toEqual([]);
    expect(error.toJSON()).toEqual({
      name: 'CrmApiError',
      code: 'API',
      message: 'Required fields are missing: [LastName]',
      retryable: false,
      status: 400,
      providerCode: 'REQUIRED_FIELD_MISSING',
      fields: ['LastName', 'Company'],
    });
  });

  it('CrmRateLimitError carries retryAfterMs and usage', () => {
    const error = new CrmRateLimitError('Daily API limit reached', {
      status: 403,
      providerCode: 'REQUEST_LIMIT_EXCEEDED',
      retryAfterMs: 60_000,
      usage: { used: 15_000, max: 15_000 },
      provider: 'salesforce',
    });
    expect(error.retryAfterMs).toBe(60_000);
    expect(error.usage).toEqual({ used: 15_000, max: 15_000 });
    expect(error.toJSON()).toEqual({
      name: 'CrmRateLimitError',
      code: 'RATE_LIMIT',
      message: 'Daily API limit reached',
      retryable: true,
      status: 403,
      providerCode: 'REQUEST_LIMIT_EXCEEDED',
      provider: 'salesforce',
      retryAfterMs: 60_000,
      usage: { used: 15_000, max: 15_000 },
    });
    const bare = new CrmRateLimitError('x');
    expect(bare.retryAfterMs).toBeUndefined();
    expect(bare.usage).toBeUndefined();
    expect(bare.toJSON()).not.toHaveProperty('retryAfterMs');
  });

  it('CrmDataConversionError exposes issues and their field names', () => {
    const error = new CrmDataConversionError('Invalid contact: email is not a valid email address', {
      fields: [{ field: 'email', message: 'is not a valid email address', code: 'custom' }, 'phone'],
    });
    expect(error.issues).toEqual([
      { field: 'email', message: 'is not a valid email address', code: 'custom' },
      { field: 'phone', message: '' },
    ]);
    expect(error.fields).toEqual(['email', 'phone']);
    expect(error.toJSON()).toMatchObject({ code: 'DATA_CONVERSION', issues: error.issues });
  });

  it('serialises a cause chain: CrmError causes by toJSON, other errors by name, message and code', () => {
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    const connection = new CrmConnectionError('Cannot reach Salesforce', { cause: network });
    const outer = new CrmApiError('Sync failed', { cause: connection, details: { batch: 3 } });
    expect(outer.toJSON()).toEqual({
      name: 'CrmApiError',
      code: 'API',
      message: 'Sync failed',
      retryable: false,
      details: { batch: 3 },
      fields: [],
      cause: {
        name: 'CrmConnectionError',
        code: 'CONNECTION',
        message: 'Cannot reach Salesforce',
        retryable: true,
        cause: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:443', code: 'ECONNREFUSED' },
      },
    });
  });
});

describe('isCrmError', () => {
  it('recognises an error from a second installed copy of the package by its Symbol.for brand', () => {
    // Another copy has its own CrmError class; only the global symbol registry is shared.
    class OtherCopyCrmError extends Error {
      readonly code = 'API';
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, Symbol.for('@markmail/crm.error'), { value: true });
      }
    }
    const foreign = new OtherCopyCrmError('from the other copy');
    expect(foreign).not.toBeInstanceOf(CrmError);
    expect(isCrmError(foreign)).toBe(true);
    expect(CrmError.isInstance(foreign)).toBe(true);
    expect(isCrmError({ [Symbol.for('@markmail/crm.error')]: true })).toBe(true);
  });

  it('isInstance tells sibling classes apart: one brand per class, inherited by subclasses', () => {
    expect(CrmNotFoundError.isInstance(new CrmAuthenticationError('no'))).toBe(false);
    expect(CrmAuthenticationError.isInstance(new CrmAuthenticationError('no'))).toBe(true);
    expect(CrmError.isInstance(new CrmAuthenticationError('no'))).toBe(true);
    expect(CrmApiError.isInstance(new CrmError('base'))).toBe(false);
    class HostNotFound extends CrmNotFoundError {}
    expect(CrmNotFoundError.isInstance(new HostNotFound('gone'))).toBe(true);
    expect(CrmStorageError.isInstance(new HostNotFound('gone'))).toBe(false);
    // Another installed copy brands with the same registry symbols.
    const foreign = { [Symbol.for('@markmail/crm.error')]: true, [CrmStorageError.brand]: true };
    expect(CrmStorageError.isInstance(foreign)).toBe(true);
    expect(CrmNotFoundError.isInstance(foreign)).toBe(false);
  });

  it('exports every details.reason the package uses as CrmErrorReasons', () => {
    expect(CrmErrorReasons.LEASE_HELD).toBe('lease_held');
    expect(new Set(Object.values(CrmErrorReasons)).size).toBe(Object.keys(CrmErrorReasons).length);
  });

  it.each([
    ['a plain Error', new Error('x')],
    ['an Error named CrmError', Object.assign(new Error('x'), { name: 'CrmApiError', code: 'API' })],
    ['a local (non-registry) symbol brand', { [Symbol('@markmail/crm.error')]: true }],
    ['a truthy but non-true brand', { [Symbol.for('@markmail/crm.error')]: 'yes' }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'CrmError'],
  ])('is false for %s', (_label, value) => {
    expect(isCrmError(value)).toBe(false);
  });
});

describe('abort helpers', () => {
  it('createAbortError is named AbortError with the signal reason as cause', () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    controller.abort(reason);
    const error = createAbortError(controller.signal);
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(isCrmError(error)).toBe(false);
  });

  it('throwIfAborted throws only once the signal has fired', () => {
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(expect.objectContaining({ name: 'AbortError' }));
  });
});
