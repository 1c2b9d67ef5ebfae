import type { CrmApiUsage } from '../core/errors.js';

/** How much of the CRM's API allowance sync may spend. */
export interface SyncApiBudget {
  /**
   * Share (0–1) of the org's daily API limit that may be in use when sync spends more: a run stops
   * cleanly once `used / max` would pass it. Needs a provider that reports `apiUsage`.
   */
  maxShareOfDailyLimit?: number;
  /** Most API calls one run may spend. */
  maxCallsPerRun?: number;
}

/** Decides whether the next unit of work still fits the budget. */
export class ApiBudgetGuard {
  readonly #budget: SyncApiBudget;

  constructor(budget: SyncApiBudget = {}) {
    const share = budget.maxShareOfDailyLimit;
    if (share !== undefined && !(share > 0 && share <= 1)) {
      throw new RangeError('apiBudget.maxShareOfDailyLimit must be in (0, 1]');
    }
    this.#budget = budget;
  }

  /**
   * `null` when `projectedCalls` more calls fit, else a sentence saying which limit they would pass.
   * @param runCalls - calls this run has spent so far.
   */
  check(usage: CrmApiUsage | undefined, runCalls: number, projectedCalls: number): string | null {
    const { maxCallsPerRun, maxShareOfDailyLimit } = this.#budget;
    if (maxCallsPerRun !== undefined && runCalls + projectedCalls > maxCallsPerRun) {
      return `API budget reached: this run spent ${runCalls} of ${maxCallsPerRun} calls allowed per run`;
    }
    if (maxShareOfDailyLimit !== undefined && usage && usage.max > 0) {
      const cap = Math.floor(usage.max * maxShareOfDailyLimit);
      if (usage.used + projectedCalls > cap) {
        return `API budget reached: ${usage.used} of ${usage.max} daily calls used, sync may use up to ${cap} (${Math.round(
          maxShareOfDailyLimit * 100,
        )}%)`;
      }
    }
    return null;
  }
}
