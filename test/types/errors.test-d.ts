import { describe, expectTypeOf, it } from 'vitest';
import {
  CrmApiError,
  type CrmAuthenticationError,
  type CrmConfigurationError,
  type CrmConnectionError,
  type CrmDataConversionError,
  CrmError,
  type CrmErrorCode,
  type CrmFieldIssue,
  type CrmKnownError,
  type CrmNotFoundError,
  CrmRateLimitError,
  type CrmStorageError,
  type CrmUnsupportedFeatureError,
  type CrmWebhookError,
  isCrmError,
} from '../../src/index.js';

describe('error types', () => {
  it('every subclass has a literal name and code', () => {
    expectTypeOf<CrmConnectionError['code']>().toEqualTypeOf<'CONNECTION'>();
    expectTypeOf<CrmAuthenticationError['code']>().toEqualTypeOf<'AUTHENTICATION'>();
    expectTypeOf<CrmApiError['code']>().toEqualTypeOf<'API'>();
    expectTypeOf<CrmNotFoundError['code']>().toEqualTypeOf<'NOT_FOUND'>();
    expectTypeOf<CrmRateLimitError['code']>().toEqualTypeOf<'RATE_LIMIT'>();
    expectTypeOf<CrmDataConversionError['code']>().toEqualTypeOf<'DATA_CONVERSION'>();
    expectTypeOf<CrmConfigurationError['code']>().toEqualTypeOf<'CONFIGURATION'>();
    expectTypeOf<CrmStorageError['code']>().toEqualTypeOf<'STORAGE'>();
    expectTypeOf<CrmUnsupportedFeatureError['code']>().toEqualTypeOf<'UNSUPPORTED_FEATURE'>();
    expectTypeOf<CrmWebhookError['code']>().toEqualTypeOf<'WEBHOOK'>();
    expectTypeOf<CrmApiError['name']>().toEqualTypeOf<'CrmApiError'>();
    expectTypeOf<CrmRateLimitError['name']>().toEqualTypeOf<'CrmRateLimitError'>();
    expectTypeOf<CrmError['code']>().toEqualTypeOf<CrmErrorCode>();
  });

  it('CrmKnownError narrows to the class by code', () => {
    const describeError = (error: CrmKnownError): string => {
      switch (error.code) {
        case 'RATE_LIMIT':
          expectTypeOf(error).toEqualTypeOf<CrmRateLimitError>();
          expectTypeOf(error.retryAfterMs).toEqualTypeOf<number | undefined>();
          return 'rate';
        case 'API':
          expectTypeOf(error).toEqualTypeOf<CrmApiError>();
          expectTypeOf(error.fields).toEqualTypeOf<string[]>();
          return 'api';
        case 'DATA_CONVERSION':
          expectTypeOf(error).toEqualTypeOf<CrmDataConversionError>();
          expectTypeOf(error.issues).toEqualTypeOf<CrmFieldIssue[]>();
          return 'data';
        case 'CONNECTION':
        case 'AUTHENTICATION':
        case 'NOT_FOUND':
        case 'CONFIGURATION':
        case 'STORAGE':
        case 'UNSUPPORTED_FEATURE':
        case 'WEBHOOK':
          return 'other';
        default:
          // Exhaustive: every code is handled above.
          expectTypeOf(error).toBeNever();
          return error;
      }
    };
    expectTypeOf(describeError).returns.toEqualTypeOf<string>();
  });

  it('isCrmError narrows unknown values', () => {
    const value: unknown = new CrmApiError('x');
    if (isCrmError(value)) {
      expectTypeOf(value).toEqualTypeOf<CrmError>();
      expectTypeOf(value.retryable).toEqualTypeOf<boolean>();
    }
    if (CrmError.isInstance(value)) expectTypeOf(value).toEqualTypeOf<CrmError>();
    if (CrmRateLimitError.isInstance(value))
      expectTypeOf(value.retryAfterMs).toEqualTypeOf<number | undefined>();
  });

  it('constructors take (message, options?) and refuse unknown option keys', () => {
    expectTypeOf(
      new CrmApiError('x', { status: 400, providerCode: 'DUPLICATE_VALUE', fields: ['Email'] }),
    ).toEqualTypeOf<CrmApiError>();
    expectTypeOf(
      new CrmRateLimitError('x', { retryAfterMs: 1000, usage: { used: 1, max: 2 } }),
    ).toEqualTypeOf<CrmRateLimitError>();
    // @ts-expect-error options are a closed set
    new CrmApiError('x', { statusCode: 400 });
    // @ts-expect-error retryAfterMs lives on rate-limit errors only
    new CrmApiError('x').retryAfterMs;
    expectTypeOf<CrmError['cause']>().toEqualTypeOf<unknown>();
    expectTypeOf<CrmError['status']>().toEqualTypeOf<number | undefined>();
  });
});
