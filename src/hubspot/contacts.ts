import { parseReadyContact } from '../core/contact-fast-parse.js';
import { CrmDataConversionError, createAbortError, isCrmError } from '../core/errors.js';
import type { CrmBulkSyncResult } from '../core/models.js';
import {
  type CrmContact,
  type CrmContactInput,
  CrmContactSchema,
  CrmEmailSchema,
  type CrmSyncResult,
  parseModel,
  toFieldIssues,
} from '../core/models.js';
import { type CrmContactRef, parseContactRef } from '../core/privacy.js';
import type { CrmBulkSyncOptions, CrmCallOptions } from '../core/provider.js';
import {
  type HubSpotBatchError,
  type HubSpotBatchResponse,
  type HubSpotContext,
  type HubSpotObject,
  objectsPath,
} from './context.js';

/** HubSpot batch endpoints take at most 100 inputs. */
export const HUBSPOT_BATCH_SIZE = 100;

/** `CrmContact` key → HubSpot contact property (the fields this provider round-trips). */
const CONTACT_PROPERTIES = {
  email: 'email',
  firstName: 'firstname',
  lastName: 'lastname',
  company: 'company',
  phone: 'phone',
  title: 'jobtitle',
} as const;

/** Properties read for every contact. */
export function contactReadProperties(context: HubSpotContext): string[] {
  return [
    ...Object.values(CONTACT_PROPERTIES),
    'hs_email_optout',
    'lastmodifieddate',
    ...(context.externalIdProperty ? [context.externalIdProperty] : []),
    ...context.customProperties,
  ];
}

/**
 * Properties to write for a contact. `emailOptOut` is not written (HubSpot keeps opt-outs in the
 * communication-preferences API, `hs_email_optout` is read-only) and `tags` have no HubSpot twin.
 */
export function toContactProperties(
  contact: CrmContact,
  context: HubSpotContext,
): Record<string, string | null> {
  const properties: Record<string, string | null> = {};
  for (const [key, property] of Object.entries(CONTACT_PROPERTIES)) {
    const value = contact[key as keyof typeof CONTACT_PROPERTIES];
    if (value !== undefined) properties[property] = value;
  }
  for (const cleared of contact.clearFields ?? []) {
    if (contact[cleared] === undefined) properties[CONTACT_PROPERTIES[cleared]] = '';
  }
  for (const [name, value] of Object.entries(contact.customFields)) {
    properties[name] =
      value === null || value === undefined
        ? ''
        : value instanceof Date
          ? value.toISOString()
          : String(value);
  }
  if (context.externalIdProperty) properties[context.externalIdProperty] = contact.externalId;
  return properties;
}

/** A host contact from a HubSpot contact; `externalId === id` marks a CRM-originated contact. */
export function fromHubSpotContact(object: HubSpotObject, context: HubSpotContext): CrmContact {
  const p = object.properties;
  const external = context.externalIdProperty ? p[context.externalIdProperty] : undefined;
  const contact: CrmContact = {
    id: object.id,
    externalId: external || object.id,
    email: p.email ?? '',
    tags: [],
    customFields: {},
  };
  for (const [key, property] of Object.entries(CONTACT_PROPERTIES)) {
    const value = p[property];
    if (key !== 'email' && value) (contact as Record<string, unknown>)[key] = value;
  }
  if (p.hs_email_optout === 'true' || p.hs_email_optout === 'false')
    contact.emailOptOut = p.hs_email_optout === 'true';
  for (const name of context.customProperties)
    if (p[name] !== undefined) contact.customFields[name] = p[name];
  const modified = p.lastmodifieddate ?? object.updatedAt;
  if (modified) contact.lastModifiedAt = new Date(modified);
  return contact;
}

function failure(
  externalId: string,
  code: string,
  message: string,
  syncedAt: Date,
  fields?: string[],
): CrmSyncResult {
  return {
    entityType: 'contact',
    externalId,
    success: false,
    error: { code, message, ...(fields?.length ? { fields } : {}) },
    syncedAt,
  };
}

function batchFailure(externalId: string, error: HubSpotBatchError, syncedAt: Date): CrmSyncResult {
  const code = error.subCategory ?? error.category ?? 'HUBSPOT_ERROR';
  return failure(
    externalId,
    code,
    `HubSpot rejected the contact: ${code}`,
    syncedAt,
    error.context?.propertyName,
  );
}

interface UpsertInput {
  index: number;
  contact: CrmContact;
  key: string;
}

/** The upsert key of a contact: its host id, or its email when contacts are matched by email. */
function upsertKey(contact: CrmContact, context: HubSpotContext): { idProperty: string; id: string } {
  return context.externalIdProperty
    ? { idProperty: context.externalIdProperty, id: contact.externalId }
    : { idProperty: 'email', id: contact.email.toLowerCase() };
}

/**
 * One batch upsert call (≤ 100 inputs) → one result per input, in input order. Results are matched
 * back by the id property's value (HubSpot does not promise result order) and errors by
 * `objectWriteTraceId` (the input's position), falling back to `context.ids`.
 */
async function upsertBatch(
  context: HubSpotContext,
  batch: UpsertInput[],
  signal: AbortSignal | undefined,
): Promise<CrmSyncResult[]> {
  const syncedAt = context.now();
  const idProperty = upsertKey(batch[0]!.contact, context).idProperty;
  const { body } = await context.client.request<HubSpotBatchResponse<HubSpotObject & { new?: boolean }>>({
    operation: 'batch upsert contacts',
    method: 'POST',
    path: `${objectsPath(context, 'contacts')}/batch/upsert`,
    body: {
      inputs: batch.map((input, position) => ({
        idProperty,
        id: input.key,
        objectWriteTraceId: String(position),
        properties: withoutKey(toContactProperties(input.contact, context), idProperty),
      })),
    },
    idempotent: true,
    signal,
  });
  const byKey = new Map<string, HubSpotObject & { new?: boolean }>();
  for (const result of body.results ?? []) {
    const key = result.properties?.[idProperty];
    if (key) byKey.set(idProperty === 'email' ? key.toLowerCase() : key, result);
  }
  const errors = new Map<number, HubSpotBatchError>();
  for (const error of body.errors ?? []) {
    const trace = error.context?.objectWriteTraceId?.[0];
    if (trace !== undefined) {
      errors.set(Number(trace), error);
      continue;
    }
    for (const id of error.context?.ids ?? []) {
      const position = batch.findIndex(
        (input) => input.key === (idProperty === 'email' ? id.toLowerCase() : id),
      );
      if (position >= 0) errors.set(position, error);
    }
  }
  return batch.map((input, position) => {
    const error = errors.get(position);
    if (error) return batchFailure(input.contact.externalId, error, syncedAt);
    const result = byKey.get(input.key);
    if (!result) {
      return failure(
        input.contact.externalId,
        'MISSING_RESULT',
        'HubSpot returned no result for the contact',
        syncedAt,
      );
    }
    return {
      entityType: 'contact',
      externalId: input.contact.externalId,
      crmId: result.id,
      success: true,
      created: result.new === true,
      syncedAt,
    };
  });
}

function withoutKey(
  properties: Record<string, string | null>,
  idProperty: string,
): Record<string, string | null> {
  // The key travels as the input's `id`; HubSpot sets the property from it on create.
  const { [idProperty]: _key, ...rest } = properties;
  return rest;
}

/** Create or update one contact by batch upsert (one call, keyed, so safe to retry). */
export async function syncContact(
  context: HubSpotContext,
  input: CrmContactInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const contact = parseModel(CrmContactSchema, input, 'contact');
  const [result] = await upsertBatch(
    context,
    [{ index: 0, contact, key: upsertKey(contact, context).id }],
    options.signal,
  );
  return result!;
}

/** The contact with this email, or `null`. */
export async function getContact(
  context: HubSpotContext,
  email: string,
  options: CrmCallOptions = {},
): Promise<CrmContact | null> {
  const valid = parseModel(CrmEmailSchema, email, 'email');
  try {
    const { body } = await context.client.request<HubSpotObject>({
      operation: 'read contact by email',
      method: 'GET',
      path: `${objectsPath(context, 'contacts')}/${encodeURIComponent(valid)}`,
      query: { idProperty: 'email', properties: contactReadProperties(context).join(',') },
      idempotent: true,
      signal: options.signal,
    });
    return fromHubSpotContact(body, context);
  } catch (error) {
    if (isCrmError(error) && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

/** Update a contact that has an `id` (its HubSpot record id). */
export async function updateContact(
  context: HubSpotContext,
  input: CrmContactInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const contact = parseModel(CrmContactSchema, input, 'contact');
  if (!contact.id) {
    throw new CrmDataConversionError('Invalid contact: id is required to update a contact', {
      fields: [{ field: 'id', message: 'is required' }],
    });
  }
  const { body } = await context.client.request<HubSpotObject>({
    operation: 'update contact',
    method: 'PATCH',
    path: `${objectsPath(context, 'contacts')}/${encodeURIComponent(contact.id)}`,
    body: { properties: toContactProperties(contact, context) },
    idempotent: true,
    signal: options.signal,
  });
  return {
    entityType: 'contact',
    externalId: contact.externalId,
    crmId: body.id,
    success: true,
    created: false,
    syncedAt: context.now(),
  };
}

/** Archive a contact (HubSpot keeps it restorable for 90 days; see `forgetContact` for erasure). */
export async function deleteContact(
  context: HubSpotContext,
  id: string,
  options: CrmCallOptions = {},
): Promise<void> {
  if (typeof id !== 'string' || !/^\d+$/.test(id)) {
    throw new CrmDataConversionError('Invalid contact id: must be a HubSpot record id', {
      fields: [{ field: 'id', message: 'must be numeric' }],
    });
  }
  await context.client.request<void>({
    operation: 'archive contact',
    method: 'DELETE',
    path: `${objectsPath(context, 'contacts')}/${id}`,
    idempotent: true,
    signal: options.signal,
  });
}

/** Errors that stop a whole bulk run instead of failing one batch's records. */
function stopsTheRun(error: unknown): boolean {
  if (error instanceof Error && error.name === 'AbortError') return true;
  return (
    isCrmError(error) &&
    (error.code === 'AUTHENTICATION' || (error.code === 'RATE_LIMIT' && !error.retryable))
  );
}

/**
 * Upsert many contacts in batches of 100, a few batches in flight at once. Invalid records fail
 * locally (no call spent); a batch that fails as a whole fails its records and the run goes on.
 */
export async function bulkSyncContacts(
  context: HubSpotContext,
  contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
  options: CrmBulkSyncOptions & { concurrency?: number } = {},
): Promise<CrmBulkSyncResult> {
  const results: CrmSyncResult[] = [];
  const callsBefore = context.client.requests;
  const retriesBefore = context.client.retries;
  let done = 0;
  let failed = 0;
  const report = (batch: CrmSyncResult[]) => {
    done += batch.length;
    failed += batch.filter((r) => !r.success).length;
    options.onProgress?.({
      done,
      failed,
      ...(options.expectedCount !== undefined ? { total: options.expectedCount } : {}),
    });
  };

  async function* batches(): AsyncGenerator<UpsertInput[]> {
    let batch: UpsertInput[] = [];
    let keys = new Set<string>();
    let index = 0;
    for await (const raw of contacts as AsyncIterable<CrmContactInput>) {
      const position = index++;
      const ready = parseReadyContact(raw);
      const parsed = ready ? { success: true as const, data: ready } : CrmContactSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = toFieldIssues(parsed.error, undefined, raw);
        const externalId = typeof raw?.externalId === 'string' ? raw.externalId : '';
        results[position] = failure(
          externalId,
          'DATA_CONVERSION',
          `Invalid contact: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
          context.now(),
          issues.map((i) => i.field),
        );
        report([results[position]!]);
        continue;
      }
      const key = upsertKey(parsed.data, context).id;
      // HubSpot refuses a batch that names one id twice: the repeat goes in the next batch.
      if (keys.has(key) || batch.length === HUBSPOT_BATCH_SIZE) {
        yield batch;
        batch = [];
        keys = new Set();
      }
      keys.add(key);
      batch.push({ index: position, contact: parsed.data, key });
    }
    if (batch.length) yield batch;
  }

  const source = batches();
  const worker = async () => {
    for (;;) {
      if (options.signal?.aborted) return;
      const next = await source.next();
      if (next.done) return;
      const batch = next.value;
      let outcome: CrmSyncResult[];
      try {
        outcome = await upsertBatch(context, batch, options.signal);
      } catch (error) {
        if (stopsTheRun(error)) throw error;
        const code = isCrmError(error) ? (error.providerCode ?? error.code) : 'UNKNOWN';
        const message = error instanceof Error ? error.message : 'batch failed';
        outcome = batch.map((input) => failure(input.contact.externalId, code, message, context.now()));
      }
      batch.forEach((input, i) => {
        results[input.index] = outcome[i]!;
      });
      report(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 3) }, worker));
  if (options.signal?.aborted) throw createAbortError(options.signal);
  const ordered = results.filter((r): r is CrmSyncResult => r !== undefined);
  return {
    total: ordered.length,
    success: ordered.filter((r) => r.success).length,
    failed: ordered.filter((r) => !r.success).length,
    results: ordered,
    apiCalls: context.client.requests - callsBefore,
    retries: context.client.retries - retriesBefore,
    mode: 'rest',
  };
}

/**
 * Read contacts back, one result per reference in order (`null` when HubSpot has none): by
 * `crmId` (record id) when given, else by the external-id property (or email), 100 a batch read.
 * @throws {CrmDataConversionError} on an invalid reference.
 */
export async function readContacts(
  context: HubSpotContext,
  input: ReadonlyArray<CrmContactRef>,
  options: CrmCallOptions = {},
): Promise<Array<CrmContact | null>> {
  const refs = input.map((ref) => parseContactRef(ref));
  const keyProperty = context.externalIdProperty ?? 'email';
  const keyOf = (ref: CrmContactRef): string | undefined =>
    keyProperty === 'email' ? ref.email?.toLowerCase() : ref.externalId;
  const read = async (idProperty: string | undefined, ids: string[]): Promise<Map<string, CrmContact>> => {
    const found = new Map<string, CrmContact>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += HUBSPOT_BATCH_SIZE) {
      const { body } = await context.client.request<HubSpotBatchResponse<HubSpotObject>>({
        operation: 'batch read contacts',
        method: 'POST',
        path: `${objectsPath(context, 'contacts')}/batch/read`,
        body: {
          ...(idProperty ? { idProperty } : {}),
          properties: contactReadProperties(context),
          inputs: unique.slice(i, i + HUBSPOT_BATCH_SIZE).map((id) => ({ id })),
        },
        idempotent: true,
        signal: options.signal,
      });
      for (const object of body.results ?? []) {
        const raw = idProperty ? object.properties[idProperty] : object.id;
        if (!raw) continue;
        const key = idProperty === 'email' ? raw.toLowerCase() : raw;
        if (!found.has(key)) found.set(key, fromHubSpotContact(object, context));
      }
    }
    return found;
  };
  const byId = await read(
    undefined,
    refs.flatMap((ref) => (ref.crmId ? [ref.crmId] : [])),
  );
  const byKey = await read(
    keyProperty,
    refs.flatMap((ref) => {
      const key = ref.crmId ? undefined : keyOf(ref);
      return key ? [key] : [];
    }),
  );
  return refs.map((ref) => {
    if (ref.crmId) return byId.get(ref.crmId) ?? null;
    const key = keyOf(ref);
    return key === undefined ? null : (byKey.get(key) ?? null);
  });
}
