import type { CrmApiUsage } from './errors.js';
import type {
  CrmBulkSyncResult,
  CrmCampaignInput,
  CrmContact,
  CrmContactInput,
  CrmCustomField,
  CrmEmailActivityInput,
  CrmFieldMappingInput,
  CrmLead,
  CrmLeadInput,
  CrmListInput,
  CrmSyncResult,
} from './models.js';
import type { CrmContactExport, CrmContactRef, CrmForgetOptions, CrmForgetResult } from './privacy.js';

/** Capabilities a provider may have. Check with {@link CrmProvider.supportsFeature}. */
export const CrmFeatures = [
  'contact_sync',
  'campaign_sync',
  'lead_sync',
  'custom_fields',
  'bulk_operations',
  'webhook_support',
  'real_time_sync',
  'incremental_pull',
  'privacy',
] as const;
/** One of {@link CrmFeatures}. */
export type CrmFeature = (typeof CrmFeatures)[number];

/** Options every provider call accepts. */
export interface CrmCallOptions {
  /** Aborts the call; in-flight batches and bulk jobs are aborted too. */
  signal?: AbortSignal;
}

/** Progress of a long operation. */
export interface CrmProgress {
  /** Records finished (successfully or not). */
  done: number;
  /** Records expected, when known (an async iterable may not know its length). */
  total?: number;
  /** Records that failed so far. */
  failed: number;
  /** API calls this operation has made so far, when the provider counts them. */
  apiCalls?: number;
}

/** A server-side job a provider opened or finished (see {@link CrmBulkSyncOptions.onRemoteJob}). */
export interface CrmRemoteJobEvent {
  /** The CRM's id of the job (Salesforce: a Bulk API 2.0 ingest job id). */
  jobId: string;
  /** `opened`: created and about to receive data; `closed`: finished, failed or aborted. */
  state: 'opened' | 'closed';
}

/** Options of {@link CrmProvider.bulkSyncContacts}. */
export interface CrmBulkSyncOptions extends CrmCallOptions {
  /**
   * Told when the provider opens a server-side job and when that job is over. `opened` is awaited
   * before the job receives any data, so a caller can record the id durably; if the process is
   * killed while the job is open, the next run hands the recorded ids to
   * {@link CrmProvider.abortOrphanedJobs}. A job whose abort could not be confirmed is not
   * reported `closed`.
   */
  onRemoteJob?: (event: CrmRemoteJobEvent) => void | Promise<void>;
  /** Called after each batch with cumulative progress. */
  onProgress?: (progress: CrmProgress) => void;
  /**
   * `rest`: record-level API in batches (Salesforce sObject Collections); `bulk`: asynchronous
   * bulk jobs (Salesforce Bulk API 2.0); `auto`: chooses by volume.
   * @default 'auto'
   */
  mode?: 'auto' | 'rest' | 'bulk';
  /** Number of records the caller expects, letting `auto` choose before it has read them all. */
  expectedCount?: number;
  /**
   * Called with each record's outcome as soon as it is known (after each Collections call or Bulk
   * job, so not in input order), with the record's position in the input. A returned promise is
   * awaited before more results are handed over: a slow consumer (a database write) holds the
   * provider back instead of results piling up in memory.
   */
  onResult?: (result: CrmSyncResult, index: number) => void | Promise<void>;
  /**
   * Which per-record results `CrmBulkSyncResult.results` keeps: `all` (one per input record, in
   * input order) or `failures` (only the failed ones, in input order; successes reach `onResult`
   * only), so memory stays flat however many records go through. `total`, `success` and `failed`
   * count every record either way.
   * @default 'all'
   */
  keepResults?: 'all' | 'failures';
}

/** One page of CRM-side contact changes, as returned by {@link CrmProvider.listContactChanges}. */
export interface CrmContactChangeBatch {
  /** Contacts created or updated since the previous cursor. */
  upserted: CrmContact[];
  /** CRM ids of contacts deleted since the previous cursor. */
  deleted: string[];
  /** Opaque position after this batch; store it to resume. */
  cursor: string;
}

/** The outcome of converting a lead. */
export interface CrmLeadConversion {
  leadId: string;
  contactId: string;
  accountId?: string;
  opportunityId?: string;
}

/**
 * The contract every CRM provider implements. All methods are async and validate their input
 * with the model schemas before any network call (throwing `CrmDataConversionError`). Calling a
 * method the provider does not support throws `CrmUnsupportedFeatureError`.
 */
export interface CrmProvider {
  /** Registry name, e.g. `salesforce`. */
  readonly name: string;
  /** Whether the provider supports `feature`. */
  supportsFeature(feature: CrmFeature): boolean;

  /** Create or update a contact, matched by its external id (or email). */
  syncContact(contact: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult>;
  /** The contact with this email, or `null`. */
  getContact(email: string, options?: CrmCallOptions): Promise<CrmContact | null>;
  /** Update a contact that has an `id`. */
  updateContact(contact: CrmContactInput, options?: CrmCallOptions): Promise<CrmSyncResult>;
  /** Delete a contact by CRM id. */
  deleteContact(id: string, options?: CrmCallOptions): Promise<void>;
  /** Create or update many contacts; one bad record never fails the batch. */
  bulkSyncContacts(
    contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult>;
  /**
   * OPTIONAL: read contacts back, one result per reference in the same order: the contact, or
   * `null` when the CRM has none. A reference with `crmId` is read by it; otherwise by `externalId`
   * (the key contacts are upserted on; a provider matching contacts by email reads by `email`).
   *
   * The sync engine uses it to verify writes whose answer never came (records in status
   * `uncertain`): a record found holding what was sent is marked synced without sending it again.
   * Without it those records are simply sent again. Must not write anything.
   */
  readContacts?(
    refs: ReadonlyArray<CrmContactRef>,
    options?: CrmCallOptions,
  ): Promise<Array<CrmContact | null>>;
  /** CRM-side changes since `cursor` (`null`: from the beginning), in batches. */
  listContactChanges(cursor: string | null, options?: CrmCallOptions): AsyncIterable<CrmContactChangeBatch>;

  /** Create a lead. */
  createLead(lead: CrmLeadInput, options?: CrmCallOptions): Promise<CrmSyncResult>;
  /** The lead with this email, or `null`. */
  getLead(email: string, options?: CrmCallOptions): Promise<CrmLead | null>;
  /** Convert a lead into a contact. */
  convertLeadToContact(leadId: string, options?: CrmCallOptions): Promise<CrmLeadConversion>;

  /** Create or update a campaign, matched by external id. */
  syncCampaign(campaign: CrmCampaignInput, options?: CrmCallOptions): Promise<CrmSyncResult>;
  /** Log one email activity (idempotent on its externalId). */
  logEmailActivity(activity: CrmEmailActivityInput, options?: CrmCallOptions): Promise<CrmSyncResult>;
  /** Log many email activities (idempotent on their externalIds). */
  logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options?: CrmBulkSyncOptions,
  ): Promise<CrmBulkSyncResult>;
  /** Make the CRM list's membership equal to `list.memberIds`. */
  syncListMembership(list: CrmListInput, options?: CrmCallOptions): Promise<CrmListSyncResult>;

  /** Fields of the contact object, as described by the CRM. */
  getCustomFields(options?: CrmCallOptions): Promise<CrmCustomField[]>;
  /** Validate and accept a field mapping against the CRM's fields. */
  mapCustomFields(mapping: CrmFieldMappingInput[], options?: CrmCallOptions): Promise<void>;

  /**
   * Erase the person in the CRM (feature `privacy`; optional so older providers still compile).
   * See `CrmPrivacyOperations.forgetContact`.
   */
  forgetContact?(ref: CrmContactRef, options?: CrmForgetOptions): Promise<CrmForgetResult>;
  /**
   * Everything the CRM holds about the person (feature `privacy`).
   * See `CrmPrivacyOperations.exportContactData`.
   */
  exportContactData?(ref: CrmContactRef, options?: CrmCallOptions): Promise<CrmContactExport>;

  /**
   * OPTIONAL: abort server-side jobs that a killed process left open (ids it was told through
   * `onRemoteJob` and never saw closed). The sync engine calls it when a run starts and finds
   * such ids recorded. Jobs that are already over, or unknown, are skipped without error.
   * Resolves to the ids it aborted.
   * @throws {CrmDataConversionError} for an id that cannot be one of this CRM's job ids.
   */
  abortOrphanedJobs?(jobIds: ReadonlyArray<string>, options?: CrmCallOptions): Promise<string[]>;

  /** Latest known API usage, when the provider reports it. */
  readonly apiUsage?: CrmApiUsage | undefined;
}

/** The outcome of {@link CrmProvider.syncListMembership}. */
export interface CrmListSyncResult {
  /** CRM id of the list (Salesforce Campaign id). */
  listId: string;
  /** Members added. */
  added: number;
  /** Members removed. */
  removed: number;
  /** Members already present. */
  unchanged: number;
  /** Per-member failures. */
  results: CrmSyncResult[];
}
