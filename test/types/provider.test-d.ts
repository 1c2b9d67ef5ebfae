import { describe, expectTypeOf, it } from 'vitest';
import type {
  CrmApiUsage,
  CrmBulkSyncOptions,
  CrmBulkSyncResult,
  CrmCallOptions,
  CrmCampaignInput,
  CrmContact,
  CrmContactChangeBatch,
  CrmContactExport,
  CrmContactInput,
  CrmContactRef,
  CrmCustomField,
  CrmEmailActivityInput,
  CrmFeature,
  CrmFieldMappingInput,
  CrmForgetOptions,
  CrmForgetResult,
  CrmLead,
  CrmLeadConversion,
  CrmLeadInput,
  CrmListInput,
  CrmListSyncResult,
  CrmPrivacyStore,
  CrmProvider,
  CrmProviderFactory,
  CrmStorage,
  CrmSyncResult,
} from '../../src/index.js';
import { type CrmFeatures, createProvider, ProviderRegistry } from '../../src/index.js';
import { ToyProvider, type ToyProviderConfig } from '../fixtures/toy-provider/index.js';

describe('CrmProvider contract', () => {
  it('lists the DESIGN.md features', () => {
    expectTypeOf<CrmFeature>().toEqualTypeOf<
      | 'contact_sync'
      | 'campaign_sync'
      | 'lead_sync'
      | 'custom_fields'
      | 'bulk_operations'
      | 'webhook_support'
      | 'real_time_sync'
      | 'incremental_pull'
      | 'privacy'
    >();
    expectTypeOf<(typeof CrmFeatures)[number]>().toEqualTypeOf<CrmFeature>();
    expectTypeOf<CrmProvider['supportsFeature']>().toEqualTypeOf<(feature: CrmFeature) => boolean>();
    expectTypeOf<CrmProvider['name']>().toEqualTypeOf<string>();
    expectTypeOf<CrmProvider['apiUsage']>().toEqualTypeOf<CrmApiUsage | undefined>();
  });

  it('privacy methods are optional and take a contact reference', () => {
    expectTypeOf<CrmProvider['forgetContact']>().toEqualTypeOf<
      ((ref: CrmContactRef, options?: CrmForgetOptions) => Promise<CrmForgetResult>) | undefined
    >();
    expectTypeOf<CrmProvider['exportContactData']>().toEqualTypeOf<
      ((ref: CrmContactRef, options?: CrmCallOptions) => Promise<CrmContactExport>) | undefined
    >();
    expectTypeOf<CrmStorage['privacy']>().toEqualTypeOf<CrmPrivacyStore | undefined>();
  });

  it('contact methods', () => {
    expectTypeOf<CrmProvider['syncContact']>().toEqualTypeOf<
      (contact: CrmContactInput, options?: CrmCallOptions) => Promise<CrmSyncResult>
    >();
    expectTypeOf<CrmProvider['getContact']>().toEqualTypeOf<
      (email: string, options?: CrmCallOptions) => Promise<CrmContact | null>
    >();
    expectTypeOf<CrmProvider['updateContact']>().toEqualTypeOf<
      (contact: CrmContactInput, options?: CrmCallOptions) => Promise<CrmSyncResult>
    >();
    expectTypeOf<CrmProvider['deleteContact']>().toEqualTypeOf<
      (id: string, options?: CrmCallOptions) => Promise<void>
    >();
    expectTypeOf<CrmProvider['bulkSyncContacts']>().toEqualTypeOf<
      (
        contacts: Iterable<CrmContactInput> | AsyncIterable<CrmContactInput>,
        options?: CrmBulkSyncOptions,
      ) => Promise<CrmBulkSyncResult>
    >();
    expectTypeOf<CrmProvider['listContactChanges']>().toEqualTypeOf<
      (cursor: string | null, options?: CrmCallOptions) => AsyncIterable<CrmContactChangeBatch>
    >();
    expectTypeOf<CrmContactChangeBatch>().toEqualTypeOf<{
      upserted: CrmContact[];
      deleted: string[];
      cursor: string;
    }>();
  });

  it('bulk options carry signal, progress and mode', () => {
    expectTypeOf<CrmBulkSyncOptions['mode']>().toEqualTypeOf<'auto' | 'rest' | 'bulk' | undefined>();
    expectTypeOf<CrmBulkSyncOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    expectTypeOf<CrmBulkSyncOptions>().toExtend<CrmCallOptions>();
    expectTypeOf<NonNullable<CrmBulkSyncOptions['onProgress']>>().parameter(0).toHaveProperty('done');
  });

  it('lead, campaign, activity, list and custom-field methods', () => {
    expectTypeOf<CrmProvider['createLead']>().toEqualTypeOf<
      (lead: CrmLeadInput, options?: CrmCallOptions) => Promise<CrmSyncResult>
    >();
    expectTypeOf<CrmProvider['getLead']>().toEqualTypeOf<
      (email: string, options?: CrmCallOptions) => Promise<CrmLead | null>
    >();
    expectTypeOf<CrmProvider['convertLeadToContact']>().toEqualTypeOf<
      (leadId: string, options?: CrmCallOptions) => Promise<CrmLeadConversion>
    >();
    expectTypeOf<CrmProvider['syncCampaign']>().toEqualTypeOf<
      (campaign: CrmCampaignInput, options?: CrmCallOptions) => Promise<CrmSyncResult>
    >();
    expectTypeOf<CrmProvider['logEmailActivity']>().toEqualTypeOf<
      (activity: CrmEmailActivityInput, options?: CrmCallOptions) => Promise<CrmSyncResult>
    >();
    expectTypeOf<CrmProvider['logEmailActivities']>().toEqualTypeOf<
      (
        activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
        options?: CrmBulkSyncOptions,
      ) => Promise<CrmBulkSyncResult>
    >();
    expectTypeOf<CrmProvider['syncListMembership']>().toEqualTypeOf<
      (list: CrmListInput, options?: CrmCallOptions) => Promise<CrmListSyncResult>
    >();
    expectTypeOf<CrmProvider['getCustomFields']>().toEqualTypeOf<
      (options?: CrmCallOptions) => Promise<CrmCustomField[]>
    >();
    expectTypeOf<CrmProvider['mapCustomFields']>().toEqualTypeOf<
      (mapping: CrmFieldMappingInput[], options?: CrmCallOptions) => Promise<void>
    >();
  });

  it('a third-party class satisfies the contract and registers with a typed config', () => {
    expectTypeOf<ToyProvider>().toExtend<CrmProvider>();
    const registry = new ProviderRegistry();
    registry.register('toy', (config: ToyProviderConfig) => new ToyProvider(config));
    expectTypeOf(createProvider('toy', { apiKey: 'k' }, registry)).toEqualTypeOf<CrmProvider>();
    expectTypeOf<CrmProviderFactory<ToyProviderConfig>>().toEqualTypeOf<
      (config: ToyProviderConfig) => CrmProvider
    >();
    // @ts-expect-error a factory must return a provider
    registry.register('bad', () => ({ name: 'bad' }));
  });
});
