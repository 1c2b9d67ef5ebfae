/**
 * How the sync engine settles a field changed on both sides since the last sync: `crm_wins`,
 * `host_wins`, `newest_wins` (by modification time), `prefer_crm_unless_blank`. A field mapping's
 * direction wins over the policy.
 */
export const CrmConflictPolicies = [
  'crm_wins',
  'host_wins',
  'newest_wins',
  'prefer_crm_unless_blank',
] as const;

/** One of {@link CrmConflictPolicies}. */
export type CrmConflictPolicy = (typeof CrmConflictPolicies)[number];
