import { z } from 'zod';
import { CrmConfigurationError, type CrmError, type CrmFieldIssue, isCrmError } from '../core/errors.js';
import { isCompatibleFieldType, suggestFieldMappings } from '../core/field-suggestions.js';
import { type CrmLogger, createRedactingLogger } from '../core/logger.js';
import {
  type CrmCampaign,
  type CrmContact,
  type CrmFieldMappingInput,
  type CrmFieldType,
  CrmFieldTypeSchema,
  CrmSyncDirectionSchema,
} from '../core/models.js';
import type { CrmProvider } from '../core/provider.js';
import type { ProviderRegistry } from '../core/registry.js';
import { type CrmClock, type CrmIntegration, type CrmStorage, systemClock } from '../storage/types.js';
import { SyncEngine } from '../sync/engine.js';
import { type SyncReport, SyncReportBuilder } from '../sync/report.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { readJsonBody } from './request-body.js';
import { HttpProblem, json, SECURITY_HEADERS } from './responses.js';
import { assertSameOrigin } from './same-origin.js';
import { type CrmHttpSyncRun, SyncRunTracker } from './sync-runs.js';

/** A field of the host's records, offered in the mapping editor and to {@link suggestFieldMappings}. */
export interface CrmHttpHostField {
  /** Path in the host's records (`first_name`, `profile.company`). */
  name: string;
  label: string;
  fieldType: CrmFieldType;
  /** A few example values (only their shape is used for suggestions; never sent to the page). */
  samples?: unknown[];
}

/** How the host lends its own records to sync runs. */
export interface CrmHttpHostData {
  /** The user's contacts, streamed (an async generator over a DB cursor is ideal). */
  contacts(
    userId: string,
    context: { integrationId: string; signal: AbortSignal },
  ): Iterable<CrmContact> | AsyncIterable<CrmContact>;
  /** The user's campaigns. */
  campaigns(
    userId: string,
    context: { integrationId: string; signal: AbortSignal },
  ): Iterable<CrmCampaign> | AsyncIterable<CrmCampaign>;
  /** The fields of the host's contact records. */
  fields(userId: string): CrmHttpHostField[] | Promise<CrmHttpHostField[]>;
}

/** Starts a provider's OAuth flow (and optionally finishes it). */
export interface CrmHttpAuthProvider {
  /**
   * Remember what the callback needs and return the provider's authorize URL. With Salesforce:
   * `({ userId, returnTo }) => beginOAuthAuthorization({ oauth, stateStore, userId, returnTo })`.
   */
  start(context: {
    userId: string;
    returnTo: string;
    request: Request;
  }): Promise<{ url: string }> | { url: string };
  /**
   * The OAuth redirect target, mounted at `GET {base}/auth/{provider}/callback` (e.g. the handler
   * from `createOAuthCallbackHandler`). Leave it out when the host mounts its callback elsewhere.
   */
  callback?: (request: Request) => Promise<Response>;
}

/** What `createProvider` receives besides the integration. */
export interface CrmHttpProviderContext {
  /** The decrypted credentials as stored (JSON object). Secret: never log it. */
  credentials: Record<string, unknown>;
  registry: ProviderRegistry;
}

/** Options of {@link createCrmHttpHandler}. */
export interface CrmHttpHandlerOptions {
  /** Integrations, logs, sync status and leases. */
  storage: CrmStorage;
  /** `CredentialCipher` (or compatible): credentials are stored only as its ciphertext. */
  cipher: {
    encrypt(plaintext: string): string | Promise<string>;
    decrypt(ciphertext: string): string | Promise<string>;
  };
  /** Providers by name; `POST {base}/integrations` accepts only registered names. */
  registry: ProviderRegistry;
  /** The signed-in host user, from your session (cookie, header); `null` → 401. */
  resolveUser(request: Request): string | null | Promise<string | null>;
  /** The host's records for sync runs and its field list for mappings. */
  hostData: CrmHttpHostData;
  /** Where the routes live. @default '/api/crm' */
  basePath?: string;
  /** OAuth starters (and callbacks) by provider name, for `POST {base}/auth/{provider}`. @default {} */
  auth?: Record<string, CrmHttpAuthProvider>;
  /**
   * Build the provider of an integration. @default `registry.create(integration.provider,
   * { ...decryptedCredentials, instanceUrl })` — pass your own to add an OAuth client for token
   * refresh (Salesforce: a `TokenManager`), timeouts, or a custom `fetch`.
   */
  createProvider?: (
    integration: CrmIntegration,
    context: CrmHttpProviderContext,
  ) => CrmProvider | Promise<CrmProvider>;
  /**
   * Which org a set of credentials posted to `POST {base}/integrations` belongs to.
   * @default the host of `instanceUrl` (unique per Salesforce org with My Domain)
   */
  identifyOrg?: (
    provider: string,
    credentials: { instanceUrl: string; accessToken: string },
  ) => string | Promise<string>;
  /** Origins besides the request's own that may make state-changing calls (a separate front-end). @default [] */
  allowedOrigins?: string[];
  /** Largest JSON body accepted, in bytes. @default 65536 */
  maxBodyBytes?: number;
  /** Structured logger; lines are redacted. @default silent */
  logger?: CrmLogger;
  /** @default system clock */
  clock?: CrmClock;
}

/** The handler: a Web-standard `(request) => Promise<Response>`, plus control of background runs. */
export interface CrmHttpHandler {
  (request: Request): Promise<Response>;
  /** Resolves when every background sync started so far has finished (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Abort running background syncs and wait for them to stop. */
  close(): Promise<void>;
}

const OPTION_KEYS = new Set([
  'storage',
  'cipher',
  'registry',
  'resolveUser',
  'hostData',
  'basePath',
  'auth',
  'createProvider',
  'identifyOrg',
  'allowedOrigins',
  'maxBodyBytes',
  'logger',
  'clock',
]);

const Id = z.string().trim().min(1).max(200);
const CreateIntegrationBody = z.object({
  provider: z.string().trim().min(1).max(64),
  credentials: z.object({
    instanceUrl: z.url({ protocol: /^https?$/ }),
    accessToken: z.string().min(1).max(4096),
    refreshToken: z.string().min(1).max(4096).optional(),
  }),
});
const SyncBody = z.object({ integrationId: Id });
const ResyncBody = z.object({ entityType: z.enum(['contact', 'campaign']).default('contact') });
const AuthBody = z.object({
  returnTo: z
    .string()
    .regex(/^\/(?![/\\])\S*$/, { message: 'must be a relative path starting with a single "/"' })
    .max(2_000)
    .optional(),
});
const FieldMappingsBody = z.object({
  fieldMappings: z
    .array(
      z.object({
        hostField: z.string().trim().min(1).max(200),
        crmField: z.string().trim().min(1).max(200),
        fieldType: CrmFieldTypeSchema,
        syncDirection: CrmSyncDirectionSchema.default('bidirectional'),
      }),
    )
    .max(500),
});
const LogsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });

type Route = (context: RouteContext) => Promise<Response>;
interface RouteContext {
  request: Request;
  userId: string;
  params: string[];
}

/**
 * The original `/api/crm` endpoints of MarkMail, generalised to every registered provider, plus
 * status, logs, grouped errors, resync, field mappings with suggestions and a dashboard page, as
 * one Web-standard handler to mount in any framework (node:http via `toNodeHttpListener`, Hono's
 * `app.all('/api/crm/*', (c) => handler(c.req.raw))`, Express/Fastify through the node adapter).
 *
 * Every request needs a user (`resolveUser`, else 401); ids from the client are only looked up
 * among that user's integrations (someone else's is a 404). Bodies are JSON, size-capped and
 * validated (400 naming the field); unknown routes are 404, wrong methods 405 with `Allow`.
 * State-changing requests must be same-origin (`Sec-Fetch-Site`/`Origin`, else 403). Syncs run in
 * the background (202) and report progress in `GET {base}/integrations/{id}/status`.
 *
 * @throws {CrmConfigurationError} at construction for missing or unknown options.
 * @example
 * const handler = createCrmHttpHandler({ storage, cipher, registry, hostData,
 *   resolveUser: (request) => sessionUserId(request) });
 * createServer(toNodeHttpListener(handler)).listen(3000); // dashboard at /api/crm/ui
 */
export function createCrmHttpHandler(options: CrmHttpHandlerOptions): CrmHttpHandler {
  validateOptions(options);
  const { storage, registry, hostData } = options;
  const basePath = (options.basePath ?? '/api/crm').replace(/\/+$/, '');
  const auth = options.auth ?? {};
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const clock = options.clock ?? systemClock;
  const logger = createRedactingLogger(options.logger);
  const runs = new SyncRunTracker(clock, markReconnectNeeded);

  // [method, pattern, route]; `:id` and `:provider` segments become params in order.
  const routes: Array<[string, string, Route]> = [
    ['GET', '/ui', async () => dashboard()],
    ['POST', '/auth/:provider', startAuth],
    ['GET', '/integrations', listIntegrations],
    ['POST', '/integrations', createIntegration],
    ['DELETE', '/integrations/:id', deleteIntegration],
    ['GET', '/integrations/:id/status', integrationStatus],
    ['GET', '/integrations/:id/logs', integrationLogs],
    ['GET', '/integrations/:id/errors', integrationErrors],
    ['POST', '/integrations/:id/resync', resync],
    ['GET', '/integrations/:id/field-mappings', getFieldMappings],
    ['PUT', '/integrations/:id/field-mappings', putFieldMappings],
    ['GET', '/integrations/:id/field-mappings/suggestions', fieldMappingSuggestions],
    ['POST', '/sync/contacts', (context) => startSync(context, 'contact')],
    ['POST', '/sync/campaigns', (context) => startSync(context, 'campaign')],
    ['GET', '/orgs', listOrgs],
  ];

  const handler = async (request: Request): Promise<Response> => {
    try {
      const path = new URL(request.url).pathname;
      if (path !== basePath && !path.startsWith(`${basePath}/`)) {
        throw new HttpProblem(404, 'NOT_FOUND', 'No such route');
      }
      const rest = path.slice(basePath.length).replace(/\/+$/, '') || '/';
      // The OAuth redirect arrives as a top-level navigation from the CRM: no user check here,
      // the callback handler does its own (state bound to the user who started it).
      const callback = /^\/auth\/([a-z][a-z0-9_-]*)\/callback$/.exec(rest);
      if (callback) {
        const target = auth[callback[1]!]?.callback;
        if (!target) throw new HttpProblem(404, 'NOT_FOUND', 'No such route');
        return await target(request);
      }
      const matched = match(rest, request.method);
      assertSameOrigin(request, allowedOrigins);
      const userId = await options.resolveUser(request);
      if (!userId) throw new HttpProblem(401, 'UNAUTHORIZED', 'Sign in first');
      return await matched.route({ request, userId, params: matched.params });
    } catch (error) {
      return toErrorResponse(error);
    }
  };
  return Object.assign(handler, { idle: () => runs.idle(), close: () => runs.close() });

  function match(path: string, method: string): { route: Route; params: string[] } {
    const segments = path.split('/').slice(1).map(decodeSegment);
    const allowed: string[] = [];
    for (const [routeMethod, pattern, route] of routes) {
      const parts = pattern.split('/').slice(1);
      if (parts.length !== segments.length) continue;
      const params: string[] = [];
      const fits = parts.every((part, i) => {
        if (part.startsWith(':')) {
          params.push(segments[i]!);
          return segments[i]!.length > 0;
        }
        return part === segments[i];
      });
      if (!fits) continue;
      if (routeMethod === method || (routeMethod === 'GET' && method === 'HEAD')) return { route, params };
      allowed.push(routeMethod);
    }
    if (allowed.length > 0) {
      throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', `Use ${allowed.join(' or ')}`, {
        headers: { Allow: allowed.join(', ') },
      });
    }
    throw new HttpProblem(404, 'NOT_FOUND', 'No such route');
  }

  function toErrorResponse(error: unknown): Response {
    if (error instanceof HttpProblem) return error.toResponse();
    if (isCrmError(error)) {
      logger.warn('CRM call from the HTTP API failed', { code: error.code, message: error.message });
      if (error.code === 'DATA_CONVERSION') {
        return new HttpProblem(400, 'BAD_REQUEST', error.message, { fields: issuesOf(error) }).toResponse();
      }
      // The CRM (or its credentials) failed, not this request.
      return new HttpProblem(502, error.code, error.message).toResponse();
    }
    logger.error('HTTP API request failed unexpectedly', {
      message: error instanceof Error ? error.message : String(error),
    });
    return new HttpProblem(500, 'INTERNAL', 'Something went wrong on our side').toResponse();
  }

  async function owned(userId: string, id: string): Promise<CrmIntegration> {
    const integration = Id.safeParse(id).success ? await storage.integrations.get(id) : null;
    // Someone else's integration is indistinguishable from a missing one.
    if (!integration || integration.userId !== userId) {
      throw new HttpProblem(404, 'NOT_FOUND', 'No such integration');
    }
    return integration;
  }

  async function providerFor(integration: CrmIntegration): Promise<CrmProvider> {
    let credentials: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await options.cipher.decrypt(integration.credentials));
      credentials = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } catch (error) {
      throw new CrmConfigurationError('Stored credentials of the integration cannot be read', {
        provider: integration.provider,
        cause: error,
      });
    }
    if (options.createProvider) return options.createProvider(integration, { credentials, registry });
    const { v: _version, ...config } = credentials;
    return registry.create(integration.provider, { ...config, instanceUrl: integration.instanceUrl });
  }

  async function markReconnectNeeded(integrationId: string, error: CrmError): Promise<void> {
    if (error.code !== 'AUTHENTICATION') return;
    const integration = await storage.integrations.get(integrationId);
    if (!integration) return;
    await storage.integrations.update(integrationId, {
      // The same marker the Salesforce TokenManager writes when a grant stops working.
      settings: {
        ...integration.settings,
        reauthorization: {
          required: true,
          reason: 'authentication_failed',
          ...(error.providerCode ? { providerCode: error.providerCode } : {}),
          at: clock.now().toISOString(),
        },
      },
    });
  }

  function dashboard(): Response {
    // Both values are validated names and paths (no quotes, no `<`), safe inside the script.
    const page = DASHBOARD_HTML.replace('__BASE_PATH__', basePath).replace(
      '__AUTH_PROVIDERS__',
      JSON.stringify(Object.keys(auth)),
    );
    return new Response(page, {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        // Everything is inline; nothing may load from elsewhere, and no one may frame the page.
        'Content-Security-Policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        'X-Frame-Options': 'DENY',
      },
    });
  }

  async function startAuth({ request, userId, params }: RouteContext): Promise<Response> {
    const provider = params[0]!;
    const starter = auth[provider];
    if (!starter) throw new HttpProblem(404, 'NOT_FOUND', `No OAuth flow is configured for '${provider}'`);
    const body = await readJsonBody(request, AuthBody, maxBodyBytes);
    const { url } = await starter.start({ userId, returnTo: body.returnTo ?? `${basePath}/ui`, request });
    return json({ url });
  }

  async function listIntegrations({ userId }: RouteContext): Promise<Response> {
    const integrations = await storage.integrations.findByUser(userId);
    return json({ integrations: integrations.map((i) => view(i)) });
  }

  async function createIntegration({ request, userId }: RouteContext): Promise<Response> {
    const body = await readJsonBody(request, CreateIntegrationBody, maxBodyBytes);
    if (!registry.has(body.provider)) {
      throw new HttpProblem(400, 'BAD_REQUEST', `Unknown provider '${body.provider}'`, {
        fields: [
          {
            field: 'provider',
            message: `must be one of: ${registry.names().join(', ') || '(none registered)'}`,
          },
        ],
      });
    }
    const orgId = options.identifyOrg
      ? await options.identifyOrg(body.provider, body.credentials)
      : new URL(body.credentials.instanceUrl).host;
    const existing = (await storage.integrations.findByUser(userId, body.provider)).find(
      (i) => i.orgId === orgId,
    );
    if (existing)
      throw new HttpProblem(409, 'CONFLICT', 'This org is already connected; delete it first or reconnect');
    const credentials = await options.cipher.encrypt(JSON.stringify({ v: 1, ...body.credentials }));
    const integration = await storage.integrations.create({
      userId,
      provider: body.provider,
      orgId,
      instanceUrl: body.credentials.instanceUrl,
      credentials,
    });
    return json({ integration: view(integration) }, 201);
  }

  async function deleteIntegration({ userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    if (runs.get(integration.id)?.state === 'running') {
      throw new HttpProblem(409, 'CONFLICT', 'A sync of this integration is running; wait for it to finish');
    }
    await storage.integrations.delete(integration.id);
    return new Response(null, { status: 204, headers: SECURITY_HEADERS });
  }

  async function integrationStatus({ userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const lastRuns = await storage.syncLogs.list(integration.id, { limit: 5 });
    return json({ integration: view(integration), run: runs.get(integration.id), lastRuns });
  }

  async function integrationLogs({ request, userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const query = LogsQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) {
      throw new HttpProblem(400, 'BAD_REQUEST', 'Invalid query: limit must be an integer from 1 to 200', {
        fields: [{ field: 'limit', message: 'must be an integer from 1 to 200' }],
      });
    }
    return json({ logs: await storage.syncLogs.list(integration.id, { limit: query.data.limit }) });
  }

  async function integrationErrors({ userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const rows = await storage.syncStatus.list({
      integrationId: integration.id,
      status: 'failed',
      limit: 1_000,
    });
    const groups = new Map<
      string,
      {
        code: string;
        count: number;
        message: string;
        examples: Array<{
          externalId: string;
          entityType: string;
          message: string;
          lastSyncedAt: Date | null;
        }>;
      }
    >();
    for (const row of rows) {
      const text = row.lastError ?? 'UNKNOWN: no reason recorded';
      const split = /^([A-Z][A-Z0-9_]*): ?([\s\S]*)$/.exec(text);
      const code = split?.[1] ?? 'UNKNOWN';
      const message = split?.[2] ?? text;
      const group = groups.get(code) ?? { code, count: 0, message, examples: [] };
      group.count++;
      if (group.examples.length < 5) {
        group.examples.push({
          externalId: row.externalId,
          entityType: row.entityType,
          message,
          lastSyncedAt: row.lastSyncedAt,
        });
      }
      groups.set(code, group);
    }
    const errors = [...groups.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
    return json({ errors });
  }

  async function resync({ request, userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const body = await readJsonBody(request, ResyncBody, maxBodyBytes);
    return json({ run: begin(integration, userId, body.entityType, 'resync') }, 202);
  }

  async function startSync(
    { request, userId }: RouteContext,
    entityType: 'contact' | 'campaign',
  ): Promise<Response> {
    const body = await readJsonBody(request, SyncBody, maxBodyBytes);
    const integration = await owned(userId, body.integrationId);
    return json({ run: begin(integration, userId, entityType, 'sync') }, 202);
  }

  function begin(
    integration: CrmIntegration,
    userId: string,
    entityType: 'contact' | 'campaign',
    trigger: CrmHttpSyncRun['trigger'],
  ): CrmHttpSyncRun {
    if (!integration.syncEnabled) {
      throw new HttpProblem(409, 'CONFLICT', 'Sync is paused for this integration (reconnect it to resume)');
    }
    return runs.start(integration.id, entityType, trigger, async ({ signal, onProgress }) => {
      const engine = new SyncEngine({
        provider: await providerFor(integration),
        storage,
        integrationId: integration.id,
        fieldMappings: integration.fieldMappings,
        logger,
        clock,
      });
      const context = { integrationId: integration.id, signal };
      const report =
        entityType === 'contact'
          ? await engine.pushContacts(hostData.contacts(userId, context), { signal, onProgress })
          : await syncCampaigns(engine, hostData.campaigns(userId, context), signal, onProgress);
      await storage.integrations.update(integration.id, { lastSyncAt: clock.now() });
      return report;
    });
  }

  async function getFieldMappings({ userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    return json({ fieldMappings: integration.fieldMappings });
  }

  async function putFieldMappings({ request, userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const body = await readJsonBody(request, FieldMappingsBody, maxBodyBytes);
    const hostFields = new Set((await hostData.fields(userId)).map((f) => f.name));
    const issues: CrmFieldIssue[] = [];
    const seen = new Set<string>();
    body.fieldMappings.forEach((mapping, i) => {
      if (!hostFields.has(mapping.hostField)) {
        issues.push({
          field: `fieldMappings.${i}.hostField`,
          message: `is not a host field (${mapping.hostField})`,
        });
      }
      if (seen.has(mapping.crmField)) {
        issues.push({ field: `fieldMappings.${i}.crmField`, message: `${mapping.crmField} is mapped twice` });
      }
      seen.add(mapping.crmField);
    });
    if (issues.length) {
      throw new HttpProblem(400, 'BAD_REQUEST', 'Invalid field mappings', { fields: issues });
    }
    // Checked against what the CRM describes (Salesforce describe, HubSpot properties).
    const crmFields = new Map(
      (await (await providerFor(integration)).getCustomFields()).map((f) => [f.name, f]),
    );
    body.fieldMappings.forEach((mapping, i) => {
      const field = crmFields.get(mapping.crmField);
      if (!field) {
        issues.push({
          field: `fieldMappings.${i}.crmField`,
          message: `the CRM has no field ${mapping.crmField}`,
        });
        return;
      }
      if (mapping.syncDirection !== 'from_crm' && !field.updateable) {
        issues.push({
          field: `fieldMappings.${i}.crmField`,
          message: `${mapping.crmField} is read-only in the CRM`,
        });
      }
      if (!isCompatibleFieldType(mapping.fieldType, field.fieldType)) {
        issues.push({
          field: `fieldMappings.${i}.fieldType`,
          message: `${mapping.fieldType} does not fit ${mapping.crmField} (${field.fieldType})`,
        });
      }
    });
    if (issues.length) {
      throw new HttpProblem(400, 'BAD_REQUEST', 'Invalid field mappings', { fields: issues });
    }
    const fieldMappings: CrmFieldMappingInput[] = body.fieldMappings;
    const updated = await storage.integrations.update(integration.id, { fieldMappings });
    return json({ fieldMappings: updated.fieldMappings });
  }

  async function fieldMappingSuggestions({ userId, params }: RouteContext): Promise<Response> {
    const integration = await owned(userId, params[0]!);
    const provider = await providerFor(integration);
    const [hostFields, crmFields] = await Promise.all([hostData.fields(userId), provider.getCustomFields()]);
    const suggestions = suggestFieldMappings({ hostFields, crmFields });
    return json({
      suggestions,
      // For the mapping editor's choices; samples stay on the server.
      hostFields: hostFields.map(({ name, label, fieldType }) => ({ name, label, fieldType })),
      crmFields,
    });
  }

  async function listOrgs({ userId }: RouteContext): Promise<Response> {
    const integrations = await storage.integrations.findByUser(userId);
    return json({
      orgs: integrations.map((i) => ({
        integrationId: i.id,
        provider: i.provider,
        orgId: i.orgId,
        instanceUrl: i.instanceUrl,
        connection: connectionOf(i),
      })),
    });
  }
}

/** How an integration looks over HTTP: everything but its credentials, plus its connection state. */
function view(integration: CrmIntegration) {
  const { credentials: _secret, ...rest } = integration;
  return { ...rest, connection: connectionOf(integration) };
}

/** `reconnect_needed` when a grant stopped working, `paused` when the host paused sync. */
function connectionOf(integration: CrmIntegration): 'connected' | 'reconnect_needed' | 'paused' {
  const marker = integration.settings.reauthorization as { required?: unknown } | undefined;
  if (marker?.required === true) return 'reconnect_needed';
  return integration.syncEnabled ? 'connected' : 'paused';
}

async function syncCampaigns(
  engine: SyncEngine,
  campaigns: Iterable<CrmCampaign> | AsyncIterable<CrmCampaign>,
  signal: AbortSignal,
  onProgress: (progress: import('../sync/push.js').SyncProgress) => void,
): Promise<SyncReport> {
  let total: SyncReport | null = null;
  for await (const campaign of campaigns) {
    signal.throwIfAborted();
    const report = await engine.syncCampaign(campaign, { signal });
    total = total ? addReports(total, report) : report;
    onProgress({
      direction: 'push',
      processed: total.processed,
      created: total.created,
      updated: total.updated,
      unchanged: total.unchanged,
      failed: total.failed,
      deleted: 0,
      apiCalls: total.apiCalls,
    });
  }
  return total ?? emptyReport();
}

function addReports(a: SyncReport, b: SyncReport): SyncReport {
  const errorsByCode = { ...a.errorsByCode };
  for (const [code, group] of Object.entries(b.errorsByCode)) {
    const prior = errorsByCode[code];
    errorsByCode[code] = prior
      ? {
          ...prior,
          count: prior.count + group.count,
          externalIds: [...prior.externalIds, ...group.externalIds].slice(0, 20),
        }
      : group;
  }
  return {
    ...b,
    processed: a.processed + b.processed,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    failed: a.failed + b.failed,
    apiCalls: a.apiCalls + b.apiCalls,
    errors: [...a.errors, ...b.errors].slice(0, 100),
    errorsByCode,
    startedAt: a.startedAt,
  };
}

function emptyReport(): SyncReport {
  const now = new Date();
  return new SyncReportBuilder({
    entityType: 'campaign',
    direction: 'push',
    startedAt: now,
    dryRun: false,
    maxErrors: 0,
  }).finish(now, true);
}

function issuesOf(error: CrmError): CrmFieldIssue[] {
  const issues = (error as CrmError & { issues?: CrmFieldIssue[] }).issues;
  return issues ?? [];
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem(400, 'BAD_REQUEST', 'Malformed URL path');
  }
}

function validateOptions(options: CrmHttpHandlerOptions): void {
  if (!options || typeof options !== 'object') {
    throw new CrmConfigurationError('createCrmHttpHandler needs an options object');
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length) {
    throw new CrmConfigurationError(`createCrmHttpHandler got unknown option(s): ${unknown.join(', ')}`, {
      fields: unknown,
    });
  }
  for (const key of ['storage', 'cipher', 'registry', 'resolveUser', 'hostData'] as const) {
    if (!options[key]) {
      throw new CrmConfigurationError(`createCrmHttpHandler needs ${key}`, { fields: [key] });
    }
  }
  for (const name of Object.keys(options.auth ?? {})) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
      throw new CrmConfigurationError(`auth provider names are lower-case identifiers: got '${name}'`, {
        fields: ['auth'],
      });
    }
  }
  const base = options.basePath;
  if (base !== undefined && base !== '' && !/^\/[A-Za-z0-9/_.-]*$/.test(base)) {
    throw new CrmConfigurationError('basePath must be a path like /api/crm', { fields: ['basePath'] });
  }
}
