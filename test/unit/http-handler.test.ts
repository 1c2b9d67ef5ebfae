import { gzipSync } from 'node:zlib';
import {
  CredentialCipher,
  CrmAuthenticationError,
  type CrmContact,
  MemoryStorage,
  ProviderRegistry,
} from '@markmail/crm';
import { type CrmHttpHandlerOptions, createCrmHttpHandler } from '@markmail/crm/http';
import { FakeCrmProvider } from '@markmail/crm/testing';
import { afterEach, describe, expect, it } from 'vitest';

const ORIGIN = 'http://crm.test';
const BASE = `${ORIGIN}/api/crm`;

function contacts(n: number): CrmContact[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `sub-${i + 1}`,
    email: `person${i + 1}@example.com`,
    firstName: `P${i + 1}`,
    tags: [],
    customFields: {},
  }));
}

interface Setup {
  handler: ReturnType<typeof createCrmHttpHandler>;
  storage: MemoryStorage;
  crm: FakeCrmProvider;
  call: (
    method: string,
    path: string,
    init?: { body?: unknown; user?: string | null; headers?: Record<string, string> },
  ) => Promise<Response>;
}

const handlers: Setup['handler'][] = [];
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close();
});

function setup(
  overrides: Partial<CrmHttpHandlerOptions> & {
    hostContacts?: () => AsyncIterable<CrmContact> | Iterable<CrmContact>;
  } = {},
): Setup {
  const storage = new MemoryStorage();
  const cipher = new CredentialCipher({ keys: { k1: Buffer.alloc(32, 7) } });
  const crm = new FakeCrmProvider({ name: 'fake' });
  const registry = new ProviderRegistry().register('fake', () => crm);
  const { hostContacts, ...options } = overrides;
  const handler = createCrmHttpHandler({
    storage,
    cipher,
    registry,
    resolveUser: (request) => request.headers.get('x-user'),
    hostData: {
      contacts: hostContacts ?? (() => contacts(3)),
      campaigns: () => [
        {
          externalId: 'c-1',
          name: 'Spring launch',
          status: 'active',
          memberCount: 0,
          emailStats: { sent: 0, opened: 0, clicked: 0, bounced: 0, unsubscribed: 0 },
        },
      ],
      fields: () => [
        { name: 'email', label: 'メール', fieldType: 'email' },
        { name: 'sei', label: '姓', fieldType: 'text' },
        { name: 'kaisha', label: '会社名', fieldType: 'text' },
      ],
    },
    ...options,
  });
  handlers.push(handler);
  const call: Setup['call'] = (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const user = init.user === undefined ? 'user-1' : init.user;
    if (user) headers['x-user'] = user;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    return handler(
      new Request(`${BASE}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }),
    );
  };
  return { handler, storage, crm, call };
}

async function connect(s: Setup, user = 'user-1'): Promise<string> {
  const response = await s.call('POST', '/integrations', {
    user,
    body: {
      provider: 'fake',
      credentials: { instanceUrl: 'https://acme.my.example.com', accessToken: 'secret-access-token' },
    },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { integration: { id: string } }).integration.id;
}

describe('createCrmHttpHandler: identity and routing', () => {
  it('answers 401 without a signed-in user, 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const s = setup();
    expect((await s.call('GET', '/integrations', { user: null })).status).toBe(401);
    const unknown = await s.call('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No such route' } });
    expect((await s.handler(new Request(`${ORIGIN}/elsewhere`, { headers: { 'x-user': 'u' } }))).status).toBe(
      404,
    );
    const wrong = await s.call('PATCH', '/integrations');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
  });

  it('creates an integration (201, credentials never returned, only ciphertext stored) and lists it wrapped', async () => {
    const s = setup();
    const id = await connect(s);
    const list = await s.call('GET', '/integrations');
    const text = await list.text();
    expect(text).not.toContain('secret-access-token');
    expect(text).not.toContain('credentials');
    const body = JSON.parse(text) as { integrations: Array<Record<string, unknown>> };
    expect(body.integrations).toMatchObject([
      { id, provider: 'fake', orgId: 'acme.my.example.com', connection: 'connected' },
    ]);
    const stored = await s.storage.integrations.get(id);
    expect(stored?.credentials).not.toContain('secret-access-token');
    const again = await s.call('POST', '/integrations', {
      body: {
        provider: 'fake',
        credentials: { instanceUrl: 'https://acme.my.example.com', accessToken: 'x' },
      },
    });
    expect(again.status).toBe(409);
  });

  it("treats another user's integration as missing (404) on every route that takes an id", async () => {
    const s = setup();
    const id = await connect(s, 'owner');
    expect(await (await s.call('GET', '/integrations', { user: 'intruder' })).json()).toEqual({
      integrations: [],
    });
    for (const [method, path, body] of [
      ['GET', `/integrations/${id}/status`],
      ['GET', `/integrations/${id}/logs`],
      ['GET', `/integrations/${id}/errors`],
      ['GET', `/integrations/${id}/field-mappings`],
      ['GET', `/integrations/${id}/field-mappings/suggestions`],
      ['PUT', `/integrations/${id}/field-mappings`, { fieldMappings: [] }],
      ['POST', `/integrations/${id}/resync`, {}],
      ['DELETE', `/integrations/${id}`],
      ['POST', '/sync/contacts', { integrationId: id }],
      ['POST', '/sync/campaigns', { integrationId: id }],
    ] as const) {
      const response = await s.call(method, path, { user: 'intruder', ...(body ? { body } : {}) });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    expect(await s.storage.integrations.get(id)).not.toBeNull();
    expect(s.crm.calls).toEqual([]);
  });

  it('validates every body: bad JSON, a bad field (named), an unknown provider, a wrong type and an oversized body', async () => {
    const s = setup({ maxBodyBytes: 1_000 });
    const badJson = await s.call('POST', '/integrations', { body: '{"provider":' });
    expect(badJson.status).toBe(400);
    const badField = await s.call('POST', '/integrations', {
      body: { provider: 'fake', credentials: { instanceUrl: 'not a url', accessToken: 'x' } },
    });
    expect(badField.status).toBe(400);
    expect(((await badField.json()) as { error: { fields: Array<{ field: string }> } }).error.fields).toEqual(
      [expect.objectContaining({ field: 'credentials.instanceUrl' })],
    );
    const unknownProvider = await s.call('POST', '/integrations', {
      body: { provider: 'hubspot', credentials: { instanceUrl: 'https://x.example.com', accessToken: 'x' } },
    });
    expect(unknownProvider.status).toBe(400);
    expect(await unknownProvider.json()).toMatchObject({
      error: { fields: [{ field: 'provider', message: 'must be one of: fake' }] },
    });
    const form = await s.call('POST', '/sync/contacts', {
      body: 'integrationId=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    const huge = await s.call('POST', '/integrations', { body: { provider: 'x'.repeat(5_000) } });
    expect(huge.status).toBe(413);
    const missing = await s.call('POST', '/sync/contacts', { body: {} });
    expect(await missing.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', fields: [{ field: 'integrationId' }] },
    });
    const limit = await s.call('GET', `/integrations/${await connect(s)}/logs?limit=5000`);
    expect(limit.status).toBe(400);
  });
});

describe('createCrmHttpHandler: CSRF (same-origin check)', () => {
  it('refuses cross-site state-changing requests and accepts same-origin, allowed and non-browser ones', async () => {
    const s = setup({ allowedOrigins: ['https://app.example.com'] });
    const id = await connect(s);
    const post = (headers: Record<string, string>) =>
      s.call('POST', '/sync/contacts', { body: { integrationId: id }, headers });
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-site', origin: 'https://sub.crm.test' })).status).toBe(403);
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403);
    expect(
      (await s.call('DELETE', `/integrations/${id}`, { headers: { origin: 'https://evil.example' } })).status,
    ).toBe(403);
    // Reads are not state-changing: a cross-site GET still needs the user, but is not refused here.
    expect(
      (await s.call('GET', '/integrations', { headers: { 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(200);
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: ORIGIN })).status).toBe(202);
    await s.handler.idle();
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' })).status).toBe(
      202,
    );
    await s.handler.idle();
    expect((await post({})).status).toBe(202);
  });
});

describe('createCrmHttpHandler: background syncs', () => {
  it('answers 202 at once, shows progress in /status while the run goes on, then the result, logs and grouped errors', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = setup({
      hostContacts: async function* () {
        yield* contacts(3);
        await gate;
        yield* contacts(5).slice(3);
      },
    });
    const id = await connect(s);
    s.crm.failRecord({ externalId: 'sub-2', code: 'DUPLICATE_VALUE', message: 'duplicate value found' });
    s.crm.failRecord({ externalId: 'sub-5', code: 'DUPLICATE_VALUE', message: 'duplicate value found' });
    s.crm.failRecord({
      externalId: 'sub-4',
      code: 'REQUIRED_FIELD_MISSING',
      message: 'Required fields are missing: [LastName]',
    });

    const started = await s.call('POST', '/sync/contacts', { body: { integrationId: id } });
    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({
      run: { integrationId: id, entityType: 'contact', state: 'running' },
    });

    const running = await s.call('GET', `/integrations/${id}/status`);
    expect(await running.json()).toMatchObject({ run: { state: 'running' } });
    const second = await s.call('POST', `/integrations/${id}/resync`, { body: {} });
    expect(second.status).toBe(409);

    release();
    await s.handler.idle();
    const status = (await (await s.call('GET', `/integrations/${id}/status`)).json()) as {
      run: { state: string; result: Record<string, unknown>; progress: Record<string, unknown> };
      lastRuns: unknown[];
      integration: { lastSyncAt: string | null };
    };
    expect(status.run.state).toBe('succeeded');
    expect(status.run.result).toMatchObject({ processed: 5, created: 2, failed: 3 });
    expect(status.run.progress).toMatchObject({ processed: 5 });
    expect(status.lastRuns).toHaveLength(1);
    expect(status.integration.lastSyncAt).not.toBeNull();

    const logs = (await (await s.call('GET', `/integrations/${id}/logs`)).json()) as {
      logs: Array<Record<string, unknown>>;
    };
    expect(logs.logs).toMatchObject([
      { integrationId: id, entityType: 'contact', successCount: 2, errorCount: 3 },
    ]);

    const errors = (await (await s.call('GET', `/integrations/${id}/errors`)).json()) as { errors: unknown };
    expect(errors).toEqual({
      errors: [
        {
          code: 'DUPLICATE_VALUE',
          count: 2,
          message: 'duplicate value found',
          examples: [
            expect.objectContaining({ externalId: 'sub-2', entityType: 'contact' }),
            expect.objectContaining({ externalId: 'sub-5', entityType: 'contact' }),
          ],
        },
        {
          code: 'REQUIRED_FIELD_MISSING',
          count: 1,
          message: 'Required fields are missing: [LastName]',
          examples: [expect.objectContaining({ externalId: 'sub-4' })],
        },
      ],
    });
  });

  it('syncs campaigns in the background too', async () => {
    const s = setup();
    const id = await connect(s);
    expect((await s.call('POST', '/sync/campaigns', { body: { integrationId: id } })).status).toBe(202);
    await s.handler.idle();
    const status = (await (await s.call('GET', `/integrations/${id}/status`)).json()) as { run: unknown };
    expect(status.run).toMatchObject({
      entityType: 'campaign',
      state: 'succeeded',
      result: { processed: 1, created: 1 },
    });
  });

  it('marks the integration "reconnect needed" when the CRM rejects its credentials, and refuses to sync it', async () => {
    const s = setup();
    const id = await connect(s);
    s.crm.failCall(
      'bulkSyncContacts',
      () => new CrmAuthenticationError('Session expired or invalid', { providerCode: 'INVALID_SESSION_ID' }),
      10,
    );
    await s.call('POST', '/sync/contacts', { body: { integrationId: id } });
    await s.handler.idle();
    const status = (await (await s.call('GET', `/integrations/${id}/status`)).json()) as Record<
      string,
      never
    >;
    expect(status).toMatchObject({
      integration: { connection: 'reconnect_needed' },
      run: { state: 'failed', error: { code: 'AUTHENTICATION' } },
    });
    await s.storage.integrations.update(id, { syncEnabled: false });
    expect((await s.call('POST', '/sync/contacts', { body: { integrationId: id } })).status).toBe(409);
  });

  it('deletes an integration (204) and then knows it no more', async () => {
    const s = setup();
    const id = await connect(s);
    expect((await s.call('DELETE', `/integrations/${id}`)).status).toBe(204);
    expect((await s.call('GET', `/integrations/${id}/status`)).status).toBe(404);
    expect(await (await s.call('GET', '/orgs')).json()).toEqual({ orgs: [] });
  });
});

describe('createCrmHttpHandler: field mappings', () => {
  it('suggests mappings from the host fields (Japanese labels) and the CRM fields', async () => {
    const s = setup();
    const id = await connect(s);
    const body = (await (await s.call('GET', `/integrations/${id}/field-mappings/suggestions`)).json()) as {
      suggestions: Array<{ hostField: string; crmField: string }>;
      crmFields: unknown[];
    };
    expect(body.suggestions.map((x) => [x.hostField, x.crmField])).toEqual(
      expect.arrayContaining([
        ['email', 'email'],
        ['sei', 'lastName'],
        ['kaisha', 'company'],
      ]),
    );
    expect(body.crmFields.length).toBeGreaterThan(3);
  });

  it('saves mappings validated against the CRM fields and the host fields (400 naming the entry)', async () => {
    const s = setup();
    const id = await connect(s);
    expect(await (await s.call('GET', `/integrations/${id}/field-mappings`)).json()).toEqual({
      fieldMappings: [],
    });
    const good = { fieldMappings: [{ hostField: 'sei', crmField: 'lastName', fieldType: 'text' }] };
    const saved = await s.call('PUT', `/integrations/${id}/field-mappings`, { body: good });
    expect(saved.status).toBe(200);
    const expected = {
      fieldMappings: [
        { hostField: 'sei', crmField: 'lastName', fieldType: 'text', syncDirection: 'bidirectional' },
      ],
    };
    expect(await saved.json()).toEqual(expected);
    expect(await (await s.call('GET', `/integrations/${id}/field-mappings`)).json()).toEqual(expected);

    const unknownHost = await s.call('PUT', `/integrations/${id}/field-mappings`, {
      body: { fieldMappings: [{ hostField: 'nope', crmField: 'lastName', fieldType: 'text' }] },
    });
    expect(unknownHost.status).toBe(400);
    expect(await unknownHost.json()).toMatchObject({
      error: { fields: [{ field: 'fieldMappings.0.hostField' }] },
    });
    const unknownCrm = await s.call('PUT', `/integrations/${id}/field-mappings`, {
      body: { fieldMappings: [{ hostField: 'sei', crmField: 'No_Such__c', fieldType: 'text' }] },
    });
    expect(unknownCrm.status).toBe(400);
    expect(await unknownCrm.json()).toMatchObject({
      error: { fields: [{ field: expect.stringMatching(/^fieldMappings\.0/) }] },
    });
    const badType = await s.call('PUT', `/integrations/${id}/field-mappings`, {
      body: { fieldMappings: [{ hostField: 'sei', crmField: 'lastName', fieldType: 'colour' }] },
    });
    expect(await badType.json()).toMatchObject({
      error: { fields: [{ field: 'fieldMappings.0.fieldType' }] },
    });
    // The rejected PUTs changed nothing.
    expect(await (await s.call('GET', `/integrations/${id}/field-mappings`)).json()).toEqual(expected);
  });
});

describe('createCrmHttpHandler: OAuth start, orgs and the dashboard', () => {
  it('starts OAuth for a configured provider and routes its callback', async () => {
    const started: Array<{ userId: string; returnTo: string }> = [];
    const s = setup({
      auth: {
        fake: {
          start: ({ userId, returnTo }) => {
            started.push({ userId, returnTo });
            return { url: 'https://login.example.com/authorize?state=abc' };
          },
          callback: async () => new Response('connected', { status: 200 }),
        },
      },
    });
    const response = await s.call('POST', '/auth/fake', { body: { returnTo: '/settings/crm' } });
    expect(await response.json()).toEqual({ url: 'https://login.example.com/authorize?state=abc' });
    expect(started).toEqual([{ userId: 'user-1', returnTo: '/settings/crm' }]);
    expect((await s.call('POST', '/auth/fake')).status).toBe(200);
    expect(started[1]?.returnTo).toBe('/api/crm/ui');
    expect((await s.call('POST', '/auth/fake', { body: { returnTo: 'https://evil.example' } })).status).toBe(
      400,
    );
    expect((await s.call('POST', '/auth/other')).status).toBe(404);
    expect(await (await s.call('GET', '/auth/fake/callback?code=x&state=y', { user: null })).text()).toBe(
      'connected',
    );
    expect((await s.call('GET', '/auth/other/callback')).status).toBe(404);
  });

  it('lists the connected orgs wrapped', async () => {
    const s = setup();
    const id = await connect(s);
    expect(await (await s.call('GET', '/orgs')).json()).toEqual({
      orgs: [
        {
          integrationId: id,
          provider: 'fake',
          orgId: 'acme.my.example.com',
          instanceUrl: 'https://acme.my.example.com',
          connection: 'connected',
        },
      ],
    });
  });

  it('serves the dashboard: one self-contained page under 100 KB gzipped, locked down by CSP', async () => {
    const s = setup({ basePath: '/crm', auth: { salesforce: { start: () => ({ url: 'x' }) } } });
    const response = await s.handler(new Request(`${ORIGIN}/crm/ui`, { headers: { 'x-user': 'u' } }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('var BASE=\'/crm\';var AUTH=["salesforce"]');
    // Nothing loads from elsewhere: no src/href to another host, no @import, no url() fetches.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    const gzipped = gzipSync(html).byteLength;
    console.log(`dashboard page: ${html.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThan(100 * 1024);
  });

  it('refuses bad options at construction', () => {
    const base = {
      storage: new MemoryStorage(),
      cipher: new CredentialCipher({ keys: { k: Buffer.alloc(32) } }),
      registry: new ProviderRegistry(),
      resolveUser: () => 'u',
      hostData: { contacts: () => [], campaigns: () => [], fields: () => [] },
    };
    expect(() => createCrmHttpHandler({ ...base, colour: 'red' } as never)).toThrowError(
      /unknown option\(s\): colour/,
    );
    expect(() => createCrmHttpHandler({ ...base, storage: undefined } as never)).toThrowError(
      /needs storage/,
    );
    expect(() => createCrmHttpHandler({ ...base, basePath: 'api"<' })).toThrowError(/basePath/);
    expect(() =>
      createCrmHttpHandler({ ...base, auth: { 'Bad Name': { start: () => ({ url: '' }) } } }),
    ).toThrowError(/auth provider/);
  });

  describe('createCrmHttpHandler: host hooks and failures', () => {
    it('uses identifyOrg and createProvider when given, and refuses to delete an integration while it syncs', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const built: string[] = [];
      const crm = new FakeCrmProvider({ name: 'fake' });
      const s = setup({
        identifyOrg: (provider, credentials) => `${provider}:${credentials.accessToken.length}`,
        createProvider: (integration, { credentials }) => {
          built.push(`${integration.orgId} ${Object.keys(credentials).sort().join(',')}`);
          return crm;
        },
        hostContacts: async function* () {
          await gate;
          yield* contacts(1);
        },
      });
      const id = await connect(s);
      expect((await s.storage.integrations.get(id))?.orgId).toBe('fake:19');
      await s.call('POST', '/sync/contacts', { body: { integrationId: id } });
      expect((await s.call('DELETE', `/integrations/${id}`)).status).toBe(409);
      release();
      await s.handler.idle();
      expect(built).toEqual(['fake:19 accessToken,instanceUrl,v']);
      expect(crm.calls.length).toBeGreaterThan(0);
      expect((await s.call('DELETE', `/integrations/${id}`)).status).toBe(204);
    });

    it('reports a run whose host data fails as failed, without leaking the cause, and a CRM failure on a read as 502', async () => {
      const s = setup({
        hostContacts: () => {
          throw new Error('db password=hunter2 unreachable');
        },
      });
      const id = await connect(s);
      await s.call('POST', '/sync/contacts', { body: { integrationId: id } });
      await s.handler.idle();
      const status = await (await s.call('GET', `/integrations/${id}/status`)).text();
      expect(JSON.parse(status)).toMatchObject({ run: { state: 'failed', error: { code: 'UNKNOWN' } } });
      expect(status).not.toContain('hunter2');
      s.crm.failCall('getCustomFields', () => new CrmAuthenticationError('Session expired or invalid'));
      const suggestions = await s.call('GET', `/integrations/${id}/field-mappings/suggestions`);
      expect(suggestions.status).toBe(502);
      expect(await suggestions.json()).toMatchObject({ error: { code: 'AUTHENTICATION' } });
    });

    it('answers 500 without details when the host throws on a request, and HEAD like GET', async () => {
      const s = setup({
        resolveUser: () => {
          throw new Error('session store down: token=abc');
        },
      });
      const response = await s.call('GET', '/integrations');
      expect(response.status).toBe(500);
      expect(await response.text()).not.toContain('token=abc');
      const ok = setup();
      expect((await ok.call('HEAD', '/orgs')).status).toBe(200);
    });
  });
});
