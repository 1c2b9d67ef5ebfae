/** One stored CRM object (contact, email engagement) as HubSpot's `SimplePublicObject`. */
export interface HubSpotEmulatorObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: Date;
  updatedAt: Date;
  archived: boolean;
  archivedAt?: Date;
  /** Associated object ids by target object type (`contacts` → ids). */
  associations: Record<string, Set<string>>;
}

/** A property definition, as `GET /crm/v3/properties/{objectType}` returns it. */
export interface HubSpotEmulatorProperty {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
  fieldType: string;
  groupName: string;
  hasUniqueValue: boolean;
  /** HubSpot-defined (not user-created) property. */
  hubspotDefined: boolean;
  /** Read-only for API writes (e.g. `lastmodifieddate`, `hs_object_id`). */
  readOnlyValue: boolean;
  options: Array<{ label: string; value: string; displayOrder: number; hidden: boolean }>;
}

/** A list (segment). Only MANUAL and SNAPSHOT lists take membership writes. */
export interface HubSpotEmulatorList {
  listId: string;
  name: string;
  objectTypeId: string;
  processingType: 'MANUAL' | 'DYNAMIC' | 'SNAPSHOT';
  createdAt: Date;
  updatedAt: Date;
  /** Record id → membership timestamp, in insertion order. */
  members: Map<string, Date>;
}

/** A marketing campaign (`/marketing/v3/campaigns`). */
export interface HubSpotEmulatorCampaign {
  id: string;
  properties: Record<string, string | null>;
  createdAt: Date;
  updatedAt: Date;
}

/** One change, recorded for webhook delivery. */
export interface HubSpotEmulatorChange {
  eventId: number;
  subscriptionType:
    | 'contact.creation'
    | 'contact.propertyChange'
    | 'contact.deletion'
    | 'contact.privacyDeletion';
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  occurredAt: number;
}

/** Object types the emulator stores, with their HubSpot object type ids. */
export const HUBSPOT_OBJECT_TYPES = { contacts: '0-1', emails: '0-49' } as const;
/** A stored object type name. */
export type HubSpotObjectType = keyof typeof HUBSPOT_OBJECT_TYPES;

const text = (
  name: string,
  label: string,
  extra: Partial<HubSpotEmulatorProperty> = {},
): HubSpotEmulatorProperty => ({
  name,
  label,
  type: 'string',
  fieldType: 'text',
  groupName: 'contactinformation',
  hasUniqueValue: false,
  hubspotDefined: true,
  readOnlyValue: false,
  options: [],
  ...extra,
});

/** The properties every portal starts with (a subset of HubSpot's defaults) plus MarkMail's keys. */
export function defaultProperties(): Record<HubSpotObjectType, HubSpotEmulatorProperty[]> {
  const readOnly = { readOnlyValue: true };
  return {
    contacts: [
      text('email', 'Email', { hasUniqueValue: true }),
      text('firstname', 'First Name'),
      text('lastname', 'Last Name'),
      text('company', 'Company Name'),
      text('phone', 'Phone Number', { type: 'string', fieldType: 'phonenumber' }),
      text('jobtitle', 'Job Title'),
      text('website', 'Website URL'),
      text('lifecyclestage', 'Lifecycle Stage', {
        type: 'enumeration',
        fieldType: 'radio',
        options: ['subscriber', 'lead', 'customer'].map((value, displayOrder) => ({
          label: value,
          value,
          displayOrder,
          hidden: false,
        })),
      }),
      // Set through the communication-preferences API, not CRM writes.
      text('hs_email_optout', 'Unsubscribed from all email', {
        type: 'bool',
        fieldType: 'booleancheckbox',
        ...readOnly,
      }),
      text('hs_object_id', 'Record ID', { type: 'number', fieldType: 'number', ...readOnly }),
      text('createdate', 'Create Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      text('lastmodifieddate', 'Last Modified Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      // MarkMail's host-id key: a custom property with unique values, so batch upsert can key on it.
      text('markmail_id', 'MarkMail ID', { hasUniqueValue: true, hubspotDefined: false }),
    ],
    emails: [
      text('hs_timestamp', 'Activity date', { type: 'datetime', fieldType: 'date', groupName: 'email' }),
      text('hs_email_direction', 'Email direction', { type: 'enumeration', groupName: 'email' }),
      text('hs_email_status', 'Email send status', { type: 'enumeration', groupName: 'email' }),
      text('hs_email_subject', 'Email subject', { groupName: 'email' }),
      text('hs_email_text', 'Email body', { groupName: 'email' }),
      text('hs_object_id', 'Record ID', { type: 'number', fieldType: 'number', ...readOnly }),
      text('hs_createdate', 'Create Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      text('hs_lastmodifieddate', 'Last Modified Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      text('markmail_activity_id', 'MarkMail activity ID', {
        hasUniqueValue: true,
        hubspotDefined: false,
        groupName: 'email',
      }),
    ],
  };
}

/** The in-memory portal: objects, properties, lists, campaigns and a change log for webhooks. */
export class HubSpotEmulatorStore {
  objects: Record<HubSpotObjectType, Map<string, HubSpotEmulatorObject>> = {
    contacts: new Map(),
    emails: new Map(),
  };
  properties = defaultProperties();
  lists = new Map<string, HubSpotEmulatorList>();
  campaigns = new Map<string, HubSpotEmulatorCampaign>();
  /** Emails that a GDPR delete by email blocked from being created again. */
  blockedEmails = new Set<string>();
  changes: HubSpotEmulatorChange[] = [];
  private nextId = 1001;
  private nextEventId = 1;
  private lastStamp = 0;

  constructor(private readonly now: () => Date) {}

  /** A new numeric record id, as a string (HubSpot ids are numeric). */
  newId(): string {
    return String(this.nextId++);
  }

  /**
   * The modification time of a write. Strictly increasing so `lastmodifieddate` orders writes the
   * way HubSpot's does within one portal (several writes in one millisecond still sort).
   */
  stamp(): Date {
    const now = this.now().getTime();
    this.lastStamp = Math.max(now, this.lastStamp);
    return new Date(this.lastStamp);
  }

  property(type: HubSpotObjectType, name: string): HubSpotEmulatorProperty | undefined {
    return this.properties[type].find((p) => p.name === name);
  }

  /** Live objects by unique property value (`type:property` → normalised value → id). */
  private unique = new Map<string, Map<string, string>>();

  private uniqueIndex(type: HubSpotObjectType, property: string): Map<string, string> | undefined {
    if (!this.property(type, property)?.hasUniqueValue) return undefined;
    const key = `${type}:${property}`;
    let index = this.unique.get(key);
    if (!index) {
      index = new Map();
      for (const object of this.objects[type].values()) {
        const value = object.properties[property];
        if (!object.archived && value) index.set(normalise(property, value), object.id);
      }
      this.unique.set(key, index);
    }
    return index;
  }

  /** Keeps the unique indexes in step with a write, an archive (`next` = null) or a delete. */
  reindex(
    type: HubSpotObjectType,
    object: HubSpotEmulatorObject,
    next: Record<string, string | null> | null,
  ): void {
    for (const [key, index] of this.unique) {
      const [indexType, property] = key.split(':') as [HubSpotObjectType, string];
      if (indexType !== type) continue;
      const old = object.properties[property];
      if (next !== null && !(property in next)) continue;
      if (old && index.get(normalise(property, old)) === object.id) index.delete(normalise(property, old));
      const value = next === null ? null : next[property];
      if (value) index.set(normalise(property, value), object.id);
    }
  }

  /** The live (not archived) object whose `property` equals `value` (case-insensitive for email). */
  findBy(type: HubSpotObjectType, property: string, value: string): HubSpotEmulatorObject | undefined {
    const index = property === 'hs_object_id' ? undefined : this.uniqueIndex(type, property);
    if (index) {
      const id = index.get(normalise(property, value));
      return id === undefined ? undefined : this.objects[type].get(id);
    }
    const wanted = normalise(property, value);
    for (const object of this.objects[type].values()) {
      if (object.archived) continue;
      const current = object.properties[property];
      if (
        property === 'hs_object_id'
          ? object.id === value
          : current != null && normalise(property, current) === wanted
      ) {
        return object;
      }
    }
    return undefined;
  }

  record(change: Omit<HubSpotEmulatorChange, 'eventId' | 'occurredAt'>): void {
    this.changes.push({ ...change, eventId: this.nextEventId++, occurredAt: this.now().getTime() });
  }

  reset(): void {
    this.objects = { contacts: new Map(), emails: new Map() };
    this.properties = defaultProperties();
    this.lists.clear();
    this.campaigns.clear();
    this.blockedEmails.clear();
    this.unique.clear();
    this.changes = [];
    this.nextId = 1001;
    this.nextEventId = 1;
    this.lastStamp = 0;
  }
}

function normalise(property: string, value: string): string {
  return property === 'email' ? value.toLowerCase() : value;
}
