import { CrmApiError, isCrmError, throwIfAborted } from '../../core/errors.js';
import {
  type CrmContactExport,
  type CrmContactRef,
  type CrmForgetOptions,
  type CrmForgetResult,
  parseContactRef,
} from '../../core/privacy.js';
import type { CrmCallOptions } from '../../core/provider.js';
import { chunkArray } from '../../internal/chunks.js';
import type { SalesforceRecord } from '../mapping.js';
import { assertSalesforceId, soqlString, soqlStringList } from '../soql.js';
import { apiUrl, jsonRequest, type SalesforceContext } from './context.js';
import { COLLECTION_LIMIT, queryAll } from './query.js';
import type { SaveResult } from './results.js';

/**
 * Erasure and export of one person in Salesforce (`CrmFeature` `privacy`): the Contact and Lead
 * records that match the reference, their Tasks and CampaignMembers, and — in orgs with data
 * protection enabled — their `Individual`, whose privacy flags record the request.
 */

/** Flags set on the person's Individual by `forgetContact`. */
export const INDIVIDUAL_FORGET_FLAGS = {
  ShouldForget: true,
  HasOptedOutProcessing: true,
  HasOptedOutProfiling: true,
  HasOptedOutSolicit: true,
  HasOptedOutTracking: true,
} as const;

interface PersonRecords {
  contactIds: string[];
  leadIds: string[];
  individualIds: string[];
  /** False when the org has no `IndividualId` field (data protection not enabled). */
  individuals: boolean;
}

const CONTACT_PREFIX = '003';
const LEAD_PREFIX = '00Q';

function isInvalidField(error: unknown): boolean {
  return isCrmError(error) && (error as CrmApiError).providerCode === 'INVALID_FIELD';
}

/** `WHERE` clause matching the reference on `sobject`, or null when no key applies to it. */
function whereFor(
  context: SalesforceContext,
  sobject: 'Contact' | 'Lead',
  ref: CrmContactRef,
): string | null {
  const terms: string[] = [];
  if (ref.email) terms.push(`Email = ${soqlString(ref.email, 'email')}`);
  const externalIdField = sobject === 'Contact' ? context.externalIdField : context.leadExternalIdField;
  if (ref.externalId && externalIdField)
    terms.push(`${externalIdField} = ${soqlString(ref.externalId, 'externalId')}`);
  const prefix = sobject === 'Contact' ? CONTACT_PREFIX : LEAD_PREFIX;
  if (ref.crmId?.startsWith(prefix)) terms.push(`Id = ${soqlString(assertSalesforceId(ref.crmId, 'crmId'))}`);
  return terms.length > 0 ? terms.join(' OR ') : null;
}

/** The person's Contact, Lead and Individual ids. */
async function findPerson(
  context: SalesforceContext,
  ref: CrmContactRef,
  signal: AbortSignal | undefined,
): Promise<PersonRecords> {
  const out: PersonRecords = { contactIds: [], leadIds: [], individualIds: [], individuals: true };
  for (const sobject of ['Contact', 'Lead'] as const) {
    const where = whereFor(context, sobject, ref);
    if (!where) continue;
    let records: SalesforceRecord[];
    try {
      records = out.individuals
        ? await queryAll(
            context,
            `query ${sobject}`,
            `SELECT Id, IndividualId FROM ${sobject} WHERE ${where}`,
            { signal },
          )
        : await queryAll(context, `query ${sobject}`, `SELECT Id FROM ${sobject} WHERE ${where}`, { signal });
    } catch (error) {
      // Orgs without data protection have no IndividualId field: Salesforce answers INVALID_FIELD.
      if (!out.individuals || !isInvalidField(error)) throw error;
      out.individuals = false;
      records = await queryAll(context, `query ${sobject}`, `SELECT Id FROM ${sobject} WHERE ${where}`, {
        signal,
      });
    }
    for (const record of records) {
      (sobject === 'Contact' ? out.contactIds : out.leadIds).push(String(record.Id));
      if (typeof record.IndividualId === 'string' && !out.individualIds.includes(record.IndividualId)) {
        out.individualIds.push(record.IndividualId);
      }
    }
  }
  return out;
}

/** Ids of `sobject` records whose `field` is one of `ids`. */
async function idsWhere(
  context: SalesforceContext,
  sobject: string,
  field: string,
  ids: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const out: string[] = [];
  for (const part of chunkArray(ids, COLLECTION_LIMIT)) {
    const rows = await queryAll<SalesforceRecord>(
      context,
      `query ${sobject}`,
      `SELECT Id FROM ${sobject} WHERE ${field} IN ${soqlStringList(part)}`,
      { signal },
    );
    out.push(...rows.map((r) => String(r.Id)));
  }
  return out;
}

/** The person's Tasks (by WhoId) and CampaignMembers (by ContactId or LeadId). */
async function relatedIds(
  context: SalesforceContext,
  person: PersonRecords,
  signal: AbortSignal | undefined,
): Promise<{ taskIds: string[]; memberIds: string[] }> {
  const people = [...person.contactIds, ...person.leadIds];
  if (people.length === 0) return { taskIds: [], memberIds: [] };
  return {
    taskIds: await idsWhere(context, 'Task', 'WhoId', people, signal),
    memberIds: [
      ...(await idsWhere(context, 'CampaignMember', 'ContactId', person.contactIds, signal)),
      ...(await idsWhere(context, 'CampaignMember', 'LeadId', person.leadIds, signal)),
    ],
  };
}

/** Delete records by id through sObject Collections; returns how many are gone (already deleted counts). */
async function deleteIds(
  context: SalesforceContext,
  sobject: string,
  ids: readonly string[],
  signal: AbortSignal | undefined,
): Promise<number> {
  let deleted = 0;
  for (const part of chunkArray(ids, COLLECTION_LIMIT)) {
    throwIfAborted(signal);
    const results = await context.client.request<SaveResult[]>(
      `delete ${sobject} collection`,
      { method: 'DELETE', url: apiUrl(context, `/composite/sobjects?ids=${part.join(',')}&allOrNone=false`) },
      { idempotent: true, signal },
    );
    for (const result of results) {
      const code = result.errors?.[0]?.statusCode ?? result.errors?.[0]?.errorCode;
      if (result.success) deleted += 1;
      else if (code !== 'ENTITY_IS_DELETED') {
        throw new CrmApiError(`Salesforce refused to delete a ${sobject} record of the person`, {
          provider: 'salesforce',
          providerCode: code ?? 'UNKNOWN',
          details: { sobject },
        });
      }
    }
  }
  return deleted;
}

/**
 * Erase the person: flag their Individual (`ShouldForget`, `HasOptedOutProcessing`, … and the
 * name replaced, since the Individual stays as the org's record of the request), then delete their
 * Tasks, CampaignMembers, Contacts and Leads. Deleted records go to the org's Recycle Bin, which
 * Salesforce empties after 15 days (an admin can empty it sooner).
 * @throws {CrmDataConversionError} when `ref` names no key or a malformed CRM id.
 */
export async function forgetContact(
  context: SalesforceContext,
  input: CrmContactRef,
  options: CrmForgetOptions = {},
): Promise<CrmForgetResult> {
  const ref = parseContactRef(input);
  const { signal } = options;
  throwIfAborted(signal);
  const person = await findPerson(context, ref, signal);
  const actions: string[] = [];
  for (const id of person.individualIds) {
    await context.client.request<undefined>(
      'update Individual',
      jsonRequest(context, 'PATCH', `/sobjects/Individual/${assertSalesforceId(id, 'IndividualId')}`, {
        ...INDIVIDUAL_FORGET_FLAGS,
        FirstName: null,
        LastName: 'Forgotten',
        BirthDate: null,
      }),
      { idempotent: true, signal },
    );
  }
  if (person.individualIds.length > 0) actions.push('individual_flagged');
  const people = [...person.contactIds, ...person.leadIds];
  const { taskIds, memberIds } = await relatedIds(context, person, signal);
  const deleted = {
    Task: await deleteIds(context, 'Task', taskIds, signal),
    CampaignMember: await deleteIds(context, 'CampaignMember', memberIds, signal),
    Contact: await deleteIds(context, 'Contact', person.contactIds, signal),
    Lead: await deleteIds(context, 'Lead', person.leadIds, signal),
  };
  const found = people.length + person.individualIds.length > 0;
  return { provider: 'salesforce', outcome: found ? 'erased' : 'not_found', deleted, actions };
}

/** Every field of `sobject` (from describe), for a complete export. */
async function fieldNames(
  context: SalesforceContext,
  sobject: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const describe = await context.client.request<{ fields: Array<{ name: string; type: string }> }>(
    `describe ${sobject}`,
    { method: 'GET', url: apiUrl(context, `/sobjects/${sobject}/describe`) },
    { idempotent: true, signal },
  );
  // Compound fields (address, location) repeat their components, which are selected anyway.
  return describe.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
}

/** Records of `sobject` with every field, by id. */
async function recordsById(
  context: SalesforceContext,
  sobject: string,
  ids: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Array<Record<string, unknown>>> {
  if (ids.length === 0) return [];
  const fields = await fieldNames(context, sobject, signal);
  const out: Array<Record<string, unknown>> = [];
  for (const part of chunkArray(ids, COLLECTION_LIMIT)) {
    const rows = await queryAll<SalesforceRecord>(
      context,
      `query ${sobject}`,
      `SELECT ${fields.join(', ')} FROM ${sobject} WHERE Id IN ${soqlStringList(part)}`,
      { signal },
    );
    for (const { attributes: _attributes, ...row } of rows as Array<
      SalesforceRecord & { attributes?: unknown }
    >) {
      out.push(row);
    }
  }
  return out;
}

/**
 * Everything Salesforce holds about the person: Contact and Lead records (every field), their
 * Tasks and CampaignMembers, and their Individual, as plain JSON.
 * @throws {CrmDataConversionError} when `ref` names no key or a malformed CRM id.
 */
export async function exportContactData(
  context: SalesforceContext,
  input: CrmContactRef,
  options: CrmCallOptions = {},
): Promise<CrmContactExport> {
  const ref = parseContactRef(input);
  const { signal } = options;
  throwIfAborted(signal);
  const person = await findPerson(context, ref, signal);
  const { taskIds, memberIds } = await relatedIds(context, person, signal);
  const records: CrmContactExport['records'] = {
    Contact: await recordsById(context, 'Contact', person.contactIds, signal),
    Lead: await recordsById(context, 'Lead', person.leadIds, signal),
    Task: await recordsById(context, 'Task', taskIds, signal),
    CampaignMember: await recordsById(context, 'CampaignMember', memberIds, signal),
    Individual: await recordsById(context, 'Individual', person.individualIds, signal),
  };
  return {
    provider: 'salesforce',
    exportedAt: context.clock.now().toISOString(),
    records: JSON.parse(JSON.stringify(records)) as CrmContactExport['records'],
  };
}
