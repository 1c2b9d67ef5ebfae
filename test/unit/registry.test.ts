import { describe, expect, it } from 'vitest';
import {
  CrmConfigurationError,
  CrmDataConversionError,
  type CrmFeature,
  CrmFeatures,
  CrmNotFoundError,
  type CrmProvider,
  CrmUnsupportedFeatureError,
  createProvider,
  defaultProviderRegistry,
  ProviderRegistry,
} from '../../src/index.js';
import {
  registerToyProvider,
  TOY_PROVIDER_NAME,
  ToyProvider,
  type ToyProviderConfig,
} from '../fixtures/toy-provider/index.js';

const config: ToyProviderConfig = {
  apiKey: 'toy-key',
  clock: { now: () => new Date('2024-05-06T07:08:09Z') },
};

/** Run `fn` and return what it threw (sync or async). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('ProviderRegistry', () => {
  it('starts empty and lists names in registration order', () => {
    const registry = new ProviderRegistry();
    expect(registry.names()).toEqual([]);
    expect(registry.has('toy')).toBe(false);
    registry.register('zeta', (c: ToyProviderConfig) => new ToyProvider(c));
    registry.register('alpha', (c: ToyProviderConfig) => new ToyProvider(c));
    expect(registry.names()).toEqual(['zeta', 'alpha']);
    expect(registry.has('zeta')).toBe(true);
    expect(registry.has('Zeta')).toBe(false);
  });

  it('register returns the registry, so registrations chain', () => {
    const registry = new ProviderRegistry();
    expect(
      registry
        .register('a', (c: ToyProviderConfig) => new ToyProvider(c))
        .register('b', (c: ToyProviderConfig) => new ToyProvider(c)),
    ).toBe(registry);
  });

  it('create passes the config to the factory and returns its provider', () => {
    const registry = new ProviderRegistry();
    const seen: unknown[] = [];
    registry.register('toy', (c: ToyProviderConfig) => {
      seen.push(c);
      return new ToyProvider(c);
    });
    const provider = registry.create('toy', config);
    expect(provider).toBeInstanceOf(ToyProvider);
    expect(seen).toEqual([config]);
  });

  it('refuses a duplicate name with CrmConfigurationError', async () => {
    const registry = new ProviderRegistry();
    registerToyProvider(registry);
    const error = await thrown(() => registerToyProvider(registry));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect((error as Error).message).toBe("Provider 'toy' is already registered");
  });

  it('replaces a registration only when asked to', () => {
    const registry = new ProviderRegistry();
    registerToyProvider(registry);
    const replacement = new ToyProvider(config);
    registry.register('toy', () => replacement, { replace: true });
    expect(registry.create('toy', config)).toBe(replacement);
    expect(registry.names()).toEqual(['toy']);
  });

  it.each(['', 'Salesforce', '1crm', 'my crm', 'crm/x'])('refuses the invalid name %j', async (name) => {
    const registry = new ProviderRegistry();
    const error = await thrown(() => registry.register(name, (c: ToyProviderConfig) => new ToyProvider(c)));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(registry.names()).toEqual([]);
  });

  it('names the known providers when asked for an unknown one', async () => {
    const registry = new ProviderRegistry();
    registry.register('pipedrive', (c: ToyProviderConfig) => new ToyProvider(c));
    registerToyProvider(registry);
    const error = await thrown(() => registry.create('hubspot', config));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect((error as CrmConfigurationError).code).toBe('CONFIGURATION');
    expect((error as Error).message).toBe("Unknown CRM provider 'hubspot' (registered: pipedrive, toy)");
  });

  it('says none are registered when the registry is empty', async () => {
    const error = await thrown(() => new ProviderRegistry().create('toy', config));
    expect((error as Error).message).toBe("Unknown CRM provider 'toy' (none registered)");
  });

  it('refuses a factory that does not return a provider', async () => {
    const registry = new ProviderRegistry();
    registry.register('broken', () => ({ name: 'broken' }) as unknown as CrmProvider);
    const error = await thrown(() => registry.create('broken', {}));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect((error as Error).message).toBe("Factory for provider 'broken' did not return a CrmProvider");
  });

  it('lets a factory refuse its config with its own CrmConfigurationError', async () => {
    const registry = new ProviderRegistry();
    registerToyProvider(registry);
    const error = await thrown(() => registry.create('toy', { apiKey: '' }));
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect((error as CrmConfigurationError).provider).toBe('toy');
  });

  it('keeps separate registries independent (no global state)', () => {
    const a = new ProviderRegistry();
    const b = new ProviderRegistry();
    registerToyProvider(a);
    expect(b.has('toy')).toBe(false);
  });
});

describe('createProvider', () => {
  it('uses the default registry when none is passed', () => {
    // Unique name: the default registry is shared by everything in this test file's process.
    defaultProviderRegistry.register('toy-default', (c: ToyProviderConfig) => new ToyProvider(c));
    const provider = createProvider('toy-default', config);
    expect(provider).toBeInstanceOf(ToyProvider);
    expect(provider.name).toBe(TOY_PROVIDER_NAME);
  });

  it('uses a passed registry and ignores the default one', async () => {
    const registry = new ProviderRegistry();
    registerToyProvider(registry);
    expect(createProvider('toy', config, registry)).toBeInstanceOf(ToyProvider);
    const error = await thrown(() => createProvider('toy-default', config, registry));
    expect((error as Error).message).toBe("Unknown CRM provider 'toy-default' (registered: toy)");
  });
});

describe('a third-party provider registered from outside src/', () => {
  function makeProvider(): CrmProvider {
    const registry = new ProviderRegistry();
    registerToyProvider(registry);
    return createProvider(TOY_PROVIDER_NAME, config, registry);
  }

  it('reports its features through supportsFeature', () => {
    const provider = makeProvider();
    const supported = CrmFeatures.filter((feature) => provider.supportsFeature(feature));
    expect(supported).toEqual(['contact_sync', 'lead_sync', 'incremental_pull']);
  });

  it('syncs, reads, updates and deletes a contact through the CrmProvider contract', async () => {
    const provider = makeProvider();
    const created = await provider.syncContact({
      externalId: 'sub_1',
      email: ' Ada@Example.com ',
      firstName: 'Ada',
    });
    expect(created).toMatchObject({
      entityType: 'contact',
      externalId: 'sub_1',
      success: true,
      created: true,
    });
    const id = created.crmId as string;

    expect(await provider.getContact('ada@example.com')).toMatchObject({
      id,
      email: 'Ada@Example.com',
      firstName: 'Ada',
    });
    expect(await provider.getContact('nobody@example.com')).toBeNull();

    const updated = await provider.updateContact({
      id,
      externalId: 'sub_1',
      email: 'ada@example.com',
      lastName: 'Lovelace',
    });
    expect(updated).toMatchObject({ crmId: id, created: false });

    await provider.deleteContact(id);
    expect(await provider.getContact('ada@example.com')).toBeNull();
    expect(await thrown(() => provider.deleteContact(id))).toBeInstanceOf(CrmNotFoundError);
  });

  it('validates input before any backend call, naming the field', async () => {
    const provider = new ToyProvider(config);
    const error = await thrown(() => provider.syncContact({ externalId: 'x', email: 'not-an-email' }));
    expect(error).toBeInstanceOf(CrmDataConversionError);
    expect((error as CrmDataConversionError).fields).toEqual(['email']);
    expect(provider.backendCalls).toBe(0);
  });

  it('bulk-syncs an async iterable, reporting a bad record without failing the batch', async () => {
    const provider = makeProvider();
    async function* contacts() {
      yield { externalId: 'a', email: 'a@example.com' };
      yield { externalId: 'b', email: 'b@@example.com' };
      yield { externalId: 'c', email: 'c@example.com' };
    }
    const progress: number[] = [];
    const result = await provider.bulkSyncContacts(contacts(), { onProgress: (p) => progress.push(p.done) });
    expect(result).toMatchObject({ total: 3, success: 2, failed: 1, mode: 'rest' });
    expect(result.results[1]).toMatchObject({
      externalId: 'b',
      success: false,
      error: { fields: ['email'] },
    });
    expect(progress).toEqual([1, 2, 3]);
  });

  it('pages contact changes from a cursor and resumes from the returned one', async () => {
    const provider = makeProvider();
    const first = await provider.syncContact({ externalId: 'a', email: 'a@example.com' });
    await provider.syncContact({ externalId: 'b', email: 'b@example.com' });
    await provider.deleteContact(first.crmId as string);

    const batches = [];
    for await (const batch of provider.listContactChanges(null)) batches.push(batch);
    expect(batches.map((b) => [b.upserted.map((c) => c.externalId), b.deleted, b.cursor])).toEqual([
      [['a', 'b'], [], '2'],
      [[], [first.crmId], '3'],
    ]);

    await provider.syncContact({ externalId: 'c', email: 'c@example.com' });
    const resumed = [];
    for await (const batch of provider.listContactChanges('3')) resumed.push(batch);
    expect(resumed.map((b) => b.upserted.map((c) => c.externalId))).toEqual([['c']]);
  });

  it('creates, reads and converts a lead', async () => {
    const provider = makeProvider();
    const lead = await provider.createLead({
      externalId: 'form_1',
      email: 'lead@example.com',
      leadSource: 'Web',
    });
    expect(await provider.getLead('lead@example.com')).toMatchObject({ id: lead.crmId, leadSource: 'Web' });
    const conversion = await provider.convertLeadToContact(lead.crmId as string);
    expect(conversion.leadId).toBe(lead.crmId);
    expect(await provider.getContact('lead@example.com')).toMatchObject({ id: conversion.contactId });
    expect(await provider.getLead('lead@example.com')).toBeNull();
  });

  it('honours an aborted signal', async () => {
    const provider = makeProvider();
    const controller = new AbortController();
    controller.abort();
    const error = await thrown(() =>
      provider.syncContact({ externalId: 'a', email: 'a@example.com' }, { signal: controller.signal }),
    );
    expect((error as Error).name).toBe('AbortError');
  });

  it.each<[string, CrmFeature, (p: CrmProvider) => Promise<unknown>]>([
    [
      'syncCampaign',
      'campaign_sync',
      (p) => p.syncCampaign({ externalId: 'c', name: 'N', status: 'Planned' }),
    ],
    [
      'logEmailActivity',
      'campaign_sync',
      (p) =>
        p.logEmailActivity({
          externalId: 'e',
          contactExternalId: 's',
          activityType: 'sent',
          occurredAt: new Date(),
        }),
    ],
    ['logEmailActivities', 'campaign_sync', (p) => p.logEmailActivities([])],
    ['syncListMembership', 'campaign_sync', (p) => p.syncListMembership({ name: 'N', memberIds: [] })],
    ['getCustomFields', 'custom_fields', (p) => p.getCustomFields()],
    ['mapCustomFields', 'custom_fields', (p) => p.mapCustomFields([])],
  ])('%s is unsupported (%s) and rejects with CrmUnsupportedFeatureError', async (method, feature, call) => {
    const provider = makeProvider();
    expect(provider.supportsFeature(feature)).toBe(false);
    const error = await thrown(() => call(provider));
    expect(error).toBeInstanceOf(CrmUnsupportedFeatureError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_FEATURE', provider: 'toy', retryable: false });
    expect((error as Error).message).toContain(method);
  });
});
