// Names the README's TypeScript blocks use without defining them: the host application's own
// objects. One shared prelude, so every block reads like the snippet a host would paste.
type CrmContactInput = import('@markmail/crm').CrmContactInput;
type CrmProvider = import('@markmail/crm').CrmProvider;
type CrmStorage = import('@markmail/crm').CrmStorage;

declare const accessToken: string;
declare const instanceUrl: string;
declare const integrationId: string;
declare const signal: AbortSignal;
declare const storage: CrmStorage;
declare const crm: CrmProvider;
declare const connection: import('jsforce').Connection;
declare const subscribers: CrmContactInput[];
declare const tokens: import('@markmail/crm/salesforce').TokenManager;
declare const cipher: import('@markmail/crm').CredentialCipher;
declare const engine: import('@markmail/crm').SyncEngine;
declare const apply: import('@markmail/crm').SyncPullOptions['apply'];
declare const session: { userId: string };
declare function sessionUserId(request: Request): Promise<string | null>;

/** The host's own database layer. */
declare const db: {
  streamSubscribers(userId?: string): AsyncIterable<import('@markmail/crm').CrmContact>;
  campaigns(userId: string): AsyncIterable<import('@markmail/crm').CrmCampaign>;
  applyCrmChange(externalId: string | null, changes: Record<string, unknown>): Promise<void>;
  markDeletedInCrm(externalId: string | null): Promise<void>;
  upsertSubscriber(sobjectType: string, fields: Record<string, unknown>): Promise<void>;
  applyChange(header: unknown, fields: Record<string, unknown>): Promise<void>;
  contacts: {
    upsert(id: string, changes: Record<string, unknown>): Promise<void>;
    remove(externalId: string | null): Promise<void>;
    byIds(externalIds: string[]): Promise<CrmContactInput[]>;
  };
};

/** A third-party provider, as in "Providers and the registry". */
interface MyConfig {
  apiKey: string | undefined;
}
interface MyCrmProvider extends CrmProvider {}
declare class MyCrmProvider {
  constructor(config: MyConfig);
}
declare function welcomeSubscriber(crm: CrmProvider, contact: CrmContactInput): Promise<void>;

/** A host storage adapter, as in "Writing your own storage adapter". */
interface MyStorage extends CrmStorage {}
declare class MyStorage {
  constructor(options: { clock: import('@markmail/crm').CrmClock });
}
declare function dropMyTables(storage: CrmStorage): Promise<void>;

/** The host's HTTP wiring, as in "HTTP API". */
declare const registry: import('@markmail/crm').ProviderRegistry;
declare const oauth: import('@markmail/crm/salesforce').SalesforceOAuth;
declare const stateStore: import('@markmail/crm/salesforce').MemoryOAuthStateStore;
declare function resolveUser(request: Request): Promise<string | null>;
declare function providerFor(integration: import('@markmail/crm').CrmIntegration): Promise<CrmProvider>;
// biome-ignore lint/suspicious/noExplicitAny: stands for Hono's and Express's differently typed handlers.
declare const app: { all(path: string, handler: (...args: any[]) => unknown): void };
declare const user: { id: string };
declare function hostFieldsOf(user: {
  id: string;
}): Promise<Parameters<typeof import('@markmail/crm').suggestFieldMappings>[0]['hostFields']>;

/** Values the host has at hand in the error, HubSpot and scale-out sections. */
declare const err: unknown;
declare function retryLater(): void;
declare const contacts: CrmContactInput[];
declare const clientId: string;
declare const clientSecret: string;
declare const redirectUri: string;
declare const state: string;
declare const codeFromRedirect: string;
declare function syncIntegration(
  integration: import('@markmail/crm').CrmIntegration,
  signal: AbortSignal,
): Promise<unknown>;
