import { isCrmError } from '../core/errors.js';
import {
  type CrmList,
  type CrmListInput,
  CrmListSchema,
  type CrmSyncResult,
  parseModel,
} from '../core/models.js';
import type { CrmCallOptions, CrmListSyncResult } from '../core/provider.js';
import { HUBSPOT_BATCH_SIZE } from './contacts.js';
import {
  type HubSpotBatchResponse,
  type HubSpotContext,
  type HubSpotObject,
  listsPath,
  objectsPath,
} from './context.js';

const CONTACT_OBJECT_TYPE_ID = '0-1';
/** HubSpot's limit on ids per membership write is not published for add-and-remove; 1,000 stays well inside. */
const MEMBERSHIP_CHUNK = 1_000;

/**
 * The HubSpot list name of a host list. HubSpot list names are unique per portal and lists carry
 * no custom properties, so the host's `externalId` goes into the name to keep two host lists of the
 * same name apart.
 */
export function hubSpotListName(list: CrmList): string {
  return list.externalId ? `${list.name} [${list.externalId}]` : list.name;
}

async function findOrCreateList(
  context: HubSpotContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    const { body } = await context.client.request<{ list: { listId: string; processingType: string } }>({
      operation: 'find list by name',
      method: 'GET',
      path: `${listsPath(context)}/object-type-id/${CONTACT_OBJECT_TYPE_ID}/name/${encodeURIComponent(name)}`,
      idempotent: true,
      signal,
    });
    return body.list.listId;
  } catch (error) {
    if (!(isCrmError(error) && error.code === 'NOT_FOUND')) throw error;
  }
  const { body } = await context.client.request<{ list: { listId: string } }>({
    operation: 'create list',
    method: 'POST',
    path: listsPath(context),
    body: { name, objectTypeId: CONTACT_OBJECT_TYPE_ID, processingType: 'MANUAL' },
    idempotent: false,
    signal,
  });
  return body.list.listId;
}

/** HubSpot record ids of contacts by host id (batch read on the external-id property, 100 per call). */
export async function contactIdsByExternalId(
  context: HubSpotContext,
  externalIds: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const idProperty = context.externalIdProperty ?? 'hs_object_id';
  const found = new Map<string, string>();
  for (let i = 0; i < externalIds.length; i += HUBSPOT_BATCH_SIZE) {
    const chunk = externalIds.slice(i, i + HUBSPOT_BATCH_SIZE);
    const { body } = await context.client.request<HubSpotBatchResponse<HubSpotObject>>({
      operation: 'batch read contacts',
      method: 'POST',
      path: `${objectsPath(context, 'contacts')}/batch/read`,
      body: { idProperty, properties: [idProperty], inputs: chunk.map((id) => ({ id })) },
      idempotent: true,
      signal,
    });
    for (const object of body.results ?? []) {
      const key = idProperty === 'hs_object_id' ? object.id : object.properties[idProperty];
      if (key) found.set(key, object.id);
    }
  }
  return found;
}

async function currentMembers(
  context: HubSpotContext,
  listId: string,
  signal: AbortSignal | undefined,
): Promise<Set<string>> {
  const members = new Set<string>();
  let after: string | undefined;
  do {
    const { body } = await context.client.request<{
      results: Array<{ recordId: string }>;
      paging?: { next?: { after: string } };
    }>({
      operation: 'read list memberships',
      method: 'GET',
      path: `${listsPath(context)}/${listId}/memberships`,
      query: { limit: '250', after },
      idempotent: true,
      signal,
    });
    for (const member of body.results ?? []) members.add(String(member.recordId));
    after = body.paging?.next?.after;
  } while (after);
  return members;
}

/**
 * Makes a MANUAL list's members equal to `list.memberIds`: find or create the list by name, read
 * its memberships, then one `add-and-remove` per chunk of the difference. A member whose contact
 * is not in HubSpot is reported as a failed result; the rest go on.
 */
export async function syncListMembership(
  context: HubSpotContext,
  input: CrmListInput,
  options: CrmCallOptions = {},
): Promise<CrmListSyncResult> {
  const list = parseModel(CrmListSchema, input, 'list');
  const signal = options.signal;
  const listId = list.id ?? (await findOrCreateList(context, hubSpotListName(list), signal));
  const wanted = [...new Set(list.memberIds)];
  const ids = await contactIdsByExternalId(context, wanted, signal);
  const members = await currentMembers(context, listId, signal);
  const syncedAt = context.now();
  const results: CrmSyncResult[] = [];
  const toAdd: string[] = [];
  const wantedIds = new Set<string>();
  let unchanged = 0;
  for (const externalId of wanted) {
    const crmId = ids.get(externalId);
    if (!crmId) {
      results.push({
        entityType: 'list_member',
        externalId,
        success: false,
        error: { code: 'CONTACT_NOT_FOUND', message: 'No HubSpot contact has this host id' },
        syncedAt,
      });
      continue;
    }
    wantedIds.add(crmId);
    if (members.has(crmId)) unchanged += 1;
    else toAdd.push(crmId);
  }
  const toRemove = [...members].filter((id) => !wantedIds.has(id));
  let added = 0;
  let removed = 0;
  for (let i = 0; i < Math.max(toAdd.length, toRemove.length); i += MEMBERSHIP_CHUNK) {
    const { body } = await context.client.request<{
      recordsIdsAdded?: string[];
      recordIdsRemoved?: string[];
    }>({
      operation: 'update list memberships',
      method: 'PUT',
      path: `${listsPath(context)}/${listId}/memberships/add-and-remove`,
      body: {
        recordIdsToAdd: toAdd.slice(i, i + MEMBERSHIP_CHUNK),
        recordIdsToRemove: toRemove.slice(i, i + MEMBERSHIP_CHUNK),
      },
      idempotent: true,
      signal,
    });
    added += body.recordsIdsAdded?.length ?? 0;
    removed += body.recordIdsRemoved?.length ?? 0;
  }
  return { listId, added, removed, unchanged, results };
}
