import { CrmConfigurationError } from './errors.js';
import type { CrmProvider } from './provider.js';

/** Builds a provider from its configuration. */
export type CrmProviderFactory<Config = unknown> = (config: Config) => CrmProvider;

/**
 * Configuration type of each provider name, for type-checked `registry.create(name, config)`.
 * Provider subpaths add their entry by declaration merging (importing
 * `@markmail/crm/salesforce` adds `salesforce`); a third-party provider does the same:
 *
 * @example
 * declare module '@markmail/crm' {
 *   interface CrmProviderConfigs { 'my-crm': MyCrmConfig }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging from provider subpaths.
export interface CrmProviderConfigs {}

/** `Configs[Name]` for a known provider name, `Fallback` for any other. */
type ConfigOf<Configs, Name extends string, Fallback> = Name extends keyof Configs ? Configs[Name] : Fallback;

/**
 * Maps provider names to factories, so a host with several CRMs picks one by name. Built-in and
 * third-party providers register the same way. Instances are independent: no global registry.
 * `Configs` maps names to their configuration types (default: {@link CrmProviderConfigs}), so
 * `register` and `create` check the configuration of every name it knows; other names take any
 * configuration and are checked by the factory at run time.
 *
 * @example
 * const registry = new ProviderRegistry<{ 'my-crm': MyCrmConfig }>();
 * registry.register('my-crm', (config) => new MyCrmProvider(config)); // config: MyCrmConfig
 * const crm = registry.create('my-crm', { apiKey }); // a wrong config does not compile
 */
export class ProviderRegistry<Configs extends object = CrmProviderConfigs> {
  readonly #factories = new Map<string, CrmProviderFactory<never>>();

  /**
   * Register `factory` under `name`.
   * @throws {CrmConfigurationError} when the name is empty or already registered (unless `replace`).
   */
  register<Name extends string, Config = ConfigOf<Configs, Name, unknown>>(
    name: Name,
    factory: CrmProviderFactory<ConfigOf<Configs, Name, Config>>,
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
  create<Name extends string>(name: Name, config: ConfigOf<Configs, Name, unknown>): CrmProvider {
    const factory = this.#factories.get(name) as CrmProviderFactory<unknown> | undefined;
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
export function createProvider<Name extends string>(
  name: Name,
  config: ConfigOf<CrmProviderConfigs, Name, unknown>,
  registry: ProviderRegistry = defaultProviderRegistry,
): CrmProvider {
  return registry.create(name, config);
}
