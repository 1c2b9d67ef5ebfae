/**
 * `@markmail/crm/storage/postgres`: `CrmStorage` on PostgreSQL through `pg` (an optional peer
 * dependency, loaded on first use) or any client with `query(text, params)`, such as PGlite.
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import { type CrmClock, systemClock } from '../core/clock.js';
import { CrmConfigurationError, isCrmError } from '../core/errors.js';
import type { CrmEntityType } from '../core/models.js';
import { loadPeer } from '../internal/load-peer.js';
import { assertSupportedNode } from '../internal/node-floor.js';
import { assertKnownOptions } from '../internal/options.js';
import {
  normaliseAuditInput,
  normaliseAuditListLimit,
  normaliseEraseTarget,
  normalisePruneRequest,
  normaliseSuppressionKeys,
  scrubDetails,
} from './internal/privacy.js';
import { createRowDecoders } from './internal/row-decoders.js';
import {
  checkCursorArgs,
  checkLease,
  checkLeaseArgs,
  keepLowest,
  type NormalisedStatusRow,
  normaliseIntegrationInput,
  normaliseListOptions,
  normaliseLogCompletion,
  normaliseLogListLimit,
  normaliseLogStart,
  normaliseManyKeys,
  normalisePatch,
  normaliseStatusRows,
  storageError,
} from './internal/validate.js';
import { POSTGRES_MIGRATIONS, type TableName } from './postgres/migrations/index.js';
import type {
  CrmEraseCounts,
  CrmEraseTarget,
  CrmPrivacyAuditEntry,
  CrmPrivacyAuditInput,
  CrmPrivacyStore,
  CrmPruneCounts,
  CrmPruneRequest,
  CrmSuppressionKeys,
} from './privacy.js';
import type {
  CrmCursorStore,
  CrmIntegration,
  CrmIntegrationInput,
  CrmIntegrationPatch,
  CrmIntegrationStore,
  CrmIntegrationUpdateOptions,
  CrmLease,
  CrmLeaseStore,
  CrmStorage,
  CrmSyncLog,
  CrmSyncLogCompletion,
  CrmSyncLogStart,
  CrmSyncLogStore,
  CrmSyncStatusKey,
  CrmSyncStatusListOptions,
  CrmSyncStatusManyCrmIds,
  CrmSyncStatusManyKeys,
  CrmSyncStatusRow,
  CrmSyncStatusStore,
} from './types.js';

// Before any work, so an old Node fails with one clear line rather than inside a dependency.
assertSupportedNode();

type Row = Record<string, unknown>;

/**
 * What `PostgresStorage` needs from a client: a `pg.Pool`, a `pg.Client`, a PGlite instance, or
 * your own wrapper. Results need `rows` (objects keyed by column name).
 */
export interface PostgresQueryable {
  // biome-ignore lint/suspicious/noExplicitAny: pg's and PGlite's row types are `any`; we map rows ourselves.
  query(text: string, params?: any[]): Promise<{ rows: any[] }>;
}

/** Options of {@link PostgresStorage}. Give exactly one of `connectionString` and `pool`. */
export interface PostgresStorageOptions {
  /** e.g. `postgres://user@host:5432/db`. The storage creates (and on `close()` ends) a `pg.Pool`. */
  connectionString?: string;
  /**
   * A client you own: `pg.Pool` (recommended: transactions use a dedicated connection), `pg.Client`
   * (operations are then serialised), PGlite, or anything with `query(text, params)`. Not closed by
   * `close()`.
   */
  pool?: PostgresQueryable;
  /** Maximum connections of the pool created from `connectionString`. @default 10 */
  maxConnections?: number;
  /**
   * Schema holding the tables, created by `migrate()` when missing. Letters, digits and `_`.
   * @default the connection's `search_path` (usually `public`)
   */
  schema?: string;
  /**
   * Source of "now" for timestamps and lease expiry. Without one, timestamps use this process's
   * clock and leases use the database server's clock, so workers on hosts with skewed clocks still
   * agree on expiry.
   * @default system clock for timestamps, database clock for leases
   */
  clock?: CrmClock;
  /**
   * Run {@link PostgresStorage.migrate} before the first operation. Off by default because
   * production schemas are usually migrated by a deploy step, not by the first request.
   * @default false
   */
  autoMigrate?: boolean;
  /** Rows per INSERT statement in `syncStatus.upsertMany`; larger batches run in one transaction. @default 5000 */
  batchSize?: number;
}

const OPTION_KEYS = new Set([
  'connectionString',
  'pool',
  'maxConnections',
  'schema',
  'clock',
  'autoMigrate',
  'batchSize',
]);
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** First key of the two-key advisory lock that serialises migrations ("MMCR"). */
const MIGRATION_LOCK_NAMESPACE = 0x4d4d4352;

interface PoolLike extends PostgresQueryable {
  connect(): Promise<PostgresQueryable & { release(destroy?: boolean | Error): void }>;
  end?(): Promise<void>;
}

interface PgliteLike extends PostgresQueryable {
  transaction<T>(fn: (tx: PostgresQueryable) => Promise<T>): Promise<T>;
}

/** How to run several statements as one transaction on the given client. */
type Transactor = <T>(fn: (q: PostgresQueryable) => Promise<T>) => Promise<T>;

/**
 * `CrmStorage` on PostgreSQL. The schema extends the original MarkMail tables
 * (`crm_integrations`, `crm_sync_logs`, `crm_sync_status`) with content hashes, engine state,
 * cursors and leases, through versioned migrations ({@link migrate}).
 *
 * - `syncStatus.upsertMany` writes up to `batchSize` rows per single `INSERT … SELECT FROM
 *   jsonb_to_recordset(…) ON CONFLICT DO UPDATE` statement; bigger batches run in one transaction.
 * - Leases are single atomic statements (`INSERT … ON CONFLICT DO UPDATE … WHERE expired`), so
 *   workers on separate connections and hosts never both hold one.
 * - Compare-and-swap credential updates are one `UPDATE … WHERE credentials = $expected`.
 *
 * @example
 * ```ts
 * import { PostgresStorage } from '@markmail/crm/storage/postgres';
 * const storage = new PostgresStorage({ connectionString: process.env.DATABASE_URL });
 * await storage.migrate();
 * ```
 *
 * @throws CrmConfigurationError for invalid options, or (on first use) when `pg` is needed but
 *   not installed.
 */
export class PostgresStorage implements CrmStorage {
  readonly integrations: CrmIntegrationStore;
  readonly syncLogs: CrmSyncLogStore;
  /** Includes the optional batch reads `getMany` and `getManyByCrmId`. */
  readonly syncStatus: Required<CrmSyncStatusStore>;
  readonly cursors: CrmCursorStore;
  readonly leases: CrmLeaseStore;
  /**
   * Erasure, audit, suppression and retention. After an erasure no query returns the person's
   * data; PostgreSQL keeps dead row versions until VACUUM, and WAL segments, replicas and backups
   * keep what they recorded: those are the operator's (see the README's privacy section).
   */
  readonly privacy: CrmPrivacyStore;
  readonly #options: PostgresStorageOptions;
  readonly #table: TableName;
  #client:
    | Promise<{ client: PostgresQueryable; transact: Transactor; owned: PoolLike | undefined }>
    | undefined;
  #migrated: Promise<void> | undefined;
  #closed = false;
  /** Serialises operations on a single-connection client, whose transactions would otherwise interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: PostgresStorageOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new CrmConfigurationError(
        'PostgresStorage: options are required ({ connectionString } or { pool })',
      );
    }
    assertKnownOptions('PostgresStorage', options, OPTION_KEYS);
    const invalid = (option: string, message: string) =>
      new CrmConfigurationError(`PostgresStorage: ${message}`, {
        details: { reason: 'invalid_option', option },
      });
    if ((options.connectionString === undefined) === (options.pool === undefined)) {
      throw invalid('pool', 'give exactly one of `connectionString` and `pool`');
    }
    if (
      options.connectionString !== undefined &&
      (typeof options.connectionString !== 'string' || !options.connectionString)
    ) {
      throw invalid('connectionString', '`connectionString` must be a non-empty string');
    }
    if (options.pool !== undefined && typeof options.pool?.query !== 'function') {
      throw invalid('pool', '`pool` must have a query(text, params) method');
    }
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw invalid('schema', '`schema` must be 1-63 letters, digits or _, not starting with a digit');
    }
    for (const key of ['batchSize', 'maxConnections'] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
        throw invalid(key, `\`${key}\` must be a positive integer`);
      }
    }
    this.#options = options;
    const schema = options.schema;
    this.#table = (name) => (schema ? `"${schema}".${name}` : name);
    const clock = options.clock;
    const ctx: Ctx = {
      t: this.#table,
      query: (label, text, params) => this.#exclusive(label, (c) => c.client.query(text, params)),
      transaction: (label, fn) => this.#exclusive(label, (c) => c.transact(fn)),
      now: () => (clock ?? systemClock).now(),
      leaseNow: () => (clock ? clock.now().toISOString() : null),
      batchSize: options.batchSize ?? 5000,
    };
    this.integrations = new PgIntegrations(ctx);
    this.syncLogs = new PgLogs(ctx);
    this.syncStatus = new PgStatus(ctx);
    this.cursors = new PgCursors(ctx);
    this.leases = new PgLeases(ctx);
    this.privacy = new PgPrivacy(ctx);
  }

  /**
   * Create the schema (if configured) and apply pending migrations, recorded in
   * `crm_schema_migrations`. Idempotent, and safe when several processes run it at once: it holds
   * a transaction-scoped advisory lock, so the second waits and then finds nothing to do. All
   * pending migrations apply in one transaction.
   * @throws CrmStorageError when the database is unreachable or a migration fails.
   */
  async migrate(): Promise<void> {
    this.#migrated ??= this.#runExclusive(async (c) => {
      try {
        await c.transact((q) => this.#applyMigrations(q));
      } catch (cause) {
        throw wrap('migrate', cause);
      }
    }).catch((error: unknown) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async #applyMigrations(q: PostgresQueryable): Promise<void> {
    const schema = this.#options.schema ?? null;
    await q.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext(COALESCE($2::text, current_schema()))::int)',
      [MIGRATION_LOCK_NAMESPACE, schema],
    );
    if (schema) await q.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const migrations = this.#table('crm_schema_migrations');
    await q.query(
      `CREATE TABLE IF NOT EXISTS ${migrations} (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await q.query(`SELECT version FROM ${migrations}`);
    const applied = new Set(rows.map((r: Row) => Number(r.version)));
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(this.#table)) await q.query(statement);
      await q.query(`INSERT INTO ${migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
  }

  /** End the pool this storage created from `connectionString`; an injected `pool` stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#client;
    if (!pending) return;
    const opened = await pending.catch(() => undefined);
    await this.#queue.catch(() => undefined);
    await opened?.owned?.end?.();
  }

  #connect(): Promise<{ client: PostgresQueryable; transact: Transactor; owned: PoolLike | undefined }> {
    if (this.#closed)
      return Promise.reject(storageError('closed', 'PostgresStorage: the storage was closed'));
    this.#client ??= (async () => {
      let client = this.#options.pool;
      let owned: PoolLike | undefined;
      if (!client) {
        const mod = await loadPeer('pg', 'PostgresStorage', () => import('pg'));
        const pg = ((mod as { default?: unknown }).default ?? mod) as {
          Pool: new (config: object) => PoolLike & { on(event: string, fn: (e: unknown) => void): void };
        };
        const pool = new pg.Pool({
          connectionString: this.#options.connectionString,
          max: this.#options.maxConnections ?? 10,
        });
        // An idle connection that dies emits 'error' on the pool; unhandled, that would crash the
        // host. The next query fails and surfaces as a CrmStorageError instead.
        pool.on('error', () => {});
        client = owned = pool;
      }
      return { client, transact: transactor(client), owned };
    })().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  #runExclusive<T>(fn: (c: { client: PostgresQueryable; transact: Transactor }) => Promise<T>): Promise<T> {
    return this.#connect().then((c) => {
      if (!isSingleConnection(c.client)) return fn(c);
      const run = this.#queue.then(
        () => fn(c),
        () => fn(c),
      );
      this.#queue = run.catch(() => undefined);
      return run;
    });
  }

  async #exclusive<T>(
    label: string,
    fn: (c: { client: PostgresQueryable; transact: Transactor }) => Promise<T>,
  ): Promise<T> {
    if (this.#options.autoMigrate) await this.migrate();
    try {
      return await this.#runExclusive(fn);
    } catch (cause) {
      throw wrap(label, cause);
    }
  }
}

function isPool(client: PostgresQueryable): client is PoolLike {
  const c = client as Partial<PoolLike> & { idleCount?: unknown };
  // pg.Client also has connect(), but it connects itself rather than lending a client.
  return typeof c.connect === 'function' && typeof c.idleCount === 'number';
}

function isPglite(client: PostgresQueryable): client is PgliteLike {
  return typeof (client as Partial<PgliteLike>).transaction === 'function';
}

function isSingleConnection(client: PostgresQueryable): boolean {
  return !isPool(client) && !isPglite(client);
}

function transactor(client: PostgresQueryable): Transactor {
  if (isPool(client)) {
    return async (fn) => {
      const connection = await client.connect();
      let broken = false;
      try {
        await connection.query('BEGIN');
        const result = await fn(connection);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        connection.release(broken);
      }
    };
  }
  if (isPglite(client)) return (fn) => client.transaction((tx) => fn(tx));
  // A single connection: operations on it are serialised by the storage, so BEGIN/COMMIT are safe.
  return async (fn) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };
}

const RETRYABLE_SQLSTATE = /^(08|40001|40P01|53300|57P0[1-3])/;
const RETRYABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function pgCode(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function wrap(label: string, cause: unknown): Error {
  if (isCrmError(cause)) return cause;
  const code = pgCode(cause);
  if (code === '42P01') {
    return storageError(
      'not_migrated',
      `PostgresStorage: ${label} failed: tables are missing; call migrate()`,
      {
        cause,
      },
    );
  }
  const message = cause instanceof Error ? cause.message : '';
  // Server messages name relations and constraints; bound values only appear in `detail`, which we
  // leave on the cause. The message is redacted by CrmError in any case.
  return storageError('driver', `PostgresStorage: ${label} failed${message ? `: ${message}` : ''}`, {
    cause,
    retryable:
      RETRYABLE_SQLSTATE.test(code) ||
      RETRYABLE_ERRNO.has(code) ||
      // pg reports a dropped socket or a pool wait timeout without a code.
      /Connection terminated|timeout exceeded when trying to connect/i.test(message),
    details: code ? { sqlState: code } : {},
  });
}

interface Ctx {
  t: TableName;
  query(label: string, text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  transaction<T>(label: string, fn: (q: PostgresQueryable) => Promise<T>): Promise<T>;
  now(): Date;
  /** ISO time for lease arithmetic, or null to use the server clock. */
  leaseNow(): string | null;
  batchSize: number;
}

const toDate = (value: unknown): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value));
const { toIntegration, toLog, toStatus, toAudit } = createRowDecoders({
  date: toDate,
  // jsonb arrives parsed from pg and PGlite; text only from unusual client settings.
  json: (value) => (typeof value === 'string' ? JSON.parse(value) : value),
  bool: (value) => value === true || value === 't',
});
const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const INTEGRATION_COLUMNS: Record<keyof CrmIntegrationPatch, [column: string, cast: string]> = {
  instanceUrl: ['instance_url', 'text'],
  credentials: ['credentials', 'text'],
  settings: ['settings', 'jsonb'],
  providerSettings: ['provider_settings', 'jsonb'],
  fieldMappings: ['field_mappings', 'jsonb'],
  syncEnabled: ['sync_enabled', 'boolean'],
  lastSyncAt: ['last_sync_at', 'timestamptz'],
  orgId: ['org_id', 'text'],
};

function duplicate(cause: unknown): Error {
  return storageError('duplicate', 'PostgresStorage: an integration for this user, provider and org exists', {
    cause,
  });
}

class PgIntegrations implements CrmIntegrationStore {
  constructor(private readonly ctx: Ctx) {}

  async create(input: CrmIntegrationInput): Promise<CrmIntegration> {
    const v = normaliseIntegrationInput(input);
    const now = this.ctx.now().toISOString();
    try {
      const { rows } = await this.ctx.query(
        'integrations.create',
        `INSERT INTO ${this.ctx.t('crm_integrations')} (id, user_id, provider, org_id, instance_url, credentials,
           settings, provider_settings, field_mappings, sync_enabled, last_sync_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11::timestamptz, $12::timestamptz, $12::timestamptz)
         RETURNING *`,
        [
          randomUUID(),
          v.userId,
          v.provider,
          v.orgId,
          v.instanceUrl,
          v.credentials,
          JSON.stringify(v.settings),
          JSON.stringify(v.providerSettings),
          JSON.stringify(v.fieldMappings),
          v.syncEnabled,
          iso(v.lastSyncAt),
          now,
        ],
      );
      return toIntegration(rows[0]!);
    } catch (error) {
      if (pgCode((error as { cause?: unknown }).cause) === '23505') throw duplicate(error);
      throw error;
    }
  }

  async get(id: string): Promise<CrmIntegration | null> {
    const { rows } = await this.ctx.query(
      'integrations.get',
      `SELECT * FROM ${this.ctx.t('crm_integrations')} WHERE id = $1`,
      [String(id)],
    );
    return rows[0] ? toIntegration(rows[0]) : null;
  }

  async findByUser(userId: string, provider?: string): Promise<CrmIntegration[]> {
    const { rows } = await this.ctx.query(
      'integrations.findByUser',
      `SELECT * FROM ${this.ctx.t('crm_integrations')}
       WHERE user_id = $1 AND ($2::text IS NULL OR provider = $2::text) ORDER BY created_at, seq`,
      [String(userId), provider ?? null],
    );
    return rows.map(toIntegration);
  }

  async list(): Promise<CrmIntegration[]> {
    const { rows } = await this.ctx.query(
      'integrations.list',
      `SELECT * FROM ${this.ctx.t('crm_integrations')} ORDER BY created_at, seq`,
    );
    return rows.map(toIntegration);
  }

  async update(
    id: string,
    patch: CrmIntegrationPatch,
    options: CrmIntegrationUpdateOptions = {},
  ): Promise<CrmIntegration> {
    const changes = normalisePatch(patch);
    const params: unknown[] = [String(id), this.ctx.now().toISOString()];
    const sets = ['updated_at = $2::timestamptz'];
    for (const [key, value] of Object.entries(changes) as [keyof CrmIntegrationPatch, unknown][]) {
      const [column, cast] = INTEGRATION_COLUMNS[key];
      params.push(
        cast === 'jsonb' ? JSON.stringify(value) : cast === 'timestamptz' ? iso(value as Date | null) : value,
      );
      sets.push(`${column} = $${params.length}::${cast}`);
    }
    let where = 'id = $1';
    if (options.expectedCredentials !== undefined) {
      params.push(options.expectedCredentials);
      where += ` AND credentials = $${params.length}`;
    }
    const table = this.ctx.t('crm_integrations');
    let rows: Row[];
    try {
      ({ rows } = await this.ctx.query(
        'integrations.update',
        `UPDATE ${table} SET ${sets.join(', ')} WHERE ${where} RETURNING *`,
        params,
      ));
    } catch (error) {
      if (pgCode((error as { cause?: unknown }).cause) === '23505') throw duplicate(error);
      throw error;
    }
    if (rows[0]) return toIntegration(rows[0]);
    const exists = await this.ctx.query('integrations.update', `SELECT 1 FROM ${table} WHERE id = $1`, [
      String(id),
    ]);
    if (exists.rows.length === 0) {
      throw storageError('not_found', 'PostgresStorage: integration not found', { details: { id } });
    }
    throw storageError('credentials_conflict', 'PostgresStorage: credentials changed since they were read', {
      details: { id },
    });
  }

  async delete(id: string): Promise<void> {
    const t = this.ctx.t;
    // One statement, so the cascade is atomic on any client.
    await this.ctx.query(
      'integrations.delete',
      `WITH s AS (DELETE FROM ${t('crm_sync_status')} WHERE integration_id = $1),
            l AS (DELETE FROM ${t('crm_sync_logs')} WHERE integration_id = $1),
            c AS (DELETE FROM ${t('crm_sync_cursors')} WHERE integration_id = $1),
            a AS (DELETE FROM ${t('crm_privacy_audit')} WHERE integration_id = $1),
            p AS (DELETE FROM ${t('crm_privacy_suppressions')} WHERE integration_id = $1)
       DELETE FROM ${t('crm_integrations')} WHERE id = $1`,
      [String(id)],
    );
  }
}

const LOG_COLUMNS =
  'id, integration_id, sync_type, entity_type, entity_count, success_count, error_count, started_at, completed_at, error_details';

class PgLogs implements CrmSyncLogStore {
  constructor(private readonly ctx: Ctx) {}

  async start(input: CrmSyncLogStart): Promise<CrmSyncLog> {
    const v = normaliseLogStart(input, this.ctx.now());
    const { rows } = await this.ctx.query(
      'syncLogs.start',
      `INSERT INTO ${this.ctx.t('crm_sync_logs')} (id, integration_id, sync_type, entity_type, entity_count, started_at)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING ${LOG_COLUMNS}`,
      [randomUUID(), v.integrationId, v.syncType, v.entityType, v.entityCount, v.startedAt.toISOString()],
    );
    return toLog(rows[0]!);
  }

  async complete(id: string, completion: CrmSyncLogCompletion): Promise<CrmSyncLog> {
    const v = normaliseLogCompletion(completion, this.ctx.now());
    const { rows } = await this.ctx.query(
      'syncLogs.complete',
      `UPDATE ${this.ctx.t('crm_sync_logs')} SET success_count = $2, error_count = $3, error_details = $4::jsonb,
         completed_at = $5::timestamptz, entity_count = COALESCE($6::integer, entity_count)
       WHERE id = $1 RETURNING ${LOG_COLUMNS}`,
      [
        String(id),
        v.successCount,
        v.errorCount,
        v.errorDetails === null ? null : JSON.stringify(v.errorDetails),
        v.completedAt.toISOString(),
        v.entityCount ?? null,
      ],
    );
    if (!rows[0]) throw storageError('not_found', 'PostgresStorage: sync log not found', { details: { id } });
    return toLog(rows[0]);
  }

  async list(integrationId: string, options?: { limit?: number }): Promise<CrmSyncLog[]> {
    const limit = normaliseLogListLimit(options);
    const { rows } = await this.ctx.query(
      'syncLogs.list',
      `SELECT ${LOG_COLUMNS} FROM ${this.ctx.t('crm_sync_logs')} WHERE integration_id = $1
       ORDER BY started_at DESC, seq DESC LIMIT $2`,
      [String(integrationId), limit],
    );
    return rows.map(toLog);
  }
}

const STATUS_COLUMNS =
  'integration_id, entity_type, external_id, crm_id, sync_status, sync_direction, content_hash, last_synced_at, last_error, state';

function statusJson(rows: NormalisedStatusRow[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      integration_id: r.integrationId,
      entity_type: r.entityType,
      external_id: r.externalId,
      crm_id: r.crmId,
      sync_status: r.status,
      sync_direction: r.direction,
      content_hash: r.contentHash,
      last_synced_at: iso(r.lastSyncedAt),
      last_error: r.lastError,
      state: r.state,
    })),
  );
}

class PgStatus implements CrmSyncStatusStore {
  readonly #upsert: string;

  constructor(private readonly ctx: Ctx) {
    // The whole chunk travels as one JSON parameter: no 65,535-parameter limit, no array-literal
    // escaping, and it works the same on pg and PGlite.
    this.#upsert = `INSERT INTO ${ctx.t('crm_sync_status')} (${STATUS_COLUMNS}, updated_at)
      SELECT ${STATUS_COLUMNS}, now() FROM jsonb_to_recordset($1::jsonb) AS r(
        integration_id text, entity_type text, external_id text, crm_id text, sync_status text,
        sync_direction text, content_hash text, last_synced_at timestamptz, last_error text, state jsonb)
      ON CONFLICT (integration_id, entity_type, external_id) DO UPDATE SET
        crm_id = EXCLUDED.crm_id, sync_status = EXCLUDED.sync_status, sync_direction = EXCLUDED.sync_direction,
        content_hash = EXCLUDED.content_hash, last_synced_at = EXCLUDED.last_synced_at,
        last_error = EXCLUDED.last_error, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`;
  }

  async upsertMany(rows: ReadonlyArray<CrmSyncStatusRow>): Promise<void> {
    // Duplicate keys are collapsed first: ON CONFLICT cannot touch one row twice in a statement.
    const normalised = normaliseStatusRows(rows, false);
    if (normalised.length === 0) return;
    // Serialise every chunk before the first await, so the caller cannot change rows mid-batch.
    const chunks: string[] = [];
    for (let i = 0; i < normalised.length; i += this.ctx.batchSize) {
      chunks.push(statusJson(normalised.slice(i, i + this.ctx.batchSize)));
    }
    if (chunks.length === 1) {
      await this.ctx.query('syncStatus.upsertMany', this.#upsert, chunks);
      return;
    }
    await this.ctx.transaction('syncStatus.upsertMany', async (q) => {
      for (const chunk of chunks) await q.query(this.#upsert, [chunk]);
    });
  }

  async get(key: CrmSyncStatusKey): Promise<CrmSyncStatusRow | null> {
    const { rows } = await this.ctx.query(
      'syncStatus.get',
      `SELECT ${STATUS_COLUMNS} FROM ${this.ctx.t('crm_sync_status')}
       WHERE integration_id = $1 AND entity_type = $2 AND external_id = $3`,
      [String(key.integrationId), String(key.entityType), String(key.externalId)],
    );
    return rows[0] ? toStatus(rows[0]) : null;
  }

  async getByCrmId(key: {
    integrationId: string;
    entityType: CrmEntityType;
    crmId: string;
  }): Promise<CrmSyncStatusRow | null> {
    const { rows } = await this.ctx.query(
      'syncStatus.getByCrmId',
      `SELECT ${STATUS_COLUMNS} FROM ${this.ctx.t('crm_sync_status')}
       WHERE integration_id = $1 AND entity_type = $2 AND crm_id = $3 ORDER BY external_id LIMIT 1`,
      [String(key.integrationId), String(key.entityType), String(key.crmId)],
    );
    return rows[0] ? toStatus(rows[0]) : null;
  }

  async getMany(keys: CrmSyncStatusManyKeys): Promise<Map<string, CrmSyncStatusRow>> {
    const ids = normaliseManyKeys(keys, 'externalIds', keys?.externalIds);
    const out = new Map<string, CrmSyncStatusRow>();
    // The ids are one text[] parameter, a constant to the planner: it probes the key index per id,
    // or, when statistics are missing (right after a first bulk load), filters through a hashed
    // ScalarArrayOp. An array computed in the query (e.g. from jsonb) is not hashed, and EXPLAIN
    // ANALYZE showed 7 s instead of 40 ms for 2,000 ids over 100,000 unanalysed rows.
    const sql = `SELECT ${STATUS_COLUMNS} FROM ${this.ctx.t('crm_sync_status')}
      WHERE integration_id = $1 AND entity_type = $2 AND external_id = ANY($3::text[])`;
    for (let i = 0; i < ids.length; i += this.ctx.batchSize) {
      const chunk = ids.slice(i, i + this.ctx.batchSize);
      const { rows } = await this.ctx.query('syncStatus.getMany', sql, [
        keys.integrationId,
        keys.entityType,
        chunk,
      ]);
      for (const row of rows) {
        const status = toStatus(row);
        out.set(status.externalId, status);
      }
    }
    return out;
  }

  async getManyByCrmId(keys: CrmSyncStatusManyCrmIds): Promise<Map<string, CrmSyncStatusRow>> {
    const ids = normaliseManyKeys(keys, 'crmIds', keys?.crmIds);
    const out = new Map<string, CrmSyncStatusRow>();
    // Unordered; the lowest external_id per CRM id (getByCrmId's choice) is picked while reading.
    const sql = `SELECT ${STATUS_COLUMNS} FROM ${this.ctx.t('crm_sync_status')}
      WHERE integration_id = $1 AND entity_type = $2 AND crm_id = ANY($3::text[])`;
    for (let i = 0; i < ids.length; i += this.ctx.batchSize) {
      const chunk = ids.slice(i, i + this.ctx.batchSize);
      const { rows } = await this.ctx.query('syncStatus.getManyByCrmId', sql, [
        keys.integrationId,
        keys.entityType,
        chunk,
      ]);
      for (const row of rows) keepLowest(out, toStatus(row));
    }
    return out;
  }

  async list(options: CrmSyncStatusListOptions): Promise<CrmSyncStatusRow[]> {
    const o = normaliseListOptions(options);
    const where = ['integration_id = $1'];
    const params: unknown[] = [o.integrationId];
    if (o.status !== undefined) {
      params.push(o.status);
      where.push(`sync_status = $${params.length}`);
    }
    if (o.entityType !== undefined) {
      params.push(o.entityType);
      where.push(`entity_type = $${params.length}`);
    }
    if (o.after !== undefined) {
      params.push(o.after);
      where.push(`external_id > $${params.length}`);
    }
    params.push(o.limit);
    const { rows } = await this.ctx.query(
      'syncStatus.list',
      `SELECT ${STATUS_COLUMNS} FROM ${this.ctx.t('crm_sync_status')} WHERE ${where.join(' AND ')}
       ORDER BY external_id, entity_type COLLATE "C" LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStatus);
  }
}

class PgCursors implements CrmCursorStore {
  constructor(private readonly ctx: Ctx) {}

  async get(integrationId: string, stream: string): Promise<string | null> {
    checkCursorArgs(integrationId, stream);
    const { rows } = await this.ctx.query(
      'cursors.get',
      `SELECT value FROM ${this.ctx.t('crm_sync_cursors')} WHERE integration_id = $1 AND stream = $2`,
      [integrationId, stream],
    );
    return rows[0] ? String(rows[0].value) : null;
  }

  async set(integrationId: string, stream: string, value: string): Promise<void> {
    checkCursorArgs(integrationId, stream, value);
    await this.ctx.query(
      'cursors.set',
      `INSERT INTO ${this.ctx.t('crm_sync_cursors')} (integration_id, stream, value, updated_at)
       VALUES ($1, $2, $3, $4::timestamptz)
       ON CONFLICT (integration_id, stream) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
      [integrationId, stream, value, this.ctx.now().toISOString()],
    );
  }
}

class PgLeases implements CrmLeaseStore {
  constructor(private readonly ctx: Ctx) {}

  async acquire(key: string, ttlMs: number): Promise<CrmLease | null> {
    checkLeaseArgs(key, ttlMs);
    const token = randomUUID();
    const t = this.ctx.t('crm_leases');
    // One atomic statement: insert a free key or take over an expired one. Racing inserts of the
    // same key serialise on the unique index; the loser re-checks the WHERE against the winner's row.
    const { rows } = await this.ctx.query(
      'leases.acquire',
      `INSERT INTO ${t} AS l (key, token, expires_at)
       SELECT $1, $2, n.t + $4::double precision * interval '1 millisecond'
       FROM (SELECT COALESCE($3::timestamptz, clock_timestamp()) AS t) AS n
       ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at <= EXCLUDED.expires_at - $4::double precision * interval '1 millisecond'
       RETURNING token, expires_at`,
      [key, token, this.ctx.leaseNow(), ttlMs],
    );
    const row = rows[0];
    return row ? { key, token, expiresAt: toDate(row.expires_at)! } : null;
  }

  async renew(lease: CrmLease, ttlMs: number): Promise<boolean> {
    checkLease(lease);
    checkLeaseArgs(lease.key, ttlMs);
    // Matching the token is enough: an expired lease nobody took over is still exclusively ours.
    const { rows } = await this.ctx.query(
      'leases.renew',
      `UPDATE ${this.ctx.t('crm_leases')}
       SET expires_at = COALESCE($3::timestamptz, clock_timestamp()) + $4::double precision * interval '1 millisecond'
       WHERE key = $1 AND token = $2 RETURNING 1 AS ok`,
      [lease.key, lease.token, this.ctx.leaseNow(), ttlMs],
    );
    return rows.length === 1;
  }

  async release(lease: CrmLease): Promise<void> {
    checkLease(lease);
    await this.ctx.query(
      'leases.release',
      `DELETE FROM ${this.ctx.t('crm_leases')} WHERE key = $1 AND token = $2`,
      [lease.key, lease.token],
    );
  }
}

const AUDIT_COLUMNS = 'id, integration_id, action, subject_hash, reason, occurred_at, outcome';

/** Rows of `table` removed by a retention rule: older than `before`, or beyond the newest `keepLatest` per integration. */
async function pruneTable(
  q: PostgresQueryable,
  table: string,
  timeColumn: 'started_at' | 'occurred_at',
  integrationId: string | null,
  rule: { before: Date | undefined; keepLatest: number | undefined },
): Promise<number> {
  const { rows } = await q.query(
    `WITH ranked AS (
       SELECT id, ${timeColumn} AS at,
              ROW_NUMBER() OVER (PARTITION BY integration_id ORDER BY ${timeColumn} DESC, seq DESC) AS n
       FROM ${table} WHERE ($1::text IS NULL OR integration_id = $1)
     ), gone AS (
       DELETE FROM ${table} WHERE id IN (
         SELECT id FROM ranked
         WHERE ($2::timestamptz IS NOT NULL AND at < $2::timestamptz) OR ($3::integer IS NOT NULL AND n > $3::integer)
       ) RETURNING 1
     ) SELECT count(*)::integer AS n FROM gone`,
    [integrationId, rule.before?.toISOString() ?? null, rule.keepLatest ?? null],
  );
  return Number(rows[0]?.n ?? 0);
}

class PgPrivacy implements CrmPrivacyStore {
  constructor(private readonly ctx: Ctx) {}

  async erase(target: CrmEraseTarget): Promise<CrmEraseCounts> {
    const v = normaliseEraseTarget(target);
    const t = this.ctx.t;
    return this.ctx.transaction('privacy.erase', async (q) => {
      const deleted = await q.query(
        `WITH gone AS (
           DELETE FROM ${t('crm_sync_status')} WHERE integration_id = $1
             AND (external_id = ANY($2::text[]) OR crm_id = ANY($3::text[]))
           RETURNING 1
         ) SELECT count(*)::integer AS n FROM gone`,
        [v.integrationId, v.externalIds, v.crmIds],
      );
      const { rows: logs } = await q.query(
        `SELECT id, error_details FROM ${t('crm_sync_logs')} WHERE integration_id = $1 AND error_details IS NOT NULL
         FOR UPDATE`,
        [v.integrationId],
      );
      let syncLogs = 0;
      for (const log of logs) {
        const details =
          typeof log.error_details === 'string' ? JSON.parse(log.error_details) : log.error_details;
        const scrubbed = scrubDetails(details as Record<string, unknown>, v.values);
        if (!scrubbed.changed) continue;
        await q.query(`UPDATE ${t('crm_sync_logs')} SET error_details = $2::jsonb WHERE id = $1`, [
          log.id,
          JSON.stringify(scrubbed.details),
        ]);
        syncLogs += 1;
      }
      return { statusRows: Number(deleted.rows[0]?.n ?? 0), syncLogs };
    });
  }

  async appendAudit(entry: CrmPrivacyAuditInput): Promise<CrmPrivacyAuditEntry> {
    const v = normaliseAuditInput(entry, this.ctx.now());
    const { rows } = await this.ctx.query(
      'privacy.appendAudit',
      `INSERT INTO ${this.ctx.t('crm_privacy_audit')} (id, integration_id, action, subject_hash, reason, occurred_at, outcome)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::jsonb) RETURNING ${AUDIT_COLUMNS}`,
      [
        randomUUID(),
        v.integrationId,
        v.action,
        v.subjectHash,
        v.reason,
        v.occurredAt.toISOString(),
        JSON.stringify(v.outcome),
      ],
    );
    return toAudit(rows[0]!);
  }

  async listAudit(integrationId: string, options?: { limit?: number }): Promise<CrmPrivacyAuditEntry[]> {
    const limit = normaliseAuditListLimit(options);
    const { rows } = await this.ctx.query(
      'privacy.listAudit',
      `SELECT ${AUDIT_COLUMNS} FROM ${this.ctx.t('crm_privacy_audit')} WHERE integration_id = $1
       ORDER BY occurred_at DESC, seq DESC LIMIT $2`,
      [String(integrationId), limit],
    );
    return rows.map(toAudit);
  }

  async suppress(keys: CrmSuppressionKeys): Promise<void> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    await this.ctx.query(
      'privacy.suppress',
      `INSERT INTO ${this.ctx.t('crm_privacy_suppressions')} (integration_id, subject_hash, created_at)
       SELECT $1, h, $3::timestamptz FROM unnest($2::text[]) AS h
       ON CONFLICT (integration_id, subject_hash) DO NOTHING`,
      [integrationId, hashes, this.ctx.now().toISOString()],
    );
  }

  async unsuppress(keys: CrmSuppressionKeys): Promise<void> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    await this.ctx.query(
      'privacy.unsuppress',
      `DELETE FROM ${this.ctx.t('crm_privacy_suppressions')} WHERE integration_id = $1 AND subject_hash = ANY($2::text[])`,
      [integrationId, hashes],
    );
  }

  async findSuppressed(keys: CrmSuppressionKeys): Promise<Set<string>> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    if (hashes.length === 0) return new Set();
    const { rows } = await this.ctx.query(
      'privacy.findSuppressed',
      `SELECT subject_hash FROM ${this.ctx.t('crm_privacy_suppressions')}
       WHERE integration_id = $1 AND subject_hash = ANY($2::text[])`,
      [integrationId, hashes],
    );
    return new Set(rows.map((row) => String(row.subject_hash)));
  }

  async prune(request: CrmPruneRequest): Promise<CrmPruneCounts> {
    const r = normalisePruneRequest(request);
    const scope = r.integrationId ?? null;
    const t = this.ctx.t;
    return this.ctx.transaction('privacy.prune', async (q) => {
      const counts: CrmPruneCounts = { syncLogs: 0, auditEntries: 0, streamRecords: 0 };
      if (r.syncLogs)
        counts.syncLogs = await pruneTable(q, t('crm_sync_logs'), 'started_at', scope, r.syncLogs);
      if (r.auditEntries) {
        counts.auditEntries = await pruneTable(
          q,
          t('crm_privacy_audit'),
          'occurred_at',
          scope,
          r.auditEntries,
        );
      }
      if (r.streamRecords) {
        // left() instead of LIKE: a prefix may contain `%` or `_`.
        const { rows } = await q.query(
          `WITH gone AS (
             DELETE FROM ${t('crm_sync_cursors')} WHERE ($1::text IS NULL OR integration_id = $1)
               AND updated_at < $2::timestamptz
               AND EXISTS (SELECT 1 FROM unnest($3::text[]) AS p WHERE left(stream, length(p)) = p)
             RETURNING 1
           ) SELECT count(*)::integer AS n FROM gone`,
          [scope, r.streamRecords.before.toISOString(), r.streamRecords.prefixes],
        );
        counts.streamRecords = Number(rows[0]?.n ?? 0);
      }
      return counts;
    });
  }
}
