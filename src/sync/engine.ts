import type { CrmChangeEvent } from '../core/change-event.js';
import { type CrmClock, systemClock } from '../core/clock.js';
import { CrmConflictPolicies, type CrmConflictPolicy } from '../core/conflict-policy.js';
import {
  CrmConfigurationError,
  CrmDataConversionError,
  CrmErrorReasons,
  type CrmStorageError,
  createAbortError,
  isCrmError,
  throwIfAborted,
} from '../core/errors.js';
import { type CrmLogger, createRedactingLogger, silentLogger } from '../core/logger.js';
import {
  type CrmCampaignInput,
  CrmCampaignSchema,
  type CrmEmailActivityInput,
  CrmEmailActivitySchema,
  type CrmEntityType,
  type CrmFieldMappingInput,
  type CrmListInput,
  CrmListSchema,
  parseModel,
} from '../core/models.js';
import type { CrmContactRef } from '../core/privacy.js';
import type { CrmProvider } from '../core/provider.js';
import { type CrmSleep, sleep } from '../core/sleep.js';
import { chunked } from '../internal/chunks.js';
import { assertKnownOptions } from '../internal/options.js';
import type { CrmStorage, CrmSyncStatusRow, CrmSyncType } from '../storage/types.js';
import { ApiBudgetGuard, type SyncApiBudget } from './api-budget.js';
import { contentHash } from './content-hash.js';
import { getStatusRows, type SyncRunContext } from './context.js';
import { holdLease } from './lease.js';
import { ContactFieldMapper, type SyncHostRecord } from './mapping.js';
import { abortOrphanedJobs, OpenJobLedger } from './open-jobs.js';
import {
  exportContactData,
  findForgotten,
  forgetContact,
  type PrivacyContext,
  restoreContact,
  SubjectHasher,
  type SyncContactExport,
  type SyncExportOptions,
  type SyncForgetOptions,
  type SyncForgetReport,
} from './privacy.js';
import { runPull, runReconcile, type SyncPullOptions, type SyncReconcileOptions } from './pull.js';
import { isCleanStop, progressOf, runPush, type SyncProgress } from './push.js';
import { runChangeEvent, type SyncChangeEventOptions } from './realtime.js';
import { type SyncReport, SyncReportBuilder, storedError } from './report.js';
import { RetryPlanner, type SyncRetryPolicy } from './retry-policy.js';
import { DEFAULT_UNCERTAIN_SETTLE_MS } from './uncertain.js';

/** Options of {@link SyncEngine}. Unknown keys are refused. */
export interface SyncEngineOptions {
  /** The CRM. */
  provider: CrmProvider;
  /** Where sync state, logs, cursors and leases live. */
  storage: CrmStorage;
  /** The integration (storage `integrations` id) this engine syncs. */
  integrationId: string;
  /**
   * How a field changed on both sides is resolved in two-way sync. A field's `syncDirection`
   * wins over it.
   * @default 'crm_wins'
   */
  conflictPolicy?: CrmConflictPolicy;
  /**
   * Host ↔ CRM field mappings. Standard contact fields map to same-named host fields by default.
   * @default []
   */
  fieldMappings?: ReadonlyArray<CrmFieldMappingInput>;
  /**
   * Path of the host id in host records.
   * @default 'externalId'
   */
  hostIdField?: string;
  /** Structured logger (redacted). @default silent */
  logger?: CrmLogger;
  /** @default the system clock */
  clock?: CrmClock;
  /** Sleep used while waiting for a lease. @default setTimeout-based */
  sleep?: CrmSleep;
  /**
   * Lease time-to-live in milliseconds; the lease is renewed every third of it while a run lasts,
   * and a crashed worker's lease frees itself after it.
   * @default 60_000
   */
  leaseTtlMs?: number;
  /**
   * How long a run waits for another run of the same integration to finish, in milliseconds.
   * @default 0 (fail fast with `CrmStorageError`, `details.reason === 'lease_held'`)
   */
  waitForLeaseMs?: number;
  /** Cap on API spending; a run that reaches it stops cleanly and reports why. @default none */
  apiBudget?: SyncApiBudget;
  /** How rejected records are retried on later runs. */
  retryPolicy?: SyncRetryPolicy;
  /**
   * Records read from the source, looked up and sent per batch (at most this many host records
   * are in memory at once; a push maps and looks them up 2,000 at a time). Large enough that a big changed set reaches the provider in batches
   * above its bulk threshold (Salesforce: 2,000), so `bulkMode: 'auto'` uses Bulk API 2.0 for it.
   * @default 10000
   */
  batchSize?: number;
  /**
   * Most changed records a push hands to the provider in one `bulkSyncContacts` call. The first
   * call gets `batchSize` records (a quick first outcome), later ones up to this, so a large push
   * runs in a few large Bulk API jobs (about six API calls each) while status rows are still
   * written `batchSize` at a time. A crash re-sends at most one call's records (they are upserts:
   * nothing is duplicated). Match it to the provider's job size (Salesforce: `bulk.maxJobRecords`).
   * @default 150000, or `batchSize` when `batchSize` is set (one call per batch, as before this
   * option existed)
   */
  maxRecordsPerCall?: number;
  /**
   * `mode` passed to `bulkSyncContacts`.
   * @default 'auto'
   */
  bulkMode?: 'auto' | 'rest' | 'bulk';
  /**
   * CRM fields with email opt-out semantics: an opt-out on either side wins over an opt-in.
   * Pass `[]` to turn the rule off.
   * @default ['emailOptOut']
   */
  optOutFields?: ReadonlyArray<string>;
  /**
   * Cursor stream name of the contact pull.
   * @default 'contacts:pull'
   */
  pullStream?: string;
  /**
   * Failures listed one by one in a report (all are counted in `errorsByCode`).
   * @default 100
   */
  maxReportedErrors?: number;
  /**
   * Status rows read in parallel.
   * @default 16
   */
  lookupConcurrency?: number;
  /**
   * The tag the provider puts on its writes (Salesforce: the provider's `clientName`, sent as
   * `Sforce-Call-Options: client=<tag>`). Change events whose `origin` equals it are echoes of the
   * engine's own writes and are not applied. @default none (echoes are still harmless: the
   * three-way merge finds nothing changed)
   */
  clientTag?: string;
  /**
   * Secret salt of the hashes that identify forgotten people in audit entries and the suppression
   * list (HMAC-SHA-256). Keep it in your secret store and never change it: the suppression list
   * only recognises hashes made with the same salt.
   * @default a random salt per integration, kept in the cursor store (stream `privacy:salt`)
   */
  privacySalt?: string | Uint8Array;
  /**
   * How long after a push gave up on a write (abort, timeout, dropped connection) the CRM may still
   * apply it, in milliseconds. Until then a record with such a write stays `uncertain` even after
   * a newer version was confirmed, because the old request could still land over it; afterwards
   * the next push reads it back and marks it synced, or re-sends it. A write whose content the CRM
   * is found holding has landed and is settled at once.
   * @default 600000 (10 minutes, the longest a synchronous Salesforce API call may run)
   */
  uncertainSettleMs?: number;
}

const OPTION_KEYS = new Set<string>([
  'provider',
  'storage',
  'integrationId',
  'conflictPolicy',
  'fieldMappings',
  'hostIdField',
  'logger',
  'clock',
  'sleep',
  'leaseTtlMs',
  'waitForLeaseMs',
  'apiBudget',
  'retryPolicy',
  'batchSize',
  'maxRecordsPerCall',
  'bulkMode',
  'optOutFields',
  'pullStream',
  'maxReportedErrors',
  'lookupConcurrency',
  'clientTag',
  'privacySalt',
  'uncertainSettleMs',
]);

/** Options of {@link SyncEngine.pushContacts}. */
export interface SyncPushOptions {
  /** Compute and report what would be sent, writing nothing anywhere. @default false */
  dryRun?: boolean;
  /** Stops the run between and inside batches; what was confirmed stays recorded. */
  signal?: AbortSignal;
  /** Called after each batch. */
  onProgress?: (progress: SyncProgress) => void;
  /** Recorded in the sync log. @default 'manual' */
  syncType?: CrmSyncType;
  /** Send records in `conflict` status too, overwriting the CRM side (host resolves). @default false */
  overrideConflicts?: boolean;
  /**
   * Re-drive failed records this run even though their content did not change and their retries
   * are exhausted or backing off (`needsAttention`): `true` for every failed record, or only those
   * whose last error has one of `codes` and/or whose host id is in `externalIds`. Use it after
   * fixing the cause (a field created, a validation rule relaxed). Records failed on a schema error
   * (`INVALID_FIELD`) are re-sent on every run without it, so a new field is picked up on its own.
   * @default false
   */
  redrive?: boolean | SyncRedriveFilter;
}

/** Which failed records {@link SyncPushOptions.redrive} sends again. */
export interface SyncRedriveFilter {
  /** Last error codes to re-drive, e.g. `['INVALID_FIELD', 'BULK_JOB_FAILED']`. */
  codes?: string[];
  /** Host ids to re-drive. */
  externalIds?: string[];
}

/** Options of the single-shot wrappers (`syncCampaign`, `syncListMembership`, `logEmailActivities`). */
export interface SyncCallOptions {
  signal?: AbortSignal;
  /** @default 'manual' */
  syncType?: CrmSyncType;
  /** Send even when the content hash is unchanged since the last successful sync. @default false */
  force?: boolean;
}

interface RunSpec {
  entityType: CrmEntityType;
  direction: 'push' | 'pull';
  syncType: CrmSyncType;
  dryRun: boolean;
  signal: AbortSignal | undefined;
}

/**
 * Moves contacts (and campaigns, activities, lists) between a host app and a CRM, and remembers
 * what it did in the host's storage: per-record status with content hashes, one log entry per run,
 * pull cursors, and a lease so only one run per integration is active across workers.
 *
 * @example
 * const engine = new SyncEngine({ provider, storage, integrationId, conflictPolicy: 'prefer_crm_unless_blank' });
 * const report = await engine.pushContacts(db.streamSubscribers(), { onProgress: console.log });
 * await engine.pullContacts({ apply: (batch) => db.applyCrmChanges(batch) });
 */
export class SyncEngine {
  readonly #provider: CrmProvider;
  readonly #storage: CrmStorage;
  readonly #integrationId: string;
  readonly #policy: CrmConflictPolicy;
  readonly #mapper: ContactFieldMapper;
  readonly #logger: CrmLogger;
  readonly #clock: CrmClock;
  readonly #sleep: CrmSleep;
  readonly #leaseTtlMs: number;
  readonly #waitForLeaseMs: number;
  readonly #budget: ApiBudgetGuard;
  readonly #retry: RetryPlanner;
  readonly #batchSize: number;
  readonly #maxRecordsPerCall: number;
  readonly #bulkMode: 'auto' | 'rest' | 'bulk';
  readonly #optOutFields: ReadonlySet<string>;
  readonly #pullStream: string;
  readonly #maxErrors: number;
  readonly #lookupConcurrency: number;
  readonly #uncertainSettleMs: number;
  readonly #clientTag: string | undefined;
  readonly #hasher: SubjectHasher;

  /** @throws {CrmConfigurationError} for a missing or invalid option, or an unknown key. */
  constructor(options: SyncEngineOptions) {
    assertKnownOptions('SyncEngine', options ?? {}, OPTION_KEYS);
    if (!options?.provider) throw new CrmConfigurationError('SyncEngine needs a provider');
    if (!options.storage) throw new CrmConfigurationError('SyncEngine needs a storage');
    if (typeof options.integrationId !== 'string' || options.integrationId === '') {
      throw new CrmConfigurationError('SyncEngine needs an integrationId');
    }
    const policy = options.conflictPolicy ?? 'crm_wins';
    if (!CrmConflictPolicies.includes(policy)) {
      throw new CrmConfigurationError(
        `Unknown conflictPolicy '${String(policy)}' (use ${CrmConflictPolicies.join(', ')})`,
      );
    }
    const positive = (name: string, value: number | undefined, fallback: number, min = 1): number => {
      const v = value ?? fallback;
      if (!Number.isFinite(v) || v < min)
        throw new CrmConfigurationError(`${name} must be a number ≥ ${min}`);
      return v;
    };
    this.#provider = options.provider;
    this.#storage = options.storage;
    this.#integrationId = options.integrationId;
    this.#policy = policy;
    this.#mapper = new ContactFieldMapper(options.fieldMappings ?? [], {
      hostIdField: options.hostIdField ?? 'externalId',
    });
    this.#logger = createRedactingLogger(options.logger ?? silentLogger);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#leaseTtlMs = positive('leaseTtlMs', options.leaseTtlMs, 60_000, 30);
    this.#waitForLeaseMs = positive('waitForLeaseMs', options.waitForLeaseMs, 0, 0);
    try {
      this.#budget = new ApiBudgetGuard(options.apiBudget);
    } catch (error) {
      throw new CrmConfigurationError((error as Error).message);
    }
    this.#retry = new RetryPlanner(options.retryPolicy);
    this.#batchSize = Math.floor(positive('batchSize', options.batchSize, 10_000));
    // A host that tuned batchSize keeps one provider call per batch unless it opts into more.
    this.#maxRecordsPerCall = Math.floor(
      positive(
        'maxRecordsPerCall',
        options.maxRecordsPerCall,
        options.batchSize !== undefined ? this.#batchSize : 150_000,
      ),
    );
    this.#bulkMode = options.bulkMode ?? 'auto';
    this.#optOutFields = new Set(options.optOutFields ?? ['emailOptOut']);
    this.#pullStream = options.pullStream ?? 'contacts:pull';
    this.#maxErrors = Math.floor(positive('maxReportedErrors', options.maxReportedErrors, 100, 0));
    this.#lookupConcurrency = Math.floor(positive('lookupConcurrency', options.lookupConcurrency, 16));
    this.#uncertainSettleMs = positive(
      'uncertainSettleMs',
      options.uncertainSettleMs,
      DEFAULT_UNCERTAIN_SETTLE_MS,
      0,
    );
    if (
      options.clientTag !== undefined &&
      (typeof options.clientTag !== 'string' || options.clientTag === '')
    ) {
      throw new CrmConfigurationError('clientTag must be a non-empty string');
    }
    this.#clientTag = options.clientTag;
    const salt = options.privacySalt;
    if (
      (salt !== undefined && !(typeof salt === 'string' || salt instanceof Uint8Array)) ||
      salt?.length === 0
    ) {
      throw new CrmConfigurationError('privacySalt must be a non-empty string or Uint8Array');
    }
    this.#hasher = new SubjectHasher(this.#storage, this.#integrationId, salt);
  }

  /**
   * Erase a person everywhere this integration keeps them: in the CRM (`provider.forgetContact`:
   * Salesforce deletes the Contact and Lead and flags the Individual), and locally — their sync
   * status rows (stored errors and last-synced values included) are deleted and their values are
   * scrubbed from stored sync log details. Their host id and email go on a suppression list (as
   * salted hashes), so a later push of the same host record does not re-create them; call
   * {@link SyncEngine.restoreContact} when the host sends them again on purpose. An audit entry
   * records when, why and what each system answered, without personal data.
   *
   * Holds the integration's lease, so it never interleaves with a sync run. When the CRM fails,
   * local data is still erased and the audit entry records the failure; then the CRM's error is
   * thrown so the request can be retried (every step is idempotent).
   *
   * @throws {CrmDataConversionError} when `ref` names no key.
   * @throws {CrmUnsupportedFeatureError} when the provider lacks `privacy` (unless `localOnly`) or
   *   the storage has no `privacy` store.
   * @example
   * const { crm, local } = await engine.forgetContact({ email: 'ada@example.com', externalId: 'sub-42' },
   *   { reason: 'gdpr_erasure_request' });
   */
  async forgetContact(ref: CrmContactRef, options: SyncForgetOptions = {}): Promise<SyncForgetReport> {
    return this.#withLease(options.signal, () => forgetContact(this.#privacyContext(), ref, options));
  }

  /**
   * Take a forgotten person off the suppression list, so the next push sends their host record
   * again (the host is sending it again on purpose, e.g. the person signed up anew). Audited.
   * @throws {CrmUnsupportedFeatureError} when the storage has no `privacy` store.
   */
  async restoreContact(
    ref: CrmContactRef,
    options: { reason?: string } = {},
  ): Promise<{ subjectHash: string; auditEntryId: string }> {
    return restoreContact(this.#privacyContext(), ref, options);
  }

  /**
   * Everything held about a person, as plain JSON-safe data: `crm` from
   * `provider.exportContactData` (Salesforce: Contact, Lead, Tasks, CampaignMembers, Individual),
   * `local` from storage (status rows, log entries mentioning them, privacy audit entries). The
   * request itself is audited (without personal data) when the storage has a `privacy` store.
   * @throws {CrmDataConversionError} when `ref` names no key.
   * @throws {CrmUnsupportedFeatureError} when the provider lacks `privacy` (unless `localOnly`).
   */
  async exportContactData(ref: CrmContactRef, options: SyncExportOptions = {}): Promise<SyncContactExport> {
    return exportContactData(this.#privacyContext(), ref, options);
  }

  #privacyContext(): PrivacyContext {
    return {
      provider: this.#provider,
      storage: this.#storage,
      integrationId: this.#integrationId,
      hasher: this.#hasher,
    };
  }

  #holdLease(signal: AbortSignal | undefined, onLost: (error: CrmStorageError) => void) {
    return holdLease({
      storage: this.#storage,
      key: this.leaseKey,
      ttlMs: this.#leaseTtlMs,
      waitMs: this.#waitForLeaseMs,
      logger: this.#logger,
      sleep: this.#sleep,
      signal,
      onLost,
    });
  }

  /**
   * Every run of this integration holds its lease while its log is open, so a log still open when
   * we have just taken the lease belongs to a run that died (killed, or lost its lease): close it
   * as interrupted, keeping its counts. Best effort: a failure here does not stop the new run.
   */
  async #closeInterruptedLogs(now: Date, abortedJobs: string[]): Promise<void> {
    try {
      for (const log of await this.#storage.syncLogs.list(this.#integrationId)) {
        if (log.completedAt !== null) continue;
        await this.#storage.syncLogs.complete(log.id, {
          entityCount: log.entityCount,
          successCount: log.successCount,
          errorCount: log.errorCount,
          errorDetails: {
            ...(log.errorDetails ?? {}),
            stopReason: 'interrupted',
            stopMessage: 'The run ended without closing its log; its lease expired and was taken over',
            ...(abortedJobs.length > 0 ? { abortedJobs } : {}),
          },
          completedAt: now,
        });
        this.#logger.warn('closed the log of an interrupted sync run', { logId: log.id });
      }
    } catch (error) {
      this.#logger.warn('could not close the logs of interrupted runs', { error: String(error) });
    }
  }

  async #withLease<T>(signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    // Erasure is a handful of quick calls: a lost lease cannot be acted on mid-way, so it is ignored.
    const held = await this.#holdLease(signal, () => {});
    try {
      return await body();
    } finally {
      await held.release();
    }
  }

  /** The integration this engine syncs. */
  get integrationId(): string {
    return this.#integrationId;
  }

  /** The lease key runs of this integration hold: `sync:<integrationId>`. */
  get leaseKey(): string {
    return `sync:${this.#integrationId}`;
  }

  /**
   * Push host contacts to the CRM. Reads `source` lazily in batches (a million records are never in
   * memory at once), skips records whose content hash equals the stored one (no API call), sends
   * the rest through `bulkSyncContacts`, and writes status rows per batch and one log entry.
   * Records rejected by the CRM are retried on later runs per `retryPolicy`.
   *
   * A run that reaches the API budget, or a CRM rate limit, stops cleanly: the report says why
   * and the records not yet sent are picked up by the next run.
   *
   * @throws {CrmStorageError} `details.reason === 'lease_held'` when another run of this integration is active.
   * @throws An `AbortError` when `signal` aborts (the log entry is completed with reason `aborted`).
   * @throws The provider's or storage's error when a batch fails as a whole (after completing the log).
   * @example
   * const report = await engine.pushContacts(subscribers, { syncType: 'scheduled' });
   * if (report.failed) console.table(report.errorsByCode);
   */
  async pushContacts(
    source: Iterable<SyncHostRecord> | AsyncIterable<SyncHostRecord>,
    options: SyncPushOptions = {},
  ): Promise<SyncReport> {
    return this.#run(
      {
        entityType: 'contact',
        direction: 'push',
        syncType: options.syncType ?? 'manual',
        dryRun: options.dryRun ?? false,
        signal: options.signal,
      },
      (ctx) =>
        runPush(ctx, source, {
          overrideConflicts: options.overrideConflicts ?? false,
          onProgress: options.onProgress,
          redrive: options.redrive ?? false,
        }),
    );
  }

  /**
   * Pull CRM-side contact changes since the stored cursor, merge them field by field against the
   * last-synced values (three-way), hand each batch to `apply`, then record status and advance the
   * cursor — in that order, so a crash re-delivers a batch rather than losing it. What the engine
   * itself pushed does not come back as a change, and re-deliveries at the cursor edge are dropped.
   *
   * @throws {CrmStorageError} `details.reason === 'lease_held'` when another run of this integration is active.
   * @throws Whatever `apply` throws (the cursor stays before that batch).
   * @example
   * await engine.pullContacts({
   *   apply: async ({ upserted, deleted }) => { await db.upsert(upserted); await db.remove(deleted); },
   * });
   */
  async pullContacts(options: SyncPullOptions): Promise<SyncReport> {
    if (typeof options?.apply !== 'function') {
      throw new CrmConfigurationError('pullContacts needs an apply(batch) function');
    }
    return this.#run(
      {
        entityType: 'contact',
        direction: 'pull',
        syncType: options.syncType ?? 'manual',
        dryRun: false,
        signal: options.signal,
      },
      (ctx) => runPull(ctx, this.#pullStream, options),
    );
  }

  /**
   * Apply one real-time CRM-side change (a change event, an outbound message notification,
   * converted to a {@link CrmChangeEvent}) to the host, the way `pullContacts` applies pulled
   * changes: the same `apply` and `getHostContacts` hooks, three-way merge, conflict policies, opt-out
   * rule, status rows, and one `syncLogs` entry (`syncType` `'webhook'`).
   *
   * Safe against the way events arrive:
   * - duplicated or out-of-order deliveries never apply an older state over a newer one: the time of
   *   the last applied change is kept per record (and per field for partial updates) in
   *   `syncStatus.state`, and an event not newer is counted `unchanged`;
   * - a partial update merges only the fields it carries;
   * - an event whose `origin` equals the engine's `clientTag` is an echo of the engine's own write:
   *   not applied, only its time is recorded;
   * - `resync` events (gaps, overflow), wildcard ids, and partial updates of records the engine has
   *   never seen carry no usable values: the engine re-reads them with an incremental pull from its
   *   cursor (as `pullContacts` does), in the same run. Without a stored cursor that is a full read.
   *
   * Holds the integration's lease like every run; with `waitForLeaseMs` 0 an event arriving during
   * a push fails with `lease_held` — let the subscriber redeliver it (its replay id is stored only
   * after the handler resolved), or configure `waitForLeaseMs`.
   *
   * @throws {CrmConfigurationError} when `apply` is missing or the event is malformed.
   * @throws {CrmStorageError} `details.reason === 'lease_held'` when another run of this integration is active.
   * @throws Whatever `apply` throws (nothing is recorded for the event: redeliver it).
   * @example
   * await subscribeToChangeEvents({
   *   connection: provider.connection, channel: '/data/ContactChangeEvent', storage, integrationId, signal,
   *   onEvent: (event) => engine.handleChangeEvent(toCrmChangeEvent(event, provider), { apply }),
   * });
   */
  async handleChangeEvent(event: CrmChangeEvent, options: SyncChangeEventOptions): Promise<SyncReport> {
    if (typeof options?.apply !== 'function') {
      throw new CrmConfigurationError('handleChangeEvent needs an apply(batch) function');
    }
    validateChangeEvent(event);
    return this.#run(
      {
        entityType: event.entityType,
        direction: 'pull',
        syncType: options.syncType ?? 'webhook',
        dryRun: false,
        signal: options.signal,
      },
      (ctx) =>
        runChangeEvent(ctx, event, options, { clientTag: this.#clientTag, pullStream: this.#pullStream }),
    );
  }

  /**
   * Full reconcile for deletions the incremental pull cannot see (records purged from the recycle
   * bin, deletions older than the CRM keeps): scans every CRM contact, then hands each synced
   * record whose CRM id was not seen to `apply` as deleted and marks it `deleted`. Nothing is
   * deleted unless the scan completed. Costs one call per page of all contacts: run it rarely
   * (e.g. weekly), not on every sync.
   *
   * @throws {CrmStorageError} `details.reason === 'lease_held'` when another run of this integration is active.
   * @example
   * await engine.reconcileContacts({ apply: ({ deleted }) => db.markDeleted(deleted) });
   */
  async reconcileContacts(options: SyncReconcileOptions): Promise<SyncReport> {
    if (typeof options?.apply !== 'function') {
      throw new CrmConfigurationError('reconcileContacts needs an apply(batch) function');
    }
    return this.#run(
      {
        entityType: 'contact',
        direction: 'pull',
        syncType: options.syncType ?? 'scheduled',
        dryRun: false,
        signal: options.signal,
      },
      (ctx) => runReconcile(ctx, options),
    );
  }

  /**
   * Create or update a campaign in the CRM, skipping it when unchanged since its last sync.
   * @throws {CrmDataConversionError} when the campaign is invalid (before any call).
   */
  async syncCampaign(campaign: CrmCampaignInput, options: SyncCallOptions = {}): Promise<SyncReport> {
    const parsed = parseModel(CrmCampaignSchema, campaign, 'campaign');
    const hash = contentHash(parsed);
    return this.#run(this.#spec('campaign', options), async (ctx) => {
      const report = ctx.report.report;
      report.processed = 1;
      const key = {
        integrationId: this.#integrationId,
        entityType: 'campaign' as const,
        externalId: parsed.externalId,
      };
      const row = await this.#storage.syncStatus.get(key);
      if (!options.force && row?.status === 'synced' && row.contentHash === hash) {
        report.unchanged = 1;
        return;
      }
      const result = await this.#provider.syncCampaign(campaign, { signal: ctx.signal });
      report.apiCalls += 1;
      await this.#storage.syncStatus.upsertMany([this.#resultRow(ctx, key, row, result, hash)]);
    });
  }

  /**
   * Log email activities (idempotent on their `externalId`): already-logged activities are skipped
   * without an API call, the rest go to `logEmailActivities` in batches.
   * @throws {CrmDataConversionError} when an activity is invalid (before any call for its batch).
   */
  async logEmailActivities(
    activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
    options: SyncCallOptions & { onProgress?: (progress: SyncProgress) => void } = {},
  ): Promise<SyncReport> {
    return this.#run(this.#spec('email_activity', options), async (ctx) => {
      const report = ctx.report.report;
      for await (const chunk of chunked(activities, this.#batchSize)) {
        throwIfAborted(ctx.signal);
        const parsed = chunk.map((a, i) =>
          parseModel(CrmEmailActivitySchema, a, `activities[${report.processed + i}]`),
        );
        report.processed += parsed.length;
        const keys = parsed.map((a) => ({
          integrationId: this.#integrationId,
          entityType: 'email_activity' as const,
          externalId: a.externalId,
        }));
        const rows = options.force ? keys.map(() => null) : await getStatusRows(ctx, keys);
        const pending = chunk.filter((_, i) => rows[i]?.status !== 'synced');
        report.unchanged += chunk.length - pending.length;
        if (pending.length === 0) continue;
        const result = await this.#provider.logEmailActivities(pending, { signal: ctx.signal });
        report.apiCalls += result.apiCalls;
        const byId = new Map(result.results.map((r) => [r.externalId, r]));
        const out: CrmSyncStatusRow[] = [];
        for (const activity of pending) {
          const id = activity.externalId;
          const key = {
            integrationId: this.#integrationId,
            entityType: 'email_activity' as const,
            externalId: id,
          };
          out.push(this.#resultRow(ctx, key, null, byId.get(id), null));
        }
        await this.#storage.syncStatus.upsertMany(out);
        options.onProgress?.(progressOf(report));
      }
    });
  }

  /**
   * Make a CRM list's membership equal to `list.memberIds`, skipping it when unchanged since its
   * last sync. The status row is keyed by the list's `externalId` (else its `id`, else its name).
   * @throws {CrmDataConversionError} when the list is invalid (before any call).
   */
  async syncListMembership(list: CrmListInput, options: SyncCallOptions = {}): Promise<SyncReport> {
    const parsed = parseModel(CrmListSchema, list, 'list');
    const listKey = parsed.externalId ?? parsed.id ?? parsed.name;
    const hash = contentHash({ ...parsed, memberIds: [...new Set(parsed.memberIds)].sort() });
    return this.#run(this.#spec('list', options), async (ctx) => {
      const report = ctx.report.report;
      report.processed = 1;
      const key = { integrationId: this.#integrationId, entityType: 'list' as const, externalId: listKey };
      const row = await this.#storage.syncStatus.get(key);
      if (!options.force && row?.status === 'synced' && row.contentHash === hash) {
        report.unchanged = 1;
        return;
      }
      const result = await this.#provider.syncListMembership(list, { signal: ctx.signal });
      report.apiCalls += 1;
      const failures = result.results.filter((r) => !r.success);
      for (const f of failures) {
        ctx.report.fail({
          externalId: f.externalId,
          code: f.error?.code ?? 'UNKNOWN',
          message: f.error?.message ?? 'List member failed',
          retryable: this.#retry.isRetryable(f.error?.code ?? ''),
          attempts: 1,
          needsAttention: !this.#retry.isRetryable(f.error?.code ?? ''),
        });
      }
      const ok = failures.length === 0;
      if (ok) report.updated = 1;
      await this.#storage.syncStatus.upsertMany([
        {
          ...key,
          crmId: result.listId,
          status: ok ? 'synced' : 'failed',
          direction: 'to_crm',
          // A partly failed list is sent again next run: the CRM call is idempotent.
          contentHash: ok ? hash : null,
          lastSyncedAt: ctx.clock.now(),
          lastError: ok ? null : `${failures.length} member(s) failed`,
          state: { added: result.added, removed: result.removed, unchanged: result.unchanged },
        },
      ]);
    });
  }

  #spec(entityType: CrmEntityType, options: SyncCallOptions): RunSpec {
    return {
      entityType,
      direction: 'push',
      syncType: options.syncType ?? 'manual',
      dryRun: false,
      signal: options.signal,
    };
  }

  #resultRow(
    ctx: SyncRunContext,
    key: { integrationId: string; entityType: CrmEntityType; externalId: string },
    row: CrmSyncStatusRow | null,
    result:
      | {
          success: boolean;
          crmId?: string | undefined;
          created?: boolean | undefined;
          error?: { code: string; message: string } | undefined;
        }
      | undefined,
    hash: string | null,
  ): CrmSyncStatusRow {
    const report = ctx.report.report;
    const now = ctx.clock.now();
    if (result?.success) {
      if (result.created ?? !row?.crmId) report.created += 1;
      else report.updated += 1;
      return {
        ...key,
        crmId: result.crmId ?? row?.crmId ?? null,
        status: 'synced',
        direction: 'to_crm',
        contentHash: hash,
        lastSyncedAt: now,
        lastError: null,
        state: null,
      };
    }
    const code = result?.error?.code ?? 'NO_RESULT';
    const message = result?.error?.message ?? 'The provider returned no result for this record';
    const retryable = this.#retry.isRetryable(code);
    ctx.report.fail({
      externalId: key.externalId,
      code,
      message,
      retryable,
      attempts: 1,
      needsAttention: !retryable,
    });
    return {
      ...key,
      crmId: row?.crmId ?? null,
      status: 'failed',
      direction: 'to_crm',
      contentHash: null,
      lastSyncedAt: row?.lastSyncedAt ?? null,
      lastError: storedError(code, message),
      state: null,
    };
  }

  /** Lease, log, run, complete the log, release — the same for every kind of run. */
  async #run(spec: RunSpec, body: (ctx: SyncRunContext) => Promise<void>): Promise<SyncReport> {
    throwIfAborted(spec.signal);
    const internal = new AbortController();
    const signal = spec.signal ? AbortSignal.any([spec.signal, internal.signal]) : internal.signal;
    const lost: { error: CrmStorageError | null } = { error: null };
    // A dry run writes nothing, so it needs no lease either.
    const held = spec.dryRun
      ? null
      : await this.#holdLease(spec.signal, (error) => {
          lost.error = error;
          internal.abort(error);
        });
    // The run starts once it holds the lease: time spent waiting for another run is not its own.
    const startedAt = this.#clock.now();
    const builder = new SyncReportBuilder({
      entityType: spec.entityType,
      direction: spec.direction,
      startedAt,
      dryRun: spec.dryRun,
      maxErrors: this.#maxErrors,
    });
    try {
      if (!spec.dryRun) {
        // Holding the lease: jobs still recorded as open belong to a run that died.
        const abortedJobs = await abortOrphanedJobs({
          storage: this.#storage,
          provider: this.#provider,
          integrationId: this.#integrationId,
          logger: this.#logger,
          signal,
        });
        await this.#closeInterruptedLogs(startedAt, abortedJobs);
      }
      const log = spec.dryRun
        ? null
        : await this.#storage.syncLogs.start({
            integrationId: this.#integrationId,
            syncType: spec.syncType,
            entityType: spec.entityType,
            startedAt,
          });
      builder.report.logId = log?.id ?? null;
      const ctx: SyncRunContext = {
        provider: this.#provider,
        storage: this.#storage,
        integrationId: this.#integrationId,
        mapper: this.#mapper,
        policy: this.#policy,
        retry: this.#retry,
        budget: this.#budget,
        clock: this.#clock,
        logger: this.#logger,
        batchSize: this.#batchSize,
        maxRecordsPerCall: this.#maxRecordsPerCall,
        bulkMode: this.#bulkMode,
        optOutFields: this.#optOutFields,
        lookupConcurrency: this.#lookupConcurrency,
        uncertainSettleMs: this.#uncertainSettleMs,
        openJobs: new OpenJobLedger(this.#storage, this.#integrationId),
        signal,
        report: builder,
        dryRun: spec.dryRun,
        forgotten: (records) => findForgotten(this.#privacyContext(), records),
      };
      this.#logger.info('sync run started', {
        integrationId: this.#integrationId,
        entityType: spec.entityType,
        direction: spec.direction,
        syncType: spec.syncType,
        dryRun: spec.dryRun,
      });
      let failure: unknown = null;
      try {
        await body(ctx);
      } catch (error) {
        if (signal.aborted) {
          builder.stop(lost.error ? 'lease_lost' : 'aborted', lost.error?.message ?? 'The run was aborted');
          failure = lost.error ?? createAbortError(spec.signal);
        } else if (isCleanStop(error)) {
          builder.stop('rate_limited', (error as Error).message);
        } else {
          builder.stop('error', isCrmError(error) ? `${error.code}: ${error.message}` : String(error));
          failure = error;
        }
      }
      const report = builder.finish(this.#clock.now(), true);
      if (log) {
        try {
          await this.#storage.syncLogs.complete(log.id, {
            entityCount: report.processed,
            successCount: report.created + report.updated + report.unchanged,
            errorCount: report.failed,
            errorDetails: builder.logDetails(),
            completedAt: report.completedAt,
          });
        } catch (error) {
          this.#logger.error('could not complete the sync log', { logId: log.id, error: String(error) });
          failure ??= error;
        }
      }
      const level = failure ? 'error' : report.stopReason ? 'warn' : 'info';
      this.#logger[level]('sync run finished', {
        integrationId: this.#integrationId,
        entityType: spec.entityType,
        direction: spec.direction,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        failed: report.failed,
        deleted: report.deleted,
        apiCalls: report.apiCalls,
        durationMs: report.durationMs,
        stopReason: report.stopReason,
        stopMessage: report.stopMessage,
      });
      if (failure) {
        // The partial report stays reachable for hosts that want it, without touching an error
        // that the provider, the storage or the host created.
        if (typeof failure === 'object' && failure !== null) failedRunReports.set(failure, report);
        throw failure;
      }
      return report;
    } finally {
      await held?.release();
    }
  }
}

/** The partial report attached to an error thrown by a {@link SyncEngine} run, if any. */
export function getSyncReport(error: unknown): SyncReport | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return failedRunReports.get(error);
}

/**
 * Partial reports of failed runs, keyed by the error the run threw. A side table rather than a
 * property on the error, so errors created elsewhere are never mutated; weak, so an entry lives
 * exactly as long as its error.
 */
const failedRunReports = new WeakMap<object, SyncReport>();

const CHANGE_KINDS = new Set(['upsert', 'delete', 'undelete', 'resync']);

function validateChangeEvent(event: CrmChangeEvent): void {
  const problems: string[] = [];
  if (typeof event !== 'object' || event === null) {
    throw new CrmDataConversionError('Invalid change event: not an object', {
      fields: [{ field: 'event', message: 'must be an object', code: 'invalid_type' }],
      details: { reason: CrmErrorReasons.INVALID_CHANGE_EVENT },
    });
  }
  if (event.entityType !== 'contact' && event.entityType !== 'lead') problems.push('entityType');
  if (!Array.isArray(event.crmIds) || event.crmIds.some((id) => typeof id !== 'string' || id === '')) {
    problems.push('crmIds');
  }
  if (!CHANGE_KINDS.has(event.kind)) problems.push('kind');
  if (!(event.changedAt instanceof Date) || Number.isNaN(event.changedAt.getTime()))
    problems.push('changedAt');
  if (typeof event.fields !== 'object' || event.fields === null) problems.push('fields');
  if (problems.length > 0) {
    throw new CrmDataConversionError(`Invalid change event: ${problems.join(', ')}`, {
      fields: problems.map((field) => ({ field, message: 'is missing or invalid', code: 'invalid' })),
      details: { reason: CrmErrorReasons.INVALID_CHANGE_EVENT },
    });
  }
}
