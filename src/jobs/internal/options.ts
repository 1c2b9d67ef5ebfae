import { CrmConfigurationError } from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger, silentLogger } from '../../core/logger.js';
import type { SyncRunnerOptions } from '../types.js';

/** {@link SyncRunnerOptions} with every default filled in. */
export interface ResolvedSyncRunnerOptions
  extends Required<
    Omit<SyncRunnerOptions, 'perOrgConcurrency' | 'scheduleJitterMs' | 'onRunEnd' | 'onDeadLetter'>
  > {
  perOrgConcurrency: number | undefined;
  scheduleJitterMs: number | undefined;
  onRunEnd: SyncRunnerOptions['onRunEnd'] | undefined;
  onDeadLetter: SyncRunnerOptions['onDeadLetter'] | undefined;
  logger: CrmLogger;
}

const COMMON_KEYS = new Set<string>([
  'storage',
  'runSync',
  'concurrency',
  'perOrgConcurrency',
  'leaseTtlMs',
  'retryLimit',
  'retryDelayMs',
  'retryDelayMaxMs',
  'deferDelayMs',
  'scanIntervalMs',
  'scheduleJitterMs',
  'pollIntervalMs',
  'gracePeriodMs',
  'onRunEnd',
  'onDeadLetter',
  'logger',
]);

/**
 * Validate the options every runner shares (unknown keys are an error, like a typo'd option would
 * otherwise be silently ignored) and fill in defaults.
 * @param adapterKeys the adapter's own option names (`boss`, `connection`, …).
 * @throws {CrmConfigurationError} naming the offending option.
 */
export function resolveRunnerOptions(
  options: SyncRunnerOptions,
  factory: string,
  adapterKeys: ReadonlyArray<string>,
): ResolvedSyncRunnerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CrmConfigurationError(`${factory} needs an options object`);
  }
  for (const key of Object.keys(options)) {
    if (!COMMON_KEYS.has(key) && !adapterKeys.includes(key)) {
      throw new CrmConfigurationError(`${factory}: unknown option '${key}'`, {
        details: { reason: 'unknown_option', option: key },
      });
    }
  }
  const storage = options.storage;
  if (
    !storage ||
    typeof storage.leases?.acquire !== 'function' ||
    typeof storage.integrations?.get !== 'function'
  ) {
    throw new CrmConfigurationError(
      `${factory} needs storage: a CrmStorage (integrations and leases are used)`,
    );
  }
  if (typeof options.runSync !== 'function') {
    throw new CrmConfigurationError(`${factory} needs runSync(integration, { signal })`);
  }
  const int = (name: keyof SyncRunnerOptions, value: unknown, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new CrmConfigurationError(`${factory}: ${name} must be an integer ≥ ${min}`, {
        details: { reason: 'invalid_option', option: name },
      });
    }
    return value;
  };
  const perOrg = options.perOrgConcurrency;
  return {
    storage,
    runSync: options.runSync,
    concurrency: int('concurrency', options.concurrency, 10, 1),
    perOrgConcurrency: perOrg === undefined ? undefined : int('perOrgConcurrency', perOrg, 1, 1),
    leaseTtlMs: int('leaseTtlMs', options.leaseTtlMs, 10_000, 1_000),
    retryLimit: int('retryLimit', options.retryLimit, 5, 0),
    retryDelayMs: int('retryDelayMs', options.retryDelayMs, 1_000, 0),
    retryDelayMaxMs: int('retryDelayMaxMs', options.retryDelayMaxMs, 300_000, 0),
    deferDelayMs: int('deferDelayMs', options.deferDelayMs, 1_000, 0),
    scanIntervalMs: int('scanIntervalMs', options.scanIntervalMs, 1_000, 10),
    scheduleJitterMs:
      options.scheduleJitterMs === undefined
        ? undefined
        : int('scheduleJitterMs', options.scheduleJitterMs, 0, 0),
    pollIntervalMs: int('pollIntervalMs', options.pollIntervalMs, 250, 10),
    gracePeriodMs: int('gracePeriodMs', options.gracePeriodMs, 30_000, 0),
    onRunEnd: options.onRunEnd,
    onDeadLetter: options.onDeadLetter,
    logger: createRedactingLogger(options.logger ?? silentLogger),
  };
}
