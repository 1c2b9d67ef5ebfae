import type { PostgresMigration } from './index.js';

/**
 * Privacy: the erasure audit (no personal data — a salted hash of the person's key), the
 * suppression list that keeps a later push from resurrecting a forgotten person, and an index so
 * retention finds old cursor-store records (webhook dedupe) without a scan. `seq` breaks ties
 * between audit entries of the same instant, as in the sync log table.
 */
export const PRIVACY: PostgresMigration = {
  version: 4,
  name: 'privacy',
  statements: (t) => [
    `CREATE TABLE ${t('crm_privacy_audit')} (
      id text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      integration_id text NOT NULL,
      action text NOT NULL,
      subject_hash text NOT NULL,
      reason text,
      occurred_at timestamptz NOT NULL,
      outcome jsonb NOT NULL
    )`,
    `CREATE INDEX crm_privacy_audit_integration_idx ON ${t('crm_privacy_audit')} (integration_id, occurred_at DESC, seq DESC)`,
    `CREATE TABLE ${t('crm_privacy_suppressions')} (
      integration_id text NOT NULL,
      subject_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, subject_hash)
    )`,
    `CREATE INDEX crm_sync_cursors_updated_idx ON ${t('crm_sync_cursors')} (updated_at)`,
  ],
};
