import {
  type CrmCampaign,
  type CrmCampaignInput,
  CrmCampaignSchema,
  type CrmSyncResult,
  parseModel,
} from '../core/models.js';
import type { CrmCallOptions } from '../core/provider.js';
import { campaignsPath, type HubSpotContext } from './context.js';

interface HubSpotCampaign {
  id: string;
  properties: Record<string, string | null>;
}

/**
 * The HubSpot campaign name of a host campaign. Campaigns have no external-id property and names
 * are unique per portal, so the host's `externalId` is part of the name: it is the match key.
 */
export function hubSpotCampaignName(campaign: CrmCampaign): string {
  return `${campaign.name} [${campaign.externalId}]`;
}

const day = (date: Date | undefined) => (date ? date.toISOString().slice(0, 10) : undefined);

function properties(campaign: CrmCampaign): Record<string, string> {
  const s = campaign.emailStats;
  return {
    hs_name: hubSpotCampaignName(campaign),
    ...(campaign.startDate ? { hs_start_date: day(campaign.startDate)! } : {}),
    ...(campaign.endDate ? { hs_end_date: day(campaign.endDate)! } : {}),
    // HubSpot computes its own campaign metrics; the host's figures travel as a note.
    hs_notes: `status=${campaign.status}${campaign.type ? `; type=${campaign.type}` : ''}; members=${campaign.memberCount}; sent=${s.sent}; opened=${s.opened}; clicked=${s.clicked}; bounced=${s.bounced}; unsubscribed=${s.unsubscribed}`,
  };
}

/** Create or update a marketing campaign, matched by its name (which carries the externalId). */
export async function syncCampaign(
  context: HubSpotContext,
  input: CrmCampaignInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const campaign = parseModel(CrmCampaignSchema, input, 'campaign');
  const name = hubSpotCampaignName(campaign);
  const signal = options.signal;
  let id = campaign.id;
  if (!id) {
    const { body } = await context.client.request<{ results: HubSpotCampaign[] }>({
      operation: 'find campaign by name',
      method: 'GET',
      path: campaignsPath(context),
      query: { name, properties: 'hs_name', limit: '100' },
      idempotent: true,
      signal,
    });
    id = body.results?.find((c) => c.properties.hs_name === name)?.id;
  }
  const base = { entityType: 'campaign' as const, externalId: campaign.externalId, success: true };
  if (id) {
    await context.client.request({
      operation: 'update campaign',
      method: 'PATCH',
      path: `${campaignsPath(context)}/${encodeURIComponent(id)}`,
      body: { properties: properties(campaign) },
      idempotent: true,
      signal,
    });
    return { ...base, crmId: id, created: false, syncedAt: context.now() };
  }
  const { body } = await context.client.request<HubSpotCampaign>({
    operation: 'create campaign',
    method: 'POST',
    path: campaignsPath(context),
    body: { properties: properties(campaign) },
    idempotent: false,
    signal,
  });
  return { ...base, crmId: body.id, created: true, syncedAt: context.now() };
}
