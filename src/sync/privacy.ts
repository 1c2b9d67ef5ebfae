import { createHmac, randomBytes } from 'node:crypto';
import { CrmUnsupportedFeatureError, isCrmError, throwIfAborted } from '../core/errors.js';
import type { CrmEntityType } from '../core/models.js';
import {
  type CrmContactExport,
  type CrmContactRef,
  type CrmForgetResult,
  parseContactRef,
} from '../core/privacy.js';
import type { CrmProvider } from '../core/provider.js';
import type { CrmEraseCounts, CrmPrivacyAuditEntry, CrmPrivacyStore } from '../storage/privacy.js';
import type { CrmStorage, CrmSyncLog, CrmSyncStatusRow } from '../storage/types.js';

/** Options of `SyncEngine.forgetContact`. */
export interface SyncForgetOptions {
  /**
   * Why (kept in the audit entry, so no personal data), e.g. `gdpr_erasure_request`.
   * @default 'erasure_request'
   */
  reason?: string;
  /**
   * Erase only local data, leaving the CRM untouched (for a provider without the `privacy`
   * feature, when the CRM side is handled elsewhere). The audit entry records `crm: 'skipped'`.
   * @default false
   */
  localOnly?: boolean;
  signal?: AbortSignal;
}

/** What `SyncEngine.forgetContact` did. Holds no personal data. */
export interface SyncForgetReport {
  /** Salted hash of the person's key, as kept in the audit entry. */
  subjectHash: string;
  /** The CRM's answer, or `null` with `localOnly`. */
  crm: CrmForgetResult | null;
  /** Local rows removed. */
  local: CrmEraseCounts;
  /** Hashes added to the suppression list (host id, email). */
  suppressed: number;
  /** The audit entry written. */
  auditEntryId: string;
}

/** Options of `SyncEngine.exportContactData`. */
export interface SyncExportOptions {
  /** Export only local data (the CRM part is then `null`). @default false */
  localOnly?: boolean;
  signal?: AbortSignal;
}

/** What this package holds locally about a person. */
export interface SyncLocalExport {
  /** Sync status rows of the person (contact and lead), engine state included. */
  syncStatus: CrmSyncStatusRow[];
  /** Sync log entries whose stored details mention the person (among the newest 1,000). */
  syncLogs: CrmSyncLog[];
  /** Audit entries about the person (privacy requests). */
  auditEntries: CrmPrivacyAuditEntry[];
  /** Whether the person is on the suppression list (forgotten, not restored). */
  suppressed: boolean;
}

/** `SyncEngine.exportContactData`'s answer: the CRM's data and ours. */
export interface SyncContactExport {
  crm: CrmContactExport | null;
  local: SyncLocalExport;
}

/** What the privacy operations need from the engine. Internal. */
export interface PrivacyContext {
  provider: CrmProvider;
  storage: CrmStorage;
  integrationId: string;
  hasher: SubjectHasher;
}

/** Cursor stream of the per-integration salt, used when the host passes no `privacySalt`. */
export const PRIVACY_SALT_STREAM = 'privacy:salt';

const PERSON_TYPES: ReadonlyArray<CrmEntityType> = ['contact', 'lead'];

/**
 * Salted hashes of a person's keys (HMAC-SHA-256), so audit entries and the suppression list can
 * recognise a person without holding their data. The salt is the host's `privacySalt`, or a random
 * per-integration salt kept in the cursor store (then someone holding the database and a
 * candidate email could test it; pass `privacySalt` from your secret store to prevent that).
 */
export class SubjectHasher {
  #salt: Promise<Buffer> | undefined;

  constructor(
    private readonly storage: CrmStorage,
    private readonly integrationId: string,
    salt: string | Uint8Array | undefined,
  ) {
    if (salt !== undefined) this.#salt = Promise.resolve(Buffer.from(salt));
  }

  #resolve(): Promise<Buffer> {
    this.#salt ??= (async () => {
      const stored = await this.storage.cursors.get(this.integrationId, PRIVACY_SALT_STREAM);
      if (stored) return Buffer.from(stored, 'base64');
      const fresh = randomBytes(32).toString('base64');
      await this.storage.cursors.set(this.integrationId, PRIVACY_SALT_STREAM, fresh);
      // Two engines racing on first use: the last write wins, and both read it back.
      return Buffer.from(
        (await this.storage.cursors.get(this.integrationId, PRIVACY_SALT_STREAM)) ?? fresh,
        'base64',
      );
    })().catch((error: unknown) => {
      this.#salt = undefined;
      throw error;
    });
    return this.#salt;
  }

  /**
   * Whether any hash can exist yet: false while no salt was given or stored, so a push before the
   * first erasure neither creates a salt nor queries the suppression list.
   */
  async inUse(): Promise<boolean> {
    if (this.#salt) return true;
    return (await this.storage.cursors.get(this.integrationId, PRIVACY_SALT_STREAM)) !== null;
  }

  /** Hash of one key; emails are compared case-insensitively. */
  async hash(kind: 'email' | 'externalId' | 'crmId', value: string): Promise<string> {
    const salt = await this.#resolve();
    const normal = kind === 'email' ? value.trim().toLowerCase() : value;
    return createHmac('sha256', salt).update(`${kind}:${normal}`).digest('hex');
  }

  /** Hashes the suppression list holds for a person: host id and email, when known. */
  async suppressionHashes(keys: {
    externalId?: string | undefined;
    email?: string | undefined;
  }): Promise<string[]> {
    const out: string[] = [];
    if (keys.externalId) out.push(await this.hash('externalId', keys.externalId));
    if (keys.email) out.push(await this.hash('email', keys.email));
    return out;
  }

  /** The audit subject: the email's hash when known, else the host id's, else the CRM id's. */
  async subject(ref: CrmContactRef): Promise<string> {
    if (ref.email) return this.hash('email', ref.email);
    if (ref.externalId) return this.hash('externalId', ref.externalId);
    return this.hash('crmId', ref.crmId as string);
  }
}

function requirePrivacyStore(storage: CrmStorage): CrmPrivacyStore {
  if (!storage.privacy) {
    throw new CrmUnsupportedFeatureError(
      'The storage has no privacy store (storage.privacy): it cannot erase, audit or suppress',
      { details: { reason: 'storage_privacy_missing' } },
    );
  }
  return storage.privacy;
}

function requireProviderPrivacy(
  provider: CrmProvider,
): Required<Pick<CrmProvider, 'forgetContact' | 'exportContactData'>> {
  if (!provider.supportsFeature('privacy') || !provider.forgetContact || !provider.exportContactData) {
    throw new CrmUnsupportedFeatureError(
      `Provider '${provider.name}' does not support privacy requests; pass localOnly: true to handle only local data`,
      { provider: provider.name },
    );
  }
  return provider as Required<Pick<CrmProvider, 'forgetContact' | 'exportContactData'>>;
}

/** Every key and value that identifies the person locally, from the reference and their status rows. */
async function resolvePerson(
  ctx: PrivacyContext,
  ref: CrmContactRef,
  signal: AbortSignal | undefined,
): Promise<{ ref: CrmContactRef; rows: CrmSyncStatusRow[] }> {
  const found = new Map<string, CrmSyncStatusRow>();
  const add = (row: CrmSyncStatusRow | null) => {
    if (row) found.set(`${row.entityType}\u0000${row.externalId}`, row);
  };
  const full: CrmContactRef = { ...ref };
  // Local rows are keyed by host id and CRM id, not by email: ask the CRM who the email is.
  if (ref.email && !ref.crmId && ctx.provider.supportsFeature('contact_sync')) {
    throwIfAborted(signal);
    const contact = await ctx.provider.getContact(ref.email, signal ? { signal } : {});
    if (contact?.id) full.crmId = contact.id;
    if (contact && !full.externalId && contact.externalId) full.externalId = contact.externalId;
  }
  for (const entityType of PERSON_TYPES) {
    if (full.externalId) {
      add(
        await ctx.storage.syncStatus.get({
          integrationId: ctx.integrationId,
          entityType,
          externalId: full.externalId,
        }),
      );
    }
    if (full.crmId) {
      add(
        await ctx.storage.syncStatus.getByCrmId({
          integrationId: ctx.integrationId,
          entityType,
          crmId: full.crmId,
        }),
      );
    }
  }
  return { ref: full, rows: [...found.values()] };
}

/** String values a person's status rows hold (last-synced fields): names, emails, phone numbers. */
function personValues(ref: CrmContactRef, rows: ReadonlyArray<CrmSyncStatusRow>): string[] {
  const values = new Set<string>();
  if (ref.email) values.add(ref.email);
  const walk = (value: unknown, depth: number) => {
    if (depth > 4) return;
    if (typeof value === 'string' && value.trim().length >= 4) values.add(value.trim());
    else if (Array.isArray(value)) for (const item of value) walk(item, depth + 1);
    else if (value && typeof value === 'object')
      for (const item of Object.values(value)) walk(item, depth + 1);
  };
  for (const row of rows) walk((row.state as { fields?: unknown } | null | undefined)?.fields, 0);
  return [...values];
}

/** `SyncEngine.forgetContact`: erase in the CRM, purge locally, suppress, audit. */
export async function forgetContact(
  ctx: PrivacyContext,
  input: CrmContactRef,
  options: SyncForgetOptions,
): Promise<SyncForgetReport> {
  const ref = parseContactRef(input);
  const privacy = requirePrivacyStore(ctx.storage);
  const provider = options.localOnly ? null : requireProviderPrivacy(ctx.provider);
  const reason = options.reason ?? 'erasure_request';
  const { signal } = options;
  const person = await resolvePerson(ctx, ref, signal);
  const subjectHash = await ctx.hasher.subject(ref);

  let crm: CrmForgetResult | null = null;
  let crmFailure: unknown = null;
  if (provider) {
    try {
      crm = await provider.forgetContact(person.ref, signal ? { signal, reason } : { reason });
    } catch (error) {
      crmFailure = error;
    }
  }
  // Local erasure goes ahead even when the CRM failed: it is idempotent, and a retry of the
  // whole request repeats only what is left.
  const externalIds = new Set(person.rows.map((r) => r.externalId));
  if (person.ref.externalId) externalIds.add(person.ref.externalId);
  const crmIds = new Set(person.rows.flatMap((r) => (r.crmId ? [r.crmId] : [])));
  if (person.ref.crmId) crmIds.add(person.ref.crmId);
  const local = await privacy.erase({
    integrationId: ctx.integrationId,
    externalIds: [...externalIds],
    crmIds: [...crmIds],
    values: personValues(person.ref, person.rows),
  });
  const hashes = new Set<string>();
  for (const externalId of externalIds)
    for (const h of await ctx.hasher.suppressionHashes({ externalId })) hashes.add(h);
  if (person.ref.email)
    for (const h of await ctx.hasher.suppressionHashes({ email: person.ref.email })) hashes.add(h);
  await privacy.suppress({ integrationId: ctx.integrationId, subjectHashes: [...hashes] });

  const crmOutcome = crm
    ? { ...crm }
    : crmFailure
      ? { outcome: 'failed', code: isCrmError(crmFailure) ? crmFailure.code : 'UNKNOWN' }
      : { outcome: 'skipped' };
  const audit = await privacy.appendAudit({
    integrationId: ctx.integrationId,
    action: 'forget',
    subjectHash,
    reason,
    outcome: { crm: crmOutcome, local: { ...local }, suppressed: hashes.size },
  });
  if (crmFailure) throw crmFailure;
  return { subjectHash, crm, local, suppressed: hashes.size, auditEntryId: audit.id };
}

/** `SyncEngine.restoreContact`: take the person off the suppression list so pushes send them again. */
export async function restoreContact(
  ctx: PrivacyContext,
  input: CrmContactRef,
  options: { reason?: string },
): Promise<{ subjectHash: string; auditEntryId: string }> {
  const ref = parseContactRef(input);
  const privacy = requirePrivacyStore(ctx.storage);
  const hashes = await ctx.hasher.suppressionHashes(ref);
  await privacy.unsuppress({ integrationId: ctx.integrationId, subjectHashes: hashes });
  const subjectHash = await ctx.hasher.subject(ref);
  const audit = await privacy.appendAudit({
    integrationId: ctx.integrationId,
    action: 'restore',
    subjectHash,
    reason: options.reason ?? 'sent_again_by_host',
    outcome: { unsuppressed: hashes.length },
  });
  return { subjectHash, auditEntryId: audit.id };
}

/** `SyncEngine.exportContactData`: the CRM's data and ours, as plain JSON-safe values. */
export async function exportContactData(
  ctx: PrivacyContext,
  input: CrmContactRef,
  options: SyncExportOptions,
): Promise<SyncContactExport> {
  const ref = parseContactRef(input);
  const provider = options.localOnly ? null : requireProviderPrivacy(ctx.provider);
  const { signal } = options;
  const person = await resolvePerson(ctx, ref, signal);
  const crm = provider ? await provider.exportContactData(person.ref, signal ? { signal } : {}) : null;
  const needles = [
    ...new Set([...person.rows.map((r) => r.externalId), ...personValues(person.ref, person.rows)]),
  ]
    .concat(person.ref.crmId ? [person.ref.crmId] : [])
    .map((v) => v.toLowerCase());
  const logs = (await ctx.storage.syncLogs.list(ctx.integrationId, { limit: 1_000 })).filter((log) => {
    const text = JSON.stringify(log.errorDetails ?? {}).toLowerCase();
    return needles.some((n) => text.includes(n));
  });
  const privacy = ctx.storage.privacy;
  let auditEntries: CrmPrivacyAuditEntry[] = [];
  let suppressed = false;
  if (privacy) {
    const subjects = new Set([
      await ctx.hasher.subject(ref),
      ...(await ctx.hasher.suppressionHashes(person.ref)),
    ]);
    auditEntries = (await privacy.listAudit(ctx.integrationId, { limit: 1_000 })).filter((e) =>
      subjects.has(e.subjectHash),
    );
    suppressed =
      (await privacy.findSuppressed({ integrationId: ctx.integrationId, subjectHashes: [...subjects] }))
        .size > 0;
    await privacy.appendAudit({
      integrationId: ctx.integrationId,
      action: 'export',
      subjectHash: await ctx.hasher.subject(ref),
      reason: 'access_request',
      outcome: { crm: crm ? 'exported' : 'skipped', syncStatus: person.rows.length, syncLogs: logs.length },
    });
  }
  return { crm, local: { syncStatus: person.rows, syncLogs: logs, auditEntries, suppressed } };
}

/**
 * Host ids among `records` whose person was forgotten (by host id or email) and not restored:
 * a push skips them, so a later push of the same host record does not resurrect the person.
 */
export async function findForgotten(
  ctx: PrivacyContext,
  records: ReadonlyArray<{ externalId: string; email?: string | undefined }>,
): Promise<Set<string>> {
  const privacy = ctx.storage.privacy;
  if (!privacy || records.length === 0 || !(await ctx.hasher.inUse())) return new Set();
  const byHash = new Map<string, string[]>();
  for (const record of records) {
    for (const hash of await ctx.hasher.suppressionHashes(record)) {
      byHash.set(hash, [...(byHash.get(hash) ?? []), record.externalId]);
    }
  }
  const hit = await privacy.findSuppressed({
    integrationId: ctx.integrationId,
    subjectHashes: [...byHash.keys()],
  });
  return new Set([...hit].flatMap((hash) => byHash.get(hash) ?? []));
}
