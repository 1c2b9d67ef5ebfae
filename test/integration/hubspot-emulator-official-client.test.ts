import { Client } from '@hubspot/api-client';
import { type HubSpotEmulator, startHubSpotEmulator } from '@markmail/crm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The official client, unmodified, against the emulator: proof that the emulator speaks HubSpot's wire.
let hubspot: HubSpotEmulator;
let client: Client;

beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 10_000, intervalMs: 10_000 } });
});
afterAll(() => hubspot.stop());
beforeEach(() => {
  hubspot.reset();
  client = new Client({ accessToken: hubspot.accessToken, basePath: hubspot.baseUrl });
});

describe('HubSpot emulator with @hubspot/api-client', () => {
  it('creates, reads by email, updates and archives a contact (basic API)', async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.createdAt).toBeInstanceOf(Date);
    const byEmail = await client.crm.contacts.basicApi.getById(
      'ada@example.com',
      ['firstname'],
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(created.id);
    expect(byEmail.properties.firstname).toBe('Ada');
    const updated = await client.crm.contacts.basicApi.update(created.id, {
      properties: { lastname: 'Lovelace' },
    });
    expect(updated.properties.lastname).toBe('Lovelace');
    await client.crm.contacts.basicApi.archive(created.id);
    await expect(client.crm.contacts.basicApi.getById(created.id)).rejects.toMatchObject({ code: 404 });
  });

  it('batch upsert by a unique property reports new/existing, and 207 carries per-input errors', async () => {
    const first = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'h-1', idProperty: 'markmail_id', properties: { email: 'one@example.com' } },
        { id: 'h-2', idProperty: 'markmail_id', properties: { email: 'two@example.com' } },
      ],
    });
    expect(first.results.map((r) => r._new)).toEqual([true, true]);
    const second = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'h-1', idProperty: 'markmail_id', properties: { firstname: 'One' } },
        {
          id: 'h-3',
          idProperty: 'markmail_id',
          properties: { email: 'not-an-email' },
          objectWriteTraceId: 't3',
        },
      ],
    });
    expect(second.status).toBe('COMPLETE');
    expect(second.results).toHaveLength(1);
    expect(second.results[0]?._new).toBe(false);
    const errors = (second as { errors?: Array<{ category: string; context: Record<string, string[]> }> })
      .errors;
    expect(errors?.[0]?.category).toBe('VALIDATION_ERROR');
    expect(errors?.[0]?.context.objectWriteTraceId).toEqual(['t3']);
  });

  it('rejects more than 100 batch inputs with a 400', async () => {
    const inputs = Array.from({ length: 101 }, (_, i) => ({
      id: `x${i}`,
      idProperty: 'markmail_id',
      properties: {},
    }));
    await expect(client.crm.contacts.batchApi.upsert({ inputs })).rejects.toMatchObject({ code: 400 });
  });

  it('searches by lastmodifieddate, pages with after, and refuses paging past 10,000 results', async () => {
    await client.crm.contacts.batchApi.upsert({
      inputs: Array.from({ length: 5 }, (_, i) => ({
        id: `s${i}`,
        idProperty: 'markmail_id',
        properties: { email: `s${i}@example.com` },
      })),
    });
    const page = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' as never, value: '0' }] },
      ],
      sorts: ['lastmodifieddate'],
      properties: ['email', 'markmail_id'],
      limit: 2,
      after: '0',
    });
    expect(page.total).toBe(5);
    expect(page.results.map((r) => r.properties.markmail_id)).toEqual(['s0', 's1']);
    expect(page.paging?.next?.after).toBe('2');
    await expect(
      client.crm.contacts.searchApi.doSearch({
        filterGroups: [],
        sorts: [],
        properties: [],
        limit: 100,
        after: '10000',
      }),
    ).rejects.toMatchObject({ code: 400 });
    await expect(
      client.crm.contacts.searchApi.doSearch({
        filterGroups: [],
        sorts: [],
        properties: [],
        limit: 201,
        after: '0',
      }),
    ).rejects.toMatchObject({ code: 400 });
  });

  it('lists properties with their types and unique flags', async () => {
    const properties = await client.crm.properties.coreApi.getAll('contacts');
    const byName = new Map(properties.results.map((p) => [p.name, p]));
    expect(byName.get('email')?.hasUniqueValue).toBe(true);
    expect(byName.get('markmail_id')?.hasUniqueValue).toBe(true);
    expect(byName.get('lastmodifieddate')?.type).toBe('datetime');
  });

  it('creates a MANUAL list, finds it by name and edits memberships', async () => {
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'm@example.com' },
      associations: [],
    });
    const { list } = await client.crm.lists.listsApi.create({
      name: 'Newsletter',
      objectTypeId: '0-1',
      processingType: 'MANUAL',
    });
    const found = await client.crm.lists.listsApi.getByName('Newsletter', '0-1');
    expect(found.list.listId).toBe(list.listId);
    const added = await client.crm.lists.membershipsApi.add(list.listId, [contact.id, '999999']);
    expect(added.recordsIdsAdded).toEqual([contact.id]);
    expect(added.recordIdsMissing).toEqual(['999999']);
    const page = await client.crm.lists.membershipsApi.getPage(list.listId);
    expect(page.results.map((r) => r.recordId)).toEqual([contact.id]);
    const changed = await client.crm.lists.membershipsApi.addAndRemove(list.listId, {
      recordIdsToAdd: [],
      recordIdsToRemove: [contact.id],
    });
    expect(changed.recordIdsRemoved).toEqual([contact.id]);
  });

  it('creates an email engagement associated with a contact', async () => {
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'e@example.com' },
      associations: [],
    });
    const email = await client.crm.objects.emails.basicApi.create({
      properties: {
        hs_timestamp: '2026-01-01T00:00:00Z',
        hs_email_direction: 'EMAIL',
        hs_email_status: 'SENT',
      },
      associations: [
        {
          to: { id: contact.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 198 }],
        },
      ],
    });
    expect(email.id).toMatch(/^\d+$/);
  });

  it('exchanges an authorization code and refreshes through the OAuth token endpoint', async () => {
    const redirectUri = 'http://localhost/callback';
    const authorize = await fetch(
      `${hubspot.baseUrl}/oauth/authorize?client_id=${hubspot.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=crm.objects.contacts.read&state=s1`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await client.oauth.tokensApi.create(
      'authorization_code',
      code,
      redirectUri,
      hubspot.clientId,
      hubspot.clientSecret,
    );
    expect(tokens.expiresIn).toBe(1800);
    const refreshed = await client.oauth.tokensApi.create(
      'refresh_token',
      undefined,
      undefined,
      hubspot.clientId,
      hubspot.clientSecret,
      tokens.refreshToken,
    );
    const oauthClient = new Client({ accessToken: refreshed.accessToken, basePath: hubspot.baseUrl });
    const page = await oauthClient.crm.contacts.basicApi.getPage();
    expect(page.results).toEqual([]);
    expect(hubspot.stats.tokenRequests).toBe(3);
  });

  it('answers 401 to a wrong token and 429 with policyName over the burst limit', async () => {
    const bad = new Client({ accessToken: 'nope', basePath: hubspot.baseUrl });
    await expect(bad.crm.contacts.basicApi.getPage()).rejects.toMatchObject({ code: 401 });
    const limited = await startHubSpotEmulator({ rateLimit: { max: 2, intervalMs: 60_000 } });
    try {
      const headers: Array<string | null> = [];
      for (let i = 0; i < 2; i += 1) {
        const response = await fetch(`${limited.baseUrl}/crm/v3/objects/contacts`, {
          headers: { authorization: `Bearer ${limited.accessToken}` },
        });
        headers.push(response.headers.get('x-hubspot-ratelimit-remaining'));
      }
      expect(headers).toEqual(['1', '0']);
      const over = await fetch(`${limited.baseUrl}/crm/objects/2026-03/contacts`, {
        headers: { authorization: `Bearer ${limited.accessToken}` },
      });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await over.json()).toMatchObject({
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
    } finally {
      await limited.stop();
    }
  });

  it('serves the date-based 2026-03 paths with the v3 shapes', async () => {
    const response = await fetch(`${hubspot.baseUrl}/crm/objects/2026-03/contacts/batch/upsert`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hubspot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ id: 'd1', idProperty: 'markmail_id', properties: { email: 'd1@example.com' } }],
      }),
    });
    expect(response.status).toBe(200);
    const client2 = await client.crm.contacts.basicApi.getById(
      'd1',
      ['email'],
      undefined,
      undefined,
      false,
      'markmail_id',
    );
    expect(client2.properties.email).toBe('d1@example.com');
    const properties = await fetch(`${hubspot.baseUrl}/crm/properties/2026-03/contacts`, {
      headers: { authorization: `Bearer ${hubspot.accessToken}` },
    });
    expect(properties.status).toBe(200);
  });

  it('faults make the next matching requests fail as described', async () => {
    hubspot.faults.add({ path: '/crm/v3/objects/contacts', status: 502, times: 1 });
    const plain = new Client({ accessToken: hubspot.accessToken, basePath: hubspot.baseUrl });
    await expect(plain.crm.contacts.basicApi.getPage()).rejects.toMatchObject({ code: 502 });
    await expect(plain.crm.contacts.basicApi.getPage()).resolves.toMatchObject({ results: [] });
    expect(hubspot.stats.byRoute.fault).toBe(1);
  });
});
