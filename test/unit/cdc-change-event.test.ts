import { describe, expect, it } from 'vitest';
import { CrmWebhookError } from '../../src/core/errors.js';
import { changeEventChannel, decodeChangeEvent } from '../../src/salesforce/index.js';
import { changeEventClientTag, isGapChangeType } from '../../src/salesforce/webhooks/change-event.js';
import { requestChangeOrigin } from '../../src/testing/salesforce-emulator/realtime/change-origin.js';

/** A CometD CDC message `data` as Salesforce documents it (ids made up). */
function cdcData(header: Record<string, unknown>, fields: Record<string, unknown> = {}, replayId = 4711) {
  return {
    schema: 'IeRuaY6cbI_HsV8Rv1Mc5g',
    payload: { ChangeEventHeader: header, ...fields },
    event: { replayId },
  };
}

const baseHeader = {
  entityName: 'Contact',
  recordIds: ['0035g00000AbCdEAAV'],
  changeOrigin: 'com/salesforce/api/rest/62.0;client=markmail-crm',
  transactionKey: '0002343d-9d90-e395-ed20-cf416ba652ad',
  sequenceNumber: 1,
  commitTimestamp: 1_764_115_200_000,
  commitNumber: 10_969_661_476_089,
  commitUser: '0055g00000XyZ12AAB',
};

describe('decodeChangeEvent', () => {
  it('decodes a CREATE with a compound Name into flat field names', () => {
    const event = decodeChangeEvent(
      cdcData(
        { ...baseHeader, changeType: 'CREATE', changedFields: [], nulledFields: [], diffFields: [] },
        {
          Name: { Salutation: null, FirstName: 'Ada', LastName: 'Lovelace' },
          Email: 'ada@example.com',
          MailingAddress: { Street: '12 St James Sq', City: 'London' },
          CreatedDate: '2026-11-26T00:00:00.000Z',
          LastModifiedDate: '2026-11-26T00:00:00.000Z',
        },
      ),
      '/data/ContactChangeEvent',
    );
    expect(event).toEqual({
      channel: '/data/ContactChangeEvent',
      replayId: 4711,
      schema: 'IeRuaY6cbI_HsV8Rv1Mc5g',
      header: {
        ...baseHeader,
        changeType: 'CREATE',
        commitNumber: '10969661476089',
        changedFields: [],
        nulledFields: [],
        diffFields: [],
      },
      fields: {
        Salutation: null,
        FirstName: 'Ada',
        LastName: 'Lovelace',
        Email: 'ada@example.com',
        MailingStreet: '12 St James Sq',
        MailingCity: 'London',
        CreatedDate: '2026-11-26T00:00:00.000Z',
        LastModifiedDate: '2026-11-26T00:00:00.000Z',
      },
      isGap: false,
    });
  });

  it('decodes an UPDATE with changed and nulled fields, and defaults missing header arrays to []', () => {
    const event = decodeChangeEvent(
      cdcData(
        { ...baseHeader, changeType: 'UPDATE', changedFields: ['Phone', 'LastModifiedDate'] },
        { Phone: null, LastModifiedDate: '2026-11-26T00:01:00.000Z' },
      ),
      '/data/ChangeEvents',
    );
    expect(event.header.changedFields).toEqual(['Phone', 'LastModifiedDate']);
    expect(event.header.nulledFields).toEqual([]);
    expect(event.header.diffFields).toEqual([]);
    expect(event.fields).toEqual({ Phone: null, LastModifiedDate: '2026-11-26T00:01:00.000Z' });
  });

  it.each(['DELETE', 'UNDELETE'])('decodes %s', (changeType) => {
    const event = decodeChangeEvent(cdcData({ ...baseHeader, changeType }), '/data/ContactChangeEvent');
    expect(event.header.changeType).toBe(changeType);
    expect(event.isGap).toBe(false);
  });

  it('marks gap and overflow events (header only, overflow without record ids)', () => {
    const gap = decodeChangeEvent(
      cdcData({ ...baseHeader, changeType: 'GAP_UPDATE' }),
      '/data/ContactChangeEvent',
    );
    expect(gap.isGap).toBe(true);
    const overflow = decodeChangeEvent(
      cdcData({ ...baseHeader, changeType: 'GAP_OVERFLOW', recordIds: [] }),
      '/data/ContactChangeEvent',
    );
    expect(overflow.isGap).toBe(true);
    expect(overflow.header.recordIds).toEqual([]);
    expect(isGapChangeType('GAP_OVERFLOW')).toBe(true);
    expect(isGapChangeType('UNDELETE')).toBe(false);
  });

  it.each([
    ['no data', undefined],
    ['no replay id', { payload: { ChangeEventHeader: { ...baseHeader, changeType: 'CREATE' } }, event: {} }],
    ['no header', { payload: {}, event: { replayId: 1 } }],
    ['an unknown change type', cdcData({ ...baseHeader, changeType: 'SNAPSHOT' })],
    ['no entity name', cdcData({ ...baseHeader, entityName: '', changeType: 'CREATE' })],
    ['recordIds not a list', cdcData({ ...baseHeader, recordIds: '003', changeType: 'CREATE' })],
  ])('rejects %s with CrmWebhookError', (_label, data) => {
    expect(() => decodeChangeEvent(data, '/data/ContactChangeEvent')).toThrow(CrmWebhookError);
  });
});

describe('change event helpers', () => {
  it('extracts the client tag of changeOrigin for echo suppression', () => {
    expect(changeEventClientTag('com/salesforce/api/rest/62.0;client=markmail-crm')).toBe('markmail-crm');
    expect(changeEventClientTag('com/salesforce/api/soap/62.0')).toBeUndefined();
    expect(changeEventClientTag('')).toBeUndefined();
  });

  it('names the CDC channel of standard and custom objects', () => {
    expect(changeEventChannel('Contact')).toBe('/data/ContactChangeEvent');
    expect(changeEventChannel('Invoice__c')).toBe('/data/Invoice__ChangeEvent');
  });
});

describe('requestChangeOrigin (emulator)', () => {
  it('builds the changeOrigin Salesforce records for an API write, with the Sforce-Call-Options client', () => {
    const request = (headers: Record<string, string>) =>
      ({ apiVersion: 61, headers }) as unknown as Parameters<typeof requestChangeOrigin>[0];
    expect(requestChangeOrigin(request({ 'sforce-call-options': 'client=markmail-crm' }))).toBe(
      'com/salesforce/api/rest/61.0;client=markmail-crm',
    );
    expect(changeEventClientTag(requestChangeOrigin(request({}), 'soap'))).toBeUndefined();
    expect(requestChangeOrigin(request({}), 'soap')).toBe('com/salesforce/api/soap/61.0');
  });
});
