/**
 * Lease key of a run of `integrationId`. Distinct from `SyncEngine`'s own `sync:<id>`, which
 * `runSync` may take inside the run.
 */
export function runLeaseKey(integrationId: string): string {
  return `jobs:run:${integrationId}`;
}
