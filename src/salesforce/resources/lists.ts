import { CrmDataConversionError, CrmNotFoundError } from '../../core/errors.js';
import {
  type CrmList,
  type CrmListInput,
  CrmListSchema,
  type CrmSyncResult,
  parseModel,
} from '../../core/models.js';
import type { CrmCallOptions, CrmListSyncResult } from '../../core/provider.js';
import { SALESFORCE_PROVIDER } from '../errors.js';
import { assertSalesforceId, soqlString } from '../soql.js';
import type { OperationCounters } from '../transport.js';
import { resolveContactIds } from './contacts.js';
import { apiUrl, type SalesforceContext } from './context.js';
import {
  COLLECTION_LIMIT,
  createCollection,
  queryAll,
  queryPages,
  sliceArray,
  upsertByExternalId,
} from './query.js';
import { recordError, type SaveResult, saveErrorCode, syncResult } from './results.js';

/**
 * Make a Salesforce Campaign's contact members equal `list.memberIds` (contact external ids):
 * the Campaign is `list.id`, or the one whose `campaignExternalIdField` is `list.externalId`
 * (created, named `list.name`, when missing). Missing members are added and absent ones removed,
 * 200 per request. Lead members are left alone. Members without a Salesforce contact are
 * reported in `results` with `CONTACT_NOT_FOUND`.
 * @throws {CrmDataConversionError} when the list has neither `id` nor `externalId`.
 */
export async function syncListMembership(
  context: SalesforceContext,
  input: CrmListInput,
  options: CrmCallOptions = {},
): Promise<CrmListSyncResult> {
  const list = parseModel(CrmListSchema, input, 'list');
  if (!list.id && !list.externalId) {
    throw new CrmDataConversionError('Invalid list: needs `id` or `externalId`', {
      fields: [{ field: 'externalId', message: 'is required when id is not given', code: 'required' }],
    });
  }
  const { signal } = options;
  const counters: OperationCounters = { apiCalls: 0 };
  const campaignId = await listCampaignId(context, list, signal, counters);
  const results: CrmSyncResult[] = [];
  const memberResult = (memberId: string, error: CrmSyncResult['error']) =>
    syncResult('list_member', memberId, { error }, context.clock.now());

  const wanted = await resolveContactIds(context, list.memberIds, signal, counters);
  for (const memberId of new Set(list.memberIds)) {
    if (!wanted.has(memberId)) {
      results.push(
        memberResult(memberId, {
          code: 'CONTACT_NOT_FOUND',
          message: 'No Salesforce contact matches this member id',
        }),
      );
    }
  }
  const wantedContactIds = new Map<string, string>(); // contactId(15) → member id
  for (const [memberId, contactId] of wanted) wantedContactIds.set(contactId.slice(0, 15), memberId);
  const current = await currentMembers(context, campaignId, signal, counters);

  const toAdd = [...wantedContactIds.entries()].filter(([contactId]) => !current.has(contactId));
  const toRemove = [...current.entries()].filter(([contactId]) => !wantedContactIds.has(contactId));
  let added = 0;
  let removed = 0;
  for (const part of sliceArray(toAdd, COLLECTION_LIMIT)) {
    const response = await createCollection(
      context,
      'CampaignMember',
      part.map(([contactId]) => ({
        CampaignId: campaignId,
        ContactId: wanted.get(wantedContactIds.get(contactId) ?? '') ?? contactId,
      })),
      // "Already a campaign member" is treated as success below, so a repeat is harmless.
      { signal, counters, idempotent: true },
    );
    for (const [i, [, memberId]] of part.entries()) {
      const r = response[i];
      if (r?.success || saveErrorCode(r) === 'DUPLICATE_VALUE') added += r?.success ? 1 : 0;
      else results.push(memberResult(memberId, recordError(r?.errors?.[0] ?? {})));
    }
  }
  for (const part of sliceArray(toRemove, COLLECTION_LIMIT)) {
    const ids = part.map(([, memberRowId]) => memberRowId);
    const response = await context.client.request<SaveResult[]>(
      'delete CampaignMember collection',
      { method: 'DELETE', url: apiUrl(context, `/composite/sobjects?ids=${ids.join(',')}&allOrNone=false`) },
      { idempotent: true, signal, counters },
    );
    for (const [i, [contactId]] of part.entries()) {
      const r = response[i];
      if (r?.success) removed += 1;
      else if (saveErrorCode(r) !== 'ENTITY_IS_DELETED') {
        results.push(memberResult(contactId, recordError(r?.errors?.[0] ?? {})));
      }
    }
  }
  return {
    listId: campaignId,
    added,
    removed,
    unchanged: wantedContactIds.size - toAdd.length,
    results,
  };
}

/** The list's Campaign: `list.id`, or the one upserted on `campaignExternalIdField`. */
async function listCampaignId(
  context: SalesforceContext,
  list: CrmList,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<string> {
  let campaignId = list.id ? assertSalesforceId(list.id, 'id') : undefined;
  if (!campaignId && list.externalId) {
    const field = context.campaignExternalIdField;
    const response = await upsertByExternalId(
      context,
      'Campaign',
      field,
      list.externalId,
      { Name: list.name },
      { signal, counters },
    );
    campaignId = response?.id;
    if (!campaignId) {
      const [row] = await queryAll<{ Id: string }>(
        context,
        'query Campaign',
        `SELECT Id FROM Campaign WHERE ${field} = ${soqlString(list.externalId, 'externalId')} LIMIT 1`,
        { signal, counters },
      );
      campaignId = row?.Id;
    }
  }
  if (!campaignId)
    throw new CrmNotFoundError('Salesforce campaign for the list was not found', {
      provider: SALESFORCE_PROVIDER,
    });
  return campaignId;
}

/** The Campaign's contact members: contact id (15 characters) → CampaignMember id. */
async function currentMembers(
  context: SalesforceContext,
  campaignId: string,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<Map<string, string>> {
  const current = new Map<string, string>();
  for await (const page of queryPages<{ Id: string; ContactId: string | null }>(
    context,
    'query CampaignMember',
    `SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId, 'id')} AND ContactId != null`,
    { signal, counters },
  )) {
    for (const row of page) if (row.ContactId) current.set(row.ContactId.slice(0, 15), row.Id);
  }
  return current;
}
