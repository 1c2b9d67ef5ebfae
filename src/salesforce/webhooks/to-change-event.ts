import type { CrmChangeEvent, CrmChangeEventFields } from '../../core/change-event.js';
import { CrmWebhookError } from '../../core/errors.js';
import type { CrmFieldMapping } from '../../core/models.js';
import { CONTACT_DATA_FIELDS } from '../../internal/contact-fields.js';
import { CONTACT_STANDARD_FIELDS } from '../mapping.js';
import { changeEventClientTag, type SalesforceChangeEvent } from './change-event.js';
import type { SalesforceOutboundNotification } from './outbound-message.js';

/**
 * How Salesforce fields map to contact fields: pass the `SalesforceProvider` itself (it has both
 * properties), or the same values given to it.
 */
export interface SalesforceChangeMapping {
  /** Contact external-id field holding the host id (`MarkMail_ID__c`), or `null`. */
  readonly externalIdField: string | null;
  /** Contact field mappings (only `from_crm` and `bidirectional` ones are read). */
  readonly fieldMappings: readonly CrmFieldMapping[];
}

/**
 * Converts a decoded Change Data Capture event into the engine's provider-neutral
 * {@link CrmChangeEvent}: `CREATE` → `upsert` (complete: a mapped field the event omits is empty),
 * `UPDATE` → partial `upsert` (only the changed fields), `DELETE`, `UNDELETE`, `GAP_*` → `resync`.
 * Field API names become contact fields as the provider maps them; the `client=` tag of
 * `changeOrigin` becomes `origin`; `commitTimestamp` becomes `changedAt`.
 *
 * @returns the change, or `null` for an object other than `Contact` and `Lead`.
 * @example
 * onEvent: async (event) => {
 *   const change = toCrmChangeEvent(event, provider);
 *   if (change) await engine.handleChangeEvent(change, { apply });
 * }
 */
export function toCrmChangeEvent(
  event: SalesforceChangeEvent,
  mapping: SalesforceChangeMapping,
): CrmChangeEvent | null {
  const entityType = entityOf(event.header.entityName);
  if (entityType === null) return null;
  const { header } = event;
  const stamp =
    header.commitTimestamp > 0 ? new Date(header.commitTimestamp) : dateOf(event.fields.LastModifiedDate);
  if (stamp === null) {
    throw new CrmWebhookError('Change event has no commitTimestamp', {
      details: { reason: 'missing_timestamp', replayId: event.replayId },
    });
  }
  const base = {
    entityType,
    crmIds: [...header.recordIds],
    changedAt: stamp,
    origin: changeEventClientTag(header.changeOrigin),
    eventId: String(event.replayId),
  };
  if (event.isGap) return { ...base, kind: 'resync', fields: {}, partial: false };
  switch (header.changeType) {
    case 'DELETE':
      return { ...base, kind: 'delete', fields: {}, partial: false };
    case 'UPDATE': {
      // `fields` holds the changed values; `nulledFields` names fields set to null when the
      // payload leaves them out.
      const values: Record<string, unknown> = { ...event.fields };
      for (const name of header.nulledFields) if (!(name in values)) values[name] = null;
      return { ...base, kind: 'upsert', fields: mapFields(values, mapping, false), partial: true };
    }
    default:
      return {
        ...base,
        kind: header.changeType === 'UNDELETE' ? 'undelete' : 'upsert',
        // CREATE/UNDELETE carry every non-empty field: an omitted mapped field is empty.
        fields: mapFields(event.fields, mapping, true),
        partial: false,
      };
  }
}

/**
 * Converts one outbound-message notification into a {@link CrmChangeEvent} (`upsert` of the
 * selected fields: fields the action does not select are left alone, `xsi:nil` and empty values
 * clear). Select `SystemModstamp` (or `LastModifiedDate`) in the outbound message: it orders
 * deliveries. Outbound messages carry no origin, so echoes are recognised by the three-way merge
 * (nothing changed) rather than by tag.
 *
 * @returns the change, or `null` for an object other than `Contact` and `Lead`.
 * @throws {CrmWebhookError} (`details.reason: 'missing_timestamp'`) when neither timestamp field is selected.
 */
export function outboundNotificationToCrmChangeEvent(
  notification: SalesforceOutboundNotification,
  mapping: SalesforceChangeMapping,
): CrmChangeEvent | null {
  const entityType = entityOf(notification.sObject.type);
  if (entityType === null) return null;
  const raw = notification.sObject.fields;
  const stamp = dateOf(raw.SystemModstamp) ?? dateOf(raw.LastModifiedDate);
  const id = raw.Id;
  if (stamp === null || typeof id !== 'string' || id === '') {
    throw new CrmWebhookError(
      'Outbound message notification needs Id and SystemModstamp (or LastModifiedDate)',
      {
        details: { reason: 'missing_timestamp', notificationId: notification.id },
      },
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    // Outbound messages send text: booleans as "true"/"false", empty as "" or nil.
    values[name] =
      value === null || value === '' ? null : name === 'HasOptedOutOfEmail' ? value === 'true' : value;
  }
  return {
    entityType,
    crmIds: [id],
    kind: 'upsert',
    fields: mapFields(values, mapping, false),
    partial: false,
    changedAt: stamp,
    eventId: notification.id,
  };
}

function entityOf(name: string): 'contact' | 'lead' | null {
  if (name === 'Contact') return 'contact';
  if (name === 'Lead') return 'lead';
  return null;
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Salesforce API names → contact fields, mirroring how the provider reads a Contact record. */
function mapFields(
  values: Record<string, unknown>,
  mapping: SalesforceChangeMapping,
  complete: boolean,
): CrmChangeEventFields {
  const out: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  const read = (sfField: string): unknown => {
    if (Object.hasOwn(values, sfField)) return values[sfField] ?? null;
    return complete ? null : undefined;
  };
  for (const [key, sfField] of Object.entries(CONTACT_STANDARD_FIELDS)) {
    const value = read(sfField);
    if (value === undefined) continue;
    out[key] = key === 'emailOptOut' ? value === true || value === 'true' : value;
  }
  if (mapping.externalIdField && Object.hasOwn(values, mapping.externalIdField)) {
    const external = values[mapping.externalIdField];
    out.externalId = typeof external === 'string' && external !== '' ? external : null;
  }
  for (const m of mapping.fieldMappings) {
    if (m.syncDirection === 'to_crm') continue;
    let value = read(m.crmField);
    if (value === undefined) continue;
    if (m.hostField === 'tags' && typeof value === 'string') value = value.split(';').filter(Boolean);
    const key = m.hostField.startsWith('customFields.')
      ? m.hostField.slice('customFields.'.length)
      : m.hostField;
    if (!m.hostField.startsWith('customFields.') && CONTACT_DATA_FIELDS.has(key)) out[key] = value;
    else custom[key] = value;
  }
  if (Object.keys(custom).length > 0) out.customFields = custom;
  return out as CrmChangeEventFields;
}
