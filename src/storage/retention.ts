import { type CrmClock, systemClock } from '../core/clock.js';
import { CrmConfigurationError, CrmUnsupportedFeatureError } from '../core/errors.js';
import type { CrmPruneCounts } from './privacy.js';
import type { CrmStorage } from './types.js';

const DAY_MS = 86_400_000;

/** How long records are kept. Ages in days; `null` keeps that kind forever. */
export interface CrmRetentionPolicy {
  /** Sync log entries older than this are deleted. @default 90 */
  syncLogMaxAgeDays: number | null;
  /** At most this many sync log entries per integration (the newest). @default 1000 */
  syncLogMaxCount: number | null;
  /** Privacy audit entries older than this are deleted. @default 1095 (three years) */
  auditMaxAgeDays: number | null;
  /** At most this many audit entries per integration. @default null (no cap) */
  auditMaxCount: number | null;
  /**
   * Webhook dedupe and change-event records (cursor-store rows of `streamPrefixes`) older than
   * this are deleted. Salesforce retries an outbound message for up to 24 hours, so a week keeps
   * every redelivery deduplicated. @default 7
   */
  streamRecordMaxAgeDays: number | null;
  /**
   * Cursor-store stream prefixes holding timestamped records; add your own webhook handler's.
   * Pull cursors and CDC replay ids must not match.
   * @default DEFAULT_RETENTION_STREAM_PREFIXES
   */
  streamPrefixes: ReadonlyArray<string>;
}

/**
 * Streams of timestamped records the package writes: Salesforce outbound-message dedupe records
 * (`createOutboundMessageHandler` with `storage`).
 */
export const DEFAULT_RETENTION_STREAM_PREFIXES: ReadonlyArray<string> = ['salesforce:outbound-message:'];

/** The defaults of {@link CrmRetentionPolicy}. */
export const DEFAULT_RETENTION_POLICY: Readonly<CrmRetentionPolicy> = Object.freeze({
  syncLogMaxAgeDays: 90,
  syncLogMaxCount: 1000,
  auditMaxAgeDays: 1095,
  auditMaxCount: null,
  streamRecordMaxAgeDays: 7,
  streamPrefixes: DEFAULT_RETENTION_STREAM_PREFIXES,
});

/** Options of {@link applyRetention}. */
export interface CrmRetentionOptions {
  /** Overrides of {@link DEFAULT_RETENTION_POLICY}. */
  policy?: Partial<CrmRetentionPolicy>;
  /** Apply to one integration only. @default every integration */
  integrationId?: string;
  /** @default the system clock */
  clock?: CrmClock;
}

function checkAmount(name: string, value: unknown): void {
  if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
    throw new CrmConfigurationError(`Retention policy: ${name} must be a non-negative number or null`, {
      details: { reason: 'invalid_option', option: name },
    });
  }
}

/**
 * Delete what the retention policy says has expired: old sync logs (by age and count per
 * integration), old privacy audit entries, and old webhook dedupe / change-event records. Run it
 * on a schedule (daily is plenty); it is idempotent and safe beside running syncs.
 *
 * @throws {CrmUnsupportedFeatureError} when the storage has no `privacy` store.
 * @throws {CrmConfigurationError} for an invalid policy value.
 * @example
 * const removed = await applyRetention(storage, { policy: { syncLogMaxAgeDays: 30 } });
 */
export async function applyRetention(
  storage: CrmStorage,
  options: CrmRetentionOptions = {},
): Promise<CrmPruneCounts> {
  const policy: CrmRetentionPolicy = { ...DEFAULT_RETENTION_POLICY, ...options.policy };
  for (const key of [
    'syncLogMaxAgeDays',
    'syncLogMaxCount',
    'auditMaxAgeDays',
    'auditMaxCount',
    'streamRecordMaxAgeDays',
  ] as const) {
    checkAmount(key, policy[key]);
  }
  if (!storage.privacy) {
    throw new CrmUnsupportedFeatureError(
      'applyRetention needs a storage with a privacy store (storage.privacy)',
      {
        details: { reason: 'storage_privacy_missing' },
      },
    );
  }
  const now = (options.clock ?? systemClock).now().getTime();
  const before = (days: number | null) => (days === null ? undefined : new Date(now - days * DAY_MS));
  const count = (n: number | null) => (n === null ? undefined : Math.floor(n));
  const rule = (days: number | null, max: number | null) => {
    const out: { before?: Date; keepLatest?: number } = {};
    const b = before(days);
    const k = count(max);
    if (b) out.before = b;
    if (k !== undefined) out.keepLatest = k;
    return out;
  };
  const streamBefore = before(policy.streamRecordMaxAgeDays);
  return storage.privacy.prune({
    ...(options.integrationId === undefined ? {} : { integrationId: options.integrationId }),
    syncLogs: rule(policy.syncLogMaxAgeDays, policy.syncLogMaxCount),
    auditEntries: rule(policy.auditMaxAgeDays, policy.auditMaxCount),
    ...(streamBefore && policy.streamPrefixes.length > 0
      ? { streamRecords: { prefixes: [...policy.streamPrefixes], before: streamBefore } }
      : {}),
  });
}
