/**
 * The local HubSpot emulator (`startHubSpotEmulator`) and the types of its controls.
 *
 * @packageDocumentation
 */
export {
  type HubSpotEmulator,
  type HubSpotEmulatorOAuthControls,
  type HubSpotEmulatorOptions,
  startHubSpotEmulator,
} from './emulator.js';
export type { HubSpotEmulatorProperty } from './store.js';
export type { HubSpotEmulatorWebhooks, HubSpotWebhookDelivery } from './webhooks.js';
