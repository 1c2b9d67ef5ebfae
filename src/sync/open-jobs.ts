import type { CrmLogger } from '../core/logger.js';
import type { CrmProvider, CrmRemoteJobEvent } from '../core/provider.js';
import type { CrmStorage } from '../storage/types.js';

/** Cursor stream holding the ids of server-side jobs a run has open (JSON array of strings). */
export const OPEN_JOBS_STREAM = 'run:open-jobs';

/**
 * The server-side jobs (Salesforce Bulk API 2.0) a run has open, kept durably in the cursor store
 * while they are open, so that when the process is killed the next run of the integration (which
 * holds the same lease) can abort them. Only the lease holder writes the list, so a plain
 * read-modify-write is safe; writes are chained so events never overtake each other.
 */
export class OpenJobLedger {
  readonly #storage: CrmStorage;
  readonly #integrationId: string;
  #ids = new Set<string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(storage: CrmStorage, integrationId: string) {
    this.#storage = storage;
    this.#integrationId = integrationId;
  }

  /** The provider's `onRemoteJob`: `opened` resolves once the id is stored. */
  readonly track = (event: CrmRemoteJobEvent): Promise<void> => {
    if (event.state === 'opened') this.#ids.add(event.jobId);
    else this.#ids.delete(event.jobId);
    const ids = [...this.#ids];
    this.#chain = this.#chain.then(() =>
      this.#storage.cursors.set(this.#integrationId, OPEN_JOBS_STREAM, JSON.stringify(ids)),
    );
    return this.#chain;
  };
}

/** Job ids recorded in the cursor store (tolerates a missing or unreadable entry). */
export async function readOpenJobs(storage: CrmStorage, integrationId: string): Promise<string[]> {
  const raw = await storage.cursors.get(integrationId, OPEN_JOBS_STREAM);
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Abort the jobs a dead run left open (called by a run that has just taken the lease, so no live
 * run owns them) and forget them. Best effort: when the provider cannot abort jobs, or the abort
 * fails, the ids are kept for the next run and the new run goes on. Resolves to the ids aborted.
 */
export async function abortOrphanedJobs(args: {
  storage: CrmStorage;
  provider: CrmProvider;
  integrationId: string;
  logger: CrmLogger;
  signal: AbortSignal | undefined;
}): Promise<string[]> {
  const { storage, provider, integrationId, logger } = args;
  try {
    const ids = await readOpenJobs(storage, integrationId);
    if (ids.length === 0) return [];
    if (typeof provider.abortOrphanedJobs !== 'function') {
      logger.warn('a killed run left server-side jobs open; this provider cannot abort them', {
        jobIds: ids,
      });
      await storage.cursors.set(integrationId, OPEN_JOBS_STREAM, '[]');
      return [];
    }
    const aborted = await provider.abortOrphanedJobs(ids, args.signal ? { signal: args.signal } : {});
    await storage.cursors.set(integrationId, OPEN_JOBS_STREAM, '[]');
    logger.warn('aborted server-side jobs a killed run left open', { jobIds: ids, aborted });
    return aborted;
  } catch (error) {
    if (args.signal?.aborted) throw error;
    logger.warn('could not abort the server-side jobs a killed run left open', { error: String(error) });
    return [];
  }
}
