import { describe, expect, it } from 'vitest';
import { stripRecordValues, VALUE_REMOVED } from '../../src/security/record-values.js';

describe('stripRecordValues: no personal data in stored errors', () => {
  it.each([
    [
      'STRING_TOO_LONG: Title: data value too large: Chief Everything Officer (max length=10)',
      `STRING_TOO_LONG: Title: data value too large: ${VALUE_REMOVED} (max length=10)`,
    ],
    [
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Lead Source: bad value for restricted picklist field: Secret Fair',
      `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Lead Source: bad value for restricted picklist field: ${VALUE_REMOVED}`,
    ],
    [
      'INVALID_EMAIL_ADDRESS: Email: invalid email address: ada at home',
      `INVALID_EMAIL_ADDRESS: Email: invalid email address: ${VALUE_REMOVED}`,
    ],
    [
      'Birthdate: value not of required type: 31/02/1990',
      `Birthdate: value not of required type: ${VALUE_REMOVED}`,
    ],
    ['Invalid date: 1990-02-31', `Invalid date: ${VALUE_REMOVED}`],
    // Bulk API 2.0 joins code, message and fields with ':' and ends with ':--'.
    [
      'STRING_TOO_LONG:Title: data value too large: Chief Everything:--',
      `STRING_TOO_LONG:Title: data value too large: ${VALUE_REMOVED}:--`,
    ],
    ['Email address ada@example.com is invalid', `Email address ${VALUE_REMOVED} is invalid`],
  ])('drops the echoed value of %j and keeps the field name', (message, expected) => {
    expect(stripRecordValues(message)).toBe(expected);
  });

  it("drops the record's own values wherever the provider echoed them, case-insensitively", () => {
    const record = {
      externalId: 'host-1',
      email: 'ada@example.com',
      lastName: 'Lovelace',
      customFields: { Shoe_Size__c: 4242, Nickname__c: 'Countess' },
      tags: ['vip-club'],
    };
    const out = stripRecordValues(
      'FIELD_CUSTOM_VALIDATION_EXCEPTION: LOVELACE is not allowed with nickname countess, size 4242 (VIP-CLUB)',
      record,
    );
    expect(out).not.toMatch(/lovelace|countess|4242|vip-club/i);
    expect(out).toContain('FIELD_CUSTOM_VALIDATION_EXCEPTION');
  });

  it('keeps short values, field names and ordinary messages untouched', () => {
    expect(
      stripRecordValues('REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]', { state: 'CA' }),
    ).toBe('REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]');
    expect(
      stripRecordValues(
        'DUPLICATE_VALUE: duplicate value found: MarkMail_ID__c duplicates value on record with id: 003000000000001',
      ),
    ).toBe(
      'DUPLICATE_VALUE: duplicate value found: MarkMail_ID__c duplicates value on record with id: 003000000000001',
    );
  });
});
