import { describe, expect, it } from 'vitest';
import {
  outboundNotificationToCrmChangeEvent,
  type SalesforceChangeEvent,
  type SalesforceChangeMapping,
  toCrmChangeEvent,
} from '../../src/salesforce/index.js';

const MAPPING: SalesforceChangeMapping = {
  externalIdField: 'MarkMail_ID__c',
  fieldMappings: [
    {
      hostField: 'customFields.score',
      crmField: 'Score__c',
      fieldType: 'number',
      syncDirection: 'bidirectional',
    },
    { hostField: 'customFields.secret', crmField: 'Secret__c', fieldType: 'text', syncDirection: 'to_crm' },
  ],
};

function cdc(
  changeType: SalesforceChangeEvent['header']['changeType'],
  fields: Record<string, unknown>,
  extra = {},
) {
  return {
    channel: '/data/ContactChangeEvent',
    replayId: 42,
    schema: undefined,
    isGap: changeType.startsWith('GAP_'),
    fields,
    header: {
      entityName: 'Contact',
      recordIds: ['003A'],
      changeType,
      changeOrigin: 'com/salesforce/api/rest/62.0;client=markmail-sync',
      transactionKey: 't',
      sequenceNumber: 1,
      commitTimestamp: Date.parse('2026-01-01T01:00:00.123Z'),
      commitNumber: undefined,
      commitUser: '005',
      changedFields: Object.keys(fields),
      nulledFields: [],
      diffFields: [],
      ...extra,
    },
  } satisfies SalesforceChangeEvent;
}

describe('toCrmChangeEvent', () => {
  it('turns an UPDATE into a partial upsert with contact field names, origin tag and commit time', () => {
    const change = toCrmChangeEvent(
      cdc('UPDATE', { Title: 'CTO', Phone: null, Score__c: 7, Secret__c: 'x' }),
      MAPPING,
    );
    expect(change).toEqual({
      entityType: 'contact',
      crmIds: ['003A'],
      kind: 'upsert',
      partial: true,
      fields: { title: 'CTO', phone: null, customFields: { score: 7 } },
      changedAt: new Date('2026-01-01T01:00:00.123Z'),
      origin: 'markmail-sync',
      eventId: '42',
    });
  });

  it('names fields from nulledFields as cleared', () => {
    const change = toCrmChangeEvent(cdc('UPDATE', {}, { nulledFields: ['Title'] }), MAPPING);
    expect(change?.fields).toEqual({ title: null });
  });

  it('turns a CREATE into a complete upsert: omitted mapped fields are empty', () => {
    const change = toCrmChangeEvent(
      cdc('CREATE', {
        Email: 'a@example.com',
        LastName: 'A',
        HasOptedOutOfEmail: true,
        MarkMail_ID__c: 'h-1',
      }),
      MAPPING,
    );
    expect(change).toMatchObject({
      kind: 'upsert',
      partial: false,
      fields: {
        email: 'a@example.com',
        lastName: 'A',
        firstName: null,
        phone: null,
        title: null,
        emailOptOut: true,
        externalId: 'h-1',
        customFields: { score: null },
      },
    });
  });

  it('maps DELETE, UNDELETE and gaps, and ignores other objects', () => {
    expect(toCrmChangeEvent(cdc('DELETE', {}), MAPPING)).toMatchObject({ kind: 'delete', fields: {} });
    expect(toCrmChangeEvent(cdc('UNDELETE', { Email: 'a@example.com' }), MAPPING)).toMatchObject({
      kind: 'undelete',
      partial: false,
    });
    expect(toCrmChangeEvent(cdc('GAP_OVERFLOW', {}, { recordIds: [] }), MAPPING)).toMatchObject({
      kind: 'resync',
      crmIds: [],
    });
    const account = cdc('UPDATE', {});
    expect(
      toCrmChangeEvent({ ...account, header: { ...account.header, entityName: 'Account' } }, MAPPING),
    ).toBeNull();
  });
});

describe('outboundNotificationToCrmChangeEvent', () => {
  it('keeps only the selected fields, decodes booleans and empties, and orders by SystemModstamp', () => {
    const change = outboundNotificationToCrmChangeEvent(
      {
        id: '04l1',
        sObject: {
          type: 'Contact',
          fields: {
            Id: '003A',
            Email: 'a@example.com',
            Title: '',
            HasOptedOutOfEmail: 'true',
            MarkMail_ID__c: 'h-1',
            SystemModstamp: '2026-01-01T01:00:00.000Z',
          },
        },
      },
      MAPPING,
    );
    expect(change).toEqual({
      entityType: 'contact',
      crmIds: ['003A'],
      kind: 'upsert',
      partial: false,
      fields: { email: 'a@example.com', title: null, emailOptOut: true, externalId: 'h-1' },
      changedAt: new Date('2026-01-01T01:00:00.000Z'),
      eventId: '04l1',
    });
  });

  it('refuses a notification without a modification time', () => {
    expect(() =>
      outboundNotificationToCrmChangeEvent(
        { id: '04l2', sObject: { type: 'Contact', fields: { Id: '003A' } } },
        MAPPING,
      ),
    ).toThrow(expect.objectContaining({ name: 'CrmWebhookError' }));
  });
});
