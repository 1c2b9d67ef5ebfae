import { applyBulkResultOptions } from '../core/bulk-results.js';
import { type CrmApiUsage, CrmUnsupportedFeatureError } from '../core/errors.js';
import { createRedactingLogger, silentLogger } from '../core/logger.js';
import type {
  CrmBulkSyncResult,
  CrmCampaignInput,
  CrmContact,
  CrmContactInput,
  CrmCustomField,
  CrmEmailActivityInput,
  CrmFieldMapping,
  CrmFieldMappingInput,
  CrmLead,
  CrmLeadInput,
  CrmListInput,
  CrmSyncResult,
} from '../core/models.js';
import type { CrmContactExport, CrmContactRef, CrmForgetOptions, CrmForgetResult } from '../core/privacy.js';
import type {
  CrmBulkSyncOptions,
  CrmCallOptions,
  CrmContactChangeBatch,
  CrmFeature,
  CrmLeadConversion,
  CrmListSyncResult,
  CrmProvider,
} from '../core/provider.js';
import { sleep } from '../core/sleep.js';
import { INSPECT_CUSTOM, inspectSummary, type SafeSummary } from '../security/inspect.js';
import { REDACTED } from '../security/redact.js';
import * as activities from './activities.js';
import * as campaigns from './campaigns.js';
import * as changes from './changes.js';
import { HubSpotClient, tokenSource } from './client.js';
import * as contacts from './contacts.js';
import type { HubSpotContext } from './context.js';
import * as lists from './lists.js';
import { type HubSpotProviderOptions, validateHubSpotOptions } from './options.js';
import * as privacy from './privacy.js';
import * as properties from './properties.js';

const SUPPORTED: ReadonlySet<CrmFeature> = new Set<CrmFeature>([
  'contact_sync',
  'campaign_sync',
  'custom_fields',
  'bulk_operations',
  'webhook_support',
  'real_time_sync',
  'incremental_pull',
  'privacy',
]);

/**
 * `CrmProvider` for HubSpot on a small `fetch` client of its own (no HubSpot SDK): contacts by
 * batch upsert on a unique host-id property (or email), pulls by `lastmodifieddate` search, email
 * engagements, MANUAL list memberships, marketing campaigns and the properties API. Leads are not
 * supported (HubSpot leads must hang off an existing contact and have no conversion verb).
 *
 * @example
 * ```ts
 * const provider = new HubSpotProvider({ accessToken: process.env.HUBSPOT_ACCESS_TOKEN });
 * const result = await provider.bulkSyncContacts(contacts, { onProgress: console.log });
 * ```
 */
export class HubSpotProvider implements CrmProvider {
  readonly name = 'hubspot';
  readonly #context: HubSpotContext;
  readonly #client: HubSpotClient;
  #fieldMappings: CrmFieldMapping[] = [];

  /** @throws {CrmConfigurationError} on an unknown option or a missing token. */
  constructor(options: HubSpotProviderOptions) {
    validateHubSpotOptions(options);
    const hostSecrets = options.secrets ?? (() => []);
    const source = tokenSource(options);
    // Tokens a token source hands out are redacted too, not only a static one.
    let lastToken = options.accessToken;
    const getAccessToken: typeof source = async (context) => {
      lastToken = await source(context);
      return lastToken;
    };
    this.#client = new HubSpotClient({
      baseUrl: options.baseUrl ?? 'https://api.hubapi.com',
      getAccessToken,
      fetch: options.fetch ?? globalThis.fetch,
      sleep: options.sleep ?? sleep,
      logger: createRedactingLogger(options.logger ?? silentLogger, () =>
        [lastToken, ...hostSecrets()].filter((s): s is string => typeof s === 'string'),
      ),
      maxRetries: options.maxRetries ?? 4,
      retryBaseMs: options.retryBaseMs ?? 500,
      timeoutMs: options.timeoutMs ?? 60_000,
      knownSecrets: hostSecrets,
    });
    const clock = options.clock ?? { now: () => new Date() };
    this.#context = {
      client: this.#client,
      apiVersion: options.apiVersion ?? '2026-03',
      externalIdProperty:
        options.externalIdProperty === undefined ? 'markmail_id' : options.externalIdProperty,
      activityIdProperty: options.activityIdProperty ?? 'markmail_activity_id',
      customProperties: options.customProperties ?? [],
      pullOverlapMs: options.pullOverlapMs ?? 5 * 60_000,
      pullPageSize: options.pullPageSize ?? 200,
      now: () => clock.now(),
    };
  }

  /** Latest usage from HubSpot's `X-HubSpot-RateLimit-*` headers (daily when reported). */
  get apiUsage(): CrmApiUsage | undefined {
    return this.#client.usage;
  }

  /** The validated field mapping from the last {@link mapCustomFields}. */
  get fieldMappings(): readonly CrmFieldMapping[] {
    return this.#fieldMappings;
  }

  /** A summary without credentials: what `JSON.stringify(provider)` shows. */
  toJSON(): SafeSummary {
    return {
      name: this.name,
      apiVersion: this.#context.apiVersion,
      externalIdProperty: this.#context.externalIdProperty,
      // Always set: the constructor refuses a provider without a token or token source.
      accessToken: REDACTED,
    };
  }

  /** `console.log(provider)` shows {@link toJSON}'s summary, never the token. */
  [INSPECT_CUSTOM](
    _depth: number,
    options: unknown,
    inspect?: (value: unknown, options: unknown) => string,
  ): string {
    return inspectSummary('HubSpotProvider', this.toJSON(), options, inspect);
  }

  supportsFeature(feature: CrmFeature): boolean {
    return SUPPORTED.has(feature);
  }

  syncContact(contact: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return contacts.syncContact(this.#context, contact, options);
  }

  getContact(email: string, options?: CrmCallOptions): Promise<CrmContact | null> {
    return contacts.getContact(this.#context, email, options);
  }

  /**
   * Read contacts back, one result per reference in order (`null` when none): by `crmId`, else by
   * the external-id property (or email), 100 a batch read. The sync engine verifies uncertain
   * writes with it.
   */
  readContacts(
    refs: ReadonlyArray<CrmContactRef>,
    options?: CrmCallOptions,
  ): Promise<Array<CrmContact | null>> {
    return contacts.readContacts(this.#context, refs, options);
  }

  updateContact(contact: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return contacts.updateContact(this.#context, contact, options);
  }

  deleteContact(id: string, options?: CrmCallOptions): Promise<void> {
    return contacts.deleteContact(this.#context, id, options);
  }

  /** Batch upserts of 100, three in flight; `mode` is always `rest` (HubSpot's imports API is not used). */
  bulkSyncContacts(
    input: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    return contacts
      .bulkSyncContacts(this.#context, input, options)
      .then((result) => applyBulkResultOptions(result, options));
  }

  listContactChanges(cursor: string | null, options?: CrmCallOptions): AsyncIterable<CrmContactChangeBatch> {
    return changes.listContactChanges(this.#context, cursor, options);
  }

  /** @throws {CrmUnsupportedFeatureError} always. */
  async createLead(_lead: CrmLeadInput, _options?: CrmCallOptions): Promise<CrmSyncResult> {
    throw unsupported('lead_sync', 'createLead');
  }

  /** @throws {CrmUnsupportedFeatureError} always. */
  async getLead(_email: string, _options?: CrmCallOptions): Promise<CrmLead | null> {
    throw unsupported('lead_sync', 'getLead');
  }

  /** @throws {CrmUnsupportedFeatureError} always. */
  async convertLeadToContact(_leadId: string, _options?: CrmCallOptions): Promise<CrmLeadConversion> {
    throw unsupported('lead_sync', 'convertLeadToContact');
  }

  syncCampaign(campaign: CrmCampaignInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return campaigns.syncCampaign(this.#context, campaign, options);
  }

  logEmailActivity(activity: CrmEmailActivityInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return activities.logEmailActivity(this.#context, activity, options);
  }

  logEmailActivities(
    input: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    return activities
      .logEmailActivities(this.#context, input, options)
      .then((result) => applyBulkResultOptions(result, options));
  }

  syncListMembership(list: CrmListInput, options?: CrmCallOptions): Promise<CrmListSyncResult> {
    return lists.syncListMembership(this.#context, list, options);
  }

  getCustomFields(options?: CrmCallOptions): Promise<CrmCustomField[]> {
    return properties.getCustomFields(this.#context, options);
  }

  async mapCustomFields(mapping: CrmFieldMappingInput[], options?: CrmCallOptions): Promise<void> {
    this.#fieldMappings = await properties.mapCustomFields(this.#context, mapping, options);
  }

  /** GDPR delete of every contact the reference names (permanent); see `CrmPrivacyOperations`. */
  forgetContact(ref: CrmContactRef, options?: CrmForgetOptions): Promise<CrmForgetResult> {
    return privacy.forgetContact(this.#context, ref, options);
  }

  /** The person's contact record(s) with every property and their email engagements, as plain JSON. */
  exportContactData(ref: CrmContactRef, options?: CrmCallOptions): Promise<CrmContactExport> {
    return privacy.exportContactData(this.#context, ref, options);
  }
}

function unsupported(feature: CrmFeature, method: string): CrmUnsupportedFeatureError {
  return new CrmUnsupportedFeatureError(`HubSpotProvider does not support ${feature} (${method})`, {
    provider: 'hubspot',
  });
}
