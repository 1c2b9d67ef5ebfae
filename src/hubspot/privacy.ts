import { isCrmError } from '../core/errors.js';
import {
  type CrmContactExport,
  type CrmContactRef,
  type CrmForgetOptions,
  type CrmForgetResult,
  parseContactRef,
} from '../core/privacy.js';
import type { CrmCallOptions } from '../core/provider.js';
import {
  type HubSpotBatchResponse,
  type HubSpotContext,
  type HubSpotObject,
  objectsPath,
  propertiesPath,
} from './context.js';

async function readContact(
  context: HubSpotContext,
  id: string,
  idProperty: string | undefined,
  properties: string[],
  signal: AbortSignal | undefined,
): Promise<HubSpotObject | undefined> {
  try {
    const { body } = await context.client.request<HubSpotObject>({
      operation: 'read contact for a privacy request',
      method: 'GET',
      path: `${objectsPath(context, 'contacts')}/${encodeURIComponent(id)}`,
      query: { idProperty, properties: properties.join(',') },
      idempotent: true,
      signal,
    });
    return body;
  } catch (error) {
    if (isCrmError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** Every contact the reference names (by record id, email, host id), without duplicates. */
async function findContacts(
  context: HubSpotContext,
  ref: CrmContactRef,
  properties: string[],
  signal: AbortSignal | undefined,
): Promise<HubSpotObject[]> {
  const lookups: Array<[string, string | undefined]> = [];
  if (ref.crmId && /^\d+$/.test(ref.crmId)) lookups.push([ref.crmId, undefined]);
  if (ref.email) lookups.push([ref.email, 'email']);
  if (ref.externalId && context.externalIdProperty)
    lookups.push([ref.externalId, context.externalIdProperty]);
  const found = new Map<string, HubSpotObject>();
  for (const [id, idProperty] of lookups) {
    const object = await readContact(context, id, idProperty, properties, signal);
    if (object) found.set(object.id, object);
  }
  return [...found.values()];
}

/**
 * Erases the person with HubSpot's GDPR delete (permanent, unlike archive). When no contact is
 * found but an email is known, the GDPR delete by email still runs: HubSpot then blocks that
 * address from being re-created.
 */
export async function forgetContact(
  context: HubSpotContext,
  input: CrmContactRef,
  options: CrmForgetOptions = {},
): Promise<CrmForgetResult> {
  const ref = parseContactRef(input);
  const contacts = await findContacts(context, ref, ['email'], options.signal);
  const gdprDelete = (body: Record<string, string>) =>
    context.client.request({
      operation: 'GDPR delete contact',
      method: 'POST',
      path: `${objectsPath(context, 'contacts')}/gdpr-delete`,
      body,
      idempotent: true,
      signal: options.signal,
    });
  for (const contact of contacts) await gdprDelete({ objectId: contact.id });
  if (contacts.length === 0) {
    if (ref.email) await gdprDelete({ objectId: ref.email, idProperty: 'email' });
    return {
      provider: 'hubspot',
      outcome: 'not_found',
      deleted: { contacts: 0 },
      actions: ref.email ? ['email_blocklisted'] : [],
    };
  }
  return {
    provider: 'hubspot',
    outcome: 'erased',
    deleted: { contacts: contacts.length },
    actions: ['gdpr_delete'],
  };
}

/**
 * Everything HubSpot holds about the person, built (HubSpot has no per-person export): each
 * matching contact with every property, and the email engagements associated with it.
 */
export async function exportContactData(
  context: HubSpotContext,
  input: CrmContactRef,
  options: CrmCallOptions = {},
): Promise<CrmContactExport> {
  const ref = parseContactRef(input);
  const signal = options.signal;
  const { body: definitions } = await context.client.request<{ results: Array<{ name: string }> }>({
    operation: 'list contact properties',
    method: 'GET',
    path: propertiesPath(context, 'contacts'),
    idempotent: true,
    signal,
  });
  const contacts = await findContacts(
    context,
    ref,
    definitions.results.map((p) => p.name),
    signal,
  );
  const emails: HubSpotObject[] = [];
  for (const contact of contacts) {
    const { body } = await context.client.request<{ results: Array<{ toObjectId: string | number }> }>({
      operation: 'read contact email associations',
      method: 'GET',
      path: `/crm/v4/objects/contacts/${contact.id}/associations/emails`,
      idempotent: true,
      signal,
    });
    const ids = (body.results ?? []).map((r) => String(r.toObjectId));
    for (let i = 0; i < ids.length; i += 100) {
      const { body: read } = await context.client.request<HubSpotBatchResponse<HubSpotObject>>({
        operation: 'batch read email engagements',
        method: 'POST',
        path: `${objectsPath(context, 'emails')}/batch/read`,
        body: {
          properties: ['hs_timestamp', 'hs_email_status', 'hs_email_subject', context.activityIdProperty],
          inputs: ids.slice(i, i + 100).map((id) => ({ id })),
        },
        idempotent: true,
        signal,
      });
      emails.push(...(read.results ?? []));
    }
  }
  const plain = (object: HubSpotObject) => JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
  return {
    provider: 'hubspot',
    exportedAt: context.now().toISOString(),
    records: { contacts: contacts.map(plain), emails: emails.map(plain) },
  };
}
