import { Client } from '@hubspot/api-client';
import { CredentialCipher, MemoryStorage, ProviderRegistry } from '@markmail/crm';
import {
  HubSpotOAuth,
  HubSpotProvider,
  HubSpotTokenManager,
  registerHubSpotProvider,
} from '@markmail/crm/hubspot';
import { type HubSpotEmulator, startHubSpotEmulator } from '@markmail/crm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let hubspot: HubSpotEmulator;
beforeAll(async () => {
  hubspot = await startHubSpotEmulator({ rateLimit: { max: 100_000, intervalMs: 10_000 } });
});
afterAll(() => hubspot.stop());

describe('HubSpot extras', () => {
  it('registerHubSpotProvider makes createProvider("hubspot") build a HubSpotProvider', () => {
    const registry = new ProviderRegistry();
    registerHubSpotProvider(registry);
    const provider = registry.create('hubspot', { accessToken: 't' });
    expect(provider).toBeInstanceOf(HubSpotProvider);
    expect(provider.name).toBe('hubspot');
    expect(() => registerHubSpotProvider(registry)).toThrow(/already registered/);
  });

  it('HubSpotTokenManager reads encrypted tokens from storage, refreshes once and persists ciphertext only', async () => {
    const oauth = new HubSpotOAuth({
      clientId: hubspot.clientId,
      clientSecret: hubspot.clientSecret,
      redirectUri: 'http://localhost/cb',
      baseUrl: hubspot.baseUrl,
      authorizeBaseUrl: hubspot.baseUrl,
      tokenApiVersion: 'v1',
    });
    const redirect = await fetch(
      oauth.authorizeUrl({ state: 's', scopes: ['crm.objects.contacts.read'] }).url,
      {
        redirect: 'manual',
      },
    );
    const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await oauth.exchangeCode(code);
    const storage = new MemoryStorage();
    const cipher = new CredentialCipher({ keys: { k1: Buffer.alloc(32, 7).toString('base64') } });
    const integration = await storage.integrations.create({
      userId: 'u',
      provider: 'hubspot',
      orgId: String(hubspot.portalId),
      instanceUrl: hubspot.baseUrl,
      credentials: 'placeholder',
    });
    await storage.integrations.update(integration.id, {
      credentials: HubSpotTokenManager.encryptTokens(cipher, integration.id, {
        ...tokens,
        expiresAt: new Date(0),
      }),
    });
    const manager = new HubSpotTokenManager({ oauth, storage, cipher, integrationId: integration.id });
    const [a, b] = await Promise.all([manager.getAccessToken(), manager.getAccessToken()]);
    expect(a).toBe(b);
    expect(a).not.toBe(tokens.accessToken);
    const stored = (await storage.integrations.get(integration.id))?.credentials ?? '';
    expect(stored).not.toContain(a);
    expect(stored).not.toContain(tokens.refreshToken);
    const provider = new HubSpotProvider({
      baseUrl: hubspot.baseUrl,
      getAccessToken: (c) => manager.getAccessToken(c),
    });
    expect(await provider.getContact('nobody@example.com')).toBeNull();
    expect(() => new HubSpotTokenManager({ oauth, storage })).toThrow(/cipher/);
    await expect(new HubSpotTokenManager({ oauth }).getAccessToken()).rejects.toMatchObject({
      code: 'CONFIGURATION',
    });
  });

  it('the emulator creates and reads properties the way the official client expects', async () => {
    const client = new Client({ accessToken: hubspot.accessToken, basePath: hubspot.baseUrl });
    const created = await client.crm.properties.coreApi.create('contacts', {
      name: 'favourite_colour',
      label: 'Favourite colour',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'contactinformation',
      options: [{ label: 'Red', value: 'red', displayOrder: 0, hidden: false }],
    });
    expect(created.name).toBe('favourite_colour');
    expect(
      (await client.crm.properties.coreApi.getByName('contacts', 'favourite_colour')).options,
    ).toHaveLength(1);
    await expect(
      client.crm.properties.coreApi.create('contacts', {
        name: 'favourite_colour',
        label: 'x',
        type: 'string' as never,
        fieldType: 'text' as never,
        groupName: 'g',
      }),
    ).rejects.toMatchObject({ code: 409 });
    const provider = new HubSpotProvider({ baseUrl: hubspot.baseUrl, accessToken: hubspot.accessToken });
    const fields = await provider.getCustomFields();
    expect(fields.find((f) => f.name === 'favourite_colour')).toMatchObject({
      fieldType: 'picklist',
      options: ['red'],
    });
    await provider.mapCustomFields([
      { hostField: 'colour', crmField: 'favourite_colour', fieldType: 'picklist' },
    ]);
    const synced = await provider.syncContact({
      externalId: 'c1',
      email: 'c1@example.com',
      customFields: { favourite_colour: 'blue' },
    });
    expect(synced).toMatchObject({
      success: false,
      error: { code: 'INVALID_OPTION', fields: ['favourite_colour'] },
    });
  });
});
