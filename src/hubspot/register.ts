import type { ProviderRegistry } from '../core/registry.js';
import type { HubSpotProviderOptions } from './options.js';
import { HubSpotProvider } from './provider.js';

/**
 * Registers `hubspot` in `registry` (`createProvider('hubspot', options)`).
 *
 * @example
 * ```ts
 * registerHubSpotProvider(defaultProviderRegistry);
 * const provider = createProvider('hubspot', { accessToken });
 * ```
 */
export function registerHubSpotProvider(
  registry: ProviderRegistry,
  options: { replace?: boolean } = {},
): void {
  registry.register('hubspot', (config: HubSpotProviderOptions) => new HubSpotProvider(config), options);
}
