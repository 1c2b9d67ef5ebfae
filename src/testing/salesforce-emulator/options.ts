import { assertKnownOptions } from '../../internal/options.js';
import type { EmulatorModule } from './module.js';
import type { EmulatorClock } from './store/org-store.js';

/** Options of {@link startSalesforceEmulator}. Unknown keys are rejected. */
export interface SalesforceEmulatorOptions {
  /** TCP port; `0` picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. Loopback only by default: the emulator has no real security. @default '127.0.0.1' */
  host?: string;
  /** Daily API request allowance (`DailyApiRequests.Max`); spent → 403 REQUEST_LIMIT_EXCEEDED. @default 100000 */
  dailyApiLimit?: number;
  /** Delay added to every request, in ms. @default 0 */
  latencyMs?: number;
  /** Clock for record timestamps, token expiry, date literals and device-code timing. @default system clock */
  clock?: EmulatorClock;
  /** Lifetime of issued access tokens in ms; `undefined` = until revoked or expired by a control. @default undefined */
  accessTokenTtlMs?: number;
  /** Rotate refresh tokens on every refresh; replaying a superseded one revokes the grant. @default false */
  refreshTokenRotation?: boolean;
  /**
   * How long a refresh-token request stays "in flight" (ms); a second refresh with the same token
   * during that window is refused with `invalid_grant` "Token request is already being processed".
   * @default 25
   */
  refreshProcessingMs?: number;
  /** Connected-app consumer key. @default '3MVG9emulator.markmail.crm' */
  clientId?: string;
  /** Connected-app consumer secret. @default a random value */
  clientSecret?: string;
  /** Username of the API user. @default 'admin@markmail-emulator.example' */
  username?: string;
  /** Organization name. @default 'MarkMail Emulator Org' */
  orgName?: string;
  /** Device flow polling interval clients must respect, seconds. @default 5 */
  deviceCodeIntervalSeconds?: number;
  /** Device code lifetime, seconds. @default 600 */
  deviceCodeTtlSeconds?: number;
  /**
   * Seed the sample data of a scratch org created with `"hasSampleData": true` (12 accounts, 20
   * contacts, 31 opportunities, 18 leads, 4 campaigns — see `store/sample-data.ts`); `reset()`
   * seeds it again. @default false
   */
  sampleData?: boolean;
  /**
   * Serve HTTPS: `true` generates a self-signed certificate (ECDSA P-256, one day, for the host,
   * `localhost`, 127.0.0.1 and ::1) at start, exposed as `certificate` for clients to trust (e.g.
   * `NODE_EXTRA_CA_CERTS`); or pass your own PEM `{ key, cert }`. URLs (instance, identity, login)
   * then start with `https://`. @default false
   */
  tls?: boolean | { key: string; cert: string };
  /** Extra modules (routes) to install after the built-in ones. @default [] */
  modules?: EmulatorModule[];
  /** Receives unexpected handler errors (they answer 500 UNKNOWN_EXCEPTION). @default ignored */
  onError?: (error: unknown) => void;
}

const KNOWN_KEYS = new Set<keyof SalesforceEmulatorOptions>([
  'port',
  'host',
  'dailyApiLimit',
  'latencyMs',
  'clock',
  'accessTokenTtlMs',
  'refreshTokenRotation',
  'refreshProcessingMs',
  'clientId',
  'clientSecret',
  'username',
  'orgName',
  'deviceCodeIntervalSeconds',
  'deviceCodeTtlSeconds',
  'modules',
  'onError',
  'sampleData',
  'tls',
]);

/**
 * Rejects unknown keys and out-of-range numbers.
 *
 * @throws {TypeError} naming the offending option.
 */
export function validateEmulatorOptions(options: SalesforceEmulatorOptions): void {
  assertKnownOptions('startSalesforceEmulator', options, KNOWN_KEYS);
  const nonNegative: Array<keyof SalesforceEmulatorOptions> = [
    'port',
    'dailyApiLimit',
    'latencyMs',
    'accessTokenTtlMs',
    'refreshProcessingMs',
    'deviceCodeIntervalSeconds',
    'deviceCodeTtlSeconds',
  ];
  const tls = options.tls;
  if (
    tls !== undefined &&
    typeof tls !== 'boolean' &&
    (typeof tls !== 'object' || tls === null || typeof tls.key !== 'string' || typeof tls.cert !== 'string')
  ) {
    throw new TypeError(
      'startSalesforceEmulator: option "tls" must be a boolean or { key, cert } PEM strings',
    );
  }
  for (const key of nonNegative) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new TypeError(`startSalesforceEmulator: option "${key}" must be a non-negative number`);
    }
  }
}
