import { randomUUID } from 'node:crypto';
import { HubSpotEmulatorError, type HubSpotRoute, route } from '../http.js';
import type { HubSpotEmulatorCampaign, HubSpotEmulatorStore } from '../store.js';

const CAMPAIGN_PROPERTIES = new Set([
  'hs_name',
  'hs_start_date',
  'hs_end_date',
  'hs_notes',
  'hs_audience',
  'hs_goal',
  'hs_currency_code',
  'hs_campaign_status',
  'hs_utm',
]);

function toPublic(campaign: HubSpotEmulatorCampaign) {
  return {
    id: campaign.id,
    properties: campaign.properties,
    createdAt: campaign.createdAt.toISOString(),
    updatedAt: campaign.updatedAt.toISOString(),
    businessUnits: [],
  };
}

function validated(
  properties: unknown,
  store: HubSpotEmulatorStore,
  self?: string,
): Record<string, string | null> {
  if (typeof properties !== 'object' || properties === null) {
    throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'properties is required');
  }
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(properties)) {
    if (!CAMPAIGN_PROPERTIES.has(name)) {
      throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', `Property ${name} does not exist on campaigns`);
    }
    out[name] = value === null || value === undefined ? null : String(value);
  }
  const name = out.hs_name;
  if (name && [...store.campaigns.values()].some((c) => c.id !== self && c.properties.hs_name === name)) {
    throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', `A campaign named '${name}' already exists`, {
      subCategory: 'CampaignError.CAMPAIGN_NAME_ALREADY_EXISTS',
    });
  }
  return out;
}

/** Marketing campaigns (`/marketing/v3/campaigns`): create, read, update, search by name. */
export function campaignRoutes(store: HubSpotEmulatorStore): HubSpotRoute[] {
  return [
    route('GET', '/marketing/v3/campaigns', (request) => {
      const name = request.query.get('name');
      const results = [...store.campaigns.values()].filter(
        (c) => !name || (c.properties.hs_name ?? '').includes(name),
      );
      return { status: 200, body: { total: results.length, results: results.map(toPublic) } };
    }),
    route('POST', '/marketing/v3/campaigns', async (request) => {
      const body = ((await request.json()) ?? {}) as { properties?: unknown };
      const properties = validated(body.properties, store);
      if (!properties.hs_name) throw new HubSpotEmulatorError(400, 'VALIDATION_ERROR', 'hs_name is required');
      const now = new Date();
      const campaign = { id: randomUUID(), properties, createdAt: now, updatedAt: now };
      store.campaigns.set(campaign.id, campaign);
      return { status: 201, body: toPublic(campaign) };
    }),
    route('GET', '/marketing/v3/campaigns/:campaignGuid', (request) => {
      const campaign = store.campaigns.get(request.params.campaignGuid ?? '');
      if (!campaign) throw new HubSpotEmulatorError(404, 'OBJECT_NOT_FOUND', 'Campaign not found');
      return { status: 200, body: toPublic(campaign) };
    }),
    route('PATCH', '/marketing/v3/campaigns/:campaignGuid', async (request) => {
      const campaign = store.campaigns.get(request.params.campaignGuid ?? '');
      if (!campaign) throw new HubSpotEmulatorError(404, 'OBJECT_NOT_FOUND', 'Campaign not found');
      const body = ((await request.json()) ?? {}) as { properties?: unknown };
      Object.assign(campaign.properties, validated(body.properties, store, campaign.id));
      campaign.updatedAt = new Date();
      return { status: 200, body: toPublic(campaign) };
    }),
  ];
}
