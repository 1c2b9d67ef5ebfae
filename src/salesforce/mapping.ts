import type { CrmCampaign, CrmContact, CrmFieldMapping, CrmLead } from '../core/models.js';
import { CONTACT_FIELDS } from '../internal/contact-fields.js';

/** A Salesforce record as JSON: field API names to values. */
export type SalesforceRecord = Record<string, unknown>;

/** How contacts map to Salesforce `Contact` fields. */
export interface ContactMappingOptions {
  /** External-id field holding the host id, or `null` to match by Email. */
  externalIdField: string | null;
  /** Host-field ↔ Salesforce-field mappings on top of the standard ones. */
  fieldMappings: readonly CrmFieldMapping[];
}

/**
 * Standard contact fields and their Salesforce `Contact` fields. `company` and `tags` have no
 * standard Contact field (a Contact's company is its Account) and are written only when a
 * field mapping names a target.
 */
export const CONTACT_STANDARD_FIELDS = {
  email: 'Email',
  firstName: 'FirstName',
  lastName: 'LastName',
  phone: 'Phone',
  title: 'Title',
  emailOptOut: 'HasOptedOutOfEmail',
} as const;

const CONTACT_STANDARD_ENTRIES = Object.entries(CONTACT_STANDARD_FIELDS);
const CUSTOM_FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*__c$/;

function writes(mapping: CrmFieldMapping): boolean {
  return mapping.syncDirection === 'to_crm' || mapping.syncDirection === 'bidirectional';
}
function reads(mapping: CrmFieldMapping): boolean {
  return mapping.syncDirection === 'from_crm' || mapping.syncDirection === 'bidirectional';
}

/** A host field path (`company`, `tags`, `customFields.Score`, or a bare custom key) on a contact. */
function hostValue(contact: CrmContact, hostField: string): unknown {
  const path = hostField.startsWith('customFields.') ? hostField.slice('customFields.'.length) : hostField;
  if (!hostField.startsWith('customFields.') && CONTACT_FIELDS.has(path)) {
    return (contact as Record<string, unknown>)[path];
  }
  return contact.customFields[path];
}

function customKey(hostField: string): string | undefined {
  if (hostField.startsWith('customFields.')) return hostField.slice('customFields.'.length);
  return CONTACT_FIELDS.has(hostField) ? undefined : hostField;
}

/** Convert a host value into the JSON value Salesforce expects for `fieldType`. */
export function toSalesforceValue(value: unknown, fieldType?: CrmFieldMapping['fieldType']): unknown {
  if (value === undefined || value === null) return value;
  if (value instanceof Date)
    return fieldType === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (Array.isArray(value)) return value.map(String).join(';');
  return value;
}

/**
 * The Salesforce `Contact` body for `contact`: standard fields, the external id, mapped fields
 * and custom fields whose key is already a Salesforce custom field name (`Score__c`). Fields the
 * contact does not set are left out (so an update leaves them unchanged); an explicit `null` in
 * `customFields` clears the field.
 */
export function contactToRecord(contact: CrmContact, options: ContactMappingOptions): SalesforceRecord {
  // Runs once per record of a bulk push (a million times for a big one): no per-call entries
  // arrays or sets unless the contact needs them.
  const record: SalesforceRecord = {};
  for (const [hostField, sfField] of STANDARD_ENTRIES) {
    const value = (contact as Record<string, unknown>)[hostField];
    if (value !== undefined) record[sfField] = value;
  }
  // Explicit clears: `null` is what Salesforce needs to empty a field (absent leaves it as it is).
  const cleared = contact.clearFields?.length ? new Set<string>(contact.clearFields) : NOTHING;
  for (const key of cleared) {
    const sfField = CONTACT_STANDARD_FIELDS[key as keyof typeof CONTACT_STANDARD_FIELDS];
    if (sfField && record[sfField] === undefined) record[sfField] = null;
  }
  if (options.externalIdField) record[options.externalIdField] = contact.externalId;
  const consumed = options.fieldMappings.length > 0 ? new Set<string>() : NOTHING;
  for (const mapping of options.fieldMappings) {
    const key = customKey(mapping.hostField);
    if (key !== undefined) (consumed as Set<string>).add(key);
    if (!writes(mapping)) continue;
    let value = hostValue(contact, mapping.hostField);
    if (value === undefined && cleared.has(mapping.hostField)) {
      record[mapping.crmField] = null;
      continue;
    }
    if (value === undefined) continue;
    if (mapping.transform) value = mapping.transform(value);
    if (value === undefined) continue;
    record[mapping.crmField] = toSalesforceValue(value, mapping.fieldType);
  }
  for (const key in contact.customFields) {
    const value = contact.customFields[key];
    if (consumed.has(key) || !CUSTOM_FIELD_NAME.test(key) || value === undefined) continue;
    record[key] = toSalesforceValue(value);
  }
  return record;
}

const STANDARD_ENTRIES = Object.entries(CONTACT_STANDARD_FIELDS);
const NOTHING: ReadonlySet<string> = new Set();

/** Salesforce fields to SELECT for contacts under `options`. */
export function contactSelectFields(options: ContactMappingOptions, extra: readonly string[] = []): string[] {
  const fields = new Set<string>(['Id', ...Object.values(CONTACT_STANDARD_FIELDS), 'SystemModstamp']);
  if (options.externalIdField) fields.add(options.externalIdField);
  for (const mapping of options.fieldMappings) if (reads(mapping)) fields.add(mapping.crmField);
  for (const field of extra) fields.add(field);
  return [...fields];
}

function fromSalesforceValue(value: unknown, mapping: CrmFieldMapping): unknown {
  if (value === null || value === undefined) return undefined;
  if (mapping.fieldType === 'multipicklist' && typeof value === 'string') {
    return mapping.hostField === 'tags' ? value.split(';').filter(Boolean) : value;
  }
  if (mapping.hostField === 'tags' && typeof value === 'string')
    return value.split(/[;,]/).map((t) => t.trim());
  return value;
}

/**
 * A host contact from a Salesforce `Contact` record. `externalId` is the external-id field's
 * value; a contact created in Salesforce (no host id yet) gets its Salesforce Id instead, so
 * `externalId === id` marks a CRM-originated contact.
 */
export function recordToContact(
  record: SalesforceRecord,
  options: ContactMappingOptions,
): Record<string, unknown> {
  const id = String(record.Id ?? '');
  const external = options.externalIdField ? record[options.externalIdField] : undefined;
  const contact: Record<string, unknown> = {
    id,
    externalId: typeof external === 'string' && external ? external : id,
    tags: [],
    customFields: {} as Record<string, unknown>,
  };
  for (const [hostField, sfField] of CONTACT_STANDARD_ENTRIES) {
    const value = record[sfField];
    if (value !== null && value !== undefined) contact[hostField] = value;
  }
  const modstamp = record.SystemModstamp ?? record.LastModifiedDate;
  if (typeof modstamp === 'string') contact.lastModifiedAt = new Date(modstamp);
  const customFields = contact.customFields as Record<string, unknown>;
  for (const mapping of options.fieldMappings) {
    if (!reads(mapping) || !(mapping.crmField in record)) continue;
    const value = fromSalesforceValue(record[mapping.crmField], mapping);
    if (value === undefined) continue;
    const key = customKey(mapping.hostField);
    if (key === undefined) contact[mapping.hostField] = value;
    else customFields[key] = value;
  }
  return contact;
}

/** Placeholder Salesforce itself uses (Web-to-Lead) for required lead fields the form left empty. */
export const NOT_PROVIDED = '[not provided]';

/** Standard lead fields and their Salesforce `Lead` fields. */
export const LEAD_STANDARD_FIELDS = {
  email: 'Email',
  firstName: 'FirstName',
  lastName: 'LastName',
  company: 'Company',
  phone: 'Phone',
  title: 'Title',
  website: 'Website',
  leadSource: 'LeadSource',
  status: 'Status',
  description: 'Description',
} as const;

/** The Salesforce `Lead` body for `lead`. `LastName` and `Company` are required by Salesforce. */
export function leadToRecord(lead: CrmLead, externalIdField: string | null): SalesforceRecord {
  const record: SalesforceRecord = {};
  for (const [hostField, sfField] of Object.entries(LEAD_STANDARD_FIELDS)) {
    const value = (lead as Record<string, unknown>)[hostField];
    if (value !== undefined && value !== '') record[sfField] = value;
  }
  record.LastName ??= NOT_PROVIDED;
  record.Company ??= NOT_PROVIDED;
  if (externalIdField) record[externalIdField] = lead.externalId;
  for (const [key, value] of Object.entries(lead.customFields)) {
    if (CUSTOM_FIELD_NAME.test(key) && value !== undefined) record[key] = toSalesforceValue(value);
  }
  return record;
}

/** Salesforce fields to SELECT for leads. */
export function leadSelectFields(externalIdField: string | null): string[] {
  const fields = ['Id', ...Object.values(LEAD_STANDARD_FIELDS)];
  if (externalIdField) fields.push(externalIdField);
  return fields;
}

/** A host lead from a Salesforce `Lead` record. */
export function recordToLead(
  record: SalesforceRecord,
  externalIdField: string | null,
): Record<string, unknown> {
  const id = String(record.Id ?? '');
  const external = externalIdField ? record[externalIdField] : undefined;
  const lead: Record<string, unknown> = {
    id,
    externalId: typeof external === 'string' && external ? external : id,
    customFields: {},
  };
  for (const [hostField, sfField] of Object.entries(LEAD_STANDARD_FIELDS)) {
    const value = record[sfField];
    if (value !== null && value !== undefined) lead[hostField] = value;
  }
  lead.leadSource ??= 'Other';
  return lead;
}

// Host campaign states mapped onto the default Campaign.Status picklist; others pass through.
const CAMPAIGN_STATUS: Record<string, string> = {
  draft: 'Planned',
  planned: 'Planned',
  scheduled: 'Planned',
  sending: 'In Progress',
  active: 'In Progress',
  'in progress': 'In Progress',
  sent: 'Completed',
  completed: 'Completed',
  cancelled: 'Aborted',
  canceled: 'Aborted',
  aborted: 'Aborted',
};

/** Map a host campaign status onto Salesforce's default `Campaign.Status` values. */
export function campaignStatus(status: string): string {
  return CAMPAIGN_STATUS[status.toLowerCase()] ?? status;
}

/**
 * The Salesforce `Campaign` body for `campaign`. `emailStats.sent` goes to the standard
 * `NumberSent`; the other counters have no standard field. `memberCount` is a roll-up Salesforce
 * computes from CampaignMember rows, so it is not written.
 */
export function campaignToRecord(campaign: CrmCampaign, externalIdField: string): SalesforceRecord {
  const record: SalesforceRecord = {
    [externalIdField]: campaign.externalId,
    Name: campaign.name,
    Status: campaignStatus(campaign.status),
  };
  if (campaign.type !== undefined) record.Type = campaign.type;
  if (campaign.startDate) record.StartDate = campaign.startDate.toISOString().slice(0, 10);
  if (campaign.endDate) record.EndDate = campaign.endDate.toISOString().slice(0, 10);
  if (campaign.emailStats.sent > 0) record.NumberSent = campaign.emailStats.sent;
  return record;
}
