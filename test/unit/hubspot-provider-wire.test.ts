import { HubSpotOAuth, HubSpotProvider } from '@markmail/crm/hubspot';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const API = 'https://api.hubapi.com';
beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const provider = (extra: Partial<ConstructorParameters<typeof HubSpotProvider>[0]> = {}) =>
  new HubSpotProvider({ accessToken: 'tok-1', sleep: async () => {}, ...extra });

const upserted = (id: string, key: string, isNew = true) => ({
  status: 'COMPLETE',
  results: [
    {
      id,
      properties: { markmail_id: key },
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      archived: false,
      new: isNew,
    },
  ],
});

describe('HubSpotProvider on the wire (nock)', () => {
  it('upserts a contact on the 2026-03 path with the bearer token, the unique key and a trace id', async () => {
    const scope = nock(API, { reqheaders: { authorization: 'Bearer tok-1' } })
      .post('/crm/objects/2026-03/contacts/batch/upsert', {
        inputs: [
          {
            idProperty: 'markmail_id',
            id: 'h-1',
            objectWriteTraceId: '0',
            properties: { email: 'ada@example.com', firstname: 'Ada', jobtitle: 'CTO', score: '7' },
          },
        ],
      })
      .reply(200, upserted('101', 'h-1'));
    const result = await provider().syncContact({
      externalId: 'h-1',
      email: 'ada@example.com',
      firstName: 'Ada',
      title: 'CTO',
      customFields: { score: 7 },
    });
    expect(result).toMatchObject({ success: true, created: true, crmId: '101', externalId: 'h-1' });
    scope.done();
  });

  it('uses the legacy v3 paths when asked', async () => {
    const scope = nock(API)
      .post('/crm/v3/objects/contacts/batch/upsert')
      .reply(200, upserted('5', 'x', false));
    expect(
      (await provider({ apiVersion: 'v3' }).syncContact({ externalId: 'x', email: 'x@example.com' })).created,
    ).toBe(false);
    scope.done();
  });

  it('maps a 207 error back to its input by objectWriteTraceId, whatever the result order', async () => {
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/upsert')
      .reply(207, {
        status: 'COMPLETE',
        results: [{ id: '2', properties: { markmail_id: 'b' }, new: false }],
        errors: [
          {
            status: 'error',
            category: 'VALIDATION_ERROR',
            subCategory: 'INVALID_OPTION',
            message: 'value ada@example.com was not valid',
            context: { objectWriteTraceId: ['0'], propertyName: ['lifecyclestage'] },
          },
        ],
        numErrors: 1,
      });
    const result = await provider().bulkSyncContacts([
      { externalId: 'a', email: 'a@example.com' },
      { externalId: 'b', email: 'b@example.com' },
    ]);
    expect(result.results[0]).toMatchObject({
      externalId: 'a',
      success: false,
      error: { code: 'INVALID_OPTION', fields: ['lifecyclestage'] },
    });
    expect(JSON.stringify(result)).not.toContain('ada@example.com');
    expect(result.results[1]).toMatchObject({ externalId: 'b', success: true, crmId: '2' });
  });

  it('pulls with a lastmodifieddate GTE search sorted ascending, 200 per page', async () => {
    const scope = nock(API)
      .post('/crm/objects/2026-03/contacts/search', (body) => {
        expect(body).toMatchObject({
          filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '0' }] }],
          sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
          limit: 200,
          after: '0',
        });
        expect(body.properties).toEqual(expect.arrayContaining(['email', 'lastmodifieddate', 'markmail_id']));
        return true;
      })
      .reply(200, { total: 0, results: [] })
      .get('/crm/objects/2026-03/contacts')
      .query({ archived: 'true', limit: '100', properties: 'lastmodifieddate' })
      .reply(200, { results: [] });
    const batches = [];
    for await (const batch of provider().listContactChanges(null)) batches.push(batch);
    expect(batches).toHaveLength(1);
    expect(typeof batches[0]?.cursor).toBe('string');
    scope.done();
  });

  it('retries a 500 on a keyed upsert but not on a list create (not idempotent)', async () => {
    const scope = nock(API)
      .post('/crm/objects/2026-03/contacts/batch/upsert')
      .reply(500, { status: 'error', category: 'INTERNAL_ERROR' })
      .post('/crm/objects/2026-03/contacts/batch/upsert')
      .reply(200, upserted('1', 'h'));
    expect((await provider().syncContact({ externalId: 'h', email: 'h@example.com' })).success).toBe(true);
    scope.done();

    const lists = nock(API)
      .get(/\/crm\/lists\/2026-03\/object-type-id\/0-1\/name\//)
      .reply(404, { status: 'error', category: 'OBJECT_NOT_FOUND' })
      .post('/crm/lists/2026-03')
      .reply(500, { status: 'error', category: 'INTERNAL_ERROR' });
    await expect(provider().syncListMembership({ name: 'N', memberIds: [] })).rejects.toMatchObject({
      code: 'API',
      status: 500,
    });
    lists.done();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refreshes through getAccessToken once on EXPIRED_AUTHENTICATION, then gives up with an authentication error', async () => {
    const calls: Array<{ forceRefresh: boolean; failedAccessToken?: string | undefined }> = [];
    const tokens = ['old', 'new', 'newer'];
    const p = new HubSpotProvider({
      getAccessToken: (context) => {
        calls.push({ forceRefresh: context.forceRefresh, failedAccessToken: context.failedAccessToken });
        if (context.forceRefresh) tokens.shift();
        return tokens[0]!;
      },
      sleep: async () => {},
    });
    nock(API)
      .get('/crm/properties/2026-03/contacts')
      .matchHeader('authorization', 'Bearer old')
      .reply(401, { status: 'error', category: 'EXPIRED_AUTHENTICATION' })
      .get('/crm/properties/2026-03/contacts')
      .matchHeader('authorization', 'Bearer new')
      .reply(401, { status: 'error', category: 'EXPIRED_AUTHENTICATION' });
    await expect(p.getCustomFields()).rejects.toMatchObject({ code: 'AUTHENTICATION', status: 401 });
    expect(calls).toEqual([
      { forceRefresh: false, failedAccessToken: undefined },
      { forceRefresh: true, failedAccessToken: 'old' },
    ]);
  });

  it('refuses unknown options and a missing token before any call', () => {
    expect(() => new HubSpotProvider({ accessToken: 't', nope: true } as never)).toThrow(
      /unknown option 'nope'/,
    );
    expect(() => new HubSpotProvider({})).toThrow(/accessToken/);
    expect(() => new HubSpotProvider({ accessToken: 't', pullPageSize: 500 })).toThrow(/pullPageSize/);
  });
});

describe('HubSpotOAuth on the wire (nock)', () => {
  const oauth = new HubSpotOAuth({
    clientId: 'cid',
    clientSecret: 'csecret-xyz',
    redirectUri: 'https://app.example.com/cb',
  });

  it('builds the install URL with scopes and state', () => {
    const { url } = oauth.authorizeUrl({
      state: 's-1',
      scopes: ['crm.objects.contacts.read', 'crm.lists.write'],
    });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      client_id: 'cid',
      redirect_uri: 'https://app.example.com/cb',
      scope: 'crm.objects.contacts.read crm.lists.write',
      state: 's-1',
    });
  });

  it('exchanges a code at /oauth/2026-03/token with every secret in the form body', async () => {
    const scope = nock(API)
      .post('/oauth/2026-03/token', {
        grant_type: 'authorization_code',
        code: 'c-1',
        redirect_uri: 'https://app.example.com/cb',
        client_id: 'cid',
        client_secret: 'csecret-xyz',
      })
      .reply(200, { token_type: 'bearer', access_token: 'at', refresh_token: 'rt', expires_in: 1800 });
    const tokens = await oauth.exchangeCode('c-1');
    expect(tokens).toMatchObject({ accessToken: 'at', refreshToken: 'rt' });
    scope.done();
  });

  it('turns a refused refresh into an authentication error without the secret', async () => {
    nock(API).post('/oauth/2026-03/token').reply(400, {
      error: 'invalid_grant',
      error_description: 'refresh token csecret-xyz unknown',
      status: 'BAD_REFRESH_TOKEN',
    });
    const error = await oauth.refresh('rt').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTHENTICATION', providerCode: 'invalid_grant' });
    expect(JSON.stringify(error)).not.toContain('csecret-xyz');
  });
});
