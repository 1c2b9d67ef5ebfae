import { HubSpotEmulatorError, type HubSpotRoute, route } from '../http.js';
import type { HubSpotEmulatorList, HubSpotEmulatorStore } from '../store.js';

function toPublic(list: HubSpotEmulatorList) {
  return {
    listId: list.listId,
    name: list.name,
    objectTypeId: list.objectTypeId,
    processingType: list.processingType,
    processingStatus: 'COMPLETE',
    listVersion: 1,
    size: list.members.size,
    createdAt: list.createdAt.toISOString(),
    updatedAt: list.updatedAt.toISOString(),
  };
}

function findList(store: HubSpotEmulatorStore, listId: string | undefined): HubSpotEmulatorList {
  const list = store.lists.get(listId ?? '');
  if (!list) throw new HubSpotEmulatorError(404, 'OBJECT_NOT_FOUND', `List ${listId} does not exist.`);
  return list;
}

function writable(list: HubSpotEmulatorList): HubSpotEmulatorList {
  if (list.processingType === 'DYNAMIC') {
    throw new HubSpotEmulatorError(
      400,
      'VALIDATION_ERROR',
      `List ${list.listId} is DYNAMIC; its memberships cannot be edited.`,
    );
  }
  return list;
}

function ids(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** Applies adds and removes; ids that are not live contacts are reported missing and ignored. */
function change(store: HubSpotEmulatorStore, list: HubSpotEmulatorList, add: string[], remove: string[]) {
  // Field names as HubSpot spells them (`recordsIdsAdded` included).
  const recordsIdsAdded: string[] = [];
  const recordIdsRemoved: string[] = [];
  const recordIdsMissing: string[] = [];
  for (const id of add) {
    const contact = store.objects.contacts.get(id);
    if (!contact || contact.archived) recordIdsMissing.push(id);
    else if (!list.members.has(id)) {
      list.members.set(id, new Date());
      recordsIdsAdded.push(id);
    }
  }
  for (const id of remove) if (list.members.delete(id)) recordIdsRemoved.push(id);
  list.updatedAt = new Date();
  return { recordsIdsAdded, recordIdsRemoved, recordIdsMissing };
}

/** Lists v3: create, look up by name, memberships (read, add, remove, add-and-remove). */
export function listRoutes(store: HubSpotEmulatorStore): HubSpotRoute[] {
  return [
    route('POST', '/crm/v3/lists', async (request) => {
      const body = ((await request.json()) ?? {}) as Partial<HubSpotEmulatorList>;
      if (!body.name || !body.objectTypeId || !body.processingType) {
        throw new HubSpotEmulatorError(
          400,
          'VALIDATION_ERROR',
          'name, objectTypeId and processingType are required',
        );
      }
      if ([...store.lists.values()].some((l) => l.name === body.name)) {
        throw new HubSpotEmulatorError(
          400,
          'VALIDATION_ERROR',
          `A list named '${body.name}' already exists.`,
          {
            subCategory: 'ILS.DUPLICATE_LIST_NAMES',
          },
        );
      }
      const list: HubSpotEmulatorList = {
        listId: store.newId(),
        name: body.name,
        objectTypeId: body.objectTypeId,
        processingType: body.processingType,
        createdAt: new Date(),
        updatedAt: new Date(),
        members: new Map(),
      };
      store.lists.set(list.listId, list);
      return { status: 200, body: { list: toPublic(list) } };
    }),
    route('GET', '/crm/v3/lists/object-type-id/:objectTypeId/name/:name', (request) => {
      const list = [...store.lists.values()].find(
        (l) => l.objectTypeId === request.params.objectTypeId && l.name === request.params.name,
      );
      if (!list)
        throw new HubSpotEmulatorError(
          404,
          'OBJECT_NOT_FOUND',
          `List ${request.params.name} does not exist.`,
        );
      return { status: 200, body: { list: toPublic(list) } };
    }),
    route('GET', '/crm/v3/lists/:listId', (request) => ({
      status: 200,
      body: { list: toPublic(findList(store, request.params.listId)) },
    })),
    route('GET', '/crm/v3/lists/:listId/memberships', (request) => {
      const list = findList(store, request.params.listId);
      const limit = Math.min(Number(request.query.get('limit') ?? 100), 250);
      const offset = Number(request.query.get('after') ?? 0);
      const members = [...list.members.entries()];
      const page = members.slice(offset, offset + limit);
      const next = offset + limit;
      return {
        status: 200,
        body: {
          results: page.map(([recordId, at]) => ({ recordId, membershipTimestamp: at.toISOString() })),
          total: members.length,
          ...(next < members.length ? { paging: { next: { after: String(next) } } } : {}),
        },
      };
    }),
    route('PUT', '/crm/v3/lists/:listId/memberships/add', async (request) => {
      const list = writable(findList(store, request.params.listId));
      return { status: 200, body: change(store, list, ids(await request.json()), []) };
    }),
    route('PUT', '/crm/v3/lists/:listId/memberships/remove', async (request) => {
      const list = writable(findList(store, request.params.listId));
      return { status: 200, body: change(store, list, [], ids(await request.json())) };
    }),
    route('PUT', '/crm/v3/lists/:listId/memberships/add-and-remove', async (request) => {
      const list = writable(findList(store, request.params.listId));
      const body = ((await request.json()) ?? {}) as {
        recordIdsToAdd?: unknown;
        recordIdsToRemove?: unknown;
      };
      return {
        status: 200,
        body: change(store, list, ids(body.recordIdsToAdd), ids(body.recordIdsToRemove)),
      };
    }),
  ];
}
