import { z } from 'zod';
import { CrmDataConversionError, type CrmFieldIssue } from './errors.js';

/**
 * CRM models: zod schemas with inferred types. Field lengths follow Salesforce's standard fields
 * (Email 80, LastName 80, FirstName 40, Company 255, Phone 40, Title 128), the tightest limits of
 * the CRMs we target, so a record valid here is not rejected by the CRM for its length.
 */

/** Maximum lengths of standard fields, in characters. */
export const CRM_FIELD_LIMITS = {
  email: 80,
  firstName: 40,
  lastName: 80,
  company: 255,
  phone: 40,
  title: 128,
  website: 255,
  leadSource: 255,
  leadStatus: 255,
  description: 32_000,
  campaignName: 80,
  externalId: 255,
  tag: 255,
  listName: 80,
} as const;

// Local part: printable, no whitespace, no '@', no leading/trailing/double dots, none of the
// characters RFC 5322 allows only inside quotes (`()<>[]\,;:`), no control or invisible format
// characters (a zero-width space would make two addresses that look the same).
// Domain: dot-separated labels of letters (any script, for IDN), digits and inner hyphens,
// ending in an alphabetic TLD (any length, e.g. .photography) or a punycode one (xn--…).
const LOCAL_PART =
  /^[^\s@".()<>[\]\\,;:\p{Cc}\p{Cf}](?:[^\s@"()<>[\]\\,;:\p{Cc}\p{Cf}]*[^\s@".()<>[\]\\,;:\p{Cc}\p{Cf}])?$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;
const TLD = /^(?:\p{L}{2,}|xn--[a-z0-9-]+)$/iu;

/**
 * A real-world-tolerant email check: plus-addressing, IDN domains and long TLDs pass; spaces,
 * a missing `@`, double dots and empty parts fail. Not RFC 5322 in full (quoted local parts and IP
 * literals are refused) because CRMs refuse them too.
 */
export function isValidEmail(value: string): boolean {
  return isCommonAsciiEmail(value) || isValidEmailByRules(value);
}

// The shape nearly every real address has — ASCII letters, digits and the RFC 5322 atom symbols,
// dot-separated, an ASCII domain of LDH labels of at most 63 characters and an alphabetic TLD —
// in one regular expression. Anything it accepts the rules below accept too (a test checks this
// on random strings); anything else (IDN, punycode TLD, odd characters) goes to the rules. Reading
// 100,000 contacts from a CRM spent a sixth of its SDK CPU in the three Unicode expressions.
const COMMON_ASCII_EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** The fast accept path of `isValidEmail`: a common ASCII address with a local part of ≤ 64. */
export function isCommonAsciiEmail(value: string): boolean {
  return COMMON_ASCII_EMAIL.test(value) && value.indexOf('@') <= 64;
}

/** `isValidEmail`'s full rules, for any address. */
export function isValidEmailByRules(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || local.includes('..') || !LOCAL_PART.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((label) => label.length <= 63 && DOMAIN_LABEL.test(label))) return false;
  return TLD.test(labels[labels.length - 1] ?? '');
}

const trimmed = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { message: `must be at most ${max} characters` });
const optionalText = (max: number) => trimmed(max).optional();

/** An email address: trimmed, at most 80 characters, real-world-tolerant format check. */
export const CrmEmailSchema = z
  .string()
  .trim()
  // `abort`: an empty address is just missing; do not also call it malformed.
  .min(1, { message: 'is required', abort: true })
  .max(CRM_FIELD_LIMITS.email, { message: `must be at most ${CRM_FIELD_LIMITS.email} characters` })
  .refine(isValidEmail, { message: 'is not a valid email address' });

/**
 * True when `value` starts with an ISO-8601 calendar date that exists. `Date` parsing alone is not
 * enough: V8 rolls `2024-02-30` over to March 1st instead of refusing it.
 */
function isIsoCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one.
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const INVALID_DATE = 'is not a valid date (use a Date or an ISO-8601 string)';

/** A date given as a `Date` or an ISO-8601 string; always a `Date` after parsing. */
export const CrmDateSchema = z
  .union([z.date(), z.string().trim()], { error: INVALID_DATE })
  .transform((value, ctx) => {
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime()) || (typeof value === 'string' && !isIsoCalendarDate(value))) {
      ctx.addIssue({ code: 'custom', message: INVALID_DATE });
      return z.NEVER;
    }
    return date;
  });

const ExternalIdSchema = z
  .string()
  .trim()
  .min(1, { message: 'is required' })
  .max(CRM_FIELD_LIMITS.externalId, { message: `must be at most ${CRM_FIELD_LIMITS.externalId} characters` });

const CrmIdSchema = z.string().trim().min(1).max(64);
const CustomFieldsSchema = z.record(z.string().min(1), z.unknown());

/** A contact (Salesforce Contact, HubSpot contact). `externalId` is the host's id. */
export const CrmContactSchema = z.object({
  id: CrmIdSchema.optional(),
  externalId: ExternalIdSchema,
  email: CrmEmailSchema,
  firstName: optionalText(CRM_FIELD_LIMITS.firstName),
  lastName: optionalText(CRM_FIELD_LIMITS.lastName),
  company: optionalText(CRM_FIELD_LIMITS.company),
  phone: optionalText(CRM_FIELD_LIMITS.phone),
  title: optionalText(CRM_FIELD_LIMITS.title),
  emailOptOut: z.boolean().optional(),
  tags: z.array(trimmed(CRM_FIELD_LIMITS.tag)).default([]),
  customFields: CustomFieldsSchema.default({}),
  lastModifiedAt: CrmDateSchema.optional(),
  lastSyncAt: CrmDateSchema.optional(),
  /**
   * Standard fields to empty in the CRM. An update leaves fields the contact does not set as they
   * are, so a value the host cleared must be named here to be cleared (Salesforce: `null` in REST,
   * `#N/A` in Bulk API CSV). Ignored for a field that also has a value.
   */
  clearFields: z.array(z.enum(['firstName', 'lastName', 'company', 'phone', 'title'])).optional(),
});
/** A parsed contact. */
export type CrmContact = z.output<typeof CrmContactSchema>;
/** What callers may pass for a contact (dates as strings, defaults omitted). */
export type CrmContactInput = z.input<typeof CrmContactSchema>;

/** A lead, typically from a form submission. */
export const CrmLeadSchema = z.object({
  id: CrmIdSchema.optional(),
  externalId: ExternalIdSchema,
  email: CrmEmailSchema,
  firstName: optionalText(CRM_FIELD_LIMITS.firstName),
  lastName: optionalText(CRM_FIELD_LIMITS.lastName),
  company: optionalText(CRM_FIELD_LIMITS.company),
  phone: optionalText(CRM_FIELD_LIMITS.phone),
  title: optionalText(CRM_FIELD_LIMITS.title),
  website: optionalText(CRM_FIELD_LIMITS.website),
  leadSource: trimmed(CRM_FIELD_LIMITS.leadSource).min(1, { message: 'is required' }),
  status: optionalText(CRM_FIELD_LIMITS.leadStatus),
  description: optionalText(CRM_FIELD_LIMITS.description),
  customFields: CustomFieldsSchema.default({}),
});
/** A parsed lead. */
export type CrmLead = z.output<typeof CrmLeadSchema>;
/** What callers may pass for a lead. */
export type CrmLeadInput = z.input<typeof CrmLeadSchema>;

const Count = z.number().int().nonnegative();

/** Email engagement counters of a campaign. */
export const CrmEmailStatsSchema = z.object({
  sent: Count.default(0),
  opened: Count.default(0),
  clicked: Count.default(0),
  bounced: Count.default(0),
  unsubscribed: Count.default(0),
});
/** Parsed email stats. */
export type CrmEmailStats = z.output<typeof CrmEmailStatsSchema>;

/** An email campaign mirrored into the CRM (Salesforce Campaign). */
export const CrmCampaignSchema = z
  .object({
    id: CrmIdSchema.optional(),
    externalId: ExternalIdSchema,
    name: trimmed(CRM_FIELD_LIMITS.campaignName).min(1, { message: 'is required' }),
    status: trimmed(255).min(1, { message: 'is required' }),
    type: optionalText(255),
    startDate: CrmDateSchema.optional(),
    endDate: CrmDateSchema.optional(),
    memberCount: Count.default(0),
    emailStats: CrmEmailStatsSchema.default({ sent: 0, opened: 0, clicked: 0, bounced: 0, unsubscribed: 0 }),
  })
  .refine((c) => !c.startDate || !c.endDate || c.endDate >= c.startDate, {
    message: 'must not be before startDate',
    path: ['endDate'],
  });
/** A parsed campaign. */
export type CrmCampaign = z.output<typeof CrmCampaignSchema>;
/** What callers may pass for a campaign. */
export type CrmCampaignInput = z.input<typeof CrmCampaignSchema>;

/** Kinds of email activity logged to the CRM. */
export const CrmEmailActivityTypeSchema = z.enum(['sent', 'opened', 'clicked', 'bounced', 'unsubscribed']);
/** One of `sent`, `opened`, `clicked`, `bounced`, `unsubscribed`. */
export type CrmEmailActivityType = z.output<typeof CrmEmailActivityTypeSchema>;

/** One email event for one contact. `externalId` is its idempotency key. */
export const CrmEmailActivitySchema = z.object({
  externalId: ExternalIdSchema,
  contactExternalId: ExternalIdSchema,
  campaignExternalId: ExternalIdSchema.optional(),
  activityType: CrmEmailActivityTypeSchema,
  occurredAt: CrmDateSchema,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** A parsed email activity. */
export type CrmEmailActivity = z.output<typeof CrmEmailActivitySchema>;
/** What callers may pass for an email activity. */
export type CrmEmailActivityInput = z.input<typeof CrmEmailActivitySchema>;

/** A host mailing list; `memberIds` are contact externalIds. */
export const CrmListSchema = z.object({
  id: CrmIdSchema.optional(),
  externalId: ExternalIdSchema.optional(),
  name: trimmed(CRM_FIELD_LIMITS.listName).min(1, { message: 'is required' }),
  memberIds: z.array(ExternalIdSchema),
});
/** A parsed list. */
export type CrmList = z.output<typeof CrmListSchema>;
/** What callers may pass for a list. */
export type CrmListInput = z.input<typeof CrmListSchema>;

/** Field types, normalised across CRMs. */
export const CrmFieldTypeSchema = z.enum([
  'text',
  'number',
  'date',
  'datetime',
  'boolean',
  'picklist',
  'multipicklist',
  'email',
  'phone',
  'url',
  'reference',
]);
/** A normalised field type. */
export type CrmFieldType = z.output<typeof CrmFieldTypeSchema>;

/** A field of a CRM object as described by the CRM. */
export const CrmCustomFieldSchema = z.object({
  name: z.string().trim().min(1),
  label: z.string(),
  fieldType: CrmFieldTypeSchema,
  required: z.boolean(),
  options: z.array(z.string()).optional(),
  updateable: z.boolean(),
});
/** A described field. */
export type CrmCustomField = z.output<typeof CrmCustomFieldSchema>;

/** Which way a mapped field flows. */
export const CrmSyncDirectionSchema = z.enum(['to_crm', 'from_crm', 'bidirectional']);
/** `to_crm`, `from_crm` or `bidirectional`. */
export type CrmSyncDirection = z.output<typeof CrmSyncDirectionSchema>;

/** Maps a host field to a CRM field. `transform` is applied to values going to the CRM. */
export const CrmFieldMappingSchema = z.object({
  hostField: z.string().trim().min(1, { message: 'is required' }),
  crmField: z.string().trim().min(1, { message: 'is required' }),
  fieldType: CrmFieldTypeSchema,
  syncDirection: CrmSyncDirectionSchema.default('bidirectional'),
  transform: z.custom<(value: unknown) => unknown>((v) => typeof v === 'function').optional(),
});
/** A parsed field mapping. */
export type CrmFieldMapping = z.output<typeof CrmFieldMappingSchema>;
/** What callers may pass for a field mapping. */
export type CrmFieldMappingInput = z.input<typeof CrmFieldMappingSchema>;

/** Entity kinds that sync results and status rows refer to. */
export const CrmEntityTypeSchema = z.enum([
  'contact',
  'lead',
  'campaign',
  'email_activity',
  'list',
  'list_member',
]);
/** An entity kind. */
export type CrmEntityType = z.output<typeof CrmEntityTypeSchema>;

/** Why one record failed: the provider's code, a message, and the fields involved. */
export const CrmRecordErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(z.string()).optional(),
});
/** A per-record error. */
export type CrmRecordError = z.output<typeof CrmRecordErrorSchema>;

/** The outcome for one record of a sync. */
export const CrmSyncResultSchema = z.object({
  entityType: CrmEntityTypeSchema,
  externalId: z.string(),
  crmId: z.string().optional(),
  success: z.boolean(),
  created: z.boolean().optional(),
  error: CrmRecordErrorSchema.optional(),
  syncedAt: z.date(),
});
/** A per-record sync outcome. */
export type CrmSyncResult = z.output<typeof CrmSyncResultSchema>;

/** The outcome of a batch sync: counts, per-record results, API calls spent and the path taken. */
export const CrmBulkSyncResultSchema = z.object({
  total: Count,
  success: Count,
  failed: Count,
  results: z.array(CrmSyncResultSchema),
  apiCalls: Count,
  /** Calls the provider sent again after a transient failure and that then went on. Optional: not every provider counts them. */
  retries: Count.optional(),
  mode: z.enum(['rest', 'bulk']),
});
/** A batch sync outcome. */
export type CrmBulkSyncResult = z.output<typeof CrmBulkSyncResultSchema>;

/**
 * Turn zod issues into field issues without echoing any input value.
 *
 * @param input - the value that was parsed. When given, a missing field is reported as
 * `is required` rather than as a wrong type (zod 4 does not keep the input on its issues).
 */
export function toFieldIssues(error: z.ZodError, prefix?: string, input?: unknown): CrmFieldIssue[] {
  return error.issues.map((issue) => {
    // An invalid record key's path ends with the key itself; the record is the field at fault.
    const segments = issue.code === 'invalid_key' ? issue.path.slice(0, -1) : issue.path;
    const path = segments.map(String).join('.');
    const field = [prefix, path].filter(Boolean).join('.') || '(root)';
    const missing = input !== undefined ? valueAt(input, issue.path) === undefined : undefined;
    return { field, message: describeIssue(issue, missing), code: issue.code };
  });
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeIssue(issue: z.core.$ZodIssue, missing: boolean | undefined): string {
  // Without the input, zod's own wording is the only hint that the value was absent.
  const absent = missing ?? / received undefined$/.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (absent) return 'is required';
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_union':
      return absent ? 'is required' : issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has unknown keys ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * Validate `input` with `schema` or throw a {@link CrmDataConversionError} naming every bad field.
 *
 * @param what - what is being validated, used in the message (e.g. `contact`).
 * @throws {CrmDataConversionError} when the input is invalid.
 */
export function parseModel<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toFieldIssues(result.error, undefined, input);
  const summary = issues.map((i) => `${i.field} ${i.message}`).join('; ');
  throw new CrmDataConversionError(`Invalid ${what}: ${summary}`, { fields: issues });
}
