import { type CrmProvider, createProvider, ProviderRegistry } from '@markmail/crm';
import { registerSalesforceProvider } from '@markmail/crm/salesforce';
import { FakeCrmProvider } from '@markmail/crm/testing';
import { describe, expectTypeOf, it } from 'vitest';

interface ToyConfig {
  apiKey: string;
}

describe('ProviderRegistry configuration types', () => {
  it('checks the configuration of a provider declared in the registry type', () => {
    const registry = new ProviderRegistry<{ toy: ToyConfig }>();
    registry.register('toy', (config) => {
      expectTypeOf(config).toEqualTypeOf<ToyConfig>();
      return new FakeCrmProvider();
    });
    expectTypeOf(registry.create('toy', { apiKey: 'k' })).toEqualTypeOf<CrmProvider>();
    // @ts-expect-error: apiKey must be a string
    registry.create('toy', { apiKey: 1 });
    // @ts-expect-error: apiKey is required
    registry.create('toy', {});
    // @ts-expect-error: a factory for another configuration cannot take the name
    registry.register('toy', (config: { token: string }) => new FakeCrmProvider(config as never));
  });

  it('checks the Salesforce configuration once @markmail/crm/salesforce is imported', () => {
    const registry = registerSalesforceProvider(new ProviderRegistry());
    registry.create('salesforce', { instanceUrl: 'https://x.my.salesforce.com', accessToken: 't' });
    // @ts-expect-error: instanceUrl is a string
    registry.create('salesforce', { instanceUrl: 42 });
    // @ts-expect-error: same through createProvider and the default registry
    createProvider('salesforce', { accessToken: 1 });
  });

  it('takes any configuration for names it does not know (checked by the factory at run time)', () => {
    const registry = new ProviderRegistry();
    registry.register('my-crm', (config: ToyConfig) => new FakeCrmProvider(config as never));
    expectTypeOf(registry.create('my-crm', { anything: true })).toEqualTypeOf<CrmProvider>();
    const name: string = 'from-the-database';
    expectTypeOf(createProvider(name, {})).toEqualTypeOf<CrmProvider>();
  });
});
