import { formatDate } from '../dates.js';
import { isSalesforceIdShape, toId18 } from '../ids.js';
import type { EmulatorClock, OrgStore } from '../store/org-store.js';
import { RecordFailure } from '../store/record-error.js';
import type { EmulatorRecord } from '../store/schema.js';
import { SoapFault } from './soap-envelope.js';

/** One `LeadConvert` of the partner API (`convertLead(leadConverts[])`). */
export interface LeadConvertRequest {
  leadId: string;
  convertedStatus: string | undefined;
  doNotCreateOpportunity: boolean;
  accountId: string | undefined;
  contactId: string | undefined;
  ownerId: string | undefined;
}

/** One `LeadConvertResult`. */
export interface LeadConvertOutcome {
  leadId: string;
  accountId: string | null;
  contactId: string | null;
  /** The Opportunity created (unless `doNotCreateOpportunity`), or null. */
  opportunityId: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
}

/** Lead statuses whose `IsConverted` flag is set (the emulator's LeadStatus picklist). */
export const CONVERTED_STATUSES = new Set(['Closed - Converted']);

const CONTACT_FIELDS: ReadonlyArray<[lead: string, contact: string]> = [
  ['Salutation', 'Salutation'],
  ['FirstName', 'FirstName'],
  ['LastName', 'LastName'],
  ['Title', 'Title'],
  ['Email', 'Email'],
  ['Phone', 'Phone'],
  ['MobilePhone', 'MobilePhone'],
  ['LeadSource', 'LeadSource'],
  ['Description', 'Description'],
  ['HasOptedOutOfEmail', 'HasOptedOutOfEmail'],
  ['DoNotCall', 'DoNotCall'],
  ['Street', 'MailingStreet'],
  ['City', 'MailingCity'],
  ['State', 'MailingState'],
  ['PostalCode', 'MailingPostalCode'],
  ['Country', 'MailingCountry'],
];

const ACCOUNT_FIELDS: ReadonlyArray<[lead: string, account: string]> = [
  ['Company', 'Name'],
  ['Phone', 'Phone'],
  ['Website', 'Website'],
  ['Industry', 'Industry'],
  ['Street', 'BillingStreet'],
  ['City', 'BillingCity'],
  ['State', 'BillingState'],
  ['PostalCode', 'BillingPostalCode'],
  ['Country', 'BillingCountry'],
];

/**
 * Reads the `leadConverts` elements of a `convertLead` call.
 *
 * @throws {SoapFault} `MALFORMED_ID` for a value that is not an id at all (the request cannot be
 *   deserialised), `INVALID_ARGUMENT` for an empty call.
 */
export function readLeadConverts(body: Record<string, unknown>): LeadConvertRequest[] {
  const items = Array.isArray(body.leadConverts) ? body.leadConverts : [];
  if (items.length === 0)
    throw new SoapFault('INVALID_ARGUMENT', 'leadConverts: at least one LeadConvert is required');
  if (items.length > 200) {
    throw new SoapFault('EXCEEDED_ID_LIMIT', 'leadConverts: no more than 200 LeadConverts per call');
  }
  return items.map((item) => {
    const record = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const text = (name: string): string | undefined => {
      const value = record[name];
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    };
    const id = (name: string): string | undefined => {
      const value = text(name);
      if (value === undefined) return undefined;
      if (!isSalesforceIdShape(value)) throw new SoapFault('MALFORMED_ID', `Invalid ${name}: ${value}`);
      return toId18(value);
    };
    return {
      leadId: id('leadId') ?? '',
      convertedStatus: text('convertedStatus'),
      doNotCreateOpportunity: text('doNotCreateOpportunity') === 'true',
      accountId: id('accountId'),
      contactId: id('contactId'),
      ownerId: id('ownerId'),
    };
  });
}

/**
 * Converts one lead: creates an Account (unless `accountId` is given or the given contact has one)
 * and a Contact (unless `contactId` is given) from the lead's fields, then marks the lead
 * `IsConverted` with `ConvertedAccountId`, `ConvertedContactId`, `ConvertedDate` and the new
 * status. Data problems become result errors (`success:false`), as `LeadConvertResult.errors`
 * documents; anything created for a failed conversion is removed again.
 *
 * Unless `doNotCreateOpportunity`, an Opportunity named `<Company>-` is created on the account
 * (stage Prospecting, close date the last day of the current quarter, the lead's source and
 * campaign-free) with the contact as its primary contact role, and `ConvertedOpportunityId` set.
 */
export function convertLead(
  store: OrgStore,
  clock: EmulatorClock,
  request: LeadConvertRequest,
): LeadConvertOutcome {
  const created: string[] = [];
  try {
    const lead = requireRecord(store, request.leadId, 'Lead', 'leadId');
    if (lead.IsConverted === true) {
      throw new RecordFailure('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', ['LeadId']);
    }
    if (request.convertedStatus === undefined) {
      throw new RecordFailure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ConvertedStatus]', [
        'ConvertedStatus',
      ]);
    }
    if (!CONVERTED_STATUSES.has(request.convertedStatus)) {
      throw new RecordFailure('INVALID_STATUS', `invalid convertedStatus: ${request.convertedStatus}`, [
        'ConvertedStatus',
      ]);
    }
    const ownerId = request.ownerId ?? (lead.OwnerId as string | null) ?? undefined;
    if (request.ownerId !== undefined) requireRecord(store, request.ownerId, 'User', 'ownerId');
    const contact =
      request.contactId === undefined
        ? undefined
        : requireRecord(store, request.contactId, 'Contact', 'contactId');

    let accountId = request.accountId;
    if (accountId !== undefined) requireRecord(store, accountId, 'Account', 'accountId');
    accountId ??= (contact?.AccountId as string | null | undefined) ?? undefined;
    if (accountId === undefined) {
      const values = copyFields(lead, ACCOUNT_FIELDS);
      if (ownerId !== undefined) values.OwnerId = ownerId;
      accountId = store.applySingle({ kind: 'insert', sobject: 'Account', values }).id as string;
      created.push(accountId);
    }

    let contactId = contact?.Id as string | undefined;
    if (contactId === undefined) {
      const values: Record<string, unknown> = { ...copyFields(lead, CONTACT_FIELDS), AccountId: accountId };
      if (ownerId !== undefined) values.OwnerId = ownerId;
      contactId = store.applySingle({ kind: 'insert', sobject: 'Contact', values }).id as string;
      created.push(contactId);
    }

    let opportunityId: string | null = null;
    if (!request.doNotCreateOpportunity) {
      const now = clock.now();
      const quarterEnd = new Date(
        Date.UTC(now.getUTCFullYear(), Math.floor(now.getUTCMonth() / 3) * 3 + 3, 0),
      );
      const values: Record<string, unknown> = {
        Name: `${String(lead.Company ?? '')}-`,
        AccountId: accountId,
        StageName: 'Prospecting',
        CloseDate: formatDate(quarterEnd),
        LeadSource: lead.LeadSource ?? null,
        ContactId: contactId,
      };
      if (ownerId !== undefined) values.OwnerId = ownerId;
      opportunityId = store.applySingle({ kind: 'insert', sobject: 'Opportunity', values }).id as string;
      created.push(opportunityId);
      const role = store.applySingle({
        kind: 'insert',
        sobject: 'OpportunityContactRole',
        values: { OpportunityId: opportunityId, ContactId: contactId, IsPrimary: true },
      });
      created.push(role.id as string);
    }

    store.applySingle(
      {
        kind: 'update',
        sobject: 'Lead',
        id: lead.Id as string,
        values: {
          IsConverted: true,
          Status: request.convertedStatus,
          ConvertedDate: formatDate(clock.now()),
          ConvertedAccountId: accountId,
          ConvertedContactId: contactId,
          ConvertedOpportunityId: opportunityId,
        },
      },
      { bypassFieldPermissions: true },
    );
    return { leadId: lead.Id as string, accountId, contactId, opportunityId, success: true, errors: [] };
  } catch (error) {
    if (!(error instanceof RecordFailure)) throw error;
    if (created.length > 0) store.hardDelete(created.reverse());
    return {
      leadId: request.leadId,
      accountId: null,
      contactId: null,
      opportunityId: null,
      success: false,
      errors: [error.toSaveError()],
    };
  }
}

function requireRecord(store: OrgStore, id: string, sobject: string, argument: string): EmulatorRecord {
  const record = id === '' ? undefined : store.get(id);
  if (!record || store.schemaForId(id)?.name !== sobject) {
    throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${argument}`, [
      argument,
    ]);
  }
  return record;
}

function copyFields(
  source: EmulatorRecord,
  mapping: ReadonlyArray<[string, string]>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [from, to] of mapping) {
    const value = source[from];
    if (value !== null && value !== undefined) values[to] = value;
  }
  return values;
}
