import type { CrmContact } from './models.js';

/**
 * Contact fields of a {@link CrmChangeEvent}, CRM-neutral (`CrmContact` keys): `externalId` (the
 * host id the CRM record carries in its external-id field, when the event includes it), the
 * contact's data fields (`email`, `firstName`, `lastName`, `company`, `phone`, `title`,
 * `emailOptOut`, `tags`; derived from `CrmContactSchema`, so a field added there appears here) and
 * `customFields` (mapped custom fields by CRM field name, as `CrmContact.customFields`). A key that
 * is present carries the CRM's value (`null`: the field is empty / was cleared); an absent key is
 * "not in this event" (a partial update) — never "cleared".
 */
export type CrmChangeEventFields = {
  [K in ChangeEventKey]?: NonNullable<CrmContact[K]> | null;
} & {
  customFields?: Record<string, unknown>;
};

// Spelled out rather than imported from src/internal: core depends on nothing outside core.
type ChangeEventKey = Exclude<
  keyof CrmContact,
  'id' | 'lastModifiedAt' | 'lastSyncAt' | 'customFields' | 'clearFields'
>;

/**
 * A CRM-side change delivered in real time (a Salesforce Change Data Capture event, an outbound
 * message notification, a HubSpot webhook…), in a provider-neutral shape for
 * `SyncEngine.handleChangeEvent`. Build it with a provider's converter, e.g.
 * `toCrmChangeEvent` / `outboundNotificationToCrmChangeEvent` from `@markmail/crm/salesforce`.
 */
export interface CrmChangeEvent {
  /** The changed object. The engine syncs contacts; `lead` events are counted and skipped. */
  entityType: 'contact' | 'lead';
  /**
   * CRM ids of the changed records (one transaction may change several the same way). An id ending
   * in `*` (a Salesforce wildcard such as `003*`) means "some records of this type": the engine
   * re-reads them like `resync`.
   */
  crmIds: string[];
  /**
   * `upsert`: created or updated; `delete`; `undelete` (restored from the recycle bin: `fields`
   * hold the full record); `resync`: the event carries no values (a gap or overflow) — the
   * records must be re-read from the CRM.
   */
  kind: 'upsert' | 'delete' | 'undelete' | 'resync';
  /** The changed values; see {@link CrmChangeEventFields}. Ignored for `delete` and `resync`. */
  fields: CrmChangeEventFields;
  /**
   * True when `fields` holds only the fields that changed (a CDC `UPDATE`): only those are merged.
   * False when it holds the whole record (CDC `CREATE`/`UNDELETE`, an outbound message): a mapped
   * field missing from it is taken as empty.
   */
  partial: boolean;
  /**
   * When the CRM committed the change (CDC `commitTimestamp`, a record's `SystemModstamp`). The
   * engine never applies a change older than the last one it applied to the same record.
   */
  changedAt: Date;
  /**
   * The writer's client tag (Salesforce `changeOrigin` `client=<tag>`), when the CRM reports it.
   * Equal to the engine's `clientTag`: an echo of the engine's own write, not applied.
   */
  origin?: string | undefined;
  /** Delivery id for logs and dedupe (CDC replay id, outbound notification id). */
  eventId?: string | undefined;
}

/** True when `id` is a wildcard (`003*`) rather than one record's id. */
export function isWildcardCrmId(id: string): boolean {
  return id.endsWith('*');
}
