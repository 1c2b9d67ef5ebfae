import {
  type CrmCampaignInput,
  CrmCampaignSchema,
  type CrmSyncResult,
  parseModel,
} from '../../core/models.js';
import type { CrmCallOptions } from '../../core/provider.js';
import { campaignToRecord } from '../mapping.js';
import type { SalesforceContext } from './context.js';
import { upsertRecordResult } from './query.js';

/**
 * Create or update a campaign, upserted on `campaignExternalIdField`. Host statuses such as
 * `draft`/`sent` map onto Salesforce's default Status values.
 * @throws {CrmApiError} when Salesforce refuses the campaign.
 */
export async function syncCampaign(
  context: SalesforceContext,
  input: CrmCampaignInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const campaign = parseModel(CrmCampaignSchema, input, 'campaign');
  const field = context.campaignExternalIdField;
  const record = campaignToRecord(campaign, field);
  return upsertRecordResult(
    context,
    'campaign',
    'Campaign',
    field,
    campaign.externalId,
    record,
    options.signal,
  );
}
