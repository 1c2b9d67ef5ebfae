import type { PostgresMigration } from './index.js';

/**
 * The three tables of the original MarkMail backend (`crm_integrations`, `crm_sync_logs`,
 * `crm_sync_status`), made fit for a provider-neutral library:
 * - ids and user ids are `text` (hosts use UUIDs, integers or slugs); no foreign key to a
 *   host `users` table;
 * - `credentials` is `text` holding `CredentialCipher` ciphertext (was encrypted JSONB);
 * - `provider_settings` (was `salesforce_settings`), `external_id` (was `markmail_id`),
 *   `last_error` (was `error_message`);
 * - one user may connect several orgs: unique per (user, provider, org), not per (user, provider);
 * - no CHECK lists of providers, entity types or statuses: the package validates them, and new
 *   values must not need a migration;
 * - `external_id` uses `COLLATE "C"` so keyset paging sorts by code point and uses the index;
 * - `seq` identity columns break ties between rows created in the same millisecond.
 */
export const ORIGINAL_TABLES: PostgresMigration = {
  version: 1,
  name: 'original_tables',
  statements: (t) => [
    `CREATE TABLE ${t('crm_integrations')} (
      id text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      user_id text NOT NULL,
      provider text NOT NULL,
      org_id text NOT NULL,
      instance_url text NOT NULL,
      credentials text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}',
      provider_settings jsonb NOT NULL DEFAULT '{}',
      field_mappings jsonb NOT NULL DEFAULT '[]',
      sync_enabled boolean NOT NULL DEFAULT true,
      last_sync_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT crm_integrations_user_provider_org_key UNIQUE (user_id, provider, org_id)
    )`,
    `CREATE TABLE ${t('crm_sync_logs')} (
      id text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      integration_id text NOT NULL,
      sync_type text NOT NULL,
      entity_type text NOT NULL,
      entity_count integer NOT NULL DEFAULT 0,
      success_count integer NOT NULL DEFAULT 0,
      error_count integer NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL,
      completed_at timestamptz,
      error_details jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE ${t('crm_sync_status')} (
      integration_id text NOT NULL,
      entity_type text NOT NULL,
      external_id text COLLATE "C" NOT NULL,
      crm_id text,
      sync_status text NOT NULL,
      sync_direction text NOT NULL,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, entity_type, external_id)
    )`,
    `CREATE INDEX crm_sync_logs_integration_started_idx ON ${t('crm_sync_logs')} (integration_id, started_at DESC, seq DESC)`,
  ],
};
