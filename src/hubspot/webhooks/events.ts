import type { CrmChangeEvent, CrmChangeEventFields } from '../../core/change-event.js';

/** One HubSpot webhook event (the body is an array of these). */
export interface HubSpotWebhookEvent {
  eventId: number;
  subscriptionId?: number;
  portalId: number;
  appId?: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber?: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  changeSource?: string;
  sourceId?: string;
}

/** Parses a webhook body; `undefined` when it is not an array of events. */
export function parseHubSpotWebhookEvents(body: string): HubSpotWebhookEvent[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const valid = parsed.every(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      (typeof e.eventId === 'number' || typeof e.eventId === 'string') &&
      typeof e.subscriptionType === 'string' &&
      (typeof e.objectId === 'number' || typeof e.objectId === 'string') &&
      typeof e.occurredAt === 'number',
  );
  return valid ? (parsed as HubSpotWebhookEvent[]) : undefined;
}

const CONTACT_KEYS: Record<string, Extract<keyof CrmChangeEventFields, string>> = {
  email: 'email',
  firstname: 'firstName',
  lastname: 'lastName',
  company: 'company',
  phone: 'phone',
  jobtitle: 'title',
};

/**
 * A HubSpot webhook event as the core change event `SyncEngine.handleChangeEvent` takes:
 * `contact.propertyChange` → a partial upsert of that one field (`externalIdProperty` → `externalId`,
 * `hs_email_optout` → `emailOptOut`, others → `customFields`); `contact.deletion` and
 * `contact.privacyDeletion` → delete; `contact.creation`, `contact.merge`, `contact.restore` →
 * resync (they carry no values). `undefined` for non-contact events.
 */
export function hubSpotEventToChangeEvent(
  event: HubSpotWebhookEvent,
  options: { externalIdProperty?: string | null } = {},
): CrmChangeEvent | undefined {
  const [object, action] = event.subscriptionType.split('.');
  if (object !== 'contact') return undefined;
  const base = {
    entityType: 'contact' as const,
    crmIds: [String(event.objectId)],
    changedAt: new Date(event.occurredAt),
    eventId: String(event.eventId),
    origin: event.sourceId,
  };
  if (action === 'deletion' || action === 'privacyDeletion')
    return { ...base, kind: 'delete', fields: {}, partial: false };
  if (action === 'propertyChange' && event.propertyName) {
    const name = event.propertyName;
    const value =
      event.propertyValue === undefined || event.propertyValue === '' ? null : event.propertyValue;
    const externalIdProperty =
      options.externalIdProperty === undefined ? 'markmail_id' : options.externalIdProperty;
    const fields: CrmChangeEventFields = {};
    if (name === externalIdProperty) fields.externalId = value;
    else if (name === 'hs_email_optout') fields.emailOptOut = value === null ? null : value === 'true';
    else if (CONTACT_KEYS[name]) (fields as Record<string, unknown>)[CONTACT_KEYS[name]] = value;
    else fields.customFields = { [name]: value };
    return { ...base, kind: 'upsert', fields, partial: true };
  }
  return { ...base, kind: 'resync', fields: {}, partial: false };
}

/**
 * Every event of one delivery as core change events, with all events that need a re-read
 * (`contact.creation`, merges, restores) folded into one `resync`: the engine answers a resync
 * with one incremental pull, so 250 creations cost one pull, not 250.
 */
export function hubSpotEventsToChangeEvents(
  events: readonly HubSpotWebhookEvent[],
  options: { externalIdProperty?: string | null } = {},
): CrmChangeEvent[] {
  const out: CrmChangeEvent[] = [];
  let resync: CrmChangeEvent | undefined;
  for (const event of events) {
    const change = hubSpotEventToChangeEvent(event, options);
    if (!change) continue;
    if (change.kind !== 'resync') {
      out.push(change);
      continue;
    }
    if (resync) {
      resync.crmIds.push(...change.crmIds);
      if (change.changedAt > resync.changedAt) resync.changedAt = change.changedAt;
    } else {
      resync = change;
    }
  }
  return resync ? [...out, resync] : out;
}
