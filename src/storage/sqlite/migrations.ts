/**
 * SQLite schema, as versioned migrations recorded in `crm_schema_migrations`. Append new versions;
 * never edit one that shipped. Times are INTEGER epoch milliseconds (exact `Date` round-trip),
 * JSON is TEXT, booleans are 0/1. TEXT compares with the BINARY collation, i.e. by code point.
 */
export interface SqliteMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'original_tables',
    // The three tables of the original MarkMail backend, made provider-neutral: host ids are
    // `external_id` (was `markmail_id`), `provider_settings` was `salesforce_settings`, and one
    // user may connect several orgs (unique per user, provider and org instead of per provider).
    statements: [
      `CREATE TABLE crm_integrations (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        org_id TEXT NOT NULL,
        instance_url TEXT NOT NULL,
        credentials TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        provider_settings TEXT NOT NULL DEFAULT '{}',
        field_mappings TEXT NOT NULL DEFAULT '[]',
        sync_enabled INTEGER NOT NULL DEFAULT 1,
        last_sync_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (user_id, provider, org_id)
      )`,
      `CREATE TABLE crm_sync_logs (
        id TEXT PRIMARY KEY,
        integration_id TEXT NOT NULL,
        sync_type TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        entity_count INTEGER NOT NULL DEFAULT 0,
        success_count INTEGER NOT NULL DEFAULT 0,
        error_count INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER NOT NULL,
        completed_at INTEGER,
        error_details TEXT
      )`,
      `CREATE TABLE crm_sync_status (
        integration_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        external_id TEXT NOT NULL,
        crm_id TEXT,
        sync_status TEXT NOT NULL,
        sync_direction TEXT NOT NULL,
        last_error TEXT,
        PRIMARY KEY (integration_id, entity_type, external_id)
      )`,
      'CREATE INDEX crm_integrations_user_idx ON crm_integrations (user_id, provider)',
      'CREATE INDEX crm_sync_logs_integration_idx ON crm_sync_logs (integration_id, started_at)',
    ],
  },
  {
    version: 2,
    name: 'engine_state',
    // What the sync engine needs beyond the original tables: content hashes and engine state per
    // record, sync time, cursors, leases, and indexes for lookups by CRM id and listing by status.
    statements: [
      'ALTER TABLE crm_sync_status ADD COLUMN content_hash TEXT',
      'ALTER TABLE crm_sync_status ADD COLUMN last_synced_at INTEGER',
      'ALTER TABLE crm_sync_status ADD COLUMN state TEXT',
      'CREATE INDEX crm_sync_status_list_idx ON crm_sync_status (integration_id, external_id)',
      'CREATE INDEX crm_sync_status_state_idx ON crm_sync_status (integration_id, sync_status, external_id)',
      'CREATE INDEX crm_sync_status_crm_id_idx ON crm_sync_status (integration_id, entity_type, crm_id)',
      `CREATE TABLE crm_sync_cursors (
        integration_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (integration_id, stream)
      )`,
      `CREATE TABLE crm_leases (
        key TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    name: 'crm_id_lookup_index',
    // `getByCrmId` orders by external_id, and with only (integration_id, entity_type, crm_id)
    // SQLite preferred the primary key, which gives that order for free, and scanned every row of
    // the integration and entity type (EXPLAIN QUERY PLAN: "USING INDEX sqlite_autoindex_…
    // (integration_id=? AND entity_type=?)"). With external_id appended the crm_id index answers
    // both the WHERE and the ORDER BY, so the lookup is one index probe.
    statements: [
      'DROP INDEX IF EXISTS crm_sync_status_crm_id_idx',
      'CREATE INDEX IF NOT EXISTS crm_sync_status_crm_lookup_idx ON crm_sync_status (integration_id, entity_type, crm_id, external_id)',
    ],
  },
  {
    version: 4,
    name: 'privacy',
    // Erasure audit (no personal data: a salted hash of the person's key), the suppression list
    // that stops a later push from resurrecting a forgotten person, and an index so retention
    // finds old cursor-store records (webhook dedupe) without a scan.
    statements: [
      `CREATE TABLE crm_privacy_audit (
        id TEXT PRIMARY KEY,
        integration_id TEXT NOT NULL,
        action TEXT NOT NULL,
        subject_hash TEXT NOT NULL,
        reason TEXT,
        occurred_at INTEGER NOT NULL,
        outcome TEXT NOT NULL
      )`,
      'CREATE INDEX crm_privacy_audit_integration_idx ON crm_privacy_audit (integration_id, occurred_at)',
      `CREATE TABLE crm_privacy_suppressions (
        integration_id TEXT NOT NULL,
        subject_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (integration_id, subject_hash)
      )`,
      'CREATE INDEX crm_sync_cursors_updated_idx ON crm_sync_cursors (updated_at)',
    ],
  },
];
