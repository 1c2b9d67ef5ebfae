import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { bulkControls, type EmulatorBulkControls } from './bulk/bulk-control-api.js';
import { type EmulatorFaults, FaultTable } from './faults.js';
import { inProcessControlCall } from './http/control-call.js';
import { EmulatorRouter } from './http/router.js';
import { selfSignedCertificate } from './http/self-signed.js';
import { listen } from './http/server.js';
import { IdGenerator, toId15 } from './ids.js';
import type { EmulatorModuleContext, EmulatorModuleInstance } from './module.js';
import { builtInModules } from './modules.js';
import { type EmulatorOAuthControls, registerOAuthRoutes } from './oauth/oauth-routes.js';
import { TokenStore } from './oauth/token-store.js';
import { type SalesforceEmulatorOptions, validateEmulatorOptions } from './options.js';
import { type EmulatorRealtimeControls, realtimeControls } from './realtime/controls.js';
import { BASE_RESOURCES, registerOrgRoutes } from './rest/org-routes.js';
import { executeSoql } from './soql/execute.js';
import { loadSoqlParser } from './soql/parser.js';
import { createStats, type EmulatorStats, resetStats } from './stats.js';
import type { EmulatorClock } from './store/org-store.js';
import { OrgStore } from './store/org-store.js';
import { seedSampleData } from './store/sample-data.js';
import type { EmulatorFieldDefinition, EmulatorRecord } from './store/schema.js';
import { standardObjectDefinitions } from './store/standard-objects.js';

/**
 * A running emulator and its test controls. One style throughout: the org's identity and data are
 * properties and methods at the top (`records`, `addCustomField`, `apiUsage`, `setDailyApiLimit`,
 * `reset`, `stop`); each kind of injected behaviour has its own namespace of methods (`faults`,
 * `oauth`, `bulk`, `realtime`), and `stats` counts traffic.
 */
export interface SalesforceEmulator {
  /** Instance URL (origin, no trailing slash): pass to `new jsforce.Connection({ instanceUrl })`. */
  readonly instanceUrl: string;
  /** Login URL for OAuth flows: the same server. */
  readonly loginUrl: string;
  /** A ready access token of the API user (expires only per `accessTokenTtlMs` or a control). */
  readonly accessToken: string;
  /** A refresh token of the same grant as {@link accessToken}. */
  readonly refreshToken: string;
  /** 18-character org id (`00D…`). */
  readonly orgId: string;
  /** 18-character id of the API user (`005…`). */
  readonly userId: string;
  /** Username of the API user (the JWT `sub`). */
  readonly username: string;
  /** Connected-app consumer key. */
  readonly clientId: string;
  /** Connected-app consumer secret. */
  readonly clientSecret: string;
  /** The identity URL (token responses' `id`). */
  readonly identityUrl: string;
  /** The in-memory org: schemas and records; use it to seed data or from modules. */
  readonly store: OrgStore;
  /** Fault injection. */
  readonly faults: EmulatorFaults;
  /** Live request counters. */
  readonly stats: EmulatorStats;
  /** OAuth test controls (device approval, JWT certificates, token expiry). */
  readonly oauth: EmulatorOAuthControls;
  /** Bulk API 2.0 test controls (failed jobs, failed rows, page size, processing delay). */
  readonly bulk: EmulatorBulkControls;
  /** Real-time test controls (outbound messages, CometD/Change Data Capture events). */
  readonly realtime: EmulatorRealtimeControls;
  /** Copies of the live records of an object (`includeDeleted` adds recycle-bin rows). */
  records(sobject: string, options?: { includeDeleted?: boolean }): EmulatorRecord[];
  /** Adds a field (e.g. a custom field `Score__c`) to an object. */
  addCustomField(sobject: string, field: EmulatorFieldDefinition): void;
  /**
   * Changes the daily API allowance; usage so far is kept. Lasts until {@link reset}, which
   * restores the `dailyApiLimit` option (so one test's limit never leaks into the next).
   */
  setDailyApiLimit(limit: number): void;
  /** Current daily API usage. */
  apiUsage(): { used: number; max: number };
  /**
   * Back to a fresh org: records (except the seeded User and Organization), query cursors,
   * faults, stats and API usage are cleared, and the daily API limit goes back to the
   * `dailyApiLimit` option (@default 100000), undoing {@link setDailyApiLimit}.
   * Schemas (incl. added fields) and tokens are kept.
   */
  reset(): void;
  /**
   * The PEM certificate the server presents when started with `tls` (the generated self-signed
   * one for `tls: true`), for clients to trust; `undefined` over plain HTTP.
   */
  readonly certificate: string | undefined;
  /** Closes the server and open connections. */
  stop(): Promise<void>;
}

const SYSTEM_CLOCK: EmulatorClock = { now: () => new Date() };

/**
 * Starts a local Salesforce emulator: a node:http server on 127.0.0.1 speaking enough of the REST,
 * OAuth (and, through modules, Bulk 2.0 and SOAP) wire protocols that unmodified jsforce 3 and the
 * `sf` CLI work against it.
 *
 * @param options see {@link SalesforceEmulatorOptions}.
 * @returns the running emulator; call `stop()` when done.
 * @throws {TypeError} for unknown or invalid options.
 * @example
 * ```ts
 * import jsforce from 'jsforce';
 * import { startSalesforceEmulator } from '@markmail/crm/testing';
 *
 * const sf = await startSalesforceEmulator();
 * const conn = new jsforce.Connection({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken, version: '62.0' });
 * await conn.sobject('Contact').create({ LastName: 'Lovelace', Email: 'ada@example.com' });
 * await sf.stop();
 * ```
 */
export async function startSalesforceEmulator(
  options: SalesforceEmulatorOptions = {},
): Promise<SalesforceEmulator> {
  validateEmulatorOptions(options);
  loadSoqlParser(); // a missing optional peer fails here, not at the first query
  const clock = options.clock ?? SYSTEM_CLOCK;
  const ids = new IdGenerator();
  const createdAt = clock.now();
  let userId = '';
  const store = new OrgStore(ids, clock, () => userId);
  for (const definition of standardObjectDefinitions()) store.addObject(definition);

  const username = options.username ?? 'admin@markmail-emulator.example';
  const [orgResult] = store.insert(
    'Organization',
    [
      {
        Name: options.orgName ?? 'MarkMail Emulator Org',
        InstanceName: 'EMU1',
        OrganizationType: 'Developer Edition',
      },
    ],
    { bypassFieldPermissions: true },
  );
  const [userResult] = store.insert(
    'User',
    [
      {
        Username: username,
        FirstName: 'Emulator',
        LastName: 'Admin',
        Email: 'admin@markmail-emulator.example',
        Alias: 'eadmin',
      },
    ],
    { bypassFieldPermissions: true },
  );
  const orgId = orgResult?.id as string;
  userId = userResult?.id as string;
  store.update('User', [{ Id: userId, CreatedById: userId, LastModifiedById: userId }], {
    bypassFieldPermissions: true,
  });
  store.update('Organization', [{ Id: orgId, CreatedById: userId, LastModifiedById: userId }], {
    bypassFieldPermissions: true,
  });
  const seed = (): void => {
    if (options.sampleData) seedSampleData(store, clock);
  };
  seed();

  const initialDailyApiLimit = options.dailyApiLimit ?? 100_000;
  const usage = { used: 0, max: initialDailyApiLimit };
  const stats = createStats();
  const faults = new FaultTable();
  const router = new EmulatorRouter();
  const tokens = new TokenStore(toId15(orgId), orgId, () => clock.now().getTime());
  const clientId = options.clientId ?? '3MVG9emulator.markmail.crm';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('hex');
  const resources = [...BASE_RESOURCES];
  const explainSources: Array<(id: string) => string | undefined> = [];

  const context: EmulatorModuleContext = {
    router,
    store,
    clock,
    ids,
    orgId,
    userId,
    createdAt,
    query: (soql, queryOptions = {}) =>
      executeSoql(store, soql, {
        includeDeleted: queryOptions.includeDeleted ?? false,
        apiVersion: queryOptions.apiVersion ?? 62,
        now: clock.now(),
      }),
    registerExplainSource: (resolve) => {
      explainSources.push(resolve);
    },
    resolveExplainSource: (id) => {
      for (const resolve of explainSources) {
        const soql = resolve(id);
        if (soql !== undefined) return soql;
      }
      return undefined;
    },
    registerResource: (name) => {
      if (!resources.includes(name)) resources.push(name);
    },
    apiUsage: () => ({ ...usage }),
    authenticate: (token) => tokens.session(token),
    consumeApiCall: () => {
      if (usage.used >= usage.max) return false;
      usage.used += 1;
      stats.apiCalls += 1;
      return true;
    },
  };

  // Bound late: the login URL is known only once the server listens.
  let baseUrl = '';
  const oauth = registerOAuthRoutes(router, {
    tokens,
    clock,
    clientId,
    clientSecret,
    orgId,
    userId,
    username,
    baseUrl: () => baseUrl,
    accessTokenTtlMs: options.accessTokenTtlMs,
    refreshTokenRotation: options.refreshTokenRotation ?? false,
    refreshProcessingMs: options.refreshProcessingMs ?? 25,
    deviceCodeIntervalSeconds: options.deviceCodeIntervalSeconds ?? 5,
    deviceCodeTtlSeconds: options.deviceCodeTtlSeconds ?? 600,
    userRecord: () => store.get(userId) ?? {},
    orgRecord: () => store.get(orgId) ?? {},
  });
  registerOrgRoutes(context, () => resources);
  const instances: EmulatorModuleInstance[] = [];
  for (const module of [...builtInModules, ...(options.modules ?? [])]) {
    const instance = module.create(context);
    if (instance) instances.push(instance);
  }

  const initial = oauth.issueTokens();
  const host = options.host ?? '127.0.0.1';
  const tls =
    // Validity from the real clock: TLS clients check it against theirs, not the emulator's.
    options.tls === true ? selfSignedCertificate(host) : options.tls ? options.tls : undefined;
  const { server, baseUrl: listeningUrl } = await listen(
    {
      router,
      faults,
      stats,
      authenticate: (token) => {
        const session = tokens.session(token);
        return session ? { session } : { failure: 'invalid' };
      },
      consumeApiCall: () => {
        if (usage.used >= usage.max) return false;
        usage.used += 1;
        return true;
      },
      apiUsage: () => usage,
      latencyMs: () => options.latencyMs ?? 0,
      ...(options.onError ? { onError: options.onError } : {}),
    },
    host,
    options.port ?? 0,
    tls,
  );
  baseUrl = listeningUrl;
  const controlSession = { accessToken: initial.accessToken, userId, orgId, clientId };
  const controls = inProcessControlCall(
    router,
    () => controlSession,
    () => baseUrl,
  );

  return {
    instanceUrl: baseUrl,
    loginUrl: baseUrl,
    accessToken: initial.accessToken,
    refreshToken: initial.refreshToken as string,
    orgId,
    userId,
    username,
    clientId,
    clientSecret,
    identityUrl: `${baseUrl}/id/${orgId}/${userId}`,
    store,
    faults,
    stats,
    oauth,
    bulk: bulkControls(controls),
    realtime: realtimeControls(controls),
    records: (sobject, recordOptions = {}) => {
      const schema = store.schema(sobject);
      if (!schema) throw new Error(`Unknown sObject type ${sobject}`);
      // Rows are stored sparsely; hand out every field, null when unset, as the API would.
      return [...store.rows(sobject, recordOptions)].map((row) => {
        const copy: EmulatorRecord = {};
        // Compound fields are read through their components, which are listed too.
        for (const field of schema.fields)
          if (field.type !== 'address') copy[field.name] = row[field.name] ?? null;
        return copy;
      });
    },
    addCustomField: (sobject, field) => store.addField(sobject, field),
    setDailyApiLimit: (limit) => {
      if (!(limit >= 0)) throw new RangeError('setDailyApiLimit: limit must be a non-negative number');
      usage.max = limit;
    },
    apiUsage: () => ({ ...usage }),
    reset: () => {
      store.clear({ keep: ['User', 'Organization'] });
      faults.clear();
      resetStats(stats);
      usage.used = 0;
      usage.max = initialDailyApiLimit;
      // Seeded before the modules reset, so the seed leaves no change events or outbound messages.
      seed();
      for (const instance of instances) instance.reset?.();
    },
    certificate: tls?.cert,
    stop: () => stopServer(server, instances),
  };
}

async function stopServer(server: Server, instances: EmulatorModuleInstance[]): Promise<void> {
  for (const instance of instances) await instance.stop?.();
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
