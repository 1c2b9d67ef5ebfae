import { CrmConfigurationError } from './errors.js';
import type { CrmProvider } from './provider.js';

/** Builds a provider from its configuration. */
export type CrmProviderFactory<Config = unknown> = (config: Config) => CrmProvider;

/**
 * Maps provider names to factories, so a host with several CRMs picks one by name. Built-in and
 * third-party providers register the same way. Instances are independent: no global registry.
 *
 * @example
 * const registry = new ProviderRegistry();
 * registry.register('salesforce', (config) => new SalesforceProvider(config));
 * const crm = registry.create('salesforce', { instanceUrl, accessToken });
 */
export class ProviderRegistry {
  readonly #factories = new Map<string, CrmProviderFactory<never>>();

  /**
   * Register `factory` under `name`.
   * @throws {CrmConfigurationError} when the name is empty or already registered (unless `replace`).
   */
  register<Config>(
    name: string,
    factory: CrmProviderFactory<Config>,
    options: { replace?: boolean } = {},
  ): this {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
      throw new CrmConfigurationError(
        `Provider name must be lower-case letters, digits, '-' or '_': got '${name}'`,
      );
    }
    if (this.#factories.has(name) && !options.replace) {
      throw new CrmConfigurationError(`Provider '${name}' is already registered`);
    }
    this.#factories.set(name, factory as CrmProviderFactory<never>);
    return this;
  }

  /** Whether a provider is registered under `name`. */
  has(name: string): boolean {
    return this.#factories.has(name);
  }

  /** Registered provider names, in registration order. */
  names(): string[] {
    return [...this.#factories.keys()];
  }

  /**
   * Build the provider registered under `name`.
   * @throws {CrmConfigurationError} when no provider has that name, or the factory returns something
   * that is not a provider.
   */
  create<Config>(name: string, config: Config): CrmProvider {
    const factory = this.#factories.get(name) as CrmProviderFactory<Config> | undefined;
    if (!factory) {
      const known = this.names();
      throw new CrmConfigurationError(
        `Unknown CRM provider '${name}'${known.length ? ` (registered: ${known.join(', ')})` : ' (none registered)'}`,
      );
    }
    const provider = factory(config);
    if (!provider || typeof provider.supportsFeature !== 'function' || typeof provider.name !== 'string') {
      throw new CrmConfigurationError(`Factory for provider '${name}' did not return a CrmProvider`);
    }
    return provider;
  }
}

/**
 * The registry {@link createProvider} uses when none is passed. It starts empty: importing a
 * provider subpath registers nothing by itself (the package has no import side effects); call
 * e.g. `registerSalesforceProvider(defaultProviderRegistry)` or `register` your own. Hosts that
 * want isolation create their own {@link ProviderRegistry} and pass it.
 */
export const defaultProviderRegistry: ProviderRegistry = new ProviderRegistry();

/**
 * Build the provider registered under `name`.
 *
 * @param registry - where to look it up.
 * @default registry {@link defaultProviderRegistry}
 * @throws {CrmConfigurationError} when `name` is not registered.
 * @example
 * defaultProviderRegistry.register('toy', (config: ToyConfig) => new ToyProvider(config));
 * const crm = createProvider('toy', { apiKey });
 */
export function createProvider<Config>(
  name: string,
  config: Config,
  registry: ProviderRegistry = defaultProviderRegistry,
): CrmProvider {
  return registry.create(name, config);
}
