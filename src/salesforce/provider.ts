import { createHash } from 'node:crypto';
import type { Connection } from 'jsforce';
import {
  CrmApiError,
  type CrmApiUsage,
  CrmDataConversionError,
  type CrmFieldIssue,
  CrmNotFoundError,
  createAbortError,
  isCrmError,
  throwIfAborted,
} from '../core/errors.js';
import { type CrmLogger, createRedactingLogger, silentLogger } from '../core/logger.js';
import {
  type CrmBulkSyncResult,
  type CrmCampaignInput,
  CrmCampaignSchema,
  type CrmContact,
  type CrmContactInput,
  CrmContactSchema,
  type CrmCustomField,
  type CrmEmailActivity,
  type CrmEmailActivityInput,
  CrmEmailActivitySchema,
  CrmEmailSchema,
  type CrmFieldMapping,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmFieldType,
  type CrmLead,
  type CrmLeadInput,
  CrmLeadSchema,
  type CrmListInput,
  CrmListSchema,
  type CrmRecordError,
  type CrmSyncResult,
  parseModel,
  toFieldIssues,
} from '../core/models.js';
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
import { type BulkRow, DEFAULT_BULK, type ResolvedBulkOptions, runBulkUpsert } from './bulk.js';
import { SalesforceClient, type SalesforceHttpRequest, type SalesforceRefreshResult } from './client.js';
import { SALESFORCE_PROVIDER } from './errors.js';
import { loadJsforce } from './jsforce.js';
import {
  type ContactMappingOptions,
  campaignToRecord,
  contactSelectFields,
  contactToRecord,
  leadSelectFields,
  leadToRecord,
  recordToContact,
  recordToLead,
  type SalesforceRecord,
} from './mapping.js';
import {
  DEFAULT_SALESFORCE_API_VERSION,
  normaliseInstanceUrl,
  type SalesforceProviderOptions,
  type SalesforceTokenRefresher,
  validateProviderOptions,
} from './options.js';
import { chunks, runPool } from './pool.js';
import { defaultSleep, type ResolvedRetryOptions, resolveRetryOptions, type SleepFunction } from './retry.js';
import { assertSalesforceId, soqlString, soqlStringList } from './soql.js';
import type { OperationCounters } from './transport.js';

/** sObject Collections accept at most 200 records per request. */
export const COLLECTION_LIMIT = 200;

/** Records read ahead in `bulk` mode to build the CSV header from. */
const BULK_HEADER_SAMPLE = 2000;

const FEATURES: ReadonlySet<CrmFeature> = new Set<CrmFeature>([
  'contact_sync',
  'campaign_sync',
  'lead_sync',
  'custom_fields',
  'bulk_operations',
  'webhook_support',
  'real_time_sync',
  'incremental_pull',
]);

interface SaveResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }>;
}

interface QueryResult<R> {
  totalSize: number;
  done: boolean;
  records: R[];
  nextRecordsUrl?: string;
}

interface DescribeField {
  name: string;
  label: string;
  type: string;
  createable?: boolean;
  updateable?: boolean;
  nillable?: boolean;
  defaultedOnCreate?: boolean;
  picklistValues?: Array<{ active?: boolean; value: string }>;
}

/** Opaque position of {@link SalesforceProvider.listContactChanges}, serialised as JSON. */
interface ChangeCursor {
  v: 1;
  /** SystemModstamp of the last record delivered (ISO-8601). */
  ts: string;
  /** Id of the last record delivered with that SystemModstamp. */
  id: string;
}

const ACTIVITY_SUBJECT_MAX = 255;

/** Salesforce describe types → {@link CrmFieldType}. Compound and binary types are left out. */
const FIELD_TYPES: Record<string, CrmFieldType> = {
  string: 'text',
  textarea: 'text',
  encryptedstring: 'text',
  combobox: 'text',
  time: 'text',
  id: 'reference',
  reference: 'reference',
  double: 'number',
  currency: 'number',
  percent: 'number',
  int: 'number',
  long: 'number',
  date: 'date',
  datetime: 'datetime',
  boolean: 'boolean',
  picklist: 'picklist',
  multipicklist: 'multipicklist',
  email: 'email',
  phone: 'phone',
  url: 'url',
};

/** Which described types a mapping of a given type may target. */
const COMPATIBLE: Record<CrmFieldType, ReadonlySet<CrmFieldType>> = {
  text: new Set(['text', 'email', 'phone', 'url', 'picklist']),
  number: new Set(['number', 'text']),
  date: new Set(['date', 'datetime', 'text']),
  datetime: new Set(['datetime', 'text']),
  boolean: new Set(['boolean']),
  picklist: new Set(['picklist', 'text']),
  multipicklist: new Set(['multipicklist']),
  email: new Set(['email', 'text']),
  phone: new Set(['phone', 'text']),
  url: new Set(['url', 'text']),
  reference: new Set(['reference']),
};

function recordError(error: {
  statusCode?: string;
  errorCode?: string;
  message?: string;
  fields?: string[];
}) {
  const out: CrmRecordError = {
    code: error.statusCode ?? error.errorCode ?? 'UNKNOWN',
    message: error.message ?? 'Record failed',
  };
  if (error.fields?.length) out.fields = [...error.fields];
  return out;
}

function issuesError(issues: CrmFieldIssue[]): CrmRecordError {
  return {
    code: 'INVALID_DATA',
    message: issues.map((i) => `${i.field} ${i.message}`).join('; '),
    fields: issues.map((i) => i.field),
  };
}

/** Thrown by single-record methods when Salesforce refuses the record. */
function recordFailure(operation: string, error: CrmRecordError): CrmApiError {
  return new CrmApiError(`Salesforce ${operation} failed: ${error.code}`, {
    provider: SALESFORCE_PROVIDER,
    providerCode: error.code,
    fields: error.fields ?? [],
    details: { message: error.message },
  });
}

function dateOnly(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Key of an activity inside the Task Subject marker: readable when short and safe, hashed otherwise. */
export function activityMarkerKey(externalId: string): string {
  if (/^[A-Za-z0-9.:-]{1,64}$/.test(externalId)) return externalId;
  return `h${createHash('sha256').update(externalId).digest('hex').slice(0, 40)}`;
}

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

  readonly #client: SalesforceClient;
  readonly #logger: CrmLogger;
  readonly #clock: { now(): Date };
  readonly #sleep: SleepFunction;
  readonly #retry: ResolvedRetryOptions;
  readonly #bulk: ResolvedBulkOptions;
  readonly #externalIdField: string | null;
  readonly #campaignExternalIdField: string;
  readonly #leadExternalIdField: string | null;
  readonly #activityExternalIdField: string | null;
  readonly #bulkThreshold: number;
  readonly #concurrency: number;
  readonly #leadConvertedStatus: string | undefined;
  #fieldMappings: CrmFieldMapping[];
  #describe: Promise<DescribeField[]> | undefined;
  #refreshToken: string | undefined;

  /**
   * @throws {CrmConfigurationError} on unknown or invalid options, or neither a connection nor
   * `instanceUrl` + `accessToken`.
   */
  constructor(options: SalesforceProviderOptions) {
    const opts = validateProviderOptions(options);
    this.apiVersion = opts.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
    this.#refreshToken = opts.refreshToken;
    const secrets = () =>
      [this.connection?.accessToken, this.#refreshToken].filter((s): s is string => typeof s === 'string');
    this.#logger = createRedactingLogger(opts.logger ?? silentLogger, secrets);
    this.#clock = opts.clock ?? { now: () => new Date() };
    this.#sleep = opts.sleep ?? defaultSleep;
    this.#retry = resolveRetryOptions(opts.retry);
    this.#bulk = { ...DEFAULT_BULK, ...(opts.bulk ?? {}) };
    this.#externalIdField = opts.externalIdField === undefined ? 'MarkMail_ID__c' : opts.externalIdField;
    this.#campaignExternalIdField = opts.campaignExternalIdField ?? 'MarkMail_Campaign_ID__c';
    this.#leadExternalIdField =
      opts.leadExternalIdField === undefined ? 'MarkMail_ID__c' : opts.leadExternalIdField;
    this.#activityExternalIdField = opts.activityExternalIdField ?? null;
    this.#bulkThreshold = opts.bulkThreshold ?? 2000;
    this.#concurrency = opts.concurrency ?? 4;
    this.#leadConvertedStatus = opts.leadConvertedStatus;
    this.#fieldMappings = (opts.fieldMappings ?? []).map((m, i) =>
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
    this.#client = new SalesforceClient({
      connection: this.connection,
      retry: this.#retry,
      sleep: this.#sleep,
      logger: this.#logger,
      maxApiUsageRatio: opts.maxApiUsageRatio === null ? undefined : (opts.maxApiUsageRatio ?? 0.9),
      refreshAccessToken: this.#buildRefresher(opts),
    });
  }

  #buildRefresher(opts: SalesforceProviderOptions): (() => Promise<SalesforceRefreshResult>) | undefined {
    if (opts.refreshAccessToken) return opts.refreshAccessToken;
    const oauth = opts.oauth;
    if (!opts.refreshToken || !oauth) return undefined;
    const refresher: SalesforceTokenRefresher =
      'refresh' in oauth && typeof oauth.refresh === 'function'
        ? oauth
        : {
            refresh: async (refreshToken) => {
              const { OAuth2 } = loadJsforce();
              const response = await new OAuth2(
                oauth as ConstructorParameters<typeof OAuth2>[0],
              ).refreshToken(refreshToken);
              return {
                accessToken: response.access_token,
                refreshToken: response.refresh_token,
                instanceUrl: response.instance_url,
              };
            },
          };
    return async () => {
      const tokens = await refresher.refresh(this.#refreshToken ?? '');
      // Salesforce rotates refresh tokens; jsforce would drop the new one, so keep it here.
      if (tokens.refreshToken) this.#refreshToken = tokens.refreshToken;
      await opts.onTokenRefresh?.({
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        instanceUrl: tokens.instanceUrl,
      });
      return { accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl };
    };
  }

  /** Latest API usage reported by Salesforce (`Sforce-Limit-Info`), or `undefined` before any call. */
  get apiUsage(): CrmApiUsage | undefined {
    return this.#client.apiUsage;
  }

  /** HTTP requests this provider has sent since it was created. */
  get apiCallCount(): number {
    return this.#client.totalApiCalls;
  }

  /** The contact external-id field (`externalIdField` option), or `null` when contacts match by Email. */
  get externalIdField(): string | null {
    return this.#externalIdField;
  }

  /** The contact field mappings in force (from options or {@link mapCustomFields}). */
  get fieldMappings(): readonly CrmFieldMapping[] {
    return this.#fieldMappings;
  }

  /** Whether this provider supports `feature` (Salesforce supports all of them). */
  supportsFeature(feature: CrmFeature): boolean {
    return FEATURES.has(feature);
  }

  get #mapping(): ContactMappingOptions {
    return { externalIdField: this.#externalIdField, fieldMappings: this.#fieldMappings };
  }

  #url(path: string): string {
    return `/services/data/v${this.connection.version}${path}`;
  }

  #json(method: SalesforceHttpRequest['method'], path: string, body: unknown): SalesforceHttpRequest {
    return {
      method,
      url: this.#url(path),
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    };
  }

  #result(
    entityType: CrmSyncResult['entityType'],
    externalId: string,
    outcome: {
      crmId?: string | undefined;
      created?: boolean | undefined;
      error?: CrmRecordError | undefined;
    },
    syncedAt: Date = this.#clock.now(),
  ): CrmSyncResult {
    const result: CrmSyncResult = {
      entityType,
      externalId,
      success: outcome.error === undefined,
      syncedAt,
    };
    if (outcome.crmId) result.crmId = outcome.crmId;
    if (outcome.created !== undefined) result.created = outcome.created;
    if (outcome.error) result.error = outcome.error;
    return result;
  }

  /** Run a SOQL query and yield every page, following `nextRecordsUrl` itself (no 10,000 cap). */
  async *#queryPages<R>(
    operation: string,
    soql: string,
    options: { signal?: AbortSignal | undefined; counters?: OperationCounters; all?: boolean } = {},
  ): AsyncGenerator<R[]> {
    let url: string | undefined = this.#url(
      `/${options.all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`,
    );
    while (url) {
      throwIfAborted(options.signal);
      const page: QueryResult<R> = await this.#client.request<QueryResult<R>>(
        operation,
        { method: 'GET', url },
        { idempotent: true, signal: options.signal, counters: options.counters },
      );
      yield page.records ?? [];
      url = page.done ? undefined : page.nextRecordsUrl;
    }
  }

  async #queryAll<R>(
    operation: string,
    soql: string,
    options: { signal?: AbortSignal | undefined; counters?: OperationCounters } = {},
  ): Promise<R[]> {
    const out: R[] = [];
    for await (const page of this.#queryPages<R>(operation, soql, options)) out.push(...page);
    return out;
  }

  // ---------------------------------------------------------------- contacts

  /**
   * Create or update a contact, matched by `externalIdField` (or Email). Reports `created`.
   * @throws {CrmDataConversionError} on invalid input, before any network call.
   * @throws {CrmApiError} when Salesforce refuses the record (`providerCode` e.g. `DUPLICATE_VALUE`,
   * or `MULTIPLE_CHOICES` when the external id matches several records).
   */
  async syncContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const contact = parseModel(CrmContactSchema, input, 'contact');
    throwIfAborted(options.signal);
    const record = contactToRecord(contact, this.#mapping);
    const field = this.#externalIdField;
    if (field) {
      const { [field]: _key, ...body } = record;
      // jsforce does not URL-encode external-id values in the upsert path; we do.
      const response = await this.#client.request<SaveResult | undefined>(
        'upsert Contact',
        this.#json('PATCH', `/sobjects/Contact/${field}/${encodeURIComponent(contact.externalId)}`, body),
        { idempotent: true, signal: options.signal },
      );
      return this.#result('contact', contact.externalId, {
        crmId: response?.id,
        created: response?.created ?? false,
      });
    }
    // Email as the key: the collection endpoint keeps the address out of the URL path, where
    // some TLDs (`.inc`, …) are taken for file extensions.
    const [result] = await this.#upsertCollection('Contact', 'Email', [record], options.signal);
    if (!result) throw recordFailure('upsert Contact', { code: 'NO_RESULT', message: 'No result returned' });
    if (!result.success) throw recordFailure('upsert Contact', recordError(result.errors?.[0] ?? {}));
    return this.#result('contact', contact.externalId, {
      crmId: result.id,
      created: result.created ?? false,
    });
  }

  async #upsertCollection(
    sobject: string,
    field: string,
    records: SalesforceRecord[],
    signal: AbortSignal | undefined,
    counters?: OperationCounters,
  ): Promise<SaveResult[]> {
    return this.#client.request<SaveResult[]>(
      `upsert ${sobject} collection`,
      this.#json('PATCH', `/composite/sobjects/${sobject}/${field}`, {
        allOrNone: false,
        records: records.map((r) => ({ attributes: { type: sobject }, ...r })),
      }),
      { idempotent: true, signal, counters },
    );
  }

  /**
   * The contact with this email (the oldest, when several share it), or `null`.
   * @throws {CrmDataConversionError} when `email` is not a valid address.
   */
  async getContact(email: string, options: CrmCallOptions = {}): Promise<CrmContact | null> {
    const address = parseModel(CrmEmailSchema, email, 'email');
    const soql =
      `SELECT ${contactSelectFields(this.#mapping).join(', ')} FROM Contact` +
      ` WHERE Email = ${soqlString(address, 'email')} ORDER BY CreatedDate ASC, Id ASC LIMIT 1`;
    const [record] = await this.#queryAll<SalesforceRecord>('query Contact', soql, {
      signal: options.signal,
    });
    if (!record) return null;
    return CrmContactSchema.parse(recordToContact(record, this.#mapping));
  }

  /**
   * Update the contact with `contact.id` (PATCH by Salesforce id).
   * @throws {CrmDataConversionError} when `id` is missing or input is invalid.
   * @throws {CrmNotFoundError} when the contact does not exist.
   */
  async updateContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const contact = parseModel(CrmContactSchema, input, 'contact');
    const id = assertSalesforceId(contact.id, 'id');
    const record = contactToRecord(contact, this.#mapping);
    await this.#client.request<undefined>(
      'update Contact',
      this.#json('PATCH', `/sobjects/Contact/${id}`, record),
      { idempotent: true, signal: options.signal },
    );
    return this.#result('contact', contact.externalId, { crmId: id, created: false });
  }

  /**
   * Delete a contact by Salesforce id. Deleting an already-deleted contact succeeds (so a retried
   * delete is harmless).
   * @throws {CrmNotFoundError} when no such contact exists.
   */
  async deleteContact(id: string, options: CrmCallOptions = {}): Promise<void> {
    assertSalesforceId(id, 'id');
    try {
      await this.#client.request<undefined>(
        'delete Contact',
        { method: 'DELETE', url: this.#url(`/sobjects/Contact/${id}`) },
        { idempotent: true, signal: options.signal },
      );
    } catch (error) {
      if (isCrmError(error) && error.providerCode === 'ENTITY_IS_DELETED') return;
      throw error;
    }
  }

  /**
   * Create or update many contacts. Mode `auto` reads up to `bulkThreshold` + 1 valid records: that
   * many or fewer go through sObject Collections, more through Bulk API 2.0. Every input record gets
   * a result, in input order; invalid ones fail locally with code `INVALID_DATA`, repeated external
   * ids with `DUPLICATE_EXTERNAL_ID`.
   * @throws {CrmDataConversionError} on invalid options.
   * @throws an `AbortError` when `signal` fires (a bulk job in flight is aborted).
   */
  async bulkSyncContacts(
    contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options: CrmBulkSyncOptions = {},
  ): Promise<CrmBulkSyncResult> {
    const mode = options.mode ?? 'auto';
    if (!['auto', 'rest', 'bulk'].includes(mode)) {
      throw new CrmDataConversionError('Invalid bulk sync options: mode must be auto, rest or bulk', {
        fields: [{ field: 'mode', message: 'must be one of "auto", "rest", "bulk"' }],
      });
    }
    if (
      contacts == null ||
      (typeof (contacts as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
        typeof (contacts as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
    ) {
      throw new CrmDataConversionError('Invalid contacts: must be an Iterable or AsyncIterable', {
        fields: [{ field: 'contacts', message: 'must be an Iterable or AsyncIterable' }],
      });
    }
    const { signal } = options;
    throwIfAborted(signal);
    const counters: OperationCounters = { apiCalls: 0 };
    const results: CrmSyncResult[] = [];
    let failed = 0;
    let done = 0;
    const seen = new Set<string>();
    const keyField = this.#externalIdField ?? 'Email';
    const progress = () =>
      options.onProgress?.({
        done,
        failed,
        apiCalls: counters.apiCalls,
        ...(options.expectedCount !== undefined ? { total: options.expectedCount } : {}),
      });
    const settle = (index: number, result: CrmSyncResult) => {
      results[index] = result;
      done += 1;
      if (!result.success) failed += 1;
    };

    // Validate and number the input lazily; local failures are settled here.
    const mapping = this.#mapping;
    const self = this;
    let total = 0;
    const rows = (async function* (): AsyncGenerator<BulkRow> {
      let index = 0;
      for await (const raw of contacts as AsyncIterable<CrmContactInput>) {
        const i = index++;
        total = index;
        const parsed = CrmContactSchema.safeParse(raw);
        if (!parsed.success) {
          const externalId =
            typeof (raw as { externalId?: unknown })?.externalId === 'string'
              ? (raw as { externalId: string }).externalId
              : '';
          settle(i, self.#result('contact', externalId, { error: issuesError(toFieldIssues(parsed.error)) }));
          continue;
        }
        const contact = parsed.data;
        const record = contactToRecord(contact, mapping);
        const key = String(record[keyField] ?? '');
        const dedupeKey = keyField === 'Email' ? key.toLowerCase() : key;
        if (seen.has(dedupeKey)) {
          settle(
            i,
            self.#result('contact', contact.externalId, {
              error: {
                code: 'DUPLICATE_EXTERNAL_ID',
                message: `Another record in this batch has the same ${keyField}`,
                fields: [keyField === 'Email' ? 'email' : 'externalId'],
              },
            }),
          );
          continue;
        }
        seen.add(dedupeKey);
        yield { index: i, key, record, externalId: contact.externalId } as BulkRow & { externalId: string };
      }
    })();

    // Read ahead: `auto` decides on what it has read, and the bulk CSV header is built from the
    // keys of every buffered record (not just the first, as jsforce would).
    let chosen: 'rest' | 'bulk' = mode === 'bulk' ? 'bulk' : 'rest';
    const readAhead =
      mode === 'rest' ? 0 : mode === 'bulk' ? BULK_HEADER_SAMPLE : Math.max(this.#bulkThreshold + 1, 1);
    const buffered: BulkRow[] = [];
    let exhausted = false;
    if (
      mode === 'auto' &&
      options.expectedCount !== undefined &&
      options.expectedCount > this.#bulkThreshold
    ) {
      chosen = 'bulk';
    }
    while (buffered.length < readAhead) {
      const next = await rows.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      buffered.push(next.value);
    }
    if (mode === 'auto' && chosen === 'rest')
      chosen = buffered.length > this.#bulkThreshold ? 'bulk' : 'rest';
    const source: AsyncIterator<BulkRow> = (async function* () {
      yield* buffered;
      if (!exhausted) yield* { [Symbol.asyncIterator]: () => rows };
    })();
    const sampleColumns = new Set(this.#bulkColumns());
    for (const row of buffered) for (const key of Object.keys(row.record)) sampleColumns.add(key);

    const externalIdOf = (row: BulkRow) => (row as BulkRow & { externalId: string }).externalId;
    try {
      if (chosen === 'rest') {
        await runPool(
          chunks({ [Symbol.asyncIterator]: () => source }, COLLECTION_LIMIT),
          this.#concurrency,
          async (batch) => {
            const outcomes = await this.#upsertContactsWithLockRetry(batch, keyField, signal, counters);
            const at = this.#clock.now();
            for (const [i, row] of batch.entries()) {
              const outcome = outcomes[i];
              settle(
                row.index,
                this.#result(
                  'contact',
                  externalIdOf(row),
                  outcome?.success
                    ? { crmId: outcome.id, created: outcome.created ?? false }
                    : {
                        error: recordError(
                          outcome?.errors?.[0] ?? { statusCode: 'NO_RESULT', message: 'No result returned' },
                        ),
                      },
                  at,
                ),
              );
            }
            progress();
          },
        );
      } else {
        // Dense by input index: a pointer per record, cheaper than a Map at 100,000 records.
        const externalIds: string[] = [];
        let jobAt: Date | undefined;
        const tracked = (async function* () {
          for await (const row of { [Symbol.asyncIterator]: () => source }) {
            externalIds[row.index] = externalIdOf(row);
            yield row;
          }
        })();
        await runBulkUpsert({
          client: this.#client,
          apiVersion: this.connection.version,
          object: 'Contact',
          externalIdFieldName: keyField,
          columns: [...sampleColumns],
          rows: tracked,
          options: this.#bulk,
          sleep: this.#sleep,
          signal,
          counters,
          onResult: (r) => {
            // One timestamp per job: the records of a job were synced together.
            jobAt ??= this.#clock.now();
            settle(r.index, this.#result('contact', externalIds[r.index] ?? '', r, jobAt));
          },
          onJobDone: () => {
            jobAt = undefined;
            progress();
          },
        });
      }
    } catch (error) {
      if (signal?.aborted) throw createAbortError(signal);
      throw error;
    }
    progress();
    const dense = Array.from(
      { length: total },
      (_, i) =>
        results[i] ?? this.#result('contact', '', { error: { code: 'NO_RESULT', message: 'No result' } }),
    );
    return {
      total,
      success: dense.filter((r) => r.success).length,
      failed: dense.filter((r) => !r.success).length,
      results: dense,
      apiCalls: counters.apiCalls,
      mode: chosen,
    };
  }

  /** The full mapped field set, so the bulk CSV header never depends on the first record. */
  #bulkColumns(): string[] {
    const columns = new Set<string>();
    if (this.#externalIdField) columns.add(this.#externalIdField);
    for (const field of ['Email', 'FirstName', 'LastName', 'Phone', 'Title', 'HasOptedOutOfEmail'])
      columns.add(field);
    for (const m of this.#fieldMappings) {
      if (m.syncDirection !== 'from_crm') columns.add(m.crmField);
    }
    return [...columns];
  }

  /** Upsert one collection; records refused with `UNABLE_TO_LOCK_ROW` are re-sent after a backoff. */
  async #upsertContactsWithLockRetry(
    batch: BulkRow[],
    keyField: string,
    signal: AbortSignal | undefined,
    counters: OperationCounters,
  ): Promise<SaveResult[]> {
    const outcomes: SaveResult[] = new Array(batch.length);
    let pending = batch.map((row, i) => ({ row, i }));
    for (let attempt = 0; pending.length; attempt++) {
      const response = await this.#upsertCollection(
        'Contact',
        keyField,
        pending.map((p) => p.row.record),
        signal,
        counters,
      );
      const locked: typeof pending = [];
      for (const [j, p] of pending.entries()) {
        const outcome = response[j];
        const code = outcome?.errors?.[0]?.statusCode ?? outcome?.errors?.[0]?.errorCode;
        if (
          outcome &&
          !outcome.success &&
          code === 'UNABLE_TO_LOCK_ROW' &&
          attempt < this.#retry.maxRetries
        ) {
          locked.push(p);
        } else if (outcome) {
          outcomes[p.i] = outcome;
        }
      }
      if (!locked.length) break;
      await this.#sleep(Math.min(this.#retry.maxDelayMs, this.#retry.initialDelayMs * 2 ** attempt), signal);
      pending = locked;
    }
    return outcomes;
  }

  /**
   * Contacts changed in Salesforce since `cursor` (`null`: all), oldest first, one batch per query
   * page. Reads `queryAll` ordered by `SystemModstamp, Id`, so deletions (`IsDeleted`) come in the
   * same ordered stream; the cursor is the last delivered (SystemModstamp, Id), and records in the
   * cursor's second are re-read and filtered, so none is skipped at a page or second boundary.
   * Contacts without an Email cannot be represented and are skipped with a warning.
   * @throws {CrmDataConversionError} when `cursor` is not one this method produced.
   */
  async *listContactChanges(
    cursor: string | null,
    options: CrmCallOptions = {},
  ): AsyncGenerator<CrmContactChangeBatch> {
    const position = cursor === null ? undefined : parseCursor(cursor);
    const fields = contactSelectFields(this.#mapping, ['IsDeleted']);
    let where = '';
    if (position) {
      // Whole-second lower bound, then exact filtering below: robust to sub-second precision.
      const floor = `${position.ts.slice(0, 19)}Z`;
      where = ` WHERE SystemModstamp >= ${floor}`;
    }
    const soql = `SELECT ${fields.join(', ')} FROM Contact${where} ORDER BY SystemModstamp ASC, Id ASC`;
    let last = position;
    for await (const page of this.#queryPages<SalesforceRecord>('query Contact changes', soql, {
      signal: options.signal,
      all: true,
    })) {
      const upserted: CrmContact[] = [];
      const deleted: string[] = [];
      for (const record of page) {
        const id = String(record.Id ?? '');
        const ts = new Date(String(record.SystemModstamp ?? '')).toISOString();
        if (position && compareCursor({ v: 1, ts, id }, position) <= 0) continue;
        last = { v: 1, ts, id };
        if (record.IsDeleted === true) {
          deleted.push(id);
          continue;
        }
        const parsed = CrmContactSchema.safeParse(recordToContact(record, this.#mapping));
        if (parsed.success) upserted.push(parsed.data);
        else this.#logger.warn('Skipping Salesforce contact that cannot be represented', { id });
      }
      if (!last || (!upserted.length && !deleted.length)) continue;
      yield { upserted, deleted, cursor: JSON.stringify(last) };
    }
  }

  // ---------------------------------------------------------------- leads

  /**
   * Create a lead (upserted on `leadExternalIdField` when set, so a retry cannot duplicate it).
   * Missing `lastName`/`company`, which Salesforce requires, become `[not provided]`.
   * @throws {CrmApiError} when Salesforce refuses the lead.
   */
  async createLead(input: CrmLeadInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const lead = parseModel(CrmLeadSchema, input, 'lead');
    const field = this.#leadExternalIdField;
    const record = leadToRecord(lead, field);
    if (field) {
      const { [field]: _key, ...body } = record;
      const response = await this.#client.request<SaveResult | undefined>(
        'upsert Lead',
        this.#json('PATCH', `/sobjects/Lead/${field}/${encodeURIComponent(lead.externalId)}`, body),
        { idempotent: true, signal: options.signal },
      );
      return this.#result('lead', lead.externalId, {
        crmId: response?.id,
        created: response?.created ?? false,
      });
    }
    const response = await this.#client.request<SaveResult>(
      'create Lead',
      this.#json('POST', '/sobjects/Lead', record),
      {
        idempotent: false,
        signal: options.signal,
      },
    );
    return this.#result('lead', lead.externalId, { crmId: response.id, created: true });
  }

  /** The most recently created lead with this email, or `null`. */
  async getLead(email: string, options: CrmCallOptions = {}): Promise<CrmLead | null> {
    const address = parseModel(CrmEmailSchema, email, 'email');
    const soql =
      `SELECT ${leadSelectFields(this.#leadExternalIdField).join(', ')} FROM Lead` +
      ` WHERE Email = ${soqlString(address, 'email')} ORDER BY CreatedDate DESC, Id DESC LIMIT 1`;
    const [record] = await this.#queryAll<SalesforceRecord>('query Lead', soql, { signal: options.signal });
    if (!record) return null;
    return CrmLeadSchema.parse(recordToLead(record, this.#leadExternalIdField));
  }

  /**
   * Convert a lead into a contact (SOAP `convertLead`, no opportunity). Not retried: a second
   * conversion of the same lead fails.
   * @throws {CrmApiError} when Salesforce refuses the conversion.
   */
  async convertLeadToContact(leadId: string, options: CrmCallOptions = {}): Promise<CrmLeadConversion> {
    assertSalesforceId(leadId, 'leadId');
    const convertedStatus = this.#leadConvertedStatus ?? (await this.#convertedLeadStatus(options.signal));
    const result = await this.#client.run(
      'convert Lead',
      () =>
        this.connection.soap.convertLead({
          leadId,
          convertedStatus,
          doNotCreateOpportunity: true,
          overwriteLeadSource: false,
          sendNotificationEmail: false,
        }),
      { idempotent: false, signal: options.signal },
    );
    if (!result.success || !result.contactId) {
      const first = (result.errors?.[0] ?? {}) as {
        statusCode?: string;
        message?: string;
        fields?: string[];
      };
      throw recordFailure('convert Lead', recordError(first));
    }
    const conversion: CrmLeadConversion = { leadId, contactId: result.contactId };
    if (result.accountId) conversion.accountId = result.accountId;
    if (result.opportunityId) conversion.opportunityId = result.opportunityId;
    return conversion;
  }

  async #convertedLeadStatus(signal: AbortSignal | undefined): Promise<string> {
    try {
      const [status] = await this.#queryAll<{ MasterLabel?: string; ApiName?: string }>(
        'query LeadStatus',
        'SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true ORDER BY SortOrder ASC LIMIT 1',
        { signal },
      );
      if (status?.MasterLabel) return status.MasterLabel;
    } catch (error) {
      if (!isCrmError(error) || error.code !== 'API') throw error;
      this.#logger.debug('LeadStatus not queryable; using the default converted status');
    }
    return 'Closed - Converted';
  }

  // ---------------------------------------------------------------- campaigns

  /**
   * Create or update a campaign, upserted on `campaignExternalIdField`. Host statuses such as
   * `draft`/`sent` map onto Salesforce's default Status values.
   * @throws {CrmApiError} when Salesforce refuses the campaign.
   */
  async syncCampaign(input: CrmCampaignInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const campaign = parseModel(CrmCampaignSchema, input, 'campaign');
    const field = this.#campaignExternalIdField;
    const { [field]: _key, ...body } = campaignToRecord(campaign, field);
    const response = await this.#client.request<SaveResult | undefined>(
      'upsert Campaign',
      this.#json('PATCH', `/sobjects/Campaign/${field}/${encodeURIComponent(campaign.externalId)}`, body),
      { idempotent: true, signal: options.signal },
    );
    return this.#result('campaign', campaign.externalId, {
      crmId: response?.id,
      created: response?.created ?? false,
    });
  }

  // ---------------------------------------------------------------- email activity

  /**
   * Log one email activity as a completed `Task` (idempotent on its externalId).
   * @throws {CrmApiError} when it cannot be logged (e.g. `CONTACT_NOT_FOUND`).
   */
  async logEmailActivity(input: CrmEmailActivityInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const activity = parseModel(CrmEmailActivitySchema, input, 'email activity');
    const result = await this.logEmailActivities([activity], options);
    const first = result.results[0];
    if (!first) throw recordFailure('log email activity', { code: 'NO_RESULT', message: 'No result' });
    if (first.error) throw recordFailure('log email activity', first.error);
    return first;
  }

  /**
   * Log many email activities as `Task` records, 200 per request: Subject from the activity type
   * and campaign, `TaskSubtype` Email, `Status` Completed, `WhoId` the contact, `WhatId` the
   * campaign (when it exists in Salesforce), `ActivityDate` the day it occurred. An activity whose
   * externalId was logged before is reported as a success with `created: false`.
   */
  async logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options: CrmBulkSyncOptions = {},
  ): Promise<CrmBulkSyncResult> {
    const { signal } = options;
    const counters: OperationCounters = { apiCalls: 0 };
    const results: CrmSyncResult[] = [];
    let index = 0;
    const numbered = (async function* () {
      for await (const raw of activities as AsyncIterable<CrmEmailActivityInput>)
        yield { raw, index: index++ };
    })();
    for await (const batch of chunks(numbered, COLLECTION_LIMIT)) {
      throwIfAborted(signal);
      const valid: Array<{ activity: CrmEmailActivity; index: number }> = [];
      for (const { raw, index: i } of batch) {
        const parsed = CrmEmailActivitySchema.safeParse(raw);
        if (parsed.success) valid.push({ activity: parsed.data, index: i });
        else {
          const externalId =
            typeof (raw as { externalId?: unknown })?.externalId === 'string'
              ? (raw as { externalId: string }).externalId
              : '';
          results[i] = this.#result('email_activity', externalId, {
            error: issuesError(toFieldIssues(parsed.error)),
          });
        }
      }
      if (valid.length) await this.#logActivityBatch(valid, results, signal, counters);
      const failedSoFar = results.filter((r) => r && !r.success).length;
      options.onProgress?.({
        done: results.filter(Boolean).length,
        failed: failedSoFar,
        apiCalls: counters.apiCalls,
      });
    }
    const dense = Array.from({ length: index }, (_, i) => results[i] as CrmSyncResult);
    return {
      total: dense.length,
      success: dense.filter((r) => r.success).length,
      failed: dense.filter((r) => !r.success).length,
      results: dense,
      apiCalls: counters.apiCalls,
      mode: 'rest',
    };
  }

  async #logActivityBatch(
    batch: Array<{ activity: CrmEmailActivity; index: number }>,
    results: CrmSyncResult[],
    signal: AbortSignal | undefined,
    counters: OperationCounters,
  ): Promise<void> {
    const contactIds = await this.#resolveContacts(
      batch.map((b) => b.activity.contactExternalId),
      signal,
      counters,
    );
    const campaignKeys = [
      ...new Set(batch.map((b) => b.activity.campaignExternalId).filter((k): k is string => !!k)),
    ];
    const campaigns = new Map<string, { Id: string; Name?: string }>();
    if (campaignKeys.length) {
      const field = this.#campaignExternalIdField;
      const rows = await this.#queryAll<SalesforceRecord>(
        'query Campaign',
        `SELECT Id, Name, ${field} FROM Campaign WHERE ${field} IN ${soqlStringList(campaignKeys, 'campaignExternalId')}`,
        { signal, counters },
      );
      for (const row of rows)
        campaigns.set(String(row[field]), { Id: String(row.Id), Name: row.Name as string });
    }
    const toWrite: Array<{
      activity: CrmEmailActivity;
      index: number;
      task: SalesforceRecord;
      marker: string;
    }> = [];
    for (const { activity, index } of batch) {
      const whoId = contactIds.get(activity.contactExternalId);
      if (!whoId) {
        results[index] = this.#result('email_activity', activity.externalId, {
          error: {
            code: 'CONTACT_NOT_FOUND',
            message: 'No Salesforce contact matches contactExternalId',
            fields: ['contactExternalId'],
          },
        });
        continue;
      }
      const campaign = activity.campaignExternalId ? campaigns.get(activity.campaignExternalId) : undefined;
      const marker = `[mm:${activityMarkerKey(activity.externalId)}]`;
      const label = campaign?.Name ?? activity.campaignExternalId;
      let subject = `Email ${activity.activityType}${label ? `: ${label}` : ''}`;
      subject = `${subject.slice(0, ACTIVITY_SUBJECT_MAX - marker.length - 1)} ${marker}`;
      const task: SalesforceRecord = {
        Subject: subject,
        TaskSubtype: 'Email',
        Type: 'Email',
        Status: 'Completed',
        Priority: 'Normal',
        WhoId: whoId,
        ActivityDate: dateOnly(activity.occurredAt),
        Description: [
          `MarkMail email ${activity.activityType} at ${activity.occurredAt.toISOString()}`,
          activity.metadata ? JSON.stringify(activity.metadata).slice(0, 30_000) : '',
        ]
          .filter(Boolean)
          .join('\n'),
      };
      if (campaign) task.WhatId = campaign.Id;
      if (this.#activityExternalIdField) task[this.#activityExternalIdField] = activity.externalId;
      toWrite.push({ activity, index, task, marker });
    }
    if (!toWrite.length) return;

    if (this.#activityExternalIdField) {
      const response = await this.#upsertCollection(
        'Task',
        this.#activityExternalIdField,
        toWrite.map((w) => w.task),
        signal,
        counters,
      );
      for (const [i, w] of toWrite.entries()) {
        const r = response[i];
        results[w.index] = this.#result(
          'email_activity',
          w.activity.externalId,
          r?.success
            ? { crmId: r.id, created: r.created ?? true }
            : { error: recordError(r?.errors?.[0] ?? {}) },
        );
      }
      return;
    }

    // Marker mode: look the markers up, insert only the new ones.
    const existing = new Map<string, string>();
    for (const part of sliceArray(toWrite, 100)) {
      const clauses = part
        .map((w) => `Subject LIKE ${soqlString(`%${w.marker}`, 'externalId')}`)
        .join(' OR ');
      const rows = await this.#queryAll<{ Id: string; Subject?: string }>(
        'query Task',
        `SELECT Id, Subject FROM Task WHERE TaskSubtype = 'Email' AND (${clauses})`,
        { signal, counters },
      );
      for (const row of rows) {
        const match = /\[mm:[^\]]+\]$/.exec(row.Subject ?? '');
        if (match) existing.set(match[0], row.Id);
      }
    }
    const fresh: typeof toWrite = [];
    const freshMarkers = new Set<string>();
    for (const w of toWrite) {
      const id = existing.get(w.marker);
      if (id || freshMarkers.has(w.marker)) {
        results[w.index] = this.#result('email_activity', w.activity.externalId, {
          crmId: id,
          created: false,
        });
      } else {
        freshMarkers.add(w.marker);
        fresh.push(w);
      }
    }
    if (!fresh.length) return;
    const response = await this.#client.request<SaveResult[]>(
      'create Task collection',
      this.#json('POST', '/composite/sobjects', {
        allOrNone: false,
        records: fresh.map((w) => ({ attributes: { type: 'Task' }, ...w.task })),
      }),
      { idempotent: false, signal, counters },
    );
    for (const [i, w] of fresh.entries()) {
      const r = response[i];
      results[w.index] = this.#result(
        'email_activity',
        w.activity.externalId,
        r?.success ? { crmId: r.id, created: true } : { error: recordError(r?.errors?.[0] ?? {}) },
      );
    }
    // Duplicates inside this batch point at the record just created.
    for (const w of toWrite) {
      const result = results[w.index];
      if (result && !result.crmId && result.success) {
        const twin = fresh.find((f) => f.marker === w.marker);
        const twinResult = twin ? results[twin.index] : undefined;
        if (twinResult?.crmId) result.crmId = twinResult.crmId;
      }
    }
  }

  /** Map contact references (external ids, or emails in Email mode) to Salesforce Contact ids. */
  async #resolveContacts(
    references: readonly string[],
    signal: AbortSignal | undefined,
    counters: OperationCounters,
  ): Promise<Map<string, string>> {
    const field = this.#externalIdField ?? 'Email';
    const unique = [...new Set(references)];
    const out = new Map<string, string>();
    for (const part of sliceArray(unique, COLLECTION_LIMIT)) {
      const rows = await this.#queryAll<SalesforceRecord>(
        'query Contact',
        `SELECT Id, ${field} FROM Contact WHERE ${field} IN ${soqlStringList(part, 'contactExternalId')} ORDER BY CreatedDate ASC`,
        { signal, counters },
      );
      const byLower = new Map(part.map((p) => [field === 'Email' ? p.toLowerCase() : p, p]));
      for (const row of rows) {
        const value = String(row[field] ?? '');
        const reference = byLower.get(field === 'Email' ? value.toLowerCase() : value);
        if (reference !== undefined && !out.has(reference)) out.set(reference, String(row.Id));
      }
    }
    return out;
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
  async syncListMembership(input: CrmListInput, options: CrmCallOptions = {}): Promise<CrmListSyncResult> {
    const list = parseModel(CrmListSchema, input, 'list');
    if (!list.id && !list.externalId) {
      throw new CrmDataConversionError('Invalid list: needs `id` or `externalId`', {
        fields: [{ field: 'externalId', message: 'is required when id is not given', code: 'required' }],
      });
    }
    const { signal } = options;
    const counters: OperationCounters = { apiCalls: 0 };
    let campaignId = list.id ? assertSalesforceId(list.id, 'id') : undefined;
    if (!campaignId && list.externalId) {
      const field = this.#campaignExternalIdField;
      const response = await this.#client.request<SaveResult | undefined>(
        'upsert Campaign',
        this.#json('PATCH', `/sobjects/Campaign/${field}/${encodeURIComponent(list.externalId)}`, {
          Name: list.name,
        }),
        { idempotent: true, signal, counters },
      );
      campaignId = response?.id;
      if (!campaignId) {
        const [row] = await this.#queryAll<{ Id: string }>(
          'query Campaign',
          `SELECT Id FROM Campaign WHERE ${field} = ${soqlString(list.externalId, 'externalId')} LIMIT 1`,
          { signal, counters },
        );
        campaignId = row?.Id;
      }
    }
    if (!campaignId)
      throw new CrmNotFoundError('Salesforce campaign for the list was not found', {
        provider: SALESFORCE_PROVIDER,
      });

    const wanted = await this.#resolveContacts(list.memberIds, signal, counters);
    const results: CrmSyncResult[] = [];
    for (const memberId of new Set(list.memberIds)) {
      if (!wanted.has(memberId)) {
        results.push(
          this.#result('list_member', memberId, {
            error: { code: 'CONTACT_NOT_FOUND', message: 'No Salesforce contact matches this member id' },
          }),
        );
      }
    }
    const wantedContactIds = new Map<string, string>();
    for (const [memberId, contactId] of wanted) wantedContactIds.set(contactId.slice(0, 15), memberId);

    const current = new Map<string, string>(); // contactId(15) → CampaignMember Id
    for await (const page of this.#queryPages<{ Id: string; ContactId: string | null }>(
      'query CampaignMember',
      `SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId, 'id')} AND ContactId != null`,
      { signal, counters },
    )) {
      for (const row of page) if (row.ContactId) current.set(row.ContactId.slice(0, 15), row.Id);
    }

    const toAdd = [...wantedContactIds.entries()].filter(([contactId]) => !current.has(contactId));
    const toRemove = [...current.entries()].filter(([contactId]) => !wantedContactIds.has(contactId));
    let added = 0;
    let removed = 0;
    for (const part of sliceArray(toAdd, COLLECTION_LIMIT)) {
      const response = await this.#client.request<SaveResult[]>(
        'create CampaignMember collection',
        this.#json('POST', '/composite/sobjects', {
          allOrNone: false,
          records: part.map(([contactId]) => ({
            attributes: { type: 'CampaignMember' },
            CampaignId: campaignId,
            ContactId: wanted.get(wantedContactIds.get(contactId) ?? '') ?? contactId,
          })),
        }),
        // "Already a campaign member" is treated as success below, so a repeat is harmless.
        { idempotent: true, signal, counters },
      );
      for (const [i, [, memberId]] of part.entries()) {
        const r = response[i];
        const code = r?.errors?.[0]?.statusCode ?? r?.errors?.[0]?.errorCode;
        if (r?.success || code === 'DUPLICATE_VALUE') added += r?.success ? 1 : 0;
        else
          results.push(this.#result('list_member', memberId, { error: recordError(r?.errors?.[0] ?? {}) }));
      }
    }
    for (const part of sliceArray(toRemove, COLLECTION_LIMIT)) {
      const ids = part.map(([, memberRowId]) => memberRowId);
      const response = await this.#client.request<SaveResult[]>(
        'delete CampaignMember collection',
        { method: 'DELETE', url: this.#url(`/composite/sobjects?ids=${ids.join(',')}&allOrNone=false`) },
        { idempotent: true, signal, counters },
      );
      for (const [i, [contactId]] of part.entries()) {
        const r = response[i];
        const code = r?.errors?.[0]?.statusCode ?? r?.errors?.[0]?.errorCode;
        if (r?.success) removed += 1;
        else if (code !== 'ENTITY_IS_DELETED') {
          results.push(this.#result('list_member', contactId, { error: recordError(r?.errors?.[0] ?? {}) }));
        }
      }
    }
    return {
      listId: campaignId,
      added,
      removed,
      unchanged: wantedContactIds.size - toAdd.length,
      results,
    };
  }

  // ---------------------------------------------------------------- custom fields

  #describeContact(signal: AbortSignal | undefined): Promise<DescribeField[]> {
    if (!this.#describe) {
      this.#describe = this.#client
        .request<{ fields: DescribeField[] }>(
          'describe Contact',
          { method: 'GET', url: this.#url('/sobjects/Contact/describe') },
          { idempotent: true, signal },
        )
        .then((d) => d.fields);
      this.#describe.catch(() => {
        this.#describe = undefined;
      });
    }
    return this.#describe;
  }

  /**
   * Fields of the Salesforce Contact object from describe: normalised type, picklist options
   * (active values), `required` = createable, not nillable and not defaulted on create.
   * Compound (address, location) and binary fields are left out.
   */
  async getCustomFields(options: CrmCallOptions = {}): Promise<CrmCustomField[]> {
    const fields = await this.#describeContact(options.signal);
    const out: CrmCustomField[] = [];
    for (const field of fields) {
      const fieldType = FIELD_TYPES[field.type];
      if (!fieldType) continue;
      const custom: CrmCustomField = {
        name: field.name,
        label: field.label,
        fieldType,
        required: Boolean(field.createable && !field.nillable && !field.defaultedOnCreate),
        updateable: Boolean(field.updateable),
      };
      if (fieldType === 'picklist' || fieldType === 'multipicklist') {
        custom.options = (field.picklistValues ?? []).filter((p) => p.active !== false).map((p) => p.value);
      }
      out.push(custom);
    }
    return out;
  }

  /**
   * Validate `mapping` against Contact's describe (field exists, updateable when it writes to
   * Salesforce, type compatible) and make it the mapping used from now on.
   * @throws {CrmDataConversionError} naming every mapping entry that does not fit.
   */
  async mapCustomFields(mapping: CrmFieldMappingInput[], options: CrmCallOptions = {}): Promise<void> {
    if (!Array.isArray(mapping)) {
      throw new CrmDataConversionError('Invalid field mapping: must be an array', {
        fields: [{ field: 'mapping', message: 'must be an array' }],
      });
    }
    const parsed = mapping.map((m, i) => parseModel(CrmFieldMappingSchema, m, `mapping[${i}]`));
    const fields = new Map((await this.getCustomFields(options)).map((f) => [f.name, f]));
    const issues: CrmFieldIssue[] = [];
    for (const [i, m] of parsed.entries()) {
      const field = fields.get(m.crmField);
      const at = `mapping.${i}.crmField`;
      if (!field) {
        issues.push({ field: at, message: `Contact has no field ${m.crmField}`, code: 'unknown_field' });
        continue;
      }
      if (m.syncDirection !== 'from_crm' && !field.updateable) {
        issues.push({ field: at, message: `${m.crmField} is not updateable`, code: 'not_updateable' });
      }
      if (!COMPATIBLE[m.fieldType].has(field.fieldType)) {
        issues.push({
          field: `mapping.${i}.fieldType`,
          message: `${m.fieldType} does not fit ${m.crmField} (${field.fieldType})`,
          code: 'incompatible_type',
        });
      }
    }
    if (issues.length) {
      throw new CrmDataConversionError(
        `Invalid field mapping: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
        { fields: issues },
      );
    }
    this.#fieldMappings = parsed;
  }
}

function sliceArray<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function parseCursor(cursor: string): ChangeCursor {
  try {
    const value = JSON.parse(cursor) as Partial<ChangeCursor>;
    if (
      value.v === 1 &&
      typeof value.ts === 'string' &&
      !Number.isNaN(Date.parse(value.ts)) &&
      typeof value.id === 'string'
    ) {
      return { v: 1, ts: new Date(value.ts).toISOString(), id: value.id };
    }
  } catch {
    // fall through
  }
  throw new CrmDataConversionError('Invalid cursor: not produced by SalesforceProvider.listContactChanges', {
    fields: [{ field: 'cursor', message: 'is not a SalesforceProvider cursor', code: 'invalid_format' }],
  });
}

/** Order of (SystemModstamp, Id) as Salesforce sorts them (Ids compare on their 15-character form). */
function compareCursor(a: ChangeCursor, b: ChangeCursor): number {
  const time = Date.parse(a.ts) - Date.parse(b.ts);
  if (time !== 0) return time;
  const ia = a.id.slice(0, 15);
  const ib = b.id.slice(0, 15);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
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
