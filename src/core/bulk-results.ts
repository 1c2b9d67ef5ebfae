import type { CrmBulkSyncResult } from './models.js';
import type { CrmBulkSyncOptions } from './provider.js';

/**
 * Apply `onResult` and `keepResults` of {@link CrmBulkSyncOptions} to a finished batch whose
 * `results` hold one result per input record, in input order: for providers (or operations) that
 * collect their results before returning. `onResult` is called for each record in input order
 * (awaiting what it returns); with `keepResults: 'failures'` only failed results are kept.
 *
 * @example
 * ```ts
 * return applyBulkResultOptions(await upsertAll(contacts), options);
 * ```
 */
export async function applyBulkResultOptions(
  result: CrmBulkSyncResult,
  options: Pick<CrmBulkSyncOptions, 'onResult' | 'keepResults'> = {},
): Promise<CrmBulkSyncResult> {
  if (options.onResult) {
    for (const [index, item] of result.results.entries()) {
      const pending = options.onResult(item, index);
      if (pending) await pending;
    }
  }
  if (options.keepResults !== 'failures') return result;
  return { ...result, results: result.results.filter((r) => !r.success) };
}
