import { randomBytes } from 'node:crypto';
import { type EmulatorFaults, FaultTable } from '../salesforce-emulator/faults.js';
import { createStats, type EmulatorStats, resetStats } from '../salesforce-emulator/stats.js';
import { HubSpotEmulatorError, listenHubSpot } from './http.js';
import { campaignRoutes } from './routes/campaigns.js';
import { listRoutes } from './routes/lists.js';
import { HubSpotEmulatorOAuth, oauthRoutes } from './routes/oauth.js';
import { objectRoutes, toPublic } from './routes/objects.js';
import { propertyRoutes } from './routes/properties.js';
import { type HubSpotEmulatorProperty, HubSpotEmulatorStore } from './store.js';
import { createWebhookControls, type HubSpotEmulatorWebhooks } from './webhooks.js';

/** Options of {@link startHubSpotEmulator}. */
export interface HubSpotEmulatorOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Artificial latency added to every request, ms. @default 0 */
  latencyMs?: number;
  /**
   * The burst limit (`X-HubSpot-RateLimit-Max` per `-Interval-Milliseconds`); the next call over it
   * answers 429 with `policyName: 'TEN_SECONDLY_ROLLING'` and `Retry-After`.
   * @default { max: 190, intervalMs: 10000 } (Professional tier)
   */
  rateLimit?: { max: number; intervalMs: number };
  /** Daily call allowance (`X-HubSpot-RateLimit-Daily`); over it → 429 `policyName: 'DAILY'`. @default 625000 */
  dailyLimit?: number;
  /** Lifetime of OAuth access tokens issued by the token endpoint, ms. @default 1800000 (30 min) */
  accessTokenTtlMs?: number;
  /** Largest accepted request body, bytes. @default 10485760 */
  maxBodyBytes?: number;
  /** Clock for `lastmodifieddate`, token expiry and rate windows. @default the system clock */
  clock?: { now(): Date };
}

/** OAuth controls of the HubSpot emulator. */
export interface HubSpotEmulatorOAuthControls {
  /**
   * Expires one OAuth access token now, or every one issued so far when none is given (the next
   * API call with it answers 401 `EXPIRED_AUTHENTICATION`; the static token stays valid).
   */
  expireAccessToken(token?: string): void;
}

/** A running HubSpot emulator and its test controls. */
export interface HubSpotEmulator {
  /** Origin of the emulator: pass as `baseUrl` to `HubSpotProvider`, as `basePath` to `@hubspot/api-client`. */
  readonly baseUrl: string;
  /** A ready static token (a private-app / service-key style token that does not expire). */
  readonly accessToken: string;
  /** The portal (hub) id. */
  readonly portalId: number;
  /** The OAuth app's client id. */
  readonly clientId: string;
  /** The OAuth app's client secret (also the webhook signing key). */
  readonly clientSecret: string;
  /** Fault injection (same shape as the Salesforce emulator's). */
  readonly faults: EmulatorFaults;
  /** Live request counters (same shape as the Salesforce emulator's; `tokenRequests` counts `/oauth/*`). */
  readonly stats: EmulatorStats;
  /** Signed webhook delivery of recorded contact changes. */
  readonly webhooks: HubSpotEmulatorWebhooks;
  /** OAuth controls (the Salesforce emulator's `oauth` namespace, for what HubSpot's OAuth has). */
  readonly oauth: HubSpotEmulatorOAuthControls;
  /** `SimplePublicObject` JSON of every live contact (with all properties). */
  contacts(options?: { includeArchived?: boolean }): Array<ReturnType<typeof toPublic>>;
  /** Member record ids of a list, by list name (`undefined`: no such list). */
  listMembers(name: string): string[] | undefined;
  /** Adds a contact property (e.g. a custom field or another unique id property). */
  addContactProperty(property: Partial<HubSpotEmulatorProperty> & { name: string }): void;
  /**
   * Expires every OAuth access token issued so far (the static token stays valid).
   * @deprecated Use `oauth.expireAccessToken()`, the Salesforce emulator's name. Kept for one release.
   */
  expireAccessTokens(): void;
  /** Clears all data, faults, stats and rate windows. */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Starts a local HubSpot emulator: contacts (basic, batch, search with HubSpot's limits, GDPR
 * delete), email engagements, properties, lists v3 memberships, marketing campaigns, the OAuth
 * token endpoint, rate-limit headers and 429s, and signed webhook delivery — under the v3 paths
 * the official `@hubspot/api-client` calls and the date-based `2026-03` paths. See
 * `docs/hubspot-emulator-rules.md` for the rules it follows.
 *
 * @example
 * ```ts
 * const hubspot = await startHubSpotEmulator();
 * const provider = new HubSpotProvider({ baseUrl: hubspot.baseUrl, accessToken: hubspot.accessToken });
 * // …
 * await hubspot.stop();
 * ```
 */
export async function startHubSpotEmulator(options: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const clock = options.clock ?? { now: () => new Date() };
  const now = () => clock.now().getTime();
  const rate = options.rateLimit ?? { max: 190, intervalMs: 10_000 };
  const dailyLimit = options.dailyLimit ?? 625_000;
  const portalId = 62_515_000 + Math.floor(Math.random() * 1000);
  const store = new HubSpotEmulatorStore(() => clock.now());
  const oauth = new HubSpotEmulatorOAuth(
    `emu-client-${randomBytes(6).toString('hex')}`,
    `emu-secret-${randomBytes(18).toString('hex')}`,
    portalId,
    now,
    options.accessTokenTtlMs ?? 30 * 60_000,
  );
  const staticToken = `pat-na1-${randomBytes(16).toString('hex')}`;
  const faults = new FaultTable();
  const stats = createStats();
  let window: number[] = [];
  let dailyUsed = 0;

  const { server, baseUrl } = await listenHubSpot(
    {
      routes: [
        ...oauthRoutes(oauth),
        ...propertyRoutes(store),
        ...listRoutes(store),
        ...campaignRoutes(store),
        ...objectRoutes(store),
      ],
      faults,
      stats,
      maxBodyBytes: options.maxBodyBytes ?? 10 * 1024 * 1024,
      latencyMs: () => options.latencyMs ?? 0,
      authenticate: (token) => (token === staticToken ? 'ok' : oauth.check(token)),
      rateLimit() {
        const at = now();
        window = window.filter((t) => t > at - rate.intervalMs);
        const headers = (remaining: number) => ({
          'X-HubSpot-RateLimit-Daily': String(dailyLimit),
          'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, dailyLimit - dailyUsed)),
          'X-HubSpot-RateLimit-Interval-Milliseconds': String(rate.intervalMs),
          'X-HubSpot-RateLimit-Max': String(rate.max),
          'X-HubSpot-RateLimit-Remaining': String(Math.max(0, remaining)),
        });
        if (dailyUsed >= dailyLimit) {
          return {
            headers: headers(0),
            error: new HubSpotEmulatorError(429, 'RATE_LIMITS', 'You have reached your daily limit.', {
              errorType: 'RATE_LIMIT',
              policyName: 'DAILY',
            }),
          };
        }
        if (window.length >= rate.max) {
          const retryAfterMs = Math.max(0, (window[0] ?? at) + rate.intervalMs - at);
          return {
            headers: { ...headers(0), 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
            error: new HubSpotEmulatorError(
              429,
              'RATE_LIMITS',
              'You have reached your ten_secondly_rolling limit.',
              {
                errorType: 'RATE_LIMIT',
                policyName: 'TEN_SECONDLY_ROLLING',
              },
            ),
          };
        }
        window.push(at);
        dailyUsed += 1;
        return { headers: headers(rate.max - window.length) };
      },
    },
    options.host ?? '127.0.0.1',
    options.port ?? 0,
  );

  return {
    baseUrl,
    get accessToken() {
      return staticToken;
    },
    portalId,
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    faults,
    stats,
    webhooks: createWebhookControls(store, { clientSecret: oauth.clientSecret, portalId, appId: 1 }),
    contacts: (filter = {}) =>
      [...store.objects.contacts.values()]
        .filter((c) => filter.includeArchived || !c.archived)
        .map((c) => toPublic('contacts', c, Object.keys(c.properties))),
    listMembers: (name) => {
      const list = [...store.lists.values()].find((l) => l.name === name);
      return list ? [...list.members.keys()] : undefined;
    },
    addContactProperty(property) {
      store.properties.contacts.push({
        label: property.name,
        type: 'string',
        fieldType: 'text',
        groupName: 'contactinformation',
        hasUniqueValue: false,
        hubspotDefined: false,
        readOnlyValue: false,
        options: [],
        ...property,
      });
    },
    oauth: { expireAccessToken: (token) => oauth.expireAccessTokens(token) },
    expireAccessTokens: () => oauth.expireAccessTokens(),
    reset() {
      store.reset();
      faults.clear();
      resetStats(stats);
      window = [];
      dailyUsed = 0;
      oauth.accessTokens.clear();
      oauth.refreshTokens.clear();
      oauth.codes.clear();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
