import { inspect } from 'node:util';
import { redactText, redactValue } from '../security/redact.js';

/**
 * Every error code the package produces. Exported as a const map so a `switch (err.code)` over
 * {@link CrmErrorCode} can be exhaustive.
 */
export const CrmErrorCodes = {
  UNKNOWN: 'UNKNOWN',
  CONNECTION: 'CONNECTION',
  AUTHENTICATION: 'AUTHENTICATION',
  API: 'API',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMIT: 'RATE_LIMIT',
  DATA_CONVERSION: 'DATA_CONVERSION',
  CONFIGURATION: 'CONFIGURATION',
  STORAGE: 'STORAGE',
  UNSUPPORTED_FEATURE: 'UNSUPPORTED_FEATURE',
  WEBHOOK: 'WEBHOOK',
} as const;

/** One of {@link CrmErrorCodes}. */
export type CrmErrorCode = (typeof CrmErrorCodes)[keyof typeof CrmErrorCodes];

/**
 * Every `details.reason` the package puts on an error, as a const map (like {@link CrmErrorCodes}):
 * `code` says what kind of error, `details.reason` says which case of it, so a host can switch on
 * both without matching messages.
 */
export const CrmErrorReasons = {
  UNKNOWN_OPTION: 'unknown_option',
  INVALID_OPTION: 'invalid_option',
  MISSING_RUNNER: 'missing_runner',
  MISSING_DRIVER: 'missing_driver',
  DRIVER_LOAD_FAILED: 'driver_load_failed',
  MISSING_KEYS: 'missing_keys',
  INVALID_KEY: 'invalid_key',
  INVALID_KEY_ID: 'invalid_key_id',
  INVALID_KEY_LENGTH: 'invalid_key_length',
  MISSING_CURRENT_KEY: 'missing_current_key',
  UNKNOWN_CURRENT_KEY: 'unknown_current_key',
  UNKNOWN_KEY: 'unknown_key',
  MALFORMED: 'malformed',
  INVALID_PLAINTEXT: 'invalid_plaintext',
  AUTHENTICATION_FAILED: 'authentication_failed',
  REAUTHORIZATION_REQUIRED: 'reauthorization_required',
  REVOKED: 'revoked',
  REUSED: 'reused',
  NO_REFRESH_TOKEN: 'no_refresh_token',
  REFRESH_TOKEN_REJECTED: 'refresh_token_rejected',
  REFRESH_IN_PROGRESS: 'refresh_in_progress',
  DUPLICATE: 'duplicate',
  NOT_FOUND: 'not_found',
  CREDENTIALS_CONFLICT: 'credentials_conflict',
  NOT_MIGRATED: 'not_migrated',
  CLOSED: 'closed',
  DRIVER: 'driver',
  STORAGE_PRIVACY_MISSING: 'storage_privacy_missing',
  UNSUPPORTED_RUNTIME: 'unsupported_runtime',
  LEASE_HELD: 'lease_held',
  LEASE_LOST: 'lease_lost',
  INVALID_CHANGE_EVENT: 'invalid_change_event',
  NOT_AN_OUTBOUND_MESSAGE: 'not_an_outbound_message',
  DOCTYPE: 'doctype',
  MALFORMED_XML: 'malformed_xml',
  MISSING_FIELD: 'missing_field',
  INVALID_FIELD: 'invalid_field',
  MISSING_TIMESTAMP: 'missing_timestamp',
  REPLAY_ID_INVALID: 'replay_id_invalid',
} as const;

/** One of {@link CrmErrorReasons}. */
export type CrmErrorReason = (typeof CrmErrorReasons)[keyof typeof CrmErrorReasons];

/** Structured data on an error: a typed {@link CrmErrorReason} when there is one, plus free fields. */
export type CrmErrorDetails = { reason?: CrmErrorReason } & Record<string, unknown>;

/** A field-level problem attached to an error: which field, and why (never its value). */
export interface CrmFieldIssue {
  /** Dotted path of the field, e.g. `email` or `customFields.Score__c`. */
  field: string;
  /** Human-readable reason, without the offending value. */
  message: string;
  /** Machine-readable reason, e.g. `invalid_format`, `too_long`, `required`. */
  code?: string;
}

/** Options accepted by every {@link CrmError} constructor; each subclass uses those that apply. */
export interface CrmErrorOptions {
  /** The underlying error. Its message is redacted when serialised. */
  cause?: unknown;
  /** HTTP status of the failed call, when there was one. */
  status?: number;
  /** The provider's own error code, e.g. Salesforce's `DUPLICATE_VALUE`. */
  providerCode?: string;
  /** Field names (or issues) the error concerns. */
  fields?: ReadonlyArray<string | CrmFieldIssue>;
  /** For rate limits: how long to wait before retrying, in milliseconds. */
  retryAfterMs?: number;
  /** For rate limits: API usage at the time of the error. */
  usage?: CrmApiUsage;
  /** Provider name, e.g. `salesforce`. */
  provider?: string;
  /** Extra structured data. Kept off `toJSON()` output unless redacted-safe. */
  details?: CrmErrorDetails;
  /** Override whether the operation may be retried. Each class has a sensible default. */
  retryable?: boolean;
  /**
   * Exact secret values to remove from the message and cause (on top of the shape-based
   * redaction), e.g. a client secret the host registered. Not kept on the error.
   */
  knownSecrets?: Iterable<string>;
}

/** API consumption reported by a provider (Salesforce: the `Sforce-Limit-Info` header). */
export interface CrmApiUsage {
  /** Calls used in the current window. */
  used: number;
  /** Calls allowed in the current window. */
  max: number;
}

const BRAND = Symbol.for('@markmail/crm.error');

/** A class of the {@link CrmError} tree as `isInstance` sees it: its brand and its instances. */
interface CrmErrorClass<T extends CrmError> {
  readonly brand: symbol;
  readonly prototype: T;
}

/** The brand of one error class; `Symbol.for`, so another installed copy uses the same symbol. */
function brandOf(name: string): symbol {
  return Symbol.for(`@markmail/crm.error.${name}`);
}

/**
 * Base class of every error this package throws. Carries data, not just prose: {@link code},
 * {@link retryable}, {@link status}, {@link providerCode}. Messages and serialisations are
 * redacted: no access token, refresh token, secret or password survives into them.
 *
 * Use {@link isCrmError} (or `CrmError.isInstance`) rather than `instanceof` when two copies of
 * the package may be installed.
 */
export class CrmError extends Error {
  /**
   * Marks instances of this class and its subclasses, across installed copies of the package. A
   * subclass that declares its own `brand` is told apart from its siblings by `isInstance`.
   */
  static readonly brand: symbol = BRAND;
  override readonly name: string = 'CrmError';
  /** Stable machine-readable kind of error. */
  readonly code: CrmErrorCode = CrmErrorCodes.UNKNOWN;
  /** Whether repeating the same operation later may succeed. */
  readonly retryable: boolean;
  /** HTTP status of the failed call, if any. */
  readonly status: number | undefined;
  /** Provider's own error code (Salesforce `errorCode`/`statusCode`), if any. */
  readonly providerCode: string | undefined;
  /** Provider name, when the error came from one. */
  readonly provider: string | undefined;
  /** Structured extra data (redacted in `toJSON`). */
  readonly details: CrmErrorDetails | undefined;
  declare readonly cause: unknown;

  constructor(message: string, options: CrmErrorOptions = {}) {
    const known = [...(options.knownSecrets ?? [])];
    super(redactText(message, known));
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.providerCode = options.providerCode;
    this.provider = options.provider;
    this.details = options.details;
    // Non-enumerable so loggers that walk own properties do not dump raw payloads.
    Object.defineProperty(this, 'cause', {
      value: redactCause(options.cause, known),
      enumerable: false,
      writable: false,
    });
    // One brand per class in the chain, so `CrmNotFoundError.isInstance` is false for a sibling.
    for (let type: unknown = new.target; typeof type === 'function' && type !== Error; ) {
      if (Object.hasOwn(type, 'brand')) {
        Object.defineProperty(this, (type as unknown as { brand: symbol }).brand, {
          value: true,
          enumerable: false,
        });
      }
      type = Object.getPrototypeOf(type);
    }
    // `stack` is not touched here: V8 formats it on first read from the (already redacted)
    // message and the subclass's `name`; reading it now would freeze the base name into it.
  }

  /**
   * True when `value` is an instance of the class this is called on (or of a subclass), even from
   * another installed copy of the package: `CrmNotFoundError.isInstance(err)`.
   */
  static isInstance<T extends CrmError>(this: CrmErrorClass<T>, value: unknown): value is T {
    if (typeof value !== 'object' || value === null) return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass it is called on; that is the point.
    return (value as Record<symbol, unknown>)[this.brand] === true;
  }

  /** A JSON-safe, redacted view: what you may log or return to a client. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.status !== undefined) out.status = this.status;
    if (this.providerCode !== undefined) out.providerCode = this.providerCode;
    if (this.provider !== undefined) out.provider = this.provider;
    if (this.details !== undefined) out.details = redactValue(this.details);
    if (this.cause !== undefined) out.cause = serialiseCause(this.cause);
    return out;
  }

  /**
   * `util.inspect` / `console.log` show the stack (its message is the redacted one) and the
   * redacted JSON form, never raw causes or details.
   */
  [inspect.custom](): string {
    const head = this.stack ?? `${this.name}: ${this.message}`;
    return `${head} ${inspect(this.toJSON(), { depth: 4 })}`;
  }
}

/**
 * Redact a cause before it is attached. An `Error` whose message, stack or cause chain holds a
 * secret is replaced by a redacted copy of the same class with the same own properties
 * (`errorCode`, …); the error its creator holds is never mutated. An error with nothing to redact
 * is kept as it is (same identity).
 */
function redactCause(cause: unknown, known: readonly string[], depth = 0): unknown {
  if (typeof cause === 'string') return redactText(cause, known);
  if (!(cause instanceof Error) || depth > 8) return known.length > 0 ? redactValue(cause, known) : cause;
  try {
    const message = redactText(cause.message, known);
    const stack = typeof cause.stack === 'string' ? redactText(cause.stack, known) : cause.stack;
    const inner =
      cause.cause !== undefined && cause.cause !== cause
        ? redactCause(cause.cause, known, depth + 1)
        : cause.cause;
    if (message === cause.message && stack === cause.stack && inner === cause.cause) return cause;
    const copy = Object.create(
      Object.getPrototypeOf(cause),
      Object.getOwnPropertyDescriptors(cause),
    ) as Error;
    const hidden = { writable: true, configurable: true, enumerable: false };
    Object.defineProperty(copy, 'message', { ...hidden, value: message });
    Object.defineProperty(copy, 'stack', { ...hidden, value: stack });
    if (inner !== cause.cause) Object.defineProperty(copy, 'cause', { ...hidden, value: inner });
    return copy;
  } catch {
    // An exotic error (throwing getters): serialisation (`toJSON`) still redacts it.
    return cause;
  }
}

function serialiseCause(cause: unknown): unknown {
  if (isCrmError(cause)) return cause.toJSON();
  if (cause instanceof Error) {
    const out: Record<string, unknown> = { name: cause.name, message: redactText(cause.message) };
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    return out;
  }
  return redactValue(cause);
}

function normaliseFields(fields: CrmErrorOptions['fields']): CrmFieldIssue[] {
  return (fields ?? []).map((f) => (typeof f === 'string' ? { field: f, message: '' } : f));
}

/** Network failure: DNS, refused or reset connection, TLS, timeout. Retryable. */
export class CrmConnectionError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmConnectionError');
  override readonly name = 'CrmConnectionError';
  override readonly code = CrmErrorCodes.CONNECTION;
  constructor(message: string, options: CrmErrorOptions = {}) {
    super(message, { ...options, retryable: options.retryable ?? true });
  }
}

/** Credentials missing, expired, revoked or refused. Not retryable without re-authorisation. */
export class CrmAuthenticationError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmAuthenticationError');
  override readonly name = 'CrmAuthenticationError';
  override readonly code = CrmErrorCodes.AUTHENTICATION;
}

/** The provider's API answered with an error. `providerCode` and `fields` say which and where. */
export class CrmApiError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmApiError');
  override readonly name = 'CrmApiError';
  override readonly code = CrmErrorCodes.API;
  /** Fields the provider named in its error. */
  readonly fields: string[];
  constructor(message: string, options: CrmErrorOptions = {}) {
    super(message, options);
    this.fields = normaliseFields(options.fields).map((f) => f.field);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), fields: this.fields };
  }
}

/** The record or resource does not exist (or was deleted). */
export class CrmNotFoundError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmNotFoundError');
  override readonly name = 'CrmNotFoundError';
  override readonly code = CrmErrorCodes.NOT_FOUND;
}

/** API limit reached (daily limit, concurrency, or our own `maxApiUsageRatio` guard). */
export class CrmRateLimitError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmRateLimitError');
  override readonly name = 'CrmRateLimitError';
  override readonly code = CrmErrorCodes.RATE_LIMIT;
  /** How long to wait before retrying, when known. */
  readonly retryAfterMs: number | undefined;
  /** Usage when the limit was hit, when known. */
  readonly usage: CrmApiUsage | undefined;
  constructor(message: string, options: CrmErrorOptions = {}) {
    super(message, { ...options, retryable: options.retryable ?? true });
    this.retryAfterMs = options.retryAfterMs;
    this.usage = options.usage;
  }
  override toJSON(): Record<string, unknown> {
    const out = super.toJSON();
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.usage !== undefined) out.usage = this.usage;
    return out;
  }
}

/** Input failed validation. `issues` names every bad field and why; values are never echoed. */
export class CrmDataConversionError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmDataConversionError');
  override readonly name = 'CrmDataConversionError';
  override readonly code = CrmErrorCodes.DATA_CONVERSION;
  /** Every field that failed, with its reason. */
  readonly issues: CrmFieldIssue[];
  /** Just the field paths of {@link issues}. */
  readonly fields: string[];
  constructor(message: string, options: CrmErrorOptions = {}) {
    super(message, options);
    this.issues = normaliseFields(options.fields);
    this.fields = this.issues.map((i) => i.field);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The package or a provider is configured wrongly (missing option, bad key, missing driver). */
export class CrmConfigurationError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmConfigurationError');
  override readonly name = 'CrmConfigurationError';
  override readonly code = CrmErrorCodes.CONFIGURATION;
}

/** A storage adapter failed, or a storage constraint (uniqueness, compare-and-swap) was violated. */
export class CrmStorageError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmStorageError');
  override readonly name = 'CrmStorageError';
  override readonly code = CrmErrorCodes.STORAGE;
}

/** The provider does not support the requested operation (see `supportsFeature`). */
export class CrmUnsupportedFeatureError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmUnsupportedFeatureError');
  override readonly name = 'CrmUnsupportedFeatureError';
  override readonly code = CrmErrorCodes.UNSUPPORTED_FEATURE;
}

/** An inbound webhook (outbound message, change event) was malformed, hostile or unauthorised. */
export class CrmWebhookError extends CrmError {
  static override readonly brand: symbol = brandOf('CrmWebhookError');
  override readonly name = 'CrmWebhookError';
  override readonly code = CrmErrorCodes.WEBHOOK;
}

/**
 * Every concrete error class, discriminated by `code`: `switch (err.code)` over a value of this
 * type narrows to the class, and a missing case is a compile error.
 *
 * @example
 * function delay(err: CrmKnownError): number | undefined {
 *   switch (err.code) {
 *     case 'RATE_LIMIT': return err.retryAfterMs; // err is CrmRateLimitError here
 *     default: return undefined;
 *   }
 * }
 */
export type CrmKnownError =
  | CrmConnectionError
  | CrmAuthenticationError
  | CrmApiError
  | CrmNotFoundError
  | CrmRateLimitError
  | CrmDataConversionError
  | CrmConfigurationError
  | CrmStorageError
  | CrmUnsupportedFeatureError
  | CrmWebhookError;

/** True when `value` is a {@link CrmError}, including one from another copy of this package. */
export function isCrmError(value: unknown): value is CrmError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * The error thrown when an `AbortSignal` fires: named `AbortError`, with the signal's reason as
 * `cause`, like `fetch` and Node's own APIs.
 */
export function createAbortError(signal?: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal?.reason });
  error.name = 'AbortError';
  return error;
}

/** Throw an `AbortError` when `signal` is already aborted. Call before each page, batch or retry. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw createAbortError(signal);
}
