import type { CrmContact } from '../core/models.js';
import { stableEqual } from './content-hash.js';
import type { SyncRunContext } from './context.js';
import { type ContactFieldMapper, normalizeFieldValue, type SyncFieldValues } from './mapping.js';

/**
 * How long after a push gave up on a write the CRM may still apply it, by default: the longest a
 * synchronous Salesforce API call may run (10 minutes). A request cancelled at the socket after
 * the server received it is not necessarily dropped by the server.
 */
export const DEFAULT_UNCERTAIN_SETTLE_MS = 10 * 60_000;

/** One version of a record sent in a write whose answer never came. */
export interface SyncPendingWrite {
  /** Content hash of the version sent. */
  hash: string;
  /** Its normalised field values, compared with what the CRM holds when reading back. */
  fields: SyncFieldValues;
}

/**
 * Writes of one record whose outcome is unknown (abort, timeout, dropped connection, a 5xx that
 * may have come after processing), kept in the status row's state while its status is
 * `uncertain`. Never "synced" on a guess: the next push reads the record back and marks it synced
 * only when the CRM holds the latest version and no other version can still land.
 */
export interface SyncUncertainState {
  /** The distinct versions whose writes may still land. */
  writes: SyncPendingWrite[];
  /** ISO time after which none of them can land any more. */
  settleAt: string;
}

/** Read an uncertain state from a row's JSON state, tolerating anything else. */
export function readUncertainState(value: unknown): SyncUncertainState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { writes, settleAt } = value as Partial<SyncUncertainState>;
  if (!Array.isArray(writes) || typeof settleAt !== 'string') return undefined;
  const valid = writes.filter(
    (w): w is SyncPendingWrite =>
      typeof w === 'object' &&
      w !== null &&
      typeof w.hash === 'string' &&
      typeof w.fields === 'object' &&
      w.fields !== null,
  );
  return { writes: valid, settleAt };
}

/** `state` with one more write of unknown outcome, able to land until `now + settleMs`. */
export function addPendingWrite(
  state: SyncUncertainState | undefined,
  write: SyncPendingWrite,
  now: Date,
  settleMs: number,
): SyncUncertainState {
  const until = new Date(now.getTime() + settleMs).toISOString();
  const writes = (state?.writes ?? []).filter((w) => w.hash !== write.hash);
  writes.push({ hash: write.hash, fields: { ...write.fields } });
  const settleAt = state && state.settleAt > until ? state.settleAt : until;
  return { writes, settleAt };
}

/**
 * Writes that may still land and would leave the CRM holding something other than `hash`: none
 * once `settleAt` has passed, and a write of the same content landing late changes nothing.
 */
export function outstandingWrites(
  state: SyncUncertainState | undefined,
  now: Date,
  hash: string,
): SyncUncertainState | undefined {
  if (!state || now.getTime() >= Date.parse(state.settleAt)) return undefined;
  const writes = state.writes.filter((w) => w.hash !== hash);
  return writes.length > 0 ? { writes, settleAt: state.settleAt } : undefined;
}

/**
 * Whether the CRM's copy of a record is known to hold `fields`: every field the write set
 * (non-blank) has the same normalised value. A field the provider does not return (a one-way
 * field the CRM does not keep on the contact, an unmapped custom field) cannot be checked, and
 * then the answer is no: the record is sent again rather than called synced on a guess.
 */
export function holdsFields(
  mapper: ContactFieldMapper,
  contact: CrmContact,
  fields: SyncFieldValues,
): boolean {
  const values = contact as unknown as Record<string, unknown>;
  for (const [key, sent] of Object.entries(fields)) {
    if (sent === null) continue;
    const rule = mapper.ruleFor(key);
    if (rule.direction === 'from_crm') continue;
    let held = STANDARD_CONTACT_KEYS.has(key) ? values[key] : contact.customFields?.[key];
    if (held === undefined) {
      // Providers leave empty standard fields out; anything else missing was not read.
      if (!READ_BACK_KEYS.has(key)) return false;
      held = null;
    }
    if (!stableEqual(normalizeFieldValue(held, rule.fieldType), sent)) return false;
  }
  return true;
}

/** Standard contact keys (on `CrmContact` itself rather than in `customFields`). */
const STANDARD_CONTACT_KEYS: ReadonlySet<string> = new Set([
  'email',
  'firstName',
  'lastName',
  'company',
  'phone',
  'title',
  'emailOptOut',
  'tags',
]);

/** Standard keys every provider reads back (they sync both ways by default): absent means empty. */
const READ_BACK_KEYS: ReadonlySet<string> = new Set([
  'email',
  'firstName',
  'lastName',
  'phone',
  'title',
  'emailOptOut',
]);

/** What reading back an uncertain record decided. */
export interface UncertainVerdict {
  /** Writes that can still land with other content than the host's current version. */
  outstanding: SyncUncertainState | undefined;
  /** The CRM already holds the host's current version. */
  holdsCurrent: boolean;
  /** CRM id learnt from the read, if any. */
  crmId?: string | undefined;
}

/**
 * Settle an uncertain record against what the CRM holds now (`contact`; `undefined` when the
 * provider cannot read back or the read failed, `null` when the CRM has no such record). A
 * pending write whose content the CRM holds has landed (a request lands at most once) and is
 * dropped; once `settleAt` has passed, nothing can land any more.
 */
export function verifyUncertain(args: {
  mapper: ContactFieldMapper;
  state: SyncUncertainState | undefined;
  contact: CrmContact | null | undefined;
  current: { hash: string; fields: SyncFieldValues };
  now: Date;
}): UncertainVerdict {
  const { mapper, contact, current, now } = args;
  let state = args.state;
  if (state && contact) {
    const writes = state.writes.filter((w) => !holdsFields(mapper, contact, w.fields));
    state = { writes, settleAt: state.settleAt };
  }
  return {
    outstanding: outstandingWrites(state, now, current.hash),
    holdsCurrent: contact ? holdsFields(mapper, contact, current.fields) : false,
    crmId: contact?.id,
  };
}

/** A record of the chunk whose status row is `uncertain`, with the host's current version. */
export interface UncertainCandidate {
  externalId: string;
  crmId: string | null;
  email?: string | undefined;
  state: SyncUncertainState | undefined;
  current: { hash: string; fields: SyncFieldValues };
}

/**
 * Read the uncertain records back from the CRM (one `readContacts` call for the chunk) and settle
 * each. A provider without `readContacts`, or a read that fails, leaves them unread: they are
 * re-sent, and stay uncertain while another version can still land.
 */
export async function verifyUncertainRecords(
  ctx: Pick<SyncRunContext, 'provider' | 'mapper' | 'signal' | 'logger'>,
  candidates: ReadonlyArray<UncertainCandidate>,
  now: Date,
): Promise<UncertainVerdict[]> {
  let contacts: ReadonlyArray<CrmContact | null> | undefined;
  const read = ctx.provider.readContacts;
  if (candidates.length > 0 && typeof read === 'function') {
    try {
      contacts = await read.call(
        ctx.provider,
        candidates.map((c) => ({
          externalId: c.externalId,
          ...(c.crmId ? { crmId: c.crmId } : {}),
          ...(c.email ? { email: c.email } : {}),
        })),
        { signal: ctx.signal },
      );
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn('could not read back records whose last write is uncertain; re-sending them', {
        count: candidates.length,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return candidates.map((candidate, i) =>
    verifyUncertain({
      mapper: ctx.mapper,
      state: candidate.state,
      contact: contacts ? (contacts[i] ?? null) : undefined,
      current: candidate.current,
      now,
    }),
  );
}
