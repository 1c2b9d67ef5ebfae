import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  CrmBulkSyncResult,
  CrmCampaign,
  CrmChangeEventFields,
  CrmContact,
  CrmContactInput,
  CrmContactSchema,
  CrmCustomField,
  CrmEmailActivity,
  CrmEmailActivityType,
  CrmFieldMapping,
  CrmFieldType,
  CrmLead,
  CrmList,
  CrmSyncDirection,
  CrmSyncResult,
} from '../../src/index.js';
import { parseModel, CrmContactSchema as Schema } from '../../src/index.js';

describe('model types', () => {
  it('CrmContact is inferred from CrmContactSchema with the DESIGN.md fields and optionality', () => {
    expectTypeOf<CrmContact>().toEqualTypeOf<z.output<typeof CrmContactSchema>>();
    expectTypeOf<CrmContact>().toEqualTypeOf<{
      id?: string | undefined;
      externalId: string;
      email: string;
      firstName?: string | undefined;
      lastName?: string | undefined;
      company?: string | undefined;
      phone?: string | undefined;
      title?: string | undefined;
      emailOptOut?: boolean | undefined;
      tags: string[];
      customFields: Record<string, unknown>;
      lastModifiedAt?: Date | undefined;
      lastSyncAt?: Date | undefined;
      clearFields?: Array<'firstName' | 'lastName' | 'company' | 'phone' | 'title'> | undefined;
    }>();
  });

  it('CrmContactInput makes defaulted fields optional and accepts dates as strings', () => {
    expectTypeOf<CrmContactInput['tags']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<CrmContactInput['customFields']>().toEqualTypeOf<Record<string, unknown> | undefined>();
    expectTypeOf<CrmContactInput['lastModifiedAt']>().toEqualTypeOf<string | Date | undefined>();
    expectTypeOf<{ externalId: string; email: string }>().toExtend<CrmContactInput>();
    expectTypeOf<{ email: string }>().not.toExtend<CrmContactInput>();
  });

  it('parseModel returns the schema output type', () => {
    expectTypeOf(parseModel(Schema, {}, 'contact')).toEqualTypeOf<CrmContact>();
  });

  it('CrmLead requires leadSource and has the lead-only fields', () => {
    expectTypeOf<CrmLead['leadSource']>().toEqualTypeOf<string>();
    expectTypeOf<CrmLead['website']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CrmLead['status']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CrmLead['description']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CrmLead>().not.toHaveProperty('tags');
  });

  it('CrmCampaign has counters and dates', () => {
    expectTypeOf<CrmCampaign['memberCount']>().toEqualTypeOf<number>();
    expectTypeOf<CrmCampaign['emailStats']>().toEqualTypeOf<{
      sent: number;
      opened: number;
      clicked: number;
      bounced: number;
      unsubscribed: number;
    }>();
    expectTypeOf<CrmCampaign['startDate']>().toEqualTypeOf<Date | undefined>();
  });

  it('enumerations are literal unions', () => {
    expectTypeOf<CrmEmailActivityType>().toEqualTypeOf<
      'sent' | 'opened' | 'clicked' | 'bounced' | 'unsubscribed'
    >();
    expectTypeOf<CrmEmailActivity['activityType']>().toEqualTypeOf<CrmEmailActivityType>();
    expectTypeOf<CrmFieldType>().toEqualTypeOf<
      | 'text'
      | 'number'
      | 'date'
      | 'datetime'
      | 'boolean'
      | 'picklist'
      | 'multipicklist'
      | 'email'
      | 'phone'
      | 'url'
      | 'reference'
    >();
    expectTypeOf<CrmSyncDirection>().toEqualTypeOf<'to_crm' | 'from_crm' | 'bidirectional'>();
    expectTypeOf<CrmFieldMapping['syncDirection']>().toEqualTypeOf<CrmSyncDirection>();
    expectTypeOf<CrmBulkSyncResult['mode']>().toEqualTypeOf<'rest' | 'bulk'>();
  });

  it('other models have the DESIGN.md shapes', () => {
    expectTypeOf<CrmList>().toEqualTypeOf<{
      id?: string | undefined;
      externalId?: string | undefined;
      name: string;
      memberIds: string[];
    }>();
    expectTypeOf<CrmCustomField['options']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<CrmFieldMapping['transform']>().toEqualTypeOf<((value: unknown) => unknown) | undefined>();
    expectTypeOf<CrmSyncResult['syncedAt']>().toEqualTypeOf<Date>();
    expectTypeOf<CrmSyncResult['error']>().toEqualTypeOf<
      { code: string; message: string; fields?: string[] | undefined } | undefined
    >();
    expectTypeOf<CrmBulkSyncResult['results']>().toEqualTypeOf<CrmSyncResult[]>();
  });

  it('CrmChangeEventFields carries every contact data field of CrmContact, nullable, plus externalId and customFields', () => {
    type DataKeys = Exclude<
      keyof CrmContact,
      'id' | 'lastModifiedAt' | 'lastSyncAt' | 'customFields' | 'clearFields'
    >;
    expectTypeOf<keyof CrmChangeEventFields>().toEqualTypeOf<DataKeys | 'customFields'>();
    expectTypeOf<keyof CrmChangeEventFields>().toEqualTypeOf<
      | 'externalId'
      | 'email'
      | 'firstName'
      | 'lastName'
      | 'company'
      | 'phone'
      | 'title'
      | 'emailOptOut'
      | 'tags'
      | 'customFields'
    >();
    expectTypeOf<CrmChangeEventFields['firstName']>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<CrmChangeEventFields['emailOptOut']>().toEqualTypeOf<boolean | null | undefined>();
    expectTypeOf<CrmChangeEventFields['tags']>().toEqualTypeOf<string[] | null | undefined>();
  });
});
