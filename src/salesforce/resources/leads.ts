import { isCrmError } from '../../core/errors.js';
import {
  CrmEmailSchema,
  type CrmLead,
  type CrmLeadInput,
  CrmLeadSchema,
  type CrmSyncResult,
  parseModel,
} from '../../core/models.js';
import type { CrmCallOptions, CrmLeadConversion } from '../../core/provider.js';
import { leadSelectFields, leadToRecord, recordToLead, type SalesforceRecord } from '../mapping.js';
import { assertSalesforceId, soqlString } from '../soql.js';
import { jsonRequest, type SalesforceContext } from './context.js';
import { queryAll, upsertRecordResult } from './query.js';
import { recordError, recordFailure, type SaveResult, syncResult } from './results.js';

/**
 * Create a lead (upserted on `leadExternalIdField` when set, so a retry cannot duplicate it).
 * Missing `lastName`/`company`, which Salesforce requires, become `[not provided]`.
 * @throws {CrmApiError} when Salesforce refuses the lead.
 */
export async function createLead(
  context: SalesforceContext,
  input: CrmLeadInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const lead = parseModel(CrmLeadSchema, input, 'lead');
  const field = context.leadExternalIdField;
  const record = leadToRecord(lead, field);
  if (field) {
    return upsertRecordResult(context, 'lead', 'Lead', field, lead.externalId, record, options.signal);
  }
  const response = await context.client.request<SaveResult>(
    'create Lead',
    jsonRequest(context, 'POST', '/sobjects/Lead', record),
    { idempotent: false, signal: options.signal },
  );
  return syncResult('lead', lead.externalId, { crmId: response.id, created: true }, context.clock.now());
}

/** The most recently created lead with this email, or `null`. */
export async function getLead(
  context: SalesforceContext,
  email: string,
  options: CrmCallOptions = {},
): Promise<CrmLead | null> {
  const address = parseModel(CrmEmailSchema, email, 'email');
  const soql =
    `SELECT ${leadSelectFields(context.leadExternalIdField).join(', ')} FROM Lead` +
    ` WHERE Email = ${soqlString(address, 'email')} ORDER BY CreatedDate DESC, Id DESC LIMIT 1`;
  const [record] = await queryAll<SalesforceRecord>(context, 'query Lead', soql, { signal: options.signal });
  if (!record) return null;
  return CrmLeadSchema.parse(recordToLead(record, context.leadExternalIdField));
}

/**
 * Convert a lead into a contact (SOAP `convertLead`, no opportunity). Not retried: a second
 * conversion of the same lead fails.
 * @throws {CrmApiError} when Salesforce refuses the conversion.
 */
export async function convertLeadToContact(
  context: SalesforceContext,
  leadId: string,
  options: CrmCallOptions = {},
): Promise<CrmLeadConversion> {
  assertSalesforceId(leadId, 'leadId');
  const convertedStatus = context.leadConvertedStatus ?? (await convertedLeadStatus(context, options.signal));
  const result = await context.client.run(
    'convert Lead',
    () =>
      context.connection.soap.convertLead({
        leadId,
        convertedStatus,
        doNotCreateOpportunity: true,
        overwriteLeadSource: false,
        sendNotificationEmail: false,
      }),
    { idempotent: false, signal: options.signal },
  );
  if (!result.success || !result.contactId) {
    const first = (result.errors?.[0] ?? {}) as {
      statusCode?: string;
      message?: string;
      fields?: string[];
    };
    throw recordFailure('convert Lead', recordError(first));
  }
  const conversion: CrmLeadConversion = { leadId, contactId: result.contactId };
  if (result.accountId) conversion.accountId = result.accountId;
  if (result.opportunityId) conversion.opportunityId = result.opportunityId;
  return conversion;
}

/** The org's first converted lead status (`Closed - Converted` when LeadStatus cannot be read). */
async function convertedLeadStatus(
  context: SalesforceContext,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    const [status] = await queryAll<{ MasterLabel?: string; ApiName?: string }>(
      context,
      'query LeadStatus',
      'SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true ORDER BY SortOrder ASC LIMIT 1',
      { signal },
    );
    if (status?.MasterLabel) return status.MasterLabel;
  } catch (error) {
    if (!isCrmError(error) || error.code !== 'API') throw error;
    context.logger.debug('LeadStatus not queryable; using the default converted status');
  }
  return 'Closed - Converted';
}
