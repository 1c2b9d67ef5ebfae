/** Live request counters (`emulator.stats`); the object is mutated in place. */
export interface EmulatorStats {
  /** Every HTTP request received, including faulted and rejected ones. */
  requests: number;
  /** Requests counted against the daily API limit (`Sforce-Limit-Info` api-usage). */
  apiCalls: number;
  /** Requests to `/services/oauth2/token`. */
  tokenRequests: number;
  /** Requests per route name (`"<METHOD> <pattern>"`, or `"unmatched"`). */
  byRoute: Record<string, number>;
}

/** A fresh, zeroed stats object. */
export function createStats(): EmulatorStats {
  return { requests: 0, apiCalls: 0, tokenRequests: 0, byRoute: {} };
}

/** Zeroes `stats` in place so references held by tests stay live. */
export function resetStats(stats: EmulatorStats): void {
  stats.requests = 0;
  stats.apiCalls = 0;
  stats.tokenRequests = 0;
  for (const key of Object.keys(stats.byRoute)) delete stats.byRoute[key];
}
