import type { PostgresMigration } from './index.js';

/**
 * `getByCrmId` filters on (integration_id, entity_type, crm_id) and orders by external_id. The
 * version 2 index stopped at crm_id, so each lookup needed a sort step, and when the planner
 * guessed that many rows share a CRM id it walked `crm_sync_status_list_idx` (integration_id,
 * external_id) in order instead, filtering every row of the integration. With external_id
 * appended the index serves both the WHERE and the ORDER BY … LIMIT 1 as one probe. The old index
 * is dropped because the new one covers every query it served. `IF [NOT] EXISTS` keeps a re-run
 * after a partial manual apply harmless.
 */
export const CRM_ID_LOOKUP_INDEX: PostgresMigration = {
  version: 3,
  name: 'crm_id_lookup_index',
  statements: (t) => [
    `CREATE INDEX IF NOT EXISTS crm_sync_status_crm_lookup_idx ON ${t('crm_sync_status')}
      (integration_id, entity_type, crm_id, external_id) WHERE crm_id IS NOT NULL`,
    `DROP INDEX IF EXISTS ${t('crm_sync_status_crm_id_idx')}`,
  ],
};
