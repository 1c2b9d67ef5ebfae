/**
 * `@markmail/crm/hubspot`: the HubSpot provider on its own `fetch` client, OAuth, token manager
 * and webhook handler. No HubSpot SDK is loaded.
 *
 * @packageDocumentation
 */

import { assertSupportedNode } from '../internal/node-floor.js';

// First, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

export { hubSpotCampaignName } from './campaigns.js';
export type { HubSpotAccessTokenSource } from './client.js';
export { hubSpotListName } from './lists.js';
export { HubSpotOAuth, type HubSpotOAuthOptions, type HubSpotTokenSet } from './oauth.js';
export type { HubSpotApiVersion, HubSpotProviderOptions } from './options.js';
export { HubSpotProvider } from './provider.js';
export { registerHubSpotProvider } from './register.js';
export { HubSpotTokenManager, type HubSpotTokenManagerOptions } from './token-manager.js';
export {
  type HubSpotWebhookEvent,
  hubSpotEventsToChangeEvents,
  hubSpotEventToChangeEvent,
  parseHubSpotWebhookEvents,
} from './webhooks/events.js';
export {
  createHubSpotWebhookHandler,
  HUBSPOT_WEBHOOK_DEDUPE_STREAM_PREFIX,
  type HubSpotWebhookHandlerOptions,
} from './webhooks/handler.js';
export { hubSpotSignatureV3, verifyHubSpotSignatureV3 } from './webhooks/signature.js';
