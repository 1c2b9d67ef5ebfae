/**
 * `@markmail/crm/storage/sqlite`: `CrmStorage` on SQLite, through `better-sqlite3` (an optional
 * peer dependency, loaded on first use) or Node's built-in `node:sqlite`.
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
import { SQLITE_MIGRATIONS } from './sqlite/migrations.js';
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

/** The statement API shared by `better-sqlite3` and `node:sqlite`. */
export interface SqliteStatementLike {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The database API shared by a `better-sqlite3` `Database` and a `node:sqlite` `DatabaseSync`;
 * pass either as `database`.
 */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  close(): unknown;
}

/** Which driver opens `filename`. */
export type SqliteDriver = 'better-sqlite3' | 'node:sqlite';

/** Options of {@link SqliteStorage}. Give exactly one of `filename` and `database`. */
export interface SqliteStorageOptions {
  /** Database file path, or `':memory:'`. Files are opened in WAL mode. */
  filename?: string;
  /**
   * An open database (better-sqlite3 `Database` or node:sqlite `DatabaseSync`). The storage does
   * not close it: whoever opened it does.
   */
  database?: SqliteDatabaseLike;
  /**
   * Driver used to open `filename`. `better-sqlite3` is mature and fast; `node:sqlite` needs no
   * install but is still experimental in Node 22 (it prints an ExperimentalWarning).
   * @default 'better-sqlite3'
   */
  driver?: SqliteDriver;
  /** Source of "now" for timestamps and lease expiry. @default the system clock */
  clock?: CrmClock;
  /**
   * Run {@link SqliteStorage.migrate} before the first operation. The schema belongs to this
   * package, so for an embedded database this is the convenient default.
   * @default true
   */
  autoMigrate?: boolean;
  /** How long a write waits for another process's lock, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
}

const OPTION_KEYS = new Set(['filename', 'database', 'driver', 'clock', 'autoMigrate', 'busyTimeoutMs']);
type Row = Record<string, unknown>;

/**
 * `CrmStorage` on SQLite: a file (WAL journal, so readers never block the writer) or
 * `':memory:'`. Statements are prepared once and reused; `upsertMany` and cascading deletes run
 * in one transaction. Several processes may share a file: writes take SQLite's write lock
 * (`BEGIN IMMEDIATE`, waiting up to `busyTimeoutMs`) and leases are single atomic statements.
 *
 * @example
 * ```ts
 * import { SqliteStorage } from '@markmail/crm/storage/sqlite';
 * const storage = new SqliteStorage({ filename: './crm.db' });
 * await storage.migrate(); // optional: runs on first use by default
 * ```
 *
 * @throws CrmConfigurationError for invalid options, or (on first use) when the driver package
 *   is not installed.
 */
export class SqliteStorage implements CrmStorage {
  readonly integrations: CrmIntegrationStore;
  readonly syncLogs: CrmSyncLogStore;
  /** Includes the optional batch reads `getMany` and `getManyByCrmId`. */
  readonly syncStatus: Required<CrmSyncStatusStore>;
  readonly cursors: CrmCursorStore;
  readonly leases: CrmLeaseStore;
  /**
   * Erasure, audit, suppression and retention. Erased rows are not recoverable from the database
   * file: the connection runs with `PRAGMA secure_delete = ON` (freed space is zeroed), and after
   * an erasure the WAL is checkpointed and truncated, so old page images do not linger there.
   */
  readonly privacy: CrmPrivacyStore;
  readonly #options: SqliteStorageOptions;
  readonly #clock: CrmClock;
  #connection: Promise<Connection> | undefined;
  #migrated: Promise<void> | undefined;
  #closed = false;

  constructor(options: SqliteStorageOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new CrmConfigurationError('SqliteStorage: options are required ({ filename } or { database })');
    }
    assertKnownOptions('SqliteStorage', options, OPTION_KEYS);
    if ((options.filename === undefined) === (options.database === undefined)) {
      throw new CrmConfigurationError('SqliteStorage: give exactly one of `filename` and `database`', {
        details: { reason: 'invalid_option' },
      });
    }
    if (options.filename !== undefined && (typeof options.filename !== 'string' || options.filename === '')) {
      throw new CrmConfigurationError('SqliteStorage: `filename` must be a path or ":memory:"', {
        details: { reason: 'invalid_option', option: 'filename' },
      });
    }
    if (options.database !== undefined && typeof options.database?.prepare !== 'function') {
      throw new CrmConfigurationError(
        'SqliteStorage: `database` must be a better-sqlite3 or node:sqlite database',
        {
          details: { reason: 'invalid_option', option: 'database' },
        },
      );
    }
    if (
      options.driver !== undefined &&
      options.driver !== 'better-sqlite3' &&
      options.driver !== 'node:sqlite'
    ) {
      throw new CrmConfigurationError("SqliteStorage: `driver` must be 'better-sqlite3' or 'node:sqlite'", {
        details: { reason: 'invalid_option', option: 'driver' },
      });
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const ctx: Ctx = {
      run: (label, fn) => this.#run(label, fn),
      now: () => this.#clock.now().getTime(),
    };
    this.integrations = new SqliteIntegrations(ctx);
    this.syncLogs = new SqliteLogs(ctx);
    this.syncStatus = new SqliteStatus(ctx);
    this.cursors = new SqliteCursors(ctx);
    this.leases = new SqliteLeases(ctx);
    this.privacy = new SqlitePrivacy(ctx);
  }

  /**
   * Create or upgrade the schema. Idempotent, and safe when several processes call it at once
   * (it runs under SQLite's write lock).
   * @throws CrmStorageError when the database cannot be opened or a migration fails.
   */
  async migrate(): Promise<void> {
    const connection = await this.#open();
    this.#migrated ??= Promise.resolve().then(() => {
      try {
        migrateSqlite(connection);
      } catch (cause) {
        this.#migrated = undefined;
        throw wrap('migrate', cause);
      }
    });
    return this.#migrated;
  }

  /** Close the database if this storage opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#connection;
    if (!pending) return;
    const connection = await pending.catch(() => undefined);
    if (connection && this.#options.database === undefined) connection.db.close();
  }

  #open(): Promise<Connection> {
    if (this.#closed) return Promise.reject(storageError('closed', 'SqliteStorage: the storage was closed'));
    this.#connection ??= this.#connect().catch((error: unknown) => {
      this.#connection = undefined;
      throw error;
    });
    return this.#connection;
  }

  async #connect(): Promise<Connection> {
    const { filename, database } = this.#options;
    let db: SqliteDatabaseLike;
    if (database) db = database;
    else if (this.#options.driver === 'node:sqlite') {
      // node:sqlite is built in on every supported Node; only `--no-experimental-sqlite` removes it.
      const { DatabaseSync } = await import('node:sqlite').catch((cause: unknown) => {
        throw new CrmConfigurationError(
          "SqliteStorage: driver 'node:sqlite' is not available in this Node.js process (was it started with --no-experimental-sqlite?)",
          {
            cause,
            details: { reason: 'missing_driver', package: 'node:sqlite' },
          },
        );
      });
      db = openWith(() => new DatabaseSync(filename!) as unknown as SqliteDatabaseLike);
    } else {
      const mod = await loadPeer('better-sqlite3', 'SqliteStorage', () => import('better-sqlite3'));
      const Database = (mod as { default: new (file: string) => SqliteDatabaseLike }).default;
      db = openWith(() => new Database(filename!));
    }
    try {
      const busy = this.#options.busyTimeoutMs ?? 5000;
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busy))}`);
      // Deleted rows otherwise linger in free space of the file, where anyone with the file can
      // read an erased person back; secure_delete zeroes them as they are deleted.
      db.exec('PRAGMA secure_delete = ON');
      if (filename !== undefined && filename !== ':memory:') {
        // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
        // in WAL mode (only an OS crash can lose the last commits), and much faster than FULL.
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = NORMAL');
      }
    } catch (cause) {
      if (!database) db.close();
      throw wrap('open', cause);
    }
    return new Connection(db);
  }

  async #run<T>(label: string, fn: (c: Connection) => T): Promise<T> {
    const connection = await this.#open();
    if (this.#options.autoMigrate ?? true) await this.migrate();
    try {
      return fn(connection);
    } catch (cause) {
      throw wrap(label, cause);
    }
  }
}

function openWith(open: () => SqliteDatabaseLike): SqliteDatabaseLike {
  try {
    return open();
  } catch (cause) {
    throw wrap('open', cause);
  }
}

/** One open database with its prepared-statement cache. */
class Connection {
  readonly #statements = new Map<string, SqliteStatementLike>();
  constructor(readonly db: SqliteDatabaseLike) {}

  statement(sql: string): SqliteStatementLike {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  all(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  get(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  run(sql: string, ...params: unknown[]): number {
    return Number(this.statement(sql).run(...params).changes);
  }

  /** Run `fn` in a write transaction; `BEGIN IMMEDIATE` takes the write lock up front, so it cannot deadlock on upgrade. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // The transaction may already be gone (SQLite rolls back on some errors itself).
      }
      throw error;
    }
  }
}

function migrateSqlite(connection: Connection): void {
  connection.transaction(() => {
    connection.db.exec(
      'CREATE TABLE IF NOT EXISTS crm_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied = new Set(
      (connection.db.prepare('SELECT version FROM crm_schema_migrations').all() as Row[]).map((r) =>
        Number(r.version),
      ),
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const sql of migration.statements) connection.db.exec(sql);
      connection.db
        .prepare('INSERT INTO crm_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.version, migration.name, Date.now());
    }
  });
}

function errorText(cause: unknown): { code: string; message: string; errcode: number | undefined } {
  const e = cause as { code?: unknown; message?: unknown; errcode?: unknown } | null;
  return {
    code: typeof e?.code === 'string' ? e.code : '',
    message: typeof e?.message === 'string' ? e.message : '',
    errcode: typeof e?.errcode === 'number' ? e.errcode : undefined,
  };
}

function isUniqueViolation(cause: unknown): boolean {
  const { code, message, errcode } = errorText(cause);
  // better-sqlite3 sets code SQLITE_CONSTRAINT_UNIQUE; node:sqlite sets errcode 2067.
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' || errcode === 2067 || message.includes('UNIQUE constraint failed')
  );
}

function wrap(label: string, cause: unknown): Error {
  if (isCrmError(cause)) return cause;
  const { code, message } = errorText(cause);
  if (message.includes('no such table')) {
    return storageError(
      'not_migrated',
      `SqliteStorage: ${label} failed: the schema is missing; call migrate()`,
      {
        cause,
      },
    );
  }
  const busy =
    code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || message.includes('locked');
  // Driver messages name tables and constraints, never bound values, so they are safe to keep.
  return storageError('driver', `SqliteStorage: ${label} failed${message ? `: ${message}` : ''}`, {
    cause,
    retryable: busy,
  });
}

interface Ctx {
  run<T>(label: string, fn: (c: Connection) => T): Promise<T>;
  now(): number;
}

const date = (value: unknown): Date | null =>
  value === null || value === undefined ? null : new Date(Number(value));
const ms = (value: Date | null): number | null => (value === null ? null : value.getTime());
const { toIntegration, toLog, toStatus, toAudit } = createRowDecoders({
  date,
  json: (value) => JSON.parse(String(value)),
  bool: (value) => Number(value) === 1,
});

const INTEGRATION_COLUMNS: Record<keyof CrmIntegrationPatch, string> = {
  instanceUrl: 'instance_url',
  credentials: 'credentials',
  settings: 'settings',
  providerSettings: 'provider_settings',
  fieldMappings: 'field_mappings',
  syncEnabled: 'sync_enabled',
  lastSyncAt: 'last_sync_at',
  orgId: 'org_id',
};

function toColumnValue(key: keyof CrmIntegrationPatch, value: unknown): unknown {
  switch (key) {
    case 'settings':
    case 'providerSettings':
    case 'fieldMappings':
      return JSON.stringify(value);
    case 'syncEnabled':
      return value ? 1 : 0;
    case 'lastSyncAt':
      return ms(value as Date | null);
    default:
      return value;
  }
}

class SqliteIntegrations implements CrmIntegrationStore {
  constructor(private readonly ctx: Ctx) {}

  async create(input: CrmIntegrationInput): Promise<CrmIntegration> {
    const v = normaliseIntegrationInput(input);
    const id = randomUUID();
    const now = this.ctx.now();
    return this.ctx.run('integrations.create', (c) => {
      try {
        c.run(
          `INSERT INTO crm_integrations (id, user_id, provider, org_id, instance_url, credentials, settings,
             provider_settings, field_mappings, sync_enabled, last_sync_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          id,
          v.userId,
          v.provider,
          v.orgId,
          v.instanceUrl,
          v.credentials,
          JSON.stringify(v.settings),
          JSON.stringify(v.providerSettings),
          JSON.stringify(v.fieldMappings),
          v.syncEnabled ? 1 : 0,
          ms(v.lastSyncAt),
          now,
          now,
        );
      } catch (cause) {
        if (isUniqueViolation(cause)) {
          throw storageError(
            'duplicate',
            'SqliteStorage: an integration for this user, provider and org exists',
            {
              cause,
            },
          );
        }
        throw cause;
      }
      return toIntegration(c.get('SELECT * FROM crm_integrations WHERE id = ?', id)!);
    });
  }

  async get(id: string): Promise<CrmIntegration | null> {
    return this.ctx.run('integrations.get', (c) => {
      const row = c.get('SELECT * FROM crm_integrations WHERE id = ?', String(id));
      return row ? toIntegration(row) : null;
    });
  }

  async findByUser(userId: string, provider?: string): Promise<CrmIntegration[]> {
    return this.ctx.run('integrations.findByUser', (c) =>
      (provider === undefined
        ? c.all('SELECT * FROM crm_integrations WHERE user_id = ? ORDER BY created_at, rowid', String(userId))
        : c.all(
            'SELECT * FROM crm_integrations WHERE user_id = ? AND provider = ? ORDER BY created_at, rowid',
            String(userId),
            String(provider),
          )
      ).map(toIntegration),
    );
  }

  async list(): Promise<CrmIntegration[]> {
    return this.ctx.run('integrations.list', (c) =>
      c.all('SELECT * FROM crm_integrations ORDER BY created_at, rowid').map(toIntegration),
    );
  }

  async update(
    id: string,
    patch: CrmIntegrationPatch,
    options: CrmIntegrationUpdateOptions = {},
  ): Promise<CrmIntegration> {
    const changes = normalisePatch(patch);
    const now = this.ctx.now();
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [key, value] of Object.entries(changes) as [keyof CrmIntegrationPatch, unknown][]) {
      sets.push(`${INTEGRATION_COLUMNS[key]} = ?`);
      params.push(toColumnValue(key, value));
    }
    sets.push('updated_at = ?');
    params.push(now, String(id));
    let where = 'id = ?';
    if (options.expectedCredentials !== undefined) {
      where += ' AND credentials = ?';
      params.push(options.expectedCredentials);
    }
    return this.ctx.run('integrations.update', (c) => {
      let changed: number;
      try {
        changed = c.run(`UPDATE crm_integrations SET ${sets.join(', ')} WHERE ${where}`, ...params);
      } catch (cause) {
        if (isUniqueViolation(cause)) {
          throw storageError(
            'duplicate',
            'SqliteStorage: an integration for this user, provider and org exists',
            {
              cause,
            },
          );
        }
        throw cause;
      }
      const row = c.get('SELECT * FROM crm_integrations WHERE id = ?', String(id));
      if (!row) throw storageError('not_found', 'SqliteStorage: integration not found', { details: { id } });
      if (changed === 0) {
        throw storageError(
          'credentials_conflict',
          'SqliteStorage: credentials changed since they were read',
          {
            details: { id },
          },
        );
      }
      return toIntegration(row);
    });
  }

  async delete(id: string): Promise<void> {
    await this.ctx.run('integrations.delete', (c) =>
      c.transaction(() => {
        for (const table of [
          'crm_sync_status',
          'crm_sync_logs',
          'crm_sync_cursors',
          'crm_privacy_audit',
          'crm_privacy_suppressions',
        ]) {
          c.run(`DELETE FROM ${table} WHERE integration_id = ?`, String(id));
        }
        c.run('DELETE FROM crm_integrations WHERE id = ?', String(id));
      }),
    );
  }
}

class SqliteLogs implements CrmSyncLogStore {
  constructor(private readonly ctx: Ctx) {}

  async start(input: CrmSyncLogStart): Promise<CrmSyncLog> {
    const v = normaliseLogStart(input, new Date(this.ctx.now()));
    const id = randomUUID();
    return this.ctx.run('syncLogs.start', (c) => {
      c.run(
        `INSERT INTO crm_sync_logs (id, integration_id, sync_type, entity_type, entity_count, started_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        id,
        v.integrationId,
        v.syncType,
        v.entityType,
        v.entityCount,
        v.startedAt.getTime(),
      );
      return toLog(c.get('SELECT * FROM crm_sync_logs WHERE id = ?', id)!);
    });
  }

  async complete(id: string, completion: CrmSyncLogCompletion): Promise<CrmSyncLog> {
    const v = normaliseLogCompletion(completion, new Date(this.ctx.now()));
    return this.ctx.run('syncLogs.complete', (c) => {
      const changed = c.run(
        `UPDATE crm_sync_logs SET success_count = ?, error_count = ?, error_details = ?, completed_at = ?,
           entity_count = COALESCE(?, entity_count) WHERE id = ?`,
        v.successCount,
        v.errorCount,
        v.errorDetails === null ? null : JSON.stringify(v.errorDetails),
        v.completedAt.getTime(),
        v.entityCount ?? null,
        String(id),
      );
      if (changed === 0)
        throw storageError('not_found', 'SqliteStorage: sync log not found', { details: { id } });
      return toLog(c.get('SELECT * FROM crm_sync_logs WHERE id = ?', String(id))!);
    });
  }

  async list(integrationId: string, options?: { limit?: number }): Promise<CrmSyncLog[]> {
    const limit = normaliseLogListLimit(options);
    return this.ctx.run('syncLogs.list', (c) =>
      c
        .all(
          'SELECT * FROM crm_sync_logs WHERE integration_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?',
          String(integrationId),
          limit,
        )
        .map(toLog),
    );
  }
}

const UPSERT_STATUS = `INSERT INTO crm_sync_status (integration_id, entity_type, external_id, crm_id, sync_status,
    sync_direction, content_hash, last_synced_at, last_error, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (integration_id, entity_type, external_id) DO UPDATE SET
    crm_id = excluded.crm_id, sync_status = excluded.sync_status, sync_direction = excluded.sync_direction,
    content_hash = excluded.content_hash, last_synced_at = excluded.last_synced_at,
    last_error = excluded.last_error, state = excluded.state`;

/** Ids per `getMany` query: bounds one statement's result while keeping round trips few. */
const MANY_CHUNK = 1000;

class SqliteStatus implements CrmSyncStatusStore {
  constructor(private readonly ctx: Ctx) {}

  async upsertMany(rows: ReadonlyArray<CrmSyncStatusRow>): Promise<void> {
    const normalised = normaliseStatusRows(rows, false);
    if (normalised.length === 0) return;
    await this.ctx.run('syncStatus.upsertMany', (c) => {
      const statement = c.statement(UPSERT_STATUS);
      c.transaction(() => {
        for (const r of normalised) {
          statement.run(
            r.integrationId,
            r.entityType,
            r.externalId,
            r.crmId,
            r.status,
            r.direction,
            r.contentHash,
            ms(r.lastSyncedAt),
            r.lastError,
            r.state === null ? null : JSON.stringify(r.state),
          );
        }
      });
    });
  }

  async get(key: CrmSyncStatusKey): Promise<CrmSyncStatusRow | null> {
    return this.ctx.run('syncStatus.get', (c) => {
      const row = c.get(
        'SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ? AND external_id = ?',
        String(key.integrationId),
        String(key.entityType),
        String(key.externalId),
      );
      return row ? toStatus(row) : null;
    });
  }

  async getByCrmId(key: {
    integrationId: string;
    entityType: CrmEntityType;
    crmId: string;
  }): Promise<CrmSyncStatusRow | null> {
    return this.ctx.run('syncStatus.getByCrmId', (c) => {
      const row = c.get(
        `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ? AND crm_id = ?
         ORDER BY external_id LIMIT 1`,
        String(key.integrationId),
        String(key.entityType),
        String(key.crmId),
      );
      return row ? toStatus(row) : null;
    });
  }

  async getMany(keys: CrmSyncStatusManyKeys): Promise<Map<string, CrmSyncStatusRow>> {
    const ids = normaliseManyKeys(keys, 'externalIds', keys?.externalIds);
    const out = new Map<string, CrmSyncStatusRow>();
    if (ids.length === 0) return out;
    // The ids travel as one JSON parameter: one prepared statement for any count, no variable limit.
    const sql = `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ?
      AND external_id IN (SELECT value FROM json_each(?))`;
    return this.ctx.run('syncStatus.getMany', (c) => {
      for (let i = 0; i < ids.length; i += MANY_CHUNK) {
        const chunk = JSON.stringify(ids.slice(i, i + MANY_CHUNK));
        for (const row of c.all(sql, keys.integrationId, keys.entityType, chunk)) {
          const status = toStatus(row);
          out.set(status.externalId, status);
        }
      }
      return out;
    });
  }

  async getManyByCrmId(keys: CrmSyncStatusManyCrmIds): Promise<Map<string, CrmSyncStatusRow>> {
    const ids = normaliseManyKeys(keys, 'crmIds', keys?.crmIds);
    const out = new Map<string, CrmSyncStatusRow>();
    if (ids.length === 0) return out;
    // No ORDER BY: SQLite would satisfy it with the primary key and scan the whole integration.
    // The lowest external_id per CRM id (what getByCrmId returns) is picked here instead.
    const sql = `SELECT * FROM crm_sync_status WHERE integration_id = ? AND entity_type = ?
      AND crm_id IN (SELECT value FROM json_each(?))`;
    return this.ctx.run('syncStatus.getManyByCrmId', (c) => {
      for (let i = 0; i < ids.length; i += MANY_CHUNK) {
        const chunk = JSON.stringify(ids.slice(i, i + MANY_CHUNK));
        for (const row of c.all(sql, keys.integrationId, keys.entityType, chunk)) {
          const status = toStatus(row);
          keepLowest(out, status);
        }
      }
      return out;
    });
  }

  async list(options: CrmSyncStatusListOptions): Promise<CrmSyncStatusRow[]> {
    const o = normaliseListOptions(options);
    const where = ['integration_id = ?'];
    const params: unknown[] = [o.integrationId];
    if (o.status !== undefined) {
      where.push('sync_status = ?');
      params.push(o.status);
    }
    if (o.entityType !== undefined) {
      where.push('entity_type = ?');
      params.push(o.entityType);
    }
    if (o.after !== undefined) {
      where.push('external_id > ?');
      params.push(o.after);
    }
    params.push(o.limit);
    return this.ctx.run('syncStatus.list', (c) =>
      c
        .all(
          `SELECT * FROM crm_sync_status WHERE ${where.join(' AND ')} ORDER BY external_id, entity_type LIMIT ?`,
          ...params,
        )
        .map(toStatus),
    );
  }
}

class SqliteCursors implements CrmCursorStore {
  constructor(private readonly ctx: Ctx) {}

  async get(integrationId: string, stream: string): Promise<string | null> {
    checkCursorArgs(integrationId, stream);
    return this.ctx.run('cursors.get', (c) => {
      const row = c.get(
        'SELECT value FROM crm_sync_cursors WHERE integration_id = ? AND stream = ?',
        integrationId,
        stream,
      );
      return row ? String(row.value) : null;
    });
  }

  async set(integrationId: string, stream: string, value: string): Promise<void> {
    checkCursorArgs(integrationId, stream, value);
    const now = this.ctx.now();
    await this.ctx.run('cursors.set', (c) =>
      c.run(
        `INSERT INTO crm_sync_cursors (integration_id, stream, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (integration_id, stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        integrationId,
        stream,
        value,
        now,
      ),
    );
  }
}

class SqliteLeases implements CrmLeaseStore {
  constructor(private readonly ctx: Ctx) {}

  async acquire(key: string, ttlMs: number): Promise<CrmLease | null> {
    checkLeaseArgs(key, ttlMs);
    const now = this.ctx.now();
    const token = randomUUID();
    const expiresAt = now + ttlMs;
    // One statement: insert a free key, or take over an expired one; a live lease is untouched.
    const changed = await this.ctx.run('leases.acquire', (c) =>
      c.run(
        `INSERT INTO crm_leases (key, token, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
         WHERE crm_leases.expires_at <= ?`,
        key,
        token,
        expiresAt,
        now,
      ),
    );
    return changed === 1 ? { key, token, expiresAt: new Date(expiresAt) } : null;
  }

  async renew(lease: CrmLease, ttlMs: number): Promise<boolean> {
    checkLease(lease);
    checkLeaseArgs(lease.key, ttlMs);
    const expiresAt = this.ctx.now() + ttlMs;
    // Matching the token is enough: an expired lease nobody took over is still exclusively ours.
    const changed = await this.ctx.run('leases.renew', (c) =>
      c.run(
        'UPDATE crm_leases SET expires_at = ? WHERE key = ? AND token = ?',
        expiresAt,
        lease.key,
        lease.token,
      ),
    );
    return changed === 1;
  }

  async release(lease: CrmLease): Promise<void> {
    checkLease(lease);
    await this.ctx.run('leases.release', (c) =>
      c.run('DELETE FROM crm_leases WHERE key = ? AND token = ?', lease.key, lease.token),
    );
  }
}

/** A retention rule's `before` and `keepLatest` as SQL: rows removed from `table` (ordered by `timeColumn`). */
function pruneTable(
  c: Connection,
  table: 'crm_sync_logs' | 'crm_privacy_audit',
  timeColumn: 'started_at' | 'occurred_at',
  integrationId: string | null,
  rule: { before: Date | undefined; keepLatest: number | undefined },
): number {
  let removed = 0;
  if (rule.before !== undefined) {
    removed += c.run(
      `DELETE FROM ${table} WHERE (? IS NULL OR integration_id = ?) AND ${timeColumn} < ?`,
      integrationId,
      integrationId,
      rule.before.getTime(),
    );
  }
  if (rule.keepLatest !== undefined) {
    removed += c.run(
      `DELETE FROM ${table} WHERE rowid IN (
         SELECT rowid FROM (
           SELECT rowid, ROW_NUMBER() OVER (PARTITION BY integration_id ORDER BY ${timeColumn} DESC, rowid DESC) AS n
           FROM ${table} WHERE (? IS NULL OR integration_id = ?)
         ) WHERE n > ?
       )`,
      integrationId,
      integrationId,
      rule.keepLatest,
    );
  }
  return removed;
}

class SqlitePrivacy implements CrmPrivacyStore {
  constructor(private readonly ctx: Ctx) {}

  async erase(target: CrmEraseTarget): Promise<CrmEraseCounts> {
    const t = normaliseEraseTarget(target);
    return this.ctx.run('privacy.erase', (c) => {
      const counts = c.transaction(() => {
        const statusRows = c.run(
          `DELETE FROM crm_sync_status WHERE integration_id = ?
             AND (external_id IN (SELECT value FROM json_each(?)) OR crm_id IN (SELECT value FROM json_each(?)))`,
          t.integrationId,
          JSON.stringify(t.externalIds),
          JSON.stringify(t.crmIds),
        );
        let syncLogs = 0;
        const logs = c.all(
          'SELECT id, error_details FROM crm_sync_logs WHERE integration_id = ? AND error_details IS NOT NULL',
          t.integrationId,
        );
        for (const log of logs) {
          const scrubbed = scrubDetails(JSON.parse(String(log.error_details)), t.values);
          if (!scrubbed.changed) continue;
          c.run(
            'UPDATE crm_sync_logs SET error_details = ? WHERE id = ?',
            JSON.stringify(scrubbed.details),
            log.id,
          );
          syncLogs += 1;
        }
        return { statusRows, syncLogs };
      });
      // In WAL mode the old page images stay in the -wal file until a checkpoint; TRUNCATE copies
      // the zeroed pages into the database and empties the WAL. A reader holding an old snapshot
      // can stop it from completing; the next checkpoint then finishes the job.
      c.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return counts;
    });
  }

  async appendAudit(entry: CrmPrivacyAuditInput): Promise<CrmPrivacyAuditEntry> {
    const v = normaliseAuditInput(entry, new Date(this.ctx.now()));
    const id = randomUUID();
    return this.ctx.run('privacy.appendAudit', (c) => {
      c.run(
        `INSERT INTO crm_privacy_audit (id, integration_id, action, subject_hash, reason, occurred_at, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        id,
        v.integrationId,
        v.action,
        v.subjectHash,
        v.reason,
        v.occurredAt.getTime(),
        JSON.stringify(v.outcome),
      );
      return toAudit(c.get('SELECT * FROM crm_privacy_audit WHERE id = ?', id)!);
    });
  }

  async listAudit(integrationId: string, options?: { limit?: number }): Promise<CrmPrivacyAuditEntry[]> {
    const limit = normaliseAuditListLimit(options);
    return this.ctx.run('privacy.listAudit', (c) =>
      c
        .all(
          'SELECT * FROM crm_privacy_audit WHERE integration_id = ? ORDER BY occurred_at DESC, rowid DESC LIMIT ?',
          String(integrationId),
          limit,
        )
        .map(toAudit),
    );
  }

  async suppress(keys: CrmSuppressionKeys): Promise<void> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    const now = this.ctx.now();
    await this.ctx.run('privacy.suppress', (c) =>
      c.transaction(() => {
        for (const hash of hashes) {
          c.run(
            `INSERT INTO crm_privacy_suppressions (integration_id, subject_hash, created_at) VALUES (?, ?, ?)
             ON CONFLICT (integration_id, subject_hash) DO NOTHING`,
            integrationId,
            hash,
            now,
          );
        }
      }),
    );
  }

  async unsuppress(keys: CrmSuppressionKeys): Promise<void> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    await this.ctx.run('privacy.unsuppress', (c) =>
      c.run(
        'DELETE FROM crm_privacy_suppressions WHERE integration_id = ? AND subject_hash IN (SELECT value FROM json_each(?))',
        integrationId,
        JSON.stringify(hashes),
      ),
    );
  }

  async findSuppressed(keys: CrmSuppressionKeys): Promise<Set<string>> {
    const { integrationId, hashes } = normaliseSuppressionKeys(keys);
    if (hashes.length === 0) return new Set();
    return this.ctx.run(
      'privacy.findSuppressed',
      (c) =>
        new Set(
          c
            .all(
              'SELECT subject_hash FROM crm_privacy_suppressions WHERE integration_id = ? AND subject_hash IN (SELECT value FROM json_each(?))',
              integrationId,
              JSON.stringify(hashes),
            )
            .map((row) => String(row.subject_hash)),
        ),
    );
  }

  async prune(request: CrmPruneRequest): Promise<CrmPruneCounts> {
    const r = normalisePruneRequest(request);
    const scope = r.integrationId ?? null;
    return this.ctx.run('privacy.prune', (c) =>
      c.transaction(() => {
        const counts: CrmPruneCounts = { syncLogs: 0, auditEntries: 0, streamRecords: 0 };
        if (r.syncLogs) counts.syncLogs = pruneTable(c, 'crm_sync_logs', 'started_at', scope, r.syncLogs);
        if (r.auditEntries) {
          counts.auditEntries = pruneTable(c, 'crm_privacy_audit', 'occurred_at', scope, r.auditEntries);
        }
        for (const prefix of r.streamRecords?.prefixes ?? []) {
          // substr instead of LIKE: a prefix may contain `%` or `_`.
          counts.streamRecords += c.run(
            `DELETE FROM crm_sync_cursors WHERE (? IS NULL OR integration_id = ?) AND updated_at < ?
               AND substr(stream, 1, length(?)) = ?`,
            scope,
            scope,
            r.streamRecords!.before.getTime(),
            prefix,
            prefix,
          );
        }
        return counts;
      }),
    );
  }
}
