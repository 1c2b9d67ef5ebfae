/**
 * PostgreSQL schema as versioned migrations, recorded in `crm_schema_migrations`. Append new
 * versions; never edit one that shipped. Each migration is a list of single statements (so it
 * runs through any `query(text, params)` client, PGlite included) applied in one transaction.
 */

import { ORIGINAL_TABLES } from './0001-original-tables.js';
import { ENGINE_STATE } from './0002-engine-state.js';
import { CRM_ID_LOOKUP_INDEX } from './0003-crm-id-lookup-index.js';
import { PRIVACY } from './0004-privacy.js';

/** Qualifies a table name with the configured schema, e.g. `"crm".crm_leases`. */
export type TableName = (name: string) => string;

export interface PostgresMigration {
  version: number;
  name: string;
  statements(table: TableName): string[];
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  ORIGINAL_TABLES,
  ENGINE_STATE,
  CRM_ID_LOOKUP_INDEX,
  PRIVACY,
];
