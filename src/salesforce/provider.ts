import type { Connection } from 'jsforce';
import { applyBulkResultOptions } from '../core/bulk-results.js';
import type { CrmApiUsage } from '../core/errors.js';
import { createRedactingLogger, silentLogger } from '../core/logger.js';
import {
  type CrmBulkSyncResult,
  type CrmCampaignInput,
  type CrmContact,
  type CrmContactInput,
  type CrmCustomField,
  type CrmEmailActivityInput,
  type CrmFieldMapping,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmLead,
  type CrmLeadInput,
  type CrmListInput,
  type CrmSyncResult,
  parseModel,
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
import type { ProviderRegistry } from '../core/registry.js';
import { sleep } from '../core/sleep.js';
import {
  INSPECT_CUSTOM,
  inspectSummary,
  installRedactedView,
  maskSecret,
  type SafeSummary,
} from '../security/inspect.js';
import { createSessionRefresher, type RefreshTokenHolder } from './auth/session-refresh.js';
import { abortIngestJobs, DEFAULT_BULK } from './bulk.js';
import { SalesforceClient } from './client.js';
import { loadJsforce } from './jsforce.js';
import {
  DEFAULT_SALESFORCE_API_VERSION,
  normaliseInstanceUrl,
  type SalesforceProviderOptions,
  validateProviderOptions,
} from './options.js';
import { logEmailActivities, logEmailActivity } from './resources/activities.js';
import { syncCampaign } from './resources/campaigns.js';
import {
  DEFAULT_BULK_QUERY_PAGE_SIZE,
  DEFAULT_BULK_QUERY_THRESHOLD,
  DEFAULT_CHANGE_LOOKBACK_MS,
  listContactChanges,
} from './resources/contact-changes.js';
import { deleteContact, getContact, readContacts, syncContact, updateContact } from './resources/contacts.js';
import { bulkSyncContacts } from './resources/contacts-bulk.js';
import type { SalesforceContext } from './resources/context.js';
import { getCustomFields, mapCustomFields } from './resources/fields.js';
import { convertLeadToContact, createLead, getLead } from './resources/leads.js';
import { syncListMembership } from './resources/lists.js';
import { exportContactData, forgetContact } from './resources/privacy.js';
import { resolveRetryOptions } from './retry.js';
import { assertSalesforceId } from './soql.js';

export { activityMarkerKey } from './resources/activities.js';
export { COLLECTION_LIMIT } from './resources/query.js';

const FEATURES: ReadonlySet<CrmFeature> = new Set<CrmFeature>([
  'contact_sync',
  'campaign_sync',
  'lead_sync',
  'custom_fields',
  'bulk_operations',
  'webhook_support',
  'real_time_sync',
  'privacy',
  'incremental_pull',
]);

/**
 * `CrmProvider` for Salesforce, on jsforce 3.
 *
 * - Contacts are matched by an External ID field (`externalIdField`) or, when that is `null`, by
 *   Email. Single syncs use the REST upsert resource (external id URL-encoded); batches go through
 *   sObject Collections (200 per request, `concurrency` requests in flight) and, above
 *   `bulkThreshold`, through Bulk API 2.0 ingest jobs with a CSV generated while it uploads.
 * - Single-record methods throw `CrmApiError` (with Salesforce's code as `providerCode`) when
 *   Salesforce refuses the record; batch methods report per-record results and never fail the
 *   batch for one bad record.
 * - One retry layer: jsforce's own HTTP retry is switched off; transient failures of idempotent
 *   calls are retried with exponential backoff and jitter, honouring `Retry-After`; an
 *   `INVALID_SESSION_ID` triggers one refresh and one retry.
 * - `apiUsage` mirrors `Sforce-Limit-Info`; requests that would pass `maxApiUsageRatio` are refused
 *   with `CrmRateLimitError` before they are sent.
 *
 * @example
 * const crm = new SalesforceProvider({ instanceUrl, accessToken });
 * const result = await crm.syncContact({ externalId: 'u-1', email: 'ada@example.com', lastName: 'Lovelace' });
 * // result.created === true, result.crmId === '003…'
 */
export class SalesforceProvider implements CrmProvider {
  /** Registry name. */
  readonly name = 'salesforce';
  /** The jsforce connection all calls go through. */
  readonly connection: Connection;
  /** REST API version in use, e.g. `66.0`. */
  readonly apiVersion: string;

  readonly #context: SalesforceContext;
  readonly #tokens: RefreshTokenHolder;

  /**
   * @throws {CrmConfigurationError} on unknown or invalid options, or neither a connection nor
   * `instanceUrl` + `accessToken`.
   */
  constructor(options: SalesforceProviderOptions) {
    const opts = validateProviderOptions(options);
    this.apiVersion = opts.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
    const tokens: RefreshTokenHolder = { refreshToken: opts.refreshToken };
    const hostSecrets = opts.secrets ?? (() => []);
    const secrets = () =>
      [this.connection?.accessToken, tokens.refreshToken, ...hostSecrets()].filter(
        (s): s is string => typeof s === 'string',
      );
    const logger = createRedactingLogger(opts.logger ?? silentLogger, secrets);
    const wait = opts.sleep ?? sleep;
    const retry = resolveRetryOptions(opts.retry);
    const fieldMappings = (opts.fieldMappings ?? []).map((m, i) =>
      parseModel(CrmFieldMappingSchema, m, `fieldMappings[${i}]`),
    );

    if (opts.connection) {
      this.connection = opts.connection;
      // jsforce defaults to 50.0, which cannot be told apart from an explicit 50.0: treat it as
      // "not chosen" and pin ours (pass `apiVersion` to force another).
      if (opts.apiVersion) this.connection.version = opts.apiVersion;
      else if (!opts.connection.version || Number(opts.connection.version) <= 50) {
        this.connection.version = this.apiVersion;
      }
      this.apiVersion = this.connection.version;
    } else {
      const { Connection } = loadJsforce();
      this.connection = new Connection({
        instanceUrl: normaliseInstanceUrl(opts.instanceUrl ?? ''),
        accessToken: opts.accessToken ?? '',
        version: this.apiVersion,
        ...(opts.clientName ? { callOptions: { client: opts.clientName } } : {}),
      });
    }
    const connection = this.connection;
    installRedactedView(connection, 'Connection', () => ({
      instanceUrl: connection.instanceUrl,
      version: connection.version,
      accessToken: maskSecret(connection.accessToken),
      refreshToken: maskSecret(connection.refreshToken),
    }));
    this.#tokens = tokens;
    const clock = opts.clock ?? { now: () => new Date() };
    const client = new SalesforceClient({
      connection: this.connection,
      retry,
      sleep: wait,
      logger,
      maxApiUsageRatio: opts.maxApiUsageRatio === null ? undefined : (opts.maxApiUsageRatio ?? 0.9),
      refreshAccessToken: createSessionRefresher(opts, tokens, () => connection.instanceUrl),
      knownSecrets: hostSecrets,
      now: () => clock.now().getTime(),
      ...(opts.apiUsageRecheckMs !== undefined ? { usageRecheckMs: opts.apiUsageRecheckMs } : {}),
      ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
      ...(opts.slowCallWarningMs !== undefined ? { slowCallMs: opts.slowCallWarningMs } : {}),
      fetch: chooseFetch(opts.fetch, this.connection),
    });
    this.#context = {
      client,
      connection: this.connection,
      logger,
      clock,
      sleep: wait,
      retry,
      bulk: { ...DEFAULT_BULK, ...(opts.bulk ?? {}) },
      externalIdField: opts.externalIdField === undefined ? 'MarkMail_ID__c' : opts.externalIdField,
      campaignExternalIdField: opts.campaignExternalIdField ?? 'MarkMail_Campaign_ID__c',
      leadExternalIdField:
        opts.leadExternalIdField === undefined ? 'MarkMail_ID__c' : opts.leadExternalIdField,
      activityExternalIdField: opts.activityExternalIdField ?? null,
      bulkThreshold: opts.bulkThreshold ?? 2000,
      changeLookbackMs: opts.changeLookbackMs ?? DEFAULT_CHANGE_LOOKBACK_MS,
      bulkQueryThreshold:
        opts.bulkQueryThreshold === undefined ? DEFAULT_BULK_QUERY_THRESHOLD : opts.bulkQueryThreshold,
      bulkQueryPageSize: opts.bulkQueryPageSize ?? DEFAULT_BULK_QUERY_PAGE_SIZE,
      concurrency: opts.concurrency ?? 4,
      leadConvertedStatus: opts.leadConvertedStatus,
      fieldMappings,
      describeContact: undefined,
    };
  }

  /** Latest API usage reported by Salesforce (`Sforce-Limit-Info`), or `undefined` before any call. */
  get apiUsage(): CrmApiUsage | undefined {
    return this.#context.client.apiUsage;
  }

  /** HTTP requests this provider has sent since it was created. */
  get apiCallCount(): number {
    return this.#context.client.totalApiCalls;
  }

  /** The contact external-id field (`externalIdField` option), or `null` when contacts match by Email. */
  get externalIdField(): string | null {
    return this.#context.externalIdField;
  }

  /** The contact field mappings in force (from options or {@link mapCustomFields}). */
  get fieldMappings(): readonly CrmFieldMapping[] {
    return this.#context.fieldMappings;
  }

  /** A summary without credentials: what `JSON.stringify(provider)` shows. */
  toJSON(): SafeSummary {
    return {
      name: this.name,
      instanceUrl: this.connection.instanceUrl,
      apiVersion: this.apiVersion,
      externalIdField: this.#context.externalIdField,
      accessToken: maskSecret(this.connection.accessToken),
      refreshToken: maskSecret(this.#tokens.refreshToken ?? this.connection.refreshToken),
    };
  }

  /** `console.log(provider)` shows {@link toJSON}'s summary, never the tokens. */
  [INSPECT_CUSTOM](
    _depth: number,
    options: unknown,
    inspect?: (value: unknown, options: unknown) => string,
  ): string {
    return inspectSummary('SalesforceProvider', this.toJSON(), options, inspect);
  }

  /** Whether this provider supports `feature` (Salesforce supports all of them). */
  supportsFeature(feature: CrmFeature): boolean {
    return FEATURES.has(feature);
  }

  // ---------------------------------------------------------------- privacy

  /**
   * Erase the person in Salesforce: their Individual (when the org has data protection enabled)
   * gets `ShouldForget`, `HasOptedOutProcessing`, `HasOptedOutProfiling`, `HasOptedOutSolicit` and
   * `HasOptedOutTracking` set and its name replaced; their Tasks, CampaignMembers, Contacts and
   * Leads are deleted (to the Recycle Bin, which Salesforce empties after 15 days).
   * @throws {CrmDataConversionError} when `ref` names no key.
   */
  forgetContact(ref: CrmContactRef, options?: CrmForgetOptions): Promise<CrmForgetResult> {
    return forgetContact(this.#context, ref, options);
  }

  /**
   * Everything Salesforce holds about the person as plain JSON: Contact, Lead, Task,
   * CampaignMember and Individual records, every field.
   * @throws {CrmDataConversionError} when `ref` names no key.
   */
  exportContactData(ref: CrmContactRef, options?: CrmCallOptions): Promise<CrmContactExport> {
    return exportContactData(this.#context, ref, options);
  }

  // ---------------------------------------------------------------- contacts

  /**
   * Create or update a contact, matched by `externalIdField` (or Email). Reports `created`.
   * @throws {CrmDataConversionError} on invalid input, before any network call.
   * @throws {CrmApiError} when Salesforce refuses the record (`providerCode` e.g. `DUPLICATE_VALUE`,
   * or `MULTIPLE_CHOICES` when the external id matches several records).
   */
  syncContact(input: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return syncContact(this.#context, input, options);
  }

  /**
   * The contact with this email (the oldest, when several share it), or `null`.
   * @throws {CrmDataConversionError} when `email` is not a valid address.
   */
  getContact(email: string, options?: CrmCallOptions): Promise<CrmContact | null> {
    return getContact(this.#context, email, options);
  }

  /**
   * Abort Bulk API 2.0 ingest jobs a killed process left open (ids from `onRemoteJob`); jobs
   * already over or unknown are skipped. Resolves to the ids aborted now.
   * @throws {CrmDataConversionError} for an id that is not a Salesforce id.
   */
  async abortOrphanedJobs(jobIds: ReadonlyArray<string>, options: CrmCallOptions = {}): Promise<string[]> {
    const ids = jobIds.map((id, i) => assertSalesforceId(id, `jobIds[${i}]`));
    return abortIngestJobs(this.#context.client, this.connection.version, ids, options.signal);
  }

  /**
   * Read contacts back, one result per reference in order (`null` when none): by `crmId`, else by
   * `externalIdField` (or Email), 200 a SOQL query. The sync engine verifies uncertain writes with it.
   */
  readContacts(
    refs: ReadonlyArray<CrmContactRef>,
    options?: CrmCallOptions,
  ): Promise<Array<CrmContact | null>> {
    return readContacts(this.#context, refs, options);
  }

  /**
   * Update the contact with `contact.id` (PATCH by Salesforce id).
   * @throws {CrmDataConversionError} when `id` is missing or input is invalid.
   * @throws {CrmNotFoundError} when the contact does not exist.
   */
  updateContact(input: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return updateContact(this.#context, input, options);
  }

  /**
   * Delete a contact by Salesforce id. Deleting an already-deleted contact succeeds (so a retried
   * delete is harmless).
   * @throws {CrmNotFoundError} when no such contact exists.
   */
  deleteContact(id: string, options?: CrmCallOptions): Promise<void> {
    return deleteContact(this.#context, id, options);
  }

  /**
   * Create or update many contacts. Mode `auto` reads up to `bulkThreshold` + 1 valid records: that
   * many or fewer go through sObject Collections, more through Bulk API 2.0. Every input record gets
   * a result, in input order; invalid ones fail locally with code `INVALID_DATA`, repeated external
   * ids with `DUPLICATE_EXTERNAL_ID`.
   * @throws {CrmDataConversionError} on invalid options.
   * @throws an `AbortError` when `signal` fires (a bulk job in flight is aborted).
   */
  bulkSyncContacts(
    contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    return bulkSyncContacts(this.#context, contacts, options);
  }

  /**
   * Contacts changed in Salesforce since `cursor` (`null`: all), oldest first, in batches of at
   * most 2,000 (an async iterator: pages are read as the batches are consumed). Reads `queryAll`
   * ordered by `SystemModstamp, Id`, so deletions (`IsDeleted`) come in the same ordered stream;
   * the cursor is the last delivered (SystemModstamp, Id), and each read starts `changeLookbackMs`
   * before it, so no change is skipped at a page or second boundary or by a late commit (changes
   * may be delivered again). A read of more than `bulkQueryThreshold` records goes through a Bulk
   * API 2.0 query job with the same SOQL; smaller ones through the REST query API.
   * Contacts without an Email cannot be represented and are skipped with a warning.
   * @throws {CrmDataConversionError} when `cursor` is not one this method produced.
   */
  listContactChanges(cursor: string | null, options?: CrmCallOptions): AsyncGenerator<CrmContactChangeBatch> {
    return listContactChanges(this.#context, cursor, options);
  }

  // ---------------------------------------------------------------- leads

  /**
   * Create a lead (upserted on `leadExternalIdField` when set, so a retry cannot duplicate it).
   * Missing `lastName`/`company`, which Salesforce requires, become `[not provided]`.
   * @throws {CrmApiError} when Salesforce refuses the lead.
   */
  createLead(input: CrmLeadInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return createLead(this.#context, input, options);
  }

  /** The most recently created lead with this email, or `null`. */
  getLead(email: string, options?: CrmCallOptions): Promise<CrmLead | null> {
    return getLead(this.#context, email, options);
  }

  /**
   * Convert a lead into a contact (SOAP `convertLead`, no opportunity). Not retried: a second
   * conversion of the same lead fails.
   * @throws {CrmApiError} when Salesforce refuses the conversion.
   */
  convertLeadToContact(leadId: string, options?: CrmCallOptions): Promise<CrmLeadConversion> {
    return convertLeadToContact(this.#context, leadId, options);
  }

  // ---------------------------------------------------------------- campaigns

  /**
   * Create or update a campaign, upserted on `campaignExternalIdField`. Host statuses such as
   * `draft`/`sent` map onto Salesforce's default Status values.
   * @throws {CrmApiError} when Salesforce refuses the campaign.
   */
  syncCampaign(input: CrmCampaignInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return syncCampaign(this.#context, input, options);
  }

  // ---------------------------------------------------------------- email activity

  /**
   * Log one email activity as a completed `Task` (idempotent on its externalId).
   * @throws {CrmApiError} when it cannot be logged (e.g. `CONTACT_NOT_FOUND`).
   */
  logEmailActivity(input: CrmEmailActivityInput, options?: CrmCallOptions): Promise<CrmSyncResult> {
    return logEmailActivity(this.#context, input, options);
  }

  /**
   * Log many email activities as `Task` records, 200 per request: Subject from the activity type
   * and campaign, `TaskSubtype` Email, `Status` Completed, `WhoId` the contact, `WhatId` the
   * campaign (when it exists in Salesforce), `ActivityDate` the day it occurred. An activity whose
   * externalId was logged before is reported as a success with `created: false`.
   */
  logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    return logEmailActivities(this.#context, activities, options).then((result) =>
      applyBulkResultOptions(result, options),
    );
  }

  // ---------------------------------------------------------------- lists

  /**
   * Make a Salesforce Campaign's contact members equal `list.memberIds` (contact external ids):
   * the Campaign is `list.id`, or the one whose `campaignExternalIdField` is `list.externalId`
   * (created, named `list.name`, when missing). Missing members are added and absent ones removed,
   * 200 per request. Lead members are left alone. Members without a Salesforce contact are
   * reported in `results` with `CONTACT_NOT_FOUND`.
   * @throws {CrmDataConversionError} when the list has neither `id` nor `externalId`.
   */
  syncListMembership(input: CrmListInput, options?: CrmCallOptions): Promise<CrmListSyncResult> {
    return syncListMembership(this.#context, input, options);
  }

  // ---------------------------------------------------------------- custom fields

  /**
   * Fields of the Salesforce Contact object from describe: normalised type, picklist options
   * (active values), `required` = createable, not nillable and not defaulted on create.
   * Compound (address, location) and binary fields are left out.
   */
  getCustomFields(options?: CrmCallOptions): Promise<CrmCustomField[]> {
    return getCustomFields(this.#context, options);
  }

  /**
   * Validate `mapping` against Contact's describe (field exists, updateable when it writes to
   * Salesforce, type compatible) and make it the mapping used from now on.
   * @throws {CrmDataConversionError} naming every mapping entry that does not fit.
   */
  mapCustomFields(mapping: CrmFieldMappingInput[], options?: CrmCallOptions): Promise<void> {
    return mapCustomFields(this.#context, mapping, options);
  }
}

/**
 * Register `SalesforceProvider` under `salesforce` in `registry`.
 * @example
 * registerSalesforceProvider(defaultProviderRegistry);
 * const crm = createProvider('salesforce', { instanceUrl, accessToken });
 */
export function registerSalesforceProvider<Registry extends ProviderRegistry>(
  registry: Registry,
  options: { replace?: boolean } = {},
): Registry {
  registry.register(
    'salesforce',
    (config: SalesforceProviderOptions) => new SalesforceProvider(config),
    options,
  );
  return registry;
}

// `registry.create('salesforce', config)` type-checks `config` wherever this subpath is imported.
declare module '@markmail/crm' {
  interface CrmProviderConfigs {
    salesforce: SalesforceProviderOptions;
  }
}

/**
 * The `fetch` requests go out with: the host's, else the global one unless jsforce would use a
 * proxy (environment variable or a proxy transport on the host's connection), which a plain
 * `fetch` would bypass.
 */
function chooseFetch(
  option: typeof globalThis.fetch | false | undefined,
  connection: Connection,
): typeof globalThis.fetch | undefined {
  if (option === false) return undefined;
  if (option) return option;
  const env = process.env;
  if (env.https_proxy || env.http_proxy || env.HTTPS_PROXY || env.HTTP_PROXY) return undefined;
  const transport = (connection as unknown as { _transport?: object })._transport;
  // jsforce's plain `Transport`; its subclasses (`HttpProxyTransport`, `XdProxyTransport`, the
  // browser ones) route elsewhere. A transport this package already wrapped keeps its prototype's name.
  if (transport?.constructor?.name !== 'Transport') return undefined;
  // Late-bound, so a fetch replaced after the provider was built (test interceptors) is used.
  return (input, init) => globalThis.fetch(input, init);
}
