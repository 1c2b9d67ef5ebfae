/**
 * `@markmail/crm/salesforce`: the Salesforce provider (jsforce 3 inside).
 *
 * @packageDocumentation
 */

import { assertSupportedNode } from '../internal/node-floor.js';

// First, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

export {
  type BeginOAuthAuthorizationOptions,
  beginOAuthAuthorization,
  createOAuthCallbackHandler,
  type OAuthCallbackClient,
  type OAuthCallbackHandlerOptions,
  type OAuthCallbackSuccess,
} from './auth/callback-handler.js';
export {
  SalesforceCliAuth,
  type SalesforceCliAuthOptions,
  type SalesforceCliCallOptions,
  type SalesforceCliDeviceCode,
  type SalesforceCliOrg,
  type SalesforceCliOrgDisplay,
} from './auth/cli.js';
export {
  createSpawnCommandRunner,
  type SalesforceCommandRequest,
  type SalesforceCommandResult,
  type SalesforceCommandRunner,
  type SpawnCommandRunnerOptions,
} from './auth/command-runner.js';
export {
  type CredentialCipherLike,
  decodeSalesforceCredentials,
  encodeSalesforceCredentials,
  type SalesforceStoredCredentials,
} from './auth/credentials.js';
export { SalesforceLoginUrls, salesforceMyDomainLoginUrl } from './auth/login-urls.js';
export {
  type SalesforceAuthorizeUrl,
  type SalesforceAuthorizeUrlOptions,
  type SalesforceDeviceFlowStart,
  type SalesforceExchangeCodeOptions,
  type SalesforceFetch,
  type SalesforceJwtBearerOptions,
  SalesforceOAuth,
  type SalesforceOAuthCallOptions,
  type SalesforceOAuthOptions,
  type SalesforcePollDeviceFlowOptions,
  type SalesforceUserInfo,
} from './auth/oauth.js';
export {
  MemoryOAuthStateStore,
  type OAuthStateStore,
  type SalesforcePendingAuthorization,
  SealedOAuthStateStore,
} from './auth/state-store.js';
export type { SalesforceTokenSet, SalesforceTokens } from './auth/token-set.js';
export {
  type CrmReauthorizationMarker,
  getReauthorizationMarker,
  type SalesforceConnectionOptions,
  type SalesforceRefreshFn,
  TokenManager,
  type TokenManagerOAuth,
  type TokenManagerOptions,
  type TokenRefreshBudget,
  type TokenRefreshOptions,
} from './auth/tokens.js';
export type { SalesforceBulkOptions } from './bulk.js';
export {
  DEFAULT_SALESFORCE_API_VERSION,
  type SalesforceOAuthClientConfig,
  type SalesforceProviderOptions,
  type SalesforceTokenRefresher,
} from './options.js';
export { registerSalesforceProvider, SalesforceProvider } from './provider.js';
export type { SalesforceRetryOptions } from './retry.js';
export { soqlString } from './soql.js';
export {
  REPLAY_ALL_RETAINED,
  REPLAY_NEW_EVENTS,
  type SalesforceChangeGap,
  type SalesforceChangeGapReason,
  type SalesforceChangeHandlerContext,
  type SalesforceStreamingConnection,
  type SubscribeToChangeEventsOptions,
  subscribeToChangeEvents,
} from './webhooks/cdc.js';
export {
  changeEventChannel,
  decodeChangeEvent,
  type SalesforceChangeEvent,
  type SalesforceChangeEventHeader,
  type SalesforceChangeType,
} from './webhooks/change-event.js';
export type { WebhookIpAllowlist } from './webhooks/ip-allowlist.js';
export { toNodeHttpListener, type WebRequestHandler } from './webhooks/node-http.js';
export {
  outboundMessageAck,
  outboundMessageFault,
  parseOutboundMessage,
  type SalesforceOutboundFieldValue,
  type SalesforceOutboundMessage,
  type SalesforceOutboundNotification,
} from './webhooks/outbound-message.js';
export {
  createOutboundMessageHandler,
  type OutboundMessageHandlerOptions,
  type OutboundMessageRequestHandler,
} from './webhooks/outbound-message-handler.js';
export {
  outboundNotificationToCrmChangeEvent,
  type SalesforceChangeMapping,
  toCrmChangeEvent,
} from './webhooks/to-change-event.js';
