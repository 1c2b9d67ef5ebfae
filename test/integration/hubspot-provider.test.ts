import type { CrmContactInput } from '@markmail/crm';
import { HubSpotOAuth, HubSpotProvider, HubSpotTokenManager } from '@markmail/crm/hubspot';
import { type HubSpotEmulator, startHubSpotEmulator } from '@markmail/crm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let hubspot: HubSpotEmulator;
const UPSERT = 'POST /crm/v3/objects/:objectType/batch/upsert';
const SEARCH = 'POST /crm/v3/objects/:objectType/search';

beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 100_000, intervalMs: 10_000 } });
});
afterAll(() => hubspot.stop());
beforeEach(() => hubspot.reset());

function provider(extra: Partial<ConstructorParameters<typeof HubSpotProvider>[0]> = {}) {
  return new HubSpotProvider({
    baseUrl: hubspot.baseUrl,
    accessToken: hubspot.accessToken,
    sleep: async () => {},
    ...extra,
  });
}

function* contacts(n: number, from = 0): Generator<CrmContactInput> {
  for (let i = from; i < from + n; i += 1)
    yield { externalId: `h-${i}`, email: `user${i}@example.com`, lastName: `L${i}` };
}

describe('HubSpotProvider against the emulator', () => {
  it('upserts in batches of 100 with one result per input in order; a bad record fails alone', async () => {
    const input = [...contacts(250)];
    input[7] = { externalId: 'h-7', email: 'broken' };
    // Same email as h-1 under another host id: HubSpot refuses it (unique email) in a 207.
    input[120] = { externalId: 'h-120', email: 'user1@example.com' };
    const result = await provider().bulkSyncContacts(input);
    expect(result.results.map((r) => r.externalId)).toEqual(input.map((c) => c.externalId));
    expect(result).toMatchObject({ total: 250, failed: 2, success: 248, mode: 'rest', apiCalls: 3 });
    expect(result.results[7]?.error?.code).toBe('DATA_CONVERSION');
    expect(result.results[120]).toMatchObject({ success: false, error: { code: 'CONFLICT' } });
    expect(hubspot.stats.byRoute[UPSERT]).toBe(3);

    const again = await provider().bulkSyncContacts(input.filter((_, i) => i !== 7 && i !== 120));
    expect(again.results.every((r) => r.success && r.created === false)).toBe(true);
    expect(hubspot.contacts()).toHaveLength(248);
  });

  it('matches by email when there is no host-id property', async () => {
    const byEmail = provider({ externalIdProperty: null });
    const first = await byEmail.syncContact({
      externalId: 'x',
      email: 'Mixed.Case@example.com',
      firstName: 'A',
    });
    const second = await byEmail.syncContact({
      externalId: 'x',
      email: 'mixed.case@example.com',
      firstName: 'B',
    });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, crmId: first.crmId });
  });

  it('pulls past the 10,000-result search cap without losing or repeating a contact, then resumes from its cursor', async () => {
    const pusher = provider();
    const pushed = await pusher.bulkSyncContacts(contacts(10_050));
    expect(pushed.failed).toBe(0);
    const seen: string[] = [];
    let cursor: string | null = null;
    for await (const batch of pusher.listContactChanges(null)) {
      seen.push(...batch.upserted.map((c) => c.externalId));
      cursor = batch.cursor;
    }
    expect(seen).toHaveLength(10_050);
    expect(new Set(seen).size).toBe(10_050);
    // A second query window was needed (the cap refuses `after` ≥ 10,000).
    expect(hubspot.stats.byRoute[SEARCH]).toBeGreaterThan(10_050 / 200);

    await pusher.bulkSyncContacts([{ externalId: 'h-5', email: 'user5@example.com', title: 'Moved' }]);
    const upserted: string[] = [];
    for await (const batch of pusher.listContactChanges(cursor))
      upserted.push(...batch.upserted.map((c) => c.externalId));
    expect(upserted).toEqual(['h-5']);
  }, 120_000);

  it('retries 5xx and dropped sockets on keyed upserts, but never retries a non-idempotent create', async () => {
    const p = provider();
    hubspot.faults.add({ path: '/batch/upsert', status: 503, times: 2 });
    hubspot.faults.add({ path: '/search', drop: true, times: 1 });
    const result = await p.syncContact({ externalId: 'r-1', email: 'r1@example.com' });
    expect(result.success).toBe(true);
    expect(hubspot.stats.byRoute.fault).toBe(2);
    const pulled = [];
    for await (const batch of p.listContactChanges(null)) pulled.push(...batch.upserted);
    expect(pulled).toHaveLength(1);

    hubspot.faults.add({ method: 'POST', path: /\/crm\/v3\/lists$/, status: 502, times: 1 });
    await expect(
      p.syncListMembership({ externalId: 'l1', name: 'L', memberIds: ['r-1'] }),
    ).rejects.toMatchObject({
      code: 'API',
      status: 502,
    });
    expect(hubspot.listMembers('L [l1]')).toBeUndefined();
  });

  it('honours Retry-After on a 429 and stops at once on the DAILY policy', async () => {
    const waits: number[] = [];
    const p = provider({ sleep: async (ms) => void waits.push(ms) });
    hubspot.faults.add({
      path: '/batch/upsert',
      status: 429,
      headers: { 'Retry-After': '3' },
      body: {
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        message: 'limit',
      },
    });
    expect((await p.syncContact({ externalId: 'q', email: 'q@example.com' })).success).toBe(true);
    expect(waits).toEqual([3000]);
    hubspot.faults.add({
      path: '/batch/upsert',
      status: 429,
      body: { status: 'error', errorType: 'RATE_LIMIT', policyName: 'DAILY', message: 'daily' },
      times: 5,
    });
    await expect(p.syncContact({ externalId: 'q', email: 'q@example.com' })).rejects.toMatchObject({
      code: 'RATE_LIMIT',
      retryable: false,
      providerCode: 'DAILY',
    });
    expect(waits).toHaveLength(1);
  });

  it('exposes the rate-limit headers as apiUsage', async () => {
    const p = provider();
    await p.getCustomFields();
    expect(p.apiUsage).toEqual({ used: 1, max: 625_000 });
  });

  it('refreshes an expired OAuth token once through HubSpotTokenManager, sharing one refresh', async () => {
    const redirectUri = 'http://localhost/cb';
    const oauth = new HubSpotOAuth({
      clientId: hubspot.clientId,
      clientSecret: hubspot.clientSecret,
      redirectUri,
      baseUrl: hubspot.baseUrl,
      authorizeBaseUrl: hubspot.baseUrl,
    });
    const { url } = oauth.authorizeUrl({ state: 'st', scopes: ['crm.objects.contacts.write'] });
    const redirect = await fetch(url, { redirect: 'manual' });
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('st');
    const tokens = await oauth.exchangeCode(location.searchParams.get('code') ?? '');
    expect(tokens.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const manager = new HubSpotTokenManager({ oauth, tokens });
    const p = new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      getAccessToken: (c) => manager.getAccessToken(c),
    });
    await p.syncContact({ externalId: 'o', email: 'o@example.com' });
    hubspot.oauth.expireAccessToken();
    const before = hubspot.stats.tokenRequests;
    await Promise.all([p.getContact('o@example.com'), p.getContact('o@example.com'), p.getCustomFields()]);
    expect(hubspot.stats.tokenRequests - before).toBe(1);
    await expect(oauth.refresh('not-a-token')).rejects.toMatchObject({
      code: 'AUTHENTICATION',
      providerCode: 'invalid_grant',
    });
  });

  it('oauth.expireAccessToken(token) expires that token only; without one, every OAuth token (the static one stays valid)', async () => {
    const redirectUri = 'http://localhost/cb';
    const oauth = new HubSpotOAuth({
      clientId: hubspot.clientId,
      clientSecret: hubspot.clientSecret,
      redirectUri,
      baseUrl: hubspot.baseUrl,
      authorizeBaseUrl: hubspot.baseUrl,
    });
    const grant = async () => {
      const { url } = oauth.authorizeUrl({ state: 's', scopes: ['crm.objects.contacts.read'] });
      const location = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location') ?? '');
      return (await oauth.exchangeCode(location.searchParams.get('code') ?? '')).accessToken;
    };
    const status = async (token: string) =>
      (
        await fetch(`${hubspot.baseUrl}/crm/v3/properties/contacts`, {
          headers: { Authorization: `Bearer ${token}` },
        })
      ).status;
    const [first, second] = [await grant(), await grant()];
    hubspot.oauth.expireAccessToken(first);
    expect([await status(first), await status(second)]).toEqual([401, 200]);
    hubspot.oauth.expireAccessToken();
    expect([await status(second), await status(hubspot.accessToken)]).toEqual([401, 200]);
  });

  it('a refused token is an authentication error that never shows the token', async () => {
    const p = provider({ accessToken: 'pat-secret-value-123' });
    const error = await p.getCustomFields().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTHENTICATION', status: 401 });
    expect(JSON.stringify(error)).not.toContain('pat-secret-value-123');
    expect(String((error as Error).message)).not.toContain('pat-secret-value-123');
  });

  it('syncs list membership as a MANUAL list diff and reports members with no contact', async () => {
    const p = provider();
    await p.bulkSyncContacts(contacts(5));
    const first = await p.syncListMembership({
      externalId: 'news',
      name: 'News',
      memberIds: ['h-0', 'h-1', 'h-2', 'nobody'],
    });
    expect(first).toMatchObject({ added: 3, removed: 0, unchanged: 0 });
    expect(first.results).toEqual([expect.objectContaining({ externalId: 'nobody', success: false })]);
    const second = await p.syncListMembership({
      externalId: 'news',
      name: 'News',
      memberIds: ['h-2', 'h-3'],
    });
    expect(second).toMatchObject({ listId: first.listId, added: 1, removed: 2, unchanged: 1 });
    expect(hubspot.listMembers('News [news]')).toHaveLength(2);
  });

  it('logs email activity as engagements, idempotent on the activity key, in batches', async () => {
    const p = provider();
    await p.bulkSyncContacts(contacts(3));
    const activities = Array.from({ length: 150 }, (_, i) => ({
      externalId: `a-${i}`,
      contactExternalId: `h-${i % 3}`,
      activityType: i % 2 ? ('opened' as const) : ('bounced' as const),
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
    }));
    const first = await p.logEmailActivities([
      ...activities,
      { ...activities[0]!, externalId: 'orphan', contactExternalId: 'nope' },
    ]);
    expect(first).toMatchObject({ total: 151, success: 150, failed: 1 });
    const second = await p.logEmailActivities(activities);
    expect(second.results.every((r) => r.created === false)).toBe(true);
  });

  it('validates mappings against the properties API', async () => {
    const p = provider();
    await p.mapCustomFields([{ hostField: 'job', crmField: 'jobtitle', fieldType: 'text' }]);
    expect(p.fieldMappings).toHaveLength(1);
    await expect(
      p.mapCustomFields([{ hostField: 'x', crmField: 'lastmodifieddate', fieldType: 'datetime' }]),
    ).rejects.toMatchObject({ code: 'DATA_CONVERSION' });
    await expect(
      p.createLead({ externalId: 'l', email: 'l@example.com', leadSource: 'Web' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
    });
  });
});
