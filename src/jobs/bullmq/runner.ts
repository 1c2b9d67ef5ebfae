import { CrmConfigurationError } from '../../core/errors.js';
import { loadPeer } from '../../internal/load-peer.js';
import { resolveRunnerOptions } from '../internal/options.js';
import { createSyncJobRunner } from '../internal/sync-job-runner.js';
import type { SyncRunner, SyncRunnerOptions } from '../types.js';
import { type BullMqModule, createBullMqTransport } from './transport.js';

/** Options of {@link createBullMqSyncRunner}: the shared runner options plus where Redis is. */
export interface BullMqSyncRunnerOptions extends SyncRunnerOptions {
  /**
   * BullMQ's `connection`: ioredis options (`{ host, port }`) or an ioredis instance. Redis must
   * run with `maxmemory-policy noeviction`.
   */
  connection: object;
  /**
   * Key prefix of every key (BullMQ's and the schedule set): isolates environments or tenants.
   * @default 'bull'
   */
  prefix?: string;
  /** Queue name. Partition integrations across queues to spread load. @default 'crm-sync' */
  queue?: string;
}

const FACTORY = 'createBullMqSyncRunner';
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * A sync runner on BullMQ 6 (Redis): the same shape and guarantees as `createPgBossSyncRunner`.
 * Exclusion per integration comes from BullMQ deduplication (`keepLastIfActive`) plus the fenced
 * run lease in `storage`; schedules are a Redis sorted set scanned by every worker (BullMQ job
 * schedulers bypass deduplication, so they are not used); the per-org limit is lease slots in
 * storage (BullMQ's group limits are a paid Pro feature); failed runs stay in the failed set as
 * dead letters.
 *
 * @throws {CrmConfigurationError} for invalid options; `start()` throws it when `bullmq` is not installed.
 * @example
 * const runner = createBullMqSyncRunner({
 *   connection: { host: '127.0.0.1', port: 6379 },
 *   storage,
 *   perOrgConcurrency: 2,
 *   runSync: (integration, { signal }) => syncOne(integration, signal),
 * });
 * await runner.start();
 */
export function createBullMqSyncRunner(options: BullMqSyncRunnerOptions): SyncRunner {
  const resolved = resolveRunnerOptions(options, FACTORY, ['connection', 'prefix', 'queue']);
  if (typeof options.connection !== 'object' || options.connection === null) {
    throw new CrmConfigurationError(`${FACTORY} needs connection: ioredis options or an ioredis instance`);
  }
  const prefix = options.prefix ?? 'bull';
  const queue = options.queue ?? 'crm-sync';
  if (!NAME.test(prefix) || !NAME.test(queue)) {
    throw new CrmConfigurationError(`${FACTORY}: prefix and queue must be letters, digits, '_', '.', '-'`);
  }
  const transport = createBullMqTransport({
    connection: options.connection,
    prefix,
    queue,
    options: resolved,
    bullmq: async () =>
      (await loadPeer('bullmq', FACTORY, () => import('bullmq'))) as unknown as BullMqModule,
  });
  return createSyncJobRunner(transport, resolved);
}
