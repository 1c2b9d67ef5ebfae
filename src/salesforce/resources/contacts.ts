import { isCrmError, throwIfAborted } from '../../core/errors.js';
import {
  type CrmContact,
  type CrmContactInput,
  CrmContactSchema,
  CrmEmailSchema,
  type CrmSyncResult,
  parseModel,
} from '../../core/models.js';
import { type CrmContactRef, parseContactRef } from '../../core/privacy.js';
import type { CrmCallOptions } from '../../core/provider.js';
import { chunkArray } from '../../internal/chunks.js';
import { contactSelectFields, contactToRecord, recordToContact, type SalesforceRecord } from '../mapping.js';
import { assertSalesforceId, soqlString, soqlStringList } from '../soql.js';
import type { OperationCounters } from '../transport.js';
import { apiUrl, contactMapping, jsonRequest, type SalesforceContext } from './context.js';
import { COLLECTION_LIMIT, queryAll, upsertCollection, upsertRecordResult } from './query.js';
import { recordError, recordFailure, syncResult } from './results.js';

/**
 * Create or update a contact, matched by `externalIdField` (or Email). Reports `created`.
 * @throws {CrmDataConversionError} on invalid input, before any network call.
 * @throws {CrmApiError} when Salesforce refuses the record.
 */
export async function syncContact(
  context: SalesforceContext,
  input: CrmContactInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const contact = parseModel(CrmContactSchema, input, 'contact');
  throwIfAborted(options.signal);
  const record = contactToRecord(contact, contactMapping(context));
  const field = context.externalIdField;
  if (field) {
    return upsertRecordResult(
      context,
      'contact',
      'Contact',
      field,
      contact.externalId,
      record,
      options.signal,
    );
  }
  // Email as the key: the collection endpoint keeps the address out of the URL path, where
  // some TLDs (`.inc`, …) are taken for file extensions.
  const [result] = await upsertCollection(context, 'Contact', 'Email', [record], options.signal);
  if (!result) throw recordFailure('upsert Contact', { code: 'NO_RESULT', message: 'No result returned' });
  if (!result.success) throw recordFailure('upsert Contact', recordError(result.errors?.[0] ?? {}));
  return syncResult(
    'contact',
    contact.externalId,
    { crmId: result.id, created: result.created ?? false },
    context.clock.now(),
  );
}

/**
 * The contact with this email (the oldest, when several share it), or `null`.
 * @throws {CrmDataConversionError} when `email` is not a valid address.
 */
export async function getContact(
  context: SalesforceContext,
  email: string,
  options: CrmCallOptions = {},
): Promise<CrmContact | null> {
  const address = parseModel(CrmEmailSchema, email, 'email');
  const mapping = contactMapping(context);
  const soql =
    `SELECT ${contactSelectFields(mapping).join(', ')} FROM Contact` +
    ` WHERE Email = ${soqlString(address, 'email')} ORDER BY CreatedDate ASC, Id ASC LIMIT 1`;
  const [record] = await queryAll<SalesforceRecord>(context, 'query Contact', soql, {
    signal: options.signal,
  });
  if (!record) return null;
  return CrmContactSchema.parse(recordToContact(record, mapping));
}

/**
 * Update the contact with `contact.id` (PATCH by Salesforce id).
 * @throws {CrmDataConversionError} when `id` is missing or input is invalid.
 * @throws {CrmNotFoundError} when the contact does not exist.
 */
export async function updateContact(
  context: SalesforceContext,
  input: CrmContactInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const contact = parseModel(CrmContactSchema, input, 'contact');
  const id = assertSalesforceId(contact.id, 'id');
  const record = contactToRecord(contact, contactMapping(context));
  await context.client.request<undefined>(
    'update Contact',
    jsonRequest(context, 'PATCH', `/sobjects/Contact/${id}`, record),
    { idempotent: true, signal: options.signal },
  );
  return syncResult('contact', contact.externalId, { crmId: id, created: false }, context.clock.now());
}

/**
 * Delete a contact by Salesforce id; an already-deleted contact counts as deleted.
 * @throws {CrmNotFoundError} when no such contact exists.
 */
export async function deleteContact(
  context: SalesforceContext,
  id: string,
  options: CrmCallOptions = {},
): Promise<void> {
  assertSalesforceId(id, 'id');
  try {
    await context.client.request<undefined>(
      'delete Contact',
      { method: 'DELETE', url: apiUrl(context, `/sobjects/Contact/${id}`) },
      { idempotent: true, signal: options.signal },
    );
  } catch (error) {
    if (isCrmError(error) && error.providerCode === 'ENTITY_IS_DELETED') return;
    throw error;
  }
}

/** Map contact references (external ids, or emails in Email mode) to Salesforce Contact ids. */
export async function resolveContactIds(
  context: SalesforceContext,
  references: readonly string[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<Map<string, string>> {
  const field = context.externalIdField ?? 'Email';
  const unique = [...new Set(references)];
  const out = new Map<string, string>();
  for (const part of chunkArray(unique, COLLECTION_LIMIT)) {
    const rows = await queryAll<SalesforceRecord>(
      context,
      'query Contact',
      `SELECT Id, ${field} FROM Contact WHERE ${field} IN ${soqlStringList(part, 'contactExternalId')} ORDER BY CreatedDate ASC`,
      { signal, counters },
    );
    const byLower = new Map(part.map((p) => [field === 'Email' ? p.toLowerCase() : p, p]));
    for (const row of rows) {
      const value = String(row[field] ?? '');
      const reference = byLower.get(field === 'Email' ? value.toLowerCase() : value);
      if (reference !== undefined && !out.has(reference)) out.set(reference, String(row.Id));
    }
  }
  return out;
}

/**
 * Read contacts back, one result per reference in order (`null` when Salesforce has none): by
 * `crmId` when given, else by the contact key (`externalIdField`, or Email), 200 keys a query.
 * The oldest contact wins when several share a key, as for `getContact`.
 * @throws {CrmDataConversionError} on an invalid reference or a malformed Salesforce id.
 */
export async function readContacts(
  context: SalesforceContext,
  input: ReadonlyArray<CrmContactRef>,
  options: CrmCallOptions = {},
): Promise<Array<CrmContact | null>> {
  const refs = input.map((ref) => parseContactRef(ref));
  const keyField = context.externalIdField ?? 'Email';
  const mapping = contactMapping(context);
  const fields = contactSelectFields(mapping, keyField === 'Email' ? [] : [keyField]);
  const keyOf = (ref: CrmContactRef): string | undefined =>
    keyField === 'Email' ? ref.email?.toLowerCase() : ref.externalId;
  const byId = new Map<string, CrmContact>();
  const byKey = new Map<string, CrmContact>();
  const read = async (field: string, values: string[], into: Map<string, CrmContact>) => {
    for (const part of chunkArray([...new Set(values)], COLLECTION_LIMIT)) {
      const records = await queryAll<SalesforceRecord>(
        context,
        'query Contact',
        `SELECT ${[...new Set(['Id', ...fields])].join(', ')} FROM Contact WHERE ${field} IN ${soqlStringList(part, field)} ORDER BY CreatedDate ASC, Id ASC`,
        { signal: options.signal },
      );
      for (const record of records) {
        const raw = String(record[field] ?? '');
        const key = field === 'Email' ? raw.toLowerCase() : raw;
        if (!into.has(key)) into.set(key, CrmContactSchema.parse(recordToContact(record, mapping)));
      }
    }
  };
  const ids = refs.flatMap((ref) => (ref.crmId ? [assertSalesforceId(ref.crmId, 'crmId')] : []));
  const keys = refs.flatMap((ref) => {
    const key = ref.crmId ? undefined : keyOf(ref);
    return key ? [key] : [];
  });
  if (ids.length > 0) await read('Id', ids, byId);
  if (keys.length > 0) await read(keyField, keys, byKey);
  return refs.map((ref) => {
    if (ref.crmId) return byId.get(ref.crmId) ?? null;
    const key = keyOf(ref);
    return key === undefined ? null : (byKey.get(key) ?? null);
  });
}
