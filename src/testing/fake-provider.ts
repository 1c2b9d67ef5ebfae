import { applyBulkResultOptions } from '../core/bulk-results.js';
import { type CrmClock, systemClock } from '../core/clock.js';
import {
  CrmApiError,
  type CrmApiUsage,
  CrmDataConversionError,
  CrmNotFoundError,
  CrmRateLimitError,
  CrmUnsupportedFeatureError,
  createAbortError,
  throwIfAborted,
} from '../core/errors.js';
import {
  type CrmBulkSyncResult,
  type CrmCampaign,
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
  type CrmEntityType,
  type CrmFieldMappingInput,
  type CrmLead,
  type CrmLeadInput,
  CrmLeadSchema,
  type CrmListInput,
  CrmListSchema,
  type CrmSyncResult,
  parseModel,
} from '../core/models.js';
import {
  type CrmContactExport,
  type CrmContactRef,
  type CrmForgetOptions,
  type CrmForgetResult,
  parseContactRef,
} from '../core/privacy.js';
import type {
  CrmBulkSyncOptions,
  CrmCallOptions,
  CrmContactChangeBatch,
  CrmFeature,
  CrmLeadConversion,
  CrmListSyncResult,
  CrmProvider,
} from '../core/provider.js';

/** Methods of {@link FakeCrmProvider} that can be recorded and made to fail. */
export type FakeCrmMethod = Exclude<keyof CrmProvider, 'name' | 'supportsFeature' | 'apiUsage'>;

/** The feature each method belongs to (methods of no feature are always served). */
const METHOD_FEATURES: Partial<Record<FakeCrmMethod, CrmFeature>> = {
  syncContact: 'contact_sync',
  getContact: 'contact_sync',
  readContacts: 'contact_sync',
  updateContact: 'contact_sync',
  deleteContact: 'contact_sync',
  bulkSyncContacts: 'bulk_operations',
  listContactChanges: 'incremental_pull',
  createLead: 'lead_sync',
  getLead: 'lead_sync',
  convertLeadToContact: 'lead_sync',
  syncCampaign: 'campaign_sync',
  getCustomFields: 'custom_fields',
  mapCustomFields: 'custom_fields',
};

/** One recorded call. */
export interface FakeCrmCall {
  method: FakeCrmMethod;
  /** Records in the call (batch methods), else 1. */
  records: number;
  /** API calls it cost. */
  apiCalls: number;
  /** For batch calls: the path a real provider would take. */
  mode?: 'rest' | 'bulk';
  at: Date;
}

/** A per-record failure rule (see {@link FakeCrmProvider.failRecord}). */
export interface FakeRecordFailure {
  /** Match by host id … */
  externalId?: string;
  /** … or by email. */
  email?: string;
  /** Provider error code, e.g. `DUPLICATE_VALUE`, `UNABLE_TO_LOCK_ROW`. */
  code: string;
  /** @default `Injected failure (<code>)` */
  message?: string;
  fields?: string[];
  /** How many times it fires. @default Infinity */
  times?: number;
}

/** Options of {@link FakeCrmProvider}. */
export interface FakeCrmProviderOptions {
  /** @default 'fake' */
  name?: string;
  /** Timestamps of created/updated records. @default the system clock */
  clock?: CrmClock;
  /** Daily API allowance reported in `apiUsage`; calls beyond it fail with `CrmRateLimitError`. @default 15_000 */
  dailyApiLimit?: number;
  /** Calls already used today. @default 0 */
  initialApiUsage?: number;
  /** Records per `listContactChanges` page. @default 200 */
  pageSize?: number;
  /** Records per API call on the record-level path (Salesforce sObject Collections). @default 200 */
  collectionSize?: number;
  /** Above this many records `auto` mode counts as a bulk job. @default 2000 */
  bulkThreshold?: number;
  /** API calls a bulk job costs (create, upload, close, poll, results). @default 5 */
  bulkJobApiCalls?: number;
  /**
   * Re-deliver this many changes from before the cursor on each `listContactChanges`, like a
   * provider whose cursor overlaps by a lookback window. @default 0
   */
  lookbackChanges?: number;
  /** Supported features; the methods of the others throw `CrmUnsupportedFeatureError`. @default all but webhook_support and real_time_sync */
  features?: ReadonlyArray<CrmFeature>;
  /** Fields returned by `getCustomFields`, beyond the standard ones. @default [] */
  customFields?: ReadonlyArray<CrmCustomField>;
}

interface ChangeEntry {
  seq: number;
  id: string;
  deleted: boolean;
}

const DEFAULT_FEATURES: ReadonlyArray<CrmFeature> = [
  'contact_sync',
  'campaign_sync',
  'lead_sync',
  'custom_fields',
  'bulk_operations',
  'incremental_pull',
  'privacy',
];

const STANDARD_FIELDS: ReadonlyArray<CrmCustomField> = [
  { name: 'email', label: 'Email', fieldType: 'email', required: true, updateable: true },
  { name: 'firstName', label: 'First Name', fieldType: 'text', required: false, updateable: true },
  { name: 'lastName', label: 'Last Name', fieldType: 'text', required: false, updateable: true },
  { name: 'company', label: 'Company', fieldType: 'text', required: false, updateable: true },
  { name: 'phone', label: 'Phone', fieldType: 'phone', required: false, updateable: true },
  { name: 'title', label: 'Title', fieldType: 'text', required: false, updateable: true },
  { name: 'emailOptOut', label: 'Email Opt Out', fieldType: 'boolean', required: false, updateable: true },
];

/**
 * An in-memory CRM for host-app tests: behaves like a real CRM for contacts (ids, created/updated
 * times, upsert by external id then email, a change feed with a cursor, deletes), counts API calls
 * the way Salesforce would bill them, records every call, and lets a test inject per-record or
 * whole-call failures. Campaigns, leads, activities and lists are kept in memory too.
 *
 * Methods prefixed `crm` act as a person editing the CRM: they cost no API calls and are not recorded.
 *
 * @example
 * const crm = new FakeCrmProvider();
 * crm.failRecord({ externalId: 'h-2', code: 'UNABLE_TO_LOCK_ROW', times: 1 });
 * const result = await crm.bulkSyncContacts([{ externalId: 'h-1', email: 'a@example.com' }]);
 * crm.crmUpdateContact(result.results[0].crmId!, { title: 'CTO' });
 */
export class FakeCrmProvider implements CrmProvider {
  readonly name: string;
  /** Every call, in order. */
  readonly calls: FakeCrmCall[] = [];
  readonly #clock: CrmClock;
  readonly #features: Set<CrmFeature>;
  readonly #dailyLimit: number;
  readonly #pageSize: number;
  readonly #collectionSize: number;
  readonly #bulkThreshold: number;
  readonly #bulkJobCalls: number;
  readonly #lookback: number;
  readonly #customFields: CrmCustomField[];
  #used: number;
  #seq = 0;
  #idCounter = 0;
  #lastStamp = 0;
  readonly #contacts = new Map<string, CrmContact>();
  // Indexes so upserts stay O(1) per record at host-test volumes (100k+).
  readonly #idByExternalId = new Map<string, string>();
  readonly #idByEmail = new Map<string, string>();
  readonly #changes: ChangeEntry[] = [];
  readonly #campaigns = new Map<string, CrmCampaign>();
  readonly #leads = new Map<string, CrmLead>();
  readonly #activities = new Map<string, CrmEmailActivity>();
  readonly #lists = new Map<string, { id: string; name: string; members: Set<string> }>();
  #recordFailures: Array<FakeRecordFailure & { remaining: number }> = [];
  #callFailures: Array<{ method: FakeCrmMethod; error: () => Error; remaining: number }> = [];

  constructor(options: FakeCrmProviderOptions = {}) {
    this.name = options.name ?? 'fake';
    this.#clock = options.clock ?? systemClock;
    this.#features = new Set(options.features ?? DEFAULT_FEATURES);
    this.#dailyLimit = options.dailyApiLimit ?? 15_000;
    this.#used = options.initialApiUsage ?? 0;
    this.#pageSize = options.pageSize ?? 200;
    this.#collectionSize = options.collectionSize ?? 200;
    this.#bulkThreshold = options.bulkThreshold ?? 2000;
    this.#bulkJobCalls = options.bulkJobApiCalls ?? 5;
    this.#lookback = options.lookbackChanges ?? 0;
    this.#customFields = [...(options.customFields ?? [])];
  }

  /** API usage so far (like Salesforce's `Sforce-Limit-Info`). */
  get apiUsage(): CrmApiUsage {
    return { used: this.#used, max: this.#dailyLimit };
  }

  /** Total API calls spent through this provider. */
  get apiCalls(): number {
    return this.calls.reduce((sum, c) => sum + c.apiCalls, 0);
  }

  supportsFeature(feature: CrmFeature): boolean {
    return this.#features.has(feature);
  }

  /** A method of a feature this fake was configured without refuses, as a real provider must. */
  #require(method: FakeCrmMethod): void {
    const feature = METHOD_FEATURES[method];
    if (feature !== undefined && !this.#features.has(feature)) {
      throw new CrmUnsupportedFeatureError(`${this.name} does not support '${feature}' (${method})`, {
        provider: this.name,
        details: { feature },
      });
    }
  }

  // ---- test controls -------------------------------------------------------------------------

  /** Make matching records fail in `bulkSyncContacts`, `syncContact` and `updateContact`. */
  failRecord(rule: FakeRecordFailure): void {
    this.#recordFailures.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Make the next `times` calls of `method` throw `error` (an Error or a factory). @default times 1 */
  failCall(method: FakeCrmMethod, error: Error | (() => Error), times = 1): void {
    this.#callFailures.push({
      method,
      error: typeof error === 'function' ? error : () => error,
      remaining: times,
    });
  }

  /** Remove every injected failure. */
  clearFailures(): void {
    this.#recordFailures = [];
    this.#callFailures = [];
  }

  /** Set today's API usage (e.g. to test a budget). */
  setApiUsage(used: number): void {
    this.#used = used;
  }

  /** Every contact, in creation order (copies). */
  contacts(): CrmContact[] {
    return [...this.#contacts.values()].map(copyContact);
  }

  /** One contact by CRM id (a copy), or `null`. */
  contactById(id: string): CrmContact | null {
    const contact = this.#contacts.get(id);
    return contact ? copyContact(contact) : null;
  }

  /** Create a contact as a CRM user would; returns its id. */
  crmCreateContact(input: CrmContactInput): string {
    const parsed = parseModel(CrmContactSchema, input, 'contact');
    return this.#write(undefined, parsed).id as string;
  }

  /** Edit a contact as a CRM user would: bumps its modification time and the change feed. */
  crmUpdateContact(id: string, patch: Partial<CrmContactInput>): CrmContact {
    const current = this.#contacts.get(id);
    if (!current) throw new CrmNotFoundError(`No contact ${id}`);
    const merged = parseModel(
      CrmContactSchema,
      { ...current, ...patch, customFields: { ...current.customFields, ...(patch.customFields ?? {}) } },
      'contact',
    );
    return copyContact(this.#write(current, merged));
  }

  /** Delete a contact as a CRM user would (appears as a deletion in the change feed). */
  crmDeleteContact(id: string): void {
    if (!this.#remove(id)) throw new CrmNotFoundError(`No contact ${id}`);
  }

  /** Email activities logged so far. */
  activities(): CrmEmailActivity[] {
    return [...this.#activities.values()];
  }

  /** Campaigns synced so far. */
  campaigns(): CrmCampaign[] {
    return [...this.#campaigns.values()];
  }

  /** Members (contact external ids) of a list, by the list's external id or name. */
  listMembers(key: string): string[] {
    return [...(this.#lists.get(key)?.members ?? [])].sort();
  }

  // ---- CrmProvider ---------------------------------------------------------------------------

  async syncContact(contact: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const parsed = parseModel(CrmContactSchema, contact, 'contact');
    this.#begin('syncContact', 1, 1, options.signal);
    return this.#upsert(parsed);
  }

  async getContact(email: string, options: CrmCallOptions = {}): Promise<CrmContact | null> {
    // Same input rule as every provider: a malformed address is a CrmDataConversionError, not "not found".
    const address = parseModel(CrmEmailSchema, email, 'email');
    this.#begin('getContact', 1, 1, options.signal);
    const id = this.#idByEmail.get(address.trim().toLowerCase());
    const found = id === undefined ? undefined : this.#contacts.get(id);
    return found ? copyContact(found) : null;
  }

  /** Contacts by `crmId`, else by `externalId` (else by email), one result per reference. */
  async readContacts(
    refs: ReadonlyArray<CrmContactRef>,
    options: CrmCallOptions = {},
  ): Promise<Array<CrmContact | null>> {
    const parsed = refs.map((ref) => parseContactRef(ref));
    this.#begin('readContacts', parsed.length, Math.max(1, Math.ceil(parsed.length / 200)), options.signal);
    return parsed.map((ref) => {
      const id = ref.crmId
        ? ref.crmId
        : ref.externalId
          ? this.#idByExternalId.get(ref.externalId)
          : ref.email
            ? this.#idByEmail.get(ref.email.trim().toLowerCase())
            : undefined;
      const found = id === undefined ? undefined : this.#contacts.get(id);
      return found ? copyContact(found) : null;
    });
  }

  async updateContact(contact: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const parsed = parseModel(CrmContactSchema, contact, 'contact');
    if (!parsed.id) {
      throw new CrmDataConversionError('Invalid contact: id is required for updateContact', {
        fields: [{ field: 'id', message: 'is required' }],
      });
    }
    this.#begin('updateContact', 1, 1, options.signal);
    const current = this.#contacts.get(parsed.id);
    if (!current)
      throw new CrmNotFoundError(`Contact ${parsed.id} not found`, { provider: this.name, status: 404 });
    const failure = this.#recordFailure(parsed);
    if (failure) return failure;
    const written = this.#write(current, parsed);
    return this.#ok('contact', parsed.externalId, written.id as string, false);
  }

  async deleteContact(id: string, options: CrmCallOptions = {}): Promise<void> {
    this.#begin('deleteContact', 1, 1, options.signal);
    if (!this.#remove(id)) {
      throw new CrmNotFoundError(`Contact ${id} not found`, { provider: this.name, status: 404 });
    }
  }

  async bulkSyncContacts(
    contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options: CrmBulkSyncOptions = {},
  ): Promise<CrmBulkSyncResult> {
    this.#require('bulkSyncContacts');
    return applyBulkResultOptions(await this.#bulkSyncContacts(contacts, options), options);
  }

  async #bulkSyncContacts(
    contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    throwIfAborted(options.signal);
    const all: CrmContactInput[] = [];
    for await (const c of contacts) all.push(c);
    const requested = options.mode ?? 'auto';
    const mode =
      requested === 'bulk' ||
      (requested === 'auto' && (options.expectedCount ?? all.length) > this.#bulkThreshold)
        ? 'bulk'
        : 'rest';
    const apiCalls =
      all.length === 0
        ? 0
        : mode === 'bulk'
          ? this.#bulkJobCalls
          : Math.ceil(all.length / this.#collectionSize);
    this.#begin('bulkSyncContacts', all.length, apiCalls, options.signal, mode);
    const results: CrmSyncResult[] = [];
    let failed = 0;
    for (let i = 0; i < all.length; i += 1) {
      if (i % this.#collectionSize === 0) {
        if (options.signal?.aborted) throw createAbortError(options.signal);
        if (i > 0) await Promise.resolve();
      }
      const input = all[i] as CrmContactInput;
      const parsed = CrmContactSchema.safeParse(input);
      let result: CrmSyncResult;
      if (!parsed.success) {
        result = this.#failed('contact', String(input.externalId ?? ''), 'INVALID_FIELD', 'Invalid contact');
      } else {
        result = this.#upsert(parsed.data);
      }
      if (!result.success) failed += 1;
      results.push(result);
      if ((i + 1) % this.#collectionSize === 0 || i === all.length - 1) {
        const callsSoFar = mode === 'bulk' ? apiCalls : Math.ceil((i + 1) / this.#collectionSize);
        options.onProgress?.({ done: i + 1, total: all.length, failed, apiCalls: callsSoFar });
      }
    }
    return { total: all.length, success: all.length - failed, failed, results, apiCalls, mode };
  }

  async *listContactChanges(
    cursor: string | null,
    options: CrmCallOptions = {},
  ): AsyncIterable<CrmContactChangeBatch> {
    this.#require('listContactChanges');
    const after = cursor === null ? 0 : Number.parseInt(cursor, 10);
    if (Number.isNaN(after))
      throw new CrmApiError('Invalid cursor', { providerCode: 'INVALID_CURSOR', status: 400 });
    // Each record once, at the position of its latest change, like `ORDER BY SystemModstamp`.
    const latest = new Map<string, ChangeEntry>();
    const start = Math.max(0, after - this.#lookback);
    for (const entry of this.#changes) if (entry.seq > start) latest.set(entry.id, entry);
    const ordered = [...latest.values()].sort((a, b) => a.seq - b.seq);
    if (ordered.length === 0) {
      this.#begin('listContactChanges', 0, 1, options.signal);
      return;
    }
    for (let i = 0; i < ordered.length; i += this.#pageSize) {
      const page = ordered.slice(i, i + this.#pageSize);
      this.#begin('listContactChanges', page.length, 1, options.signal);
      const upserted: CrmContact[] = [];
      const deleted: string[] = [];
      for (const entry of page) {
        const contact = this.#contacts.get(entry.id);
        if (entry.deleted || !contact) deleted.push(entry.id);
        else upserted.push(copyContact(contact));
      }
      const last = page[page.length - 1] as ChangeEntry;
      yield { upserted, deleted, cursor: String(Math.max(last.seq, after)) };
    }
  }

  async createLead(lead: CrmLeadInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const parsed = parseModel(CrmLeadSchema, lead, 'lead');
    this.#begin('createLead', 1, 1, options.signal);
    const id = this.#newId('00Q');
    this.#leads.set(id, { ...parsed, id });
    return this.#ok('lead', parsed.externalId, id, true);
  }

  async getLead(email: string, options: CrmCallOptions = {}): Promise<CrmLead | null> {
    this.#begin('getLead', 1, 1, options.signal);
    return (
      [...this.#leads.values()].find((l) => l.email.toLowerCase() === email.trim().toLowerCase()) ?? null
    );
  }

  async convertLeadToContact(leadId: string, options: CrmCallOptions = {}): Promise<CrmLeadConversion> {
    this.#begin('convertLeadToContact', 1, 1, options.signal);
    const lead = this.#leads.get(leadId);
    if (!lead) throw new CrmNotFoundError(`Lead ${leadId} not found`, { provider: this.name, status: 404 });
    const contact = parseModel(
      CrmContactSchema,
      {
        externalId: lead.externalId,
        email: lead.email,
        firstName: lead.firstName,
        lastName: lead.lastName,
        company: lead.company,
        phone: lead.phone,
        title: lead.title,
      },
      'contact',
    );
    const written = this.#write(undefined, contact);
    this.#leads.delete(leadId);
    return { leadId, contactId: written.id as string };
  }

  async syncCampaign(campaign: CrmCampaignInput, options: CrmCallOptions = {}): Promise<CrmSyncResult> {
    const parsed = parseModel(CrmCampaignSchema, campaign, 'campaign');
    this.#begin('syncCampaign', 1, 1, options.signal);
    const existing = this.#campaigns.get(parsed.externalId);
    const id = existing?.id ?? this.#newId('701');
    this.#campaigns.set(parsed.externalId, { ...parsed, id });
    return this.#ok('campaign', parsed.externalId, id, !existing);
  }

  async logEmailActivity(
    activity: CrmEmailActivityInput,
    options: CrmCallOptions = {},
  ): Promise<CrmSyncResult> {
    const parsed = parseModel(CrmEmailActivitySchema, activity, 'email activity');
    this.#begin('logEmailActivity', 1, 1, options.signal);
    return this.#logActivity(parsed);
  }

  async logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options: CrmBulkSyncOptions = {},
  ): Promise<CrmBulkSyncResult> {
    return applyBulkResultOptions(await this.#logEmailActivities(activities, options), options);
  }

  async #logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult> {
    const all: CrmEmailActivity[] = [];
    let index = 0;
    for await (const a of activities)
      all.push(parseModel(CrmEmailActivitySchema, a, `activities[${index++}]`));
    const apiCalls = all.length === 0 ? 0 : Math.ceil(all.length / this.#collectionSize);
    this.#begin('logEmailActivities', all.length, apiCalls, options.signal, 'rest');
    const results = all.map((a) => this.#logActivity(a));
    const failed = results.filter((r) => !r.success).length;
    options.onProgress?.({ done: all.length, total: all.length, failed });
    return { total: all.length, success: all.length - failed, failed, results, apiCalls, mode: 'rest' };
  }

  async syncListMembership(list: CrmListInput, options: CrmCallOptions = {}): Promise<CrmListSyncResult> {
    const parsed = parseModel(CrmListSchema, list, 'list');
    this.#begin('syncListMembership', parsed.memberIds.length, 2, options.signal);
    const key = parsed.externalId ?? parsed.name;
    const stored = this.#lists.get(key) ?? {
      id: this.#newId('701'),
      name: parsed.name,
      members: new Set<string>(),
    };
    this.#lists.set(key, stored);
    const wanted = new Set(parsed.memberIds);
    const results: CrmSyncResult[] = [];
    let added = 0;
    let removed = 0;
    let unchanged = 0;
    for (const member of wanted) {
      if (stored.members.has(member)) {
        unchanged += 1;
        continue;
      }
      const known = this.#idByExternalId.has(member);
      if (!known) {
        results.push(
          this.#failed(
            'list_member',
            member,
            'INVALID_CROSS_REFERENCE_KEY',
            'No contact with this external id',
          ),
        );
        continue;
      }
      stored.members.add(member);
      added += 1;
      results.push(this.#ok('list_member', member, undefined, true));
    }
    for (const member of [...stored.members]) {
      if (!wanted.has(member)) {
        stored.members.delete(member);
        removed += 1;
      }
    }
    return { listId: stored.id, added, removed, unchanged, results };
  }

  async getCustomFields(options: CrmCallOptions = {}): Promise<CrmCustomField[]> {
    this.#begin('getCustomFields', 1, 1, options.signal);
    return [...STANDARD_FIELDS, ...this.#customFields];
  }

  async mapCustomFields(mapping: CrmFieldMappingInput[], options: CrmCallOptions = {}): Promise<void> {
    this.#begin('mapCustomFields', mapping.length, 1, options.signal);
    const known = new Set([...STANDARD_FIELDS, ...this.#customFields].map((f) => f.name));
    const unknown = mapping.filter((m) => !known.has(m.crmField)).map((m) => m.crmField);
    if (unknown.length > 0) {
      // The contract: a mapping naming a field the CRM lacks is bad input (CrmDataConversionError).
      throw new CrmDataConversionError(`Unknown CRM field(s): ${unknown.join(', ')}`, {
        fields: unknown.map((field) => ({ field, message: 'is not a field of this CRM' })),
        provider: this.name,
      });
    }
  }

  async forgetContact(ref: CrmContactRef, options: CrmForgetOptions = {}): Promise<CrmForgetResult> {
    const parsed = this.#privacyRef(ref);
    this.#begin('forgetContact', 1, 2, options.signal);
    const contacts = this.#matchContacts(parsed);
    const leads = this.#matchLeads(parsed);
    for (const contact of contacts) {
      this.#remove(contact.id as string);
      for (const [key, activity] of this.#activities) {
        if (activity.contactExternalId === contact.externalId) this.#activities.delete(key);
      }
    }
    for (const lead of leads) this.#leads.delete(lead.id as string);
    const deleted = { contact: contacts.length, lead: leads.length };
    return {
      provider: this.name,
      outcome: contacts.length + leads.length > 0 ? 'erased' : 'not_found',
      deleted,
      actions: [],
    };
  }

  async exportContactData(ref: CrmContactRef, options: CrmCallOptions = {}): Promise<CrmContactExport> {
    const parsed = this.#privacyRef(ref);
    this.#begin('exportContactData', 1, 2, options.signal);
    const contacts = this.#matchContacts(parsed);
    const externalIds = new Set(contacts.map((c) => c.externalId));
    const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    return {
      provider: this.name,
      exportedAt: this.#clock.now().toISOString(),
      records: {
        contact: contacts.map(json),
        lead: this.#matchLeads(parsed).map(json),
        email_activity: [...this.#activities.values()]
          .filter((a) => externalIds.has(a.contactExternalId))
          .map(json),
      },
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Record a call, charge it, and apply injected whole-call failures and the daily limit. */
  #begin(
    method: FakeCrmMethod,
    records: number,
    apiCalls: number,
    signal: AbortSignal | undefined,
    mode?: 'rest' | 'bulk',
  ): void {
    throwIfAborted(signal);
    this.#require(method);
    const injected = this.#callFailures.find((f) => f.method === method && f.remaining > 0);
    if (injected) {
      injected.remaining -= 1;
      throw injected.error();
    }
    if (this.#used + apiCalls > this.#dailyLimit) {
      throw new CrmRateLimitError('TotalRequests Limit exceeded.', {
        provider: this.name,
        status: 403,
        providerCode: 'REQUEST_LIMIT_EXCEEDED',
        usage: this.apiUsage,
      });
    }
    this.#used += apiCalls;
    const call: FakeCrmCall = { method, records, apiCalls, at: this.#clock.now() };
    if (mode) call.mode = mode;
    this.calls.push(call);
  }

  #privacyRef(ref: CrmContactRef): CrmContactRef {
    if (!this.#features.has('privacy')) {
      throw new CrmUnsupportedFeatureError(`${this.name} does not support privacy requests`, {
        provider: this.name,
      });
    }
    return parseContactRef(ref);
  }

  #matchContacts(ref: CrmContactRef): CrmContact[] {
    const ids = new Set<string>();
    if (ref.crmId && this.#contacts.has(ref.crmId)) ids.add(ref.crmId);
    const byExternalId = ref.externalId ? this.#idByExternalId.get(ref.externalId) : undefined;
    if (byExternalId) ids.add(byExternalId);
    const byEmail = ref.email ? this.#idByEmail.get(ref.email.toLowerCase()) : undefined;
    if (byEmail) ids.add(byEmail);
    return [...ids].map((id) => this.#contacts.get(id) as CrmContact);
  }

  #matchLeads(ref: CrmContactRef): CrmLead[] {
    return [...this.#leads.values()].filter(
      (lead) =>
        (ref.email !== undefined && lead.email.toLowerCase() === ref.email.toLowerCase()) ||
        (ref.externalId !== undefined && lead.externalId === ref.externalId) ||
        (ref.crmId !== undefined && lead.id === ref.crmId),
    );
  }

  #recordFailure(contact: CrmContact): CrmSyncResult | null {
    const rule = this.#recordFailures.find(
      (r) =>
        r.remaining > 0 &&
        ((r.externalId !== undefined && r.externalId === contact.externalId) ||
          (r.email !== undefined && r.email.toLowerCase() === contact.email.toLowerCase())),
    );
    if (!rule) return null;
    rule.remaining -= 1;
    const result = this.#failed(
      'contact',
      contact.externalId,
      rule.code,
      rule.message ?? `Injected failure (${rule.code})`,
    );
    if (rule.fields && result.error) result.error.fields = rule.fields;
    return result;
  }

  #upsert(contact: CrmContact): CrmSyncResult {
    const failure = this.#recordFailure(contact);
    if (failure) return failure;
    const id =
      this.#idByExternalId.get(contact.externalId) ?? this.#idByEmail.get(contact.email.toLowerCase());
    const existing = id === undefined ? undefined : this.#contacts.get(id);
    const written = this.#write(existing, contact);
    return this.#ok('contact', contact.externalId, written.id as string, !existing);
  }

  /** Store a contact version: ids, timestamps (strictly increasing) and the change feed. */
  #write(existing: CrmContact | undefined, next: CrmContact): CrmContact {
    const id = existing?.id ?? this.#newId('003');
    const stamp = Math.max(this.#clock.now().getTime(), this.#lastStamp + 1);
    this.#lastStamp = stamp;
    const stored: CrmContact = {
      ...(existing ?? {}),
      ...stripUndefined(next),
      externalId: next.externalId,
      email: next.email,
      tags: [...next.tags],
      id,
      customFields: { ...(existing?.customFields ?? {}), ...next.customFields },
      lastModifiedAt: new Date(stamp),
    };
    delete stored.lastSyncAt;
    // Explicit clears empty the field, as a CRM update with `null` does.
    for (const key of next.clearFields ?? []) if (next[key] === undefined) delete stored[key];
    delete stored.clearFields;
    if (existing) this.#unindex(existing);
    this.#contacts.set(id, stored);
    this.#idByExternalId.set(stored.externalId, id);
    this.#idByEmail.set(stored.email.toLowerCase(), id);
    this.#changes.push({ seq: ++this.#seq, id, deleted: false });
    return stored;
  }

  #unindex(contact: CrmContact): void {
    if (this.#idByExternalId.get(contact.externalId) === contact.id)
      this.#idByExternalId.delete(contact.externalId);
    const email = contact.email.toLowerCase();
    if (this.#idByEmail.get(email) === contact.id) this.#idByEmail.delete(email);
  }

  #remove(id: string): boolean {
    const contact = this.#contacts.get(id);
    if (!contact) return false;
    this.#unindex(contact);
    this.#contacts.delete(id);
    this.#changes.push({ seq: ++this.#seq, id, deleted: true });
    return true;
  }

  #logActivity(activity: CrmEmailActivity): CrmSyncResult {
    const known = this.#idByExternalId.has(activity.contactExternalId);
    if (!known) {
      return this.#failed(
        'email_activity',
        activity.externalId,
        'INVALID_CROSS_REFERENCE_KEY',
        'Unknown contact',
      );
    }
    const existed = this.#activities.has(activity.externalId);
    this.#activities.set(activity.externalId, activity);
    return this.#ok(
      'email_activity',
      activity.externalId,
      `00T${activity.externalId}`.slice(0, 18),
      !existed,
    );
  }

  #newId(prefix: string): string {
    this.#idCounter += 1;
    return `${prefix}${String(this.#idCounter).padStart(12, '0')}`;
  }

  #ok(
    entityType: CrmEntityType,
    externalId: string,
    crmId: string | undefined,
    created: boolean,
  ): CrmSyncResult {
    const result: CrmSyncResult = {
      entityType,
      externalId,
      success: true,
      created,
      syncedAt: this.#clock.now(),
    };
    if (crmId !== undefined) result.crmId = crmId;
    return result;
  }

  #failed(entityType: CrmEntityType, externalId: string, code: string, message: string): CrmSyncResult {
    return { entityType, externalId, success: false, error: { code, message }, syncedAt: this.#clock.now() };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function copyContact(contact: CrmContact): CrmContact {
  const copy: CrmContact = { ...contact, tags: [...contact.tags], customFields: { ...contact.customFields } };
  if (contact.lastModifiedAt) copy.lastModifiedAt = new Date(contact.lastModifiedAt);
  return copy;
}
