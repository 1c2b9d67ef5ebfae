import { describe, expect, it } from 'vitest';
import { fieldNameSet, unknownFields } from '../../src/salesforce/field-check.js';

describe('unknownFields (columns a Bulk job would fail on)', () => {
  const known = fieldNameSet([{ name: 'Email' }, { name: 'MarkMail_ID__c' }, { name: 'LastName' }]);

  it('finds fields by API name in any case, and names only the unknown ones with a value', () => {
    expect(
      unknownFields(
        { Email: 'a@example.com', markmail_id__c: 'h-1', LASTNAME: 'Lee', Bogus__c: 1, Unset__c: undefined },
        known,
      ),
    ).toEqual(['Bogus__c']);
  });

  it('counts a null value as a column (it clears the field), so an unknown one is named', () => {
    expect(unknownFields({ Email: 'a@example.com', Gone__c: null }, known)).toEqual(['Gone__c']);
  });

  it('returns a fresh empty list when every column is known', () => {
    const first = unknownFields({ Email: 'a@example.com' }, known);
    first.push('x');
    expect(unknownFields({ Email: 'a@example.com' }, known)).toEqual([]);
  });
});
