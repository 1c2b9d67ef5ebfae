import type { PostgresMigration } from './index.js';

/**
 * What the sync engine needs beyond the original tables: the content hash, sync time and JSON
 * engine state per record; incremental cursors; leases for multi-worker exclusion; and indexes
 * for listing by status, paging by external id and looking up by CRM id.
 */
export const ENGINE_STATE: PostgresMigration = {
  version: 2,
  name: 'engine_state',
  statements: (t) => [
    `ALTER TABLE ${t('crm_sync_status')}
      ADD COLUMN content_hash text,
      ADD COLUMN last_synced_at timestamptz,
      ADD COLUMN state jsonb`,
    `CREATE INDEX crm_sync_status_list_idx ON ${t('crm_sync_status')} (integration_id, external_id)`,
    `CREATE INDEX crm_sync_status_state_idx ON ${t('crm_sync_status')} (integration_id, sync_status, external_id)`,
    `CREATE INDEX crm_sync_status_crm_id_idx ON ${t('crm_sync_status')} (integration_id, entity_type, crm_id)
      WHERE crm_id IS NOT NULL`,
    `CREATE TABLE ${t('crm_sync_cursors')} (
      integration_id text NOT NULL,
      stream text NOT NULL,
      value text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, stream)
    )`,
    `CREATE TABLE ${t('crm_leases')} (
      key text PRIMARY KEY,
      token text NOT NULL,
      expires_at timestamptz NOT NULL
    )`,
  ],
};
