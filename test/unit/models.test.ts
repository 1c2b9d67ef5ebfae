import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  isCommonAsciiEmail,
  isValidEmail,
  isValidEmailByRules,
  toFieldIssues,
} from '../../src/core/models.js';
import {
  CRM_FIELD_LIMITS,
  CrmBulkSyncResultSchema,
  CrmCampaignSchema,
  CrmContactSchema,
  CrmCustomFieldSchema,
  CrmDataConversionError,
  CrmDateSchema,
  CrmEmailActivitySchema,
  CrmEmailActivityTypeSchema,
  CrmEmailSchema,
  CrmEmailStatsSchema,
  CrmEntityTypeSchema,
  CrmFieldMappingSchema,
  CrmFieldTypeSchema,
  CrmLeadSchema,
  CrmListSchema,
  CrmRecordErrorSchema,
  CrmSyncDirectionSchema,
  CrmSyncResultSchema,
  isCrmError,
  parseModel,
} from '../../src/index.js';

/** Issues of a failed parse as `{ field: message }`, via the package's own issue mapping. */
function issuesOf(schema: z.ZodType, input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected the input to be refused');
  const out: Record<string, string> = {};
  for (const issue of toFieldIssues(result.error, undefined, input)) {
    // Two issues on one field are joined, so a test also catches a redundant second complaint.
    out[issue.field] =
      out[issue.field] === undefined ? issue.message : `${out[issue.field]}; ${issue.message}`;
  }
  return out;
}

/** A string of exactly `length` characters. */
const chars = (length: number, fill = 'x') => fill.repeat(length);

/** An email of exactly `length` characters (local part 64, the rest domain). */
function emailOfLength(length: number): string {
  const domainLength = length - 65;
  return `${chars(64, 'a')}@${chars(domainLength - 4, 'b')}.com`;
}

describe('CrmEmailSchema', () => {
  it.each([
    ['plus-addressing', 'ada+newsletter@example.com'],
    ['dots and subdomains', 'first.last@mail.example.co.uk'],
    ['IDN local part and domain', '用户@例子.广告'],
    ['IDN domain with umlaut', 'x@müller.de'],
    ['punycode domain', 'x@xn--mller-kva.de'],
    ['punycode TLD', 'user@example.xn--p1ai'],
    ['long TLD', 'user@example.photography'],
    ['very long TLD', 'user@example.international'],
    ['apostrophe and underscore', "o'brien_x@example.ie"],
    ['hyphenated domain', 'a-b@my-company.example'],
    ['upper case', 'ADA@EXAMPLE.COM'],
    ['digits in domain', 'a@123mail.com'],
    ['RFC 5322 atext specials', "a!#$%&'*/=?^_`{|}~-b@example.com"],
  ])('accepts %s: %s', (_label, email) => {
    expect(CrmEmailSchema.safeParse(email)).toEqual({ success: true, data: email });
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    ['space in local part', 'ada lovelace@example.com'],
    ['space in domain', 'ada@exa mple.com'],
    ['tab', 'ada\t@example.com'],
    ['missing @', 'ada.example.com'],
    ['two @', 'ada@@example.com'],
    ['@ in local part', 'a@b@example.com'],
    ['double dot in local part', 'ada..lovelace@example.com'],
    ['double dot in domain', 'ada@example..com'],
    ['trailing dot', 'ada@example.com.'],
    ['leading dot in local part', '.ada@example.com'],
    ['trailing dot in local part', 'ada.@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'ada@'],
    ['no TLD', 'ada@localhost'],
    ['one-letter TLD', 'ada@example.c'],
    ['numeric TLD', 'ada@example.123'],
    ['label starting with hyphen', 'ada@-example.com'],
    ['label ending with hyphen', 'ada@example-.com'],
    ['quoted local part', '"ada"@example.com'],
    ['IP literal', 'ada@[127.0.0.1]'],
    ['local part over 64 characters', `${chars(65, 'a')}@example.com`],
    ['comma (two addresses run together)', 'ada,grace@example.com'],
    ['angle brackets (a display-name form)', 'Ada <ada@example.com>'],
    ['angle brackets in local part', '<ada>@example.com'],
    ['semicolon', 'ada;x@example.com'],
    ['colon', 'mailto:ada@example.com'],
    ['backslash', 'ada\\x@example.com'],
    ['parenthesised comment', '(work)ada@example.com'],
    ['square brackets', 'ada[1]@example.com'],
    ['a NUL character', 'ada\u0000x@example.com'],
    ['a zero-width space', 'ada\u200b@example.com'],
    ['a zero-width space in the domain', 'ada@exa\u200bmple.com'],
  ])('refuses %s: %j', (_label, email) => {
    expect(CrmEmailSchema.safeParse(email).success).toBe(false);
  });

  it.each([
    ['empty string', ''],
    ['only spaces', '   '],
    ['number', 42],
    ['null', null],
    ['undefined', undefined],
  ])('refuses %s', (_label, value) => {
    expect(CrmEmailSchema.safeParse(value).success).toBe(false);
  });

  it('trims surrounding whitespace before checking and returns the trimmed address', () => {
    expect(CrmEmailSchema.parse('  ada@example.com\n')).toBe('ada@example.com');
  });

  it('accepts exactly 80 characters and refuses 81', () => {
    const eighty = emailOfLength(80);
    const eightyOne = emailOfLength(81);
    expect(eighty).toHaveLength(80);
    expect(eightyOne).toHaveLength(81);
    expect(isValidEmail(eightyOne)).toBe(true); // the format is fine, only the length is not
    expect(CrmEmailSchema.safeParse(eighty).success).toBe(true);
    expect(issuesOf(CrmEmailSchema, eightyOne)).toEqual({ '(root)': 'must be at most 80 characters' });
  });

  it('measures the length after trimming', () => {
    expect(CrmEmailSchema.safeParse(`  ${emailOfLength(80)}  `).success).toBe(true);
  });

  it('takes the fast path only for addresses the full rules accept, so both decide alike', () => {
    // Random strings over an alphabet dense in the characters where the two could disagree.
    const alphabet = [
      'a',
      'Z',
      '0',
      '9',
      '.',
      '.',
      '@',
      '-',
      '_',
      '+',
      "'",
      '!',
      ' ',
      '"',
      '(',
      ',',
      'ü',
      '\u200b',
      'xn--',
    ];
    let seed = 20261206;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let fast = 0;
    for (let n = 0; n < 50_000; n++) {
      const length = 3 + Math.floor(random() * 20);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      // Half the samples get a well-formed tail, so the fast path is exercised, not just refused.
      if (n % 2 === 0)
        text += `@${['example.com', 'a-b.co', 'x.y.photography', 'b.c1', 'ex..com', '-a.com'][n % 6]}`;
      if (isCommonAsciiEmail(text)) {
        fast++;
        expect(isValidEmailByRules(text), text).toBe(true);
      }
      expect(isValidEmail(text), text).toBe(isValidEmailByRules(text));
    }
    expect(fast).toBeGreaterThan(200);
  });

  it('bounds the local part at 64 characters and a domain label at 63 on the fast path too', () => {
    expect(isCommonAsciiEmail(`${'a'.repeat(64)}@example.com`)).toBe(true);
    expect(isValidEmail(`${'a'.repeat(65)}@example.com`)).toBe(false);
    expect(isCommonAsciiEmail(`a@${'b'.repeat(63)}.com`)).toBe(true);
    expect(isValidEmail(`a@${'b'.repeat(64)}.com`)).toBe(false);
    expect(isValidEmail(`a@example.${'c'.repeat(64)}`)).toBe(false);
  });
});

describe('CrmDateSchema', () => {
  it.each([
    ['a Date', new Date('2024-05-06T07:08:09.000Z'), '2024-05-06T07:08:09.000Z'],
    ['an ISO date', '2024-05-06', '2024-05-06T00:00:00.000Z'],
    ['an ISO date-time in UTC', '2024-05-06T07:08:09Z', '2024-05-06T07:08:09.000Z'],
    ['an ISO date-time with offset', '2024-05-06T07:08:09.123+02:00', '2024-05-06T05:08:09.123Z'],
    ['Salesforce date-time format', '2024-05-06T07:08:09.000+0000', '2024-05-06T07:08:09.000Z'],
    ['a leap day', '2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['a padded ISO string', '  2024-05-06T07:08:09Z ', '2024-05-06T07:08:09.000Z'],
  ])('accepts %s', (_label, input, iso) => {
    const parsed = CrmDateSchema.parse(input);
    expect(parsed).toBeInstanceOf(Date);
    expect(parsed.toISOString()).toBe(iso);
  });

  it.each([
    ['garbage', 'garbage'],
    ['an empty string', ''],
    ['a month 13', '2024-13-01'],
    ['February 30th (regression: V8 rolls it over to March 1st)', '2024-02-30'],
    ['February 29th of a non-leap year', '2023-02-29'],
    ['day 0', '2024-01-00'],
    ['a US-style date', '05/06/2024'],
    ['prose that Date.parse accepts', 'May 6, 2024'],
    ['garbage after the date', '2024-05-06Tnoon'],
    ['an invalid Date', new Date(Number.NaN)],
    ['an epoch number (unit ambiguous)', 1_714_979_289_000],
    ['null', null],
    ['a boolean', true],
  ])('refuses %s', (_label, input) => {
    const result = CrmDateSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(toFieldIssues(result.error as z.ZodError)[0]?.message).toBe(
      'is not a valid date (use a Date or an ISO-8601 string)',
    );
  });
});

const validContact = { externalId: 'sub_1', email: 'ada@example.com' };

describe('CrmContactSchema', () => {
  it('fills defaults for a minimal contact', () => {
    expect(CrmContactSchema.parse(validContact)).toEqual({
      externalId: 'sub_1',
      email: 'ada@example.com',
      tags: [],
      customFields: {},
    });
  });

  it('parses every field, trimming text and turning dates into Date', () => {
    const parsed = CrmContactSchema.parse({
      id: ' 0035g00000AbCdEAAZ ',
      externalId: ' sub_1 ',
      email: ' ada@example.com ',
      firstName: '  Ada ',
      lastName: ' Lovelace  ',
      company: ' Analytical Engines Ltd ',
      phone: ' +44 20 7946 0000 ',
      title: ' Countess ',
      emailOptOut: false,
      tags: [' vip ', 'beta'],
      customFields: { Score__c: 42, Nested__c: { a: [1, 2] } },
      lastModifiedAt: '2024-05-06T07:08:09Z',
      lastSyncAt: new Date('2024-05-07T00:00:00Z'),
    });
    expect(parsed).toEqual({
      id: '0035g00000AbCdEAAZ',
      externalId: 'sub_1',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: 'Analytical Engines Ltd',
      phone: '+44 20 7946 0000',
      title: 'Countess',
      emailOptOut: false,
      tags: ['vip', 'beta'],
      customFields: { Score__c: 42, Nested__c: { a: [1, 2] } },
      lastModifiedAt: new Date('2024-05-06T07:08:09Z'),
      lastSyncAt: new Date('2024-05-07T00:00:00Z'),
    });
  });

  it('keeps custom field values untouched (no trimming of host data)', () => {
    const parsed = CrmContactSchema.parse({ ...validContact, customFields: { Notes__c: '  spaced  ' } });
    expect(parsed.customFields).toEqual({ Notes__c: '  spaced  ' });
  });

  it.each([
    ['firstName', CRM_FIELD_LIMITS.firstName, 40],
    ['lastName', CRM_FIELD_LIMITS.lastName, 80],
    ['company', CRM_FIELD_LIMITS.company, 255],
    ['phone', CRM_FIELD_LIMITS.phone, 40],
    ['title', CRM_FIELD_LIMITS.title, 128],
  ])('bounds %s at %i characters (Salesforce: %i)', (field, limit, salesforceLimit) => {
    expect(limit).toBe(salesforceLimit);
    expect(CrmContactSchema.safeParse({ ...validContact, [field]: chars(limit) }).success).toBe(true);
    // Surrounding spaces do not count: they are trimmed first.
    expect(CrmContactSchema.safeParse({ ...validContact, [field]: ` ${chars(limit)} ` }).success).toBe(true);
    expect(issuesOf(CrmContactSchema, { ...validContact, [field]: chars(limit + 1) })).toEqual({
      [field]: `must be at most ${limit} characters`,
    });
  });

  it('bounds email at 80 characters', () => {
    expect(CrmContactSchema.safeParse({ ...validContact, email: emailOfLength(80) }).success).toBe(true);
    expect(issuesOf(CrmContactSchema, { ...validContact, email: emailOfLength(81) })).toEqual({
      email: 'must be at most 80 characters',
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing externalId', { email: 'ada@example.com' }, { externalId: 'is required' }],
    ['blank externalId', { ...validContact, externalId: '   ' }, { externalId: 'is required' }],
    ['missing email', { externalId: 'sub_1' }, { email: 'is required' }],
    [
      'invalid email',
      { ...validContact, email: 'ada at example' },
      { email: 'is not a valid email address' },
    ],
    ['empty email', { ...validContact, email: '' }, { email: 'is required' }],
    ['numeric firstName', { ...validContact, firstName: 7 }, { firstName: 'must be a string' }],
    ['string emailOptOut', { ...validContact, emailOptOut: 'yes' }, { emailOptOut: 'must be a boolean' }],
    ['tags not an array', { ...validContact, tags: 'vip' }, { tags: 'must be an array' }],
    ['non-string tag', { ...validContact, tags: ['ok', 3] }, { 'tags.1': 'must be a string' }],
    [
      'customFields as an array',
      { ...validContact, customFields: [1] },
      { customFields: 'must be a record' },
    ],
    [
      'garbage lastModifiedAt',
      { ...validContact, lastModifiedAt: 'last tuesday' },
      { lastModifiedAt: 'is not a valid date (use a Date or an ISO-8601 string)' },
    ],
    [
      'numeric lastSyncAt',
      { ...validContact, lastSyncAt: 0 },
      { lastSyncAt: 'is not a valid date (use a Date or an ISO-8601 string)' },
    ],
    ['empty id', { ...validContact, id: '' }, { id: 'Too small: expected string to have >=1 characters' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmContactSchema, input)).toEqual(expected);
  });

  it.each([null, undefined, 'ada@example.com', 42, []])('refuses a non-object: %j', (input) => {
    expect(CrmContactSchema.safeParse(input).success).toBe(false);
  });
});

const validLead = { externalId: 'form_1', email: 'lead@example.com', leadSource: 'Web form' };

describe('CrmLeadSchema', () => {
  it('parses a minimal lead with defaults', () => {
    expect(CrmLeadSchema.parse(validLead)).toEqual({ ...validLead, customFields: {} });
  });

  it('parses every field, trimmed', () => {
    const parsed = CrmLeadSchema.parse({
      ...validLead,
      id: '00Q5g00000XyZaBEAV',
      firstName: ' Grace ',
      lastName: 'Hopper',
      company: 'Navy',
      phone: '555-0100',
      title: 'Rear Admiral',
      website: ' https://example.com ',
      leadSource: '  Web form ',
      status: ' Open - Not Contacted ',
      description: 'Asked for a demo',
      customFields: { Campaign__c: 'spring' },
    });
    expect(parsed).toMatchObject({
      firstName: 'Grace',
      website: 'https://example.com',
      leadSource: 'Web form',
      status: 'Open - Not Contacted',
    });
  });

  it.each([
    ['firstName', 40],
    ['lastName', 80],
    ['company', 255],
    ['phone', 40],
    ['title', 128],
    ['website', 255],
    ['status', 255],
    ['description', 32_000],
  ])('bounds %s at %i characters', (field, limit) => {
    expect(CrmLeadSchema.safeParse({ ...validLead, [field]: chars(limit) }).success).toBe(true);
    expect(issuesOf(CrmLeadSchema, { ...validLead, [field]: chars(limit + 1) })).toEqual({
      [field]: `must be at most ${limit} characters`,
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing leadSource', { externalId: 'f', email: 'a@example.com' }, { leadSource: 'is required' }],
    ['blank leadSource', { ...validLead, leadSource: ' ' }, { leadSource: 'is required' }],
    [
      'invalid email',
      { ...validLead, email: 'lead@@example.com' },
      { email: 'is not a valid email address' },
    ],
    ['missing externalId', { email: 'a@example.com', leadSource: 'x' }, { externalId: 'is required' }],
    [
      'email over 80 characters',
      { ...validLead, email: emailOfLength(81) },
      { email: 'must be at most 80 characters' },
    ],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmLeadSchema, input)).toEqual(expected);
  });
});

const validCampaign = { externalId: 'cmp_1', name: 'Spring launch', status: 'Planned' };

describe('CrmEmailStatsSchema', () => {
  it('defaults every counter to 0', () => {
    expect(CrmEmailStatsSchema.parse({})).toEqual({
      sent: 0,
      opened: 0,
      clicked: 0,
      bounced: 0,
      unsubscribed: 0,
    });
  });

  it('keeps given counters', () => {
    expect(CrmEmailStatsSchema.parse({ sent: 10, opened: 4 })).toMatchObject({
      sent: 10,
      opened: 4,
      clicked: 0,
    });
  });

  it.each<[string, unknown, Record<string, string>]>([
    ['a negative count', { sent: -1 }, { sent: 'Too small: expected number to be >=0' }],
    ['a fractional count', { opened: 1.5 }, { opened: 'must be an integer' }],
    ['a numeric string', { clicked: '3' }, { clicked: 'must be a number' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmEmailStatsSchema, input)).toEqual(expected);
  });
});

describe('CrmCampaignSchema', () => {
  it('fills memberCount and emailStats defaults', () => {
    expect(CrmCampaignSchema.parse(validCampaign)).toEqual({
      ...validCampaign,
      memberCount: 0,
      emailStats: { sent: 0, opened: 0, clicked: 0, bounced: 0, unsubscribed: 0 },
    });
  });

  it('fills missing counters of partial emailStats', () => {
    const parsed = CrmCampaignSchema.parse({ ...validCampaign, emailStats: { sent: 100, bounced: 2 } });
    expect(parsed.emailStats).toEqual({ sent: 100, opened: 0, clicked: 0, bounced: 2, unsubscribed: 0 });
  });

  it('accepts dates as strings or Dates and an end on the start day', () => {
    const parsed = CrmCampaignSchema.parse({
      ...validCampaign,
      type: 'Email',
      startDate: '2024-05-01',
      endDate: new Date('2024-05-01T00:00:00Z'),
      memberCount: 1200,
    });
    expect(parsed.startDate).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(parsed.endDate).toEqual(new Date('2024-05-01T00:00:00Z'));
  });

  it('bounds name at 80 characters', () => {
    expect(CrmCampaignSchema.safeParse({ ...validCampaign, name: chars(80) }).success).toBe(true);
    expect(issuesOf(CrmCampaignSchema, { ...validCampaign, name: chars(81) })).toEqual({
      name: 'must be at most 80 characters',
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing name', { externalId: 'c', status: 'Planned' }, { name: 'is required' }],
    ['blank status', { ...validCampaign, status: '  ' }, { status: 'is required' }],
    [
      'negative memberCount',
      { ...validCampaign, memberCount: -5 },
      { memberCount: 'Too small: expected number to be >=0' },
    ],
    ['fractional memberCount', { ...validCampaign, memberCount: 2.5 }, { memberCount: 'must be an integer' }],
    [
      'negative emailStats.sent',
      { ...validCampaign, emailStats: { sent: -1 } },
      { 'emailStats.sent': 'Too small: expected number to be >=0' },
    ],
    [
      'endDate before startDate',
      { ...validCampaign, startDate: '2024-05-02', endDate: '2024-05-01' },
      { endDate: 'must not be before startDate' },
    ],
    [
      'garbage startDate',
      { ...validCampaign, startDate: 'soon' },
      { startDate: 'is not a valid date (use a Date or an ISO-8601 string)' },
    ],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmCampaignSchema, input)).toEqual(expected);
  });
});

describe('enumerations', () => {
  it.each<[string, z.ZodType, string[], unknown[]]>([
    [
      'CrmEmailActivityTypeSchema',
      CrmEmailActivityTypeSchema,
      ['sent', 'opened', 'clicked', 'bounced', 'unsubscribed'],
      ['delivered', 'SENT', '', null],
    ],
    [
      'CrmFieldTypeSchema',
      CrmFieldTypeSchema,
      [
        'text',
        'number',
        'date',
        'datetime',
        'boolean',
        'picklist',
        'multipicklist',
        'email',
        'phone',
        'url',
        'reference',
      ],
      ['string', 'currency', 'Text', 3],
    ],
    [
      'CrmSyncDirectionSchema',
      CrmSyncDirectionSchema,
      ['to_crm', 'from_crm', 'bidirectional'],
      ['both', 'TO_CRM', undefined],
    ],
    [
      'CrmEntityTypeSchema',
      CrmEntityTypeSchema,
      ['contact', 'lead', 'campaign', 'email_activity', 'list', 'list_member'],
      ['account', 'Contact', {}],
    ],
  ])('%s accepts exactly its members', (_name, schema, members, outsiders) => {
    for (const member of members) expect(schema.parse(member)).toBe(member);
    for (const outsider of outsiders) expect(schema.safeParse(outsider).success).toBe(false);
  });

  it('names the allowed values without echoing the bad one', () => {
    const issues = issuesOf(CrmEmailActivityTypeSchema, 'delivered-SENTINEL');
    expect(issues['(root)']).toBe('must be one of "sent", "opened", "clicked", "bounced", "unsubscribed"');
  });
});

const validActivity = {
  externalId: 'evt_1',
  contactExternalId: 'sub_1',
  activityType: 'opened',
  occurredAt: '2024-05-06T07:08:09Z',
};

describe('CrmEmailActivitySchema', () => {
  it('parses a minimal activity, turning occurredAt into a Date', () => {
    expect(CrmEmailActivitySchema.parse(validActivity)).toEqual({
      ...validActivity,
      occurredAt: new Date('2024-05-06T07:08:09Z'),
    });
  });

  it('accepts campaignExternalId and free-form metadata', () => {
    const parsed = CrmEmailActivitySchema.parse({
      ...validActivity,
      campaignExternalId: 'cmp_1',
      metadata: { url: 'https://example.com', userAgent: 'x' },
    });
    expect(parsed.campaignExternalId).toBe('cmp_1');
    expect(parsed.metadata).toEqual({ url: 'https://example.com', userAgent: 'x' });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing occurredAt', { ...validActivity, occurredAt: undefined }, { occurredAt: 'is required' }],
    [
      'garbage occurredAt',
      { ...validActivity, occurredAt: '2024-02-30' },
      { occurredAt: 'is not a valid date (use a Date or an ISO-8601 string)' },
    ],
    [
      'missing contactExternalId',
      { ...validActivity, contactExternalId: undefined },
      { contactExternalId: 'is required' },
    ],
    [
      'unknown activityType',
      { ...validActivity, activityType: 'forwarded' },
      { activityType: 'must be one of "sent", "opened", "clicked", "bounced", "unsubscribed"' },
    ],
    ['blank externalId', { ...validActivity, externalId: '' }, { externalId: 'is required' }],
    ['metadata as a string', { ...validActivity, metadata: 'x' }, { metadata: 'must be a record' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmEmailActivitySchema, input)).toEqual(expected);
  });
});

describe('CrmListSchema', () => {
  it('parses a list with and without ids', () => {
    expect(CrmListSchema.parse({ name: ' Newsletter ', memberIds: ['sub_1', ' sub_2 '] })).toEqual({
      name: 'Newsletter',
      memberIds: ['sub_1', 'sub_2'],
    });
    expect(
      CrmListSchema.parse({ id: '7015g000000AbCdAAK', externalId: 'list_1', name: 'N', memberIds: [] }),
    ).toEqual({
      id: '7015g000000AbCdAAK',
      externalId: 'list_1',
      name: 'N',
      memberIds: [],
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing memberIds', { name: 'N' }, { memberIds: 'is required' }],
    ['blank member id', { name: 'N', memberIds: ['ok', ' '] }, { 'memberIds.1': 'is required' }],
    [
      'name over 80 characters',
      { name: chars(81), memberIds: [] },
      { name: 'must be at most 80 characters' },
    ],
    ['blank name', { name: '', memberIds: [] }, { name: 'is required' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmListSchema, input)).toEqual(expected);
  });
});

describe('CrmCustomFieldSchema', () => {
  const field = { name: 'Score__c', label: 'Score', fieldType: 'number', required: false, updateable: true };

  it('parses a described field, with or without picklist options', () => {
    expect(CrmCustomFieldSchema.parse(field)).toEqual(field);
    const picklist = { ...field, fieldType: 'picklist', options: ['A', 'B'] };
    expect(CrmCustomFieldSchema.parse(picklist)).toEqual(picklist);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing required flag', { ...field, required: undefined }, { required: 'is required' }],
    [
      'unknown fieldType',
      { ...field, fieldType: 'currency' },
      { fieldType: expect.stringMatching(/^must be one of "text"/) },
    ],
    ['blank name', { ...field, name: ' ' }, { name: 'Too small: expected string to have >=1 characters' }],
    ['non-string option', { ...field, options: ['A', 1] }, { 'options.1': 'must be a string' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmCustomFieldSchema, input)).toEqual(expected);
  });
});

describe('CrmFieldMappingSchema', () => {
  it('defaults syncDirection to bidirectional', () => {
    expect(
      CrmFieldMappingSchema.parse({ hostField: 'plan', crmField: 'Plan__c', fieldType: 'text' }),
    ).toEqual({
      hostField: 'plan',
      crmField: 'Plan__c',
      fieldType: 'text',
      syncDirection: 'bidirectional',
    });
  });

  it('keeps a transform function', () => {
    const transform = (value: unknown) => String(value).toUpperCase();
    const parsed = CrmFieldMappingSchema.parse({
      hostField: 'plan',
      crmField: 'Plan__c',
      fieldType: 'picklist',
      syncDirection: 'to_crm',
      transform,
    });
    expect(parsed.transform).toBe(transform);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['blank hostField', { hostField: '', crmField: 'X__c', fieldType: 'text' }, { hostField: 'is required' }],
    ['missing crmField', { hostField: 'x', fieldType: 'text' }, { crmField: 'is required' }],
    [
      'unknown syncDirection',
      { hostField: 'x', crmField: 'X__c', fieldType: 'text', syncDirection: 'both' },
      { syncDirection: 'must be one of "to_crm", "from_crm", "bidirectional"' },
    ],
    [
      'transform that is not a function',
      { hostField: 'x', crmField: 'X__c', fieldType: 'text', transform: 'upper' },
      { transform: 'Invalid input' },
    ],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmFieldMappingSchema, input)).toEqual(expected);
  });
});

describe('CrmRecordErrorSchema', () => {
  it('parses an error with and without fields', () => {
    expect(CrmRecordErrorSchema.parse({ code: 'DUPLICATE_VALUE', message: 'duplicate' })).toEqual({
      code: 'DUPLICATE_VALUE',
      message: 'duplicate',
    });
    expect(CrmRecordErrorSchema.parse({ code: 'X', message: 'y', fields: ['Email'] }).fields).toEqual([
      'Email',
    ]);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['missing code', { message: 'm' }, { code: 'is required' }],
    ['fields not an array', { code: 'X', message: 'm', fields: 'Email' }, { fields: 'must be an array' }],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmRecordErrorSchema, input)).toEqual(expected);
  });
});

const syncedAt = new Date('2024-05-06T07:08:09Z');
const validResult = {
  entityType: 'contact',
  externalId: 'sub_1',
  crmId: '0035g00000AbCdEAAZ',
  success: true,
  created: true,
  syncedAt,
};

describe('CrmSyncResultSchema', () => {
  it('parses a success and a failure', () => {
    expect(CrmSyncResultSchema.parse(validResult)).toEqual(validResult);
    const failure = {
      entityType: 'lead',
      externalId: 'form_1',
      success: false,
      error: { code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing', fields: ['LastName'] },
      syncedAt,
    };
    expect(CrmSyncResultSchema.parse(failure)).toEqual(failure);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    [
      'syncedAt as a string (results carry real Dates)',
      { ...validResult, syncedAt: '2024-05-06' },
      { syncedAt: 'must be a date' },
    ],
    [
      'unknown entityType',
      { ...validResult, entityType: 'account' },
      { entityType: expect.stringMatching(/^must be one of/) },
    ],
    ['missing success', { ...validResult, success: undefined }, { success: 'is required' }],
    [
      'malformed error',
      { ...validResult, error: { code: 1 } },
      { 'error.code': 'must be a string', 'error.message': 'is required' },
    ],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmSyncResultSchema, input)).toEqual(expected);
  });
});

describe('CrmBulkSyncResultSchema', () => {
  const valid = { total: 1, success: 1, failed: 0, results: [validResult], apiCalls: 1, mode: 'rest' };

  it('parses rest and bulk outcomes', () => {
    expect(CrmBulkSyncResultSchema.parse(valid)).toEqual(valid);
    expect(CrmBulkSyncResultSchema.parse({ ...valid, mode: 'bulk', apiCalls: 4 }).mode).toBe('bulk');
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    [
      'mode auto (only the path actually taken is reported)',
      { ...valid, mode: 'auto' },
      { mode: 'must be one of "rest", "bulk"' },
    ],
    ['negative total', { ...valid, total: -1 }, { total: 'Too small: expected number to be >=0' }],
    [
      'an invalid nested result',
      { ...valid, results: [{ ...validResult, success: 'yes' }] },
      { 'results.0.success': 'must be a boolean' },
    ],
  ])('refuses %s', (_label, input, expected) => {
    expect(issuesOf(CrmBulkSyncResultSchema, input)).toEqual(expected);
  });
});

describe('parseModel', () => {
  it('returns the parsed, typed value for valid input', () => {
    const contact = parseModel(CrmContactSchema, { ...validContact, firstName: ' Ada ' }, 'contact');
    expect(contact.firstName).toBe('Ada');
    expect(contact.tags).toEqual([]);
  });

  const secretEmail = 'SENTINEL-7f3a not an email@@example..com';
  const secretName = `SENTINEL-9b1c${chars(60)}`;
  const badContact = {
    email: secretEmail,
    firstName: secretName,
    phone: 5551234,
    emailOptOut: 'SENTINEL-yes',
    lastModifiedAt: 'SENTINEL-yesterday',
    tags: ['ok', 12],
  };

  function catchError(fn: () => unknown): CrmDataConversionError {
    try {
      fn();
    } catch (error) {
      if (error instanceof CrmDataConversionError) return error;
      throw error;
    }
    throw new Error('expected parseModel to throw');
  }

  it('throws CrmDataConversionError naming every bad field with its reason', () => {
    const error = catchError(() => parseModel(CrmContactSchema, badContact, 'contact'));
    expect(isCrmError(error)).toBe(true);
    expect(error.code).toBe('DATA_CONVERSION');
    expect(error.retryable).toBe(false);
    expect(error.issues).toEqual([
      { field: 'externalId', message: 'is required', code: 'invalid_type' },
      { field: 'email', message: 'is not a valid email address', code: 'custom' },
      { field: 'firstName', message: 'must be at most 40 characters', code: 'too_big' },
      { field: 'phone', message: 'must be a string', code: 'invalid_type' },
      { field: 'emailOptOut', message: 'must be a boolean', code: 'invalid_type' },
      { field: 'tags.1', message: 'must be a string', code: 'invalid_type' },
      {
        field: 'lastModifiedAt',
        message: 'is not a valid date (use a Date or an ISO-8601 string)',
        code: 'custom',
      },
    ]);
    expect(error.fields).toEqual([
      'externalId',
      'email',
      'firstName',
      'phone',
      'emailOptOut',
      'tags.1',
      'lastModifiedAt',
    ]);
    expect(error.message).toBe(
      'Invalid contact: externalId is required; email is not a valid email address; ' +
        'firstName must be at most 40 characters; phone must be a string; emailOptOut must be a boolean; ' +
        'tags.1 must be a string; lastModifiedAt is not a valid date (use a Date or an ISO-8601 string)',
    );
  });

  it('never echoes an offending value in message, toJSON, JSON, inspect or stack', () => {
    const error = catchError(() => parseModel(CrmContactSchema, badContact, 'contact'));
    const renderings = [
      error.message,
      String(error),
      String(error.stack),
      JSON.stringify(error),
      JSON.stringify(error.toJSON()),
      inspect(error, { depth: 10 }),
    ];
    for (const text of renderings) {
      expect(text).not.toContain('SENTINEL');
      expect(text).not.toContain('5551234');
    }
  });

  it('says "must be an object" (not "is required") for a null root', () => {
    const error = catchError(() => parseModel(CrmContactSchema, null, 'contact'));
    expect(error.issues).toEqual([{ field: '(root)', message: 'must be an object', code: 'invalid_type' }]);
  });

  it('prefixes nested paths given to toFieldIssues', () => {
    const result = CrmContactSchema.safeParse({ externalId: 'x', email: 'bad' });
    expect(result.success).toBe(false);
    expect(toFieldIssues(result.error as z.ZodError, 'contacts.3')).toEqual([
      { field: 'contacts.3.email', message: 'is not a valid email address', code: 'custom' },
    ]);
  });

  it('reports an empty custom field name without echoing the value', () => {
    const error = catchError(() =>
      parseModel(CrmContactSchema, { ...validContact, customFields: { '': 'SENTINEL-value' } }, 'contact'),
    );
    expect(error.issues).toEqual([
      { field: 'customFields', message: 'has an invalid key', code: 'invalid_key' },
    ]);
    expect(JSON.stringify(error)).not.toContain('SENTINEL');
  });

  it('names unknown keys of a strict schema (keys, never values)', () => {
    const error = catchError(() =>
      parseModel(z.strictObject({ a: z.string() }), { a: 'x', bogus: 'SENTINEL' }, 'options'),
    );
    expect(error.issues).toEqual([
      { field: '(root)', message: 'has unknown keys bogus', code: 'unrecognized_keys' },
    ]);
    expect(error.message).toBe('Invalid options: (root) has unknown keys bogus');
  });

  it('without the input, still reports a missing field as required', () => {
    const result = CrmContactSchema.safeParse({ externalId: 'x' });
    expect(toFieldIssues(result.error as z.ZodError)).toEqual([
      { field: 'email', message: 'is required', code: 'invalid_type' },
    ]);
  });
});
