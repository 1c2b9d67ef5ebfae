import { type CrmSuggestionCrmField, type CrmSuggestionHostField, suggestFieldMappings } from '@markmail/crm';
import { describe, expect, it } from 'vitest';

// Salesforce Contact as the emulator (and a real org) describes it, plus two custom fields.
const SALESFORCE_CONTACT: CrmSuggestionCrmField[] = [
  { name: 'Id', label: 'Contact ID', fieldType: 'reference', updateable: false },
  { name: 'AccountId', label: 'Account ID', fieldType: 'reference' },
  { name: 'Salutation', label: 'Salutation', fieldType: 'picklist' },
  { name: 'FirstName', label: 'First Name', fieldType: 'text' },
  { name: 'LastName', label: 'Last Name', fieldType: 'text' },
  { name: 'Name', label: 'Full Name', fieldType: 'text', updateable: false },
  { name: 'Email', label: 'Email', fieldType: 'email' },
  { name: 'Phone', label: 'Business Phone', fieldType: 'phone' },
  { name: 'MobilePhone', label: 'Mobile Phone', fieldType: 'phone' },
  { name: 'Title', label: 'Title', fieldType: 'text' },
  { name: 'Department', label: 'Department', fieldType: 'text' },
  { name: 'Birthdate', label: 'Birthdate', fieldType: 'date' },
  { name: 'LeadSource', label: 'Lead Source', fieldType: 'picklist' },
  { name: 'Description', label: 'Contact Description', fieldType: 'text' },
  { name: 'HasOptedOutOfEmail', label: 'Email Opt Out', fieldType: 'boolean' },
  { name: 'DoNotCall', label: 'Do Not Call', fieldType: 'boolean' },
  { name: 'MailingCity', label: 'Mailing City', fieldType: 'text' },
  { name: 'MailingPostalCode', label: 'Mailing Zip/Postal Code', fieldType: 'text' },
  { name: 'MailingCountry', label: 'Mailing Country', fieldType: 'text' },
  { name: 'MarkMail_ID__c', label: 'MarkMail ID', fieldType: 'text' },
  { name: 'Company_Name__c', label: 'Company Name', fieldType: 'text' },
  { name: 'Region__c', label: 'Region', fieldType: 'picklist' },
];

interface LabelledHost {
  title: string;
  fields: Array<CrmSuggestionHostField & { expected: string | null }>;
}

// The labelled set: host schemas as email tools export them, each field with the CRM field a
// person would map it to (null: nothing on Contact fits, a suggestion is a false positive).
const LABELLED: LabelledHost[] = [
  {
    title: 'English snake_case export',
    fields: [
      { name: 'email', expected: 'Email' },
      { name: 'first_name', expected: 'FirstName' },
      { name: 'last_name', expected: 'LastName' },
      { name: 'company', expected: 'Company_Name__c' },
      { name: 'job_title', expected: 'Title' },
      { name: 'phone_number', expected: 'Phone' },
      { name: 'mobile', expected: 'MobilePhone' },
      { name: 'unsubscribed', fieldType: 'boolean', expected: 'HasOptedOutOfEmail' },
      { name: 'zip', expected: 'MailingPostalCode' },
      { name: 'favourite_colour', expected: null },
      { name: 'opens_last_30_days', fieldType: 'number', expected: null },
    ],
  },
  {
    title: 'Japanese labels (the original MarkMail forms)',
    fields: [
      { name: 'mei', label: '名', expected: 'FirstName' },
      { name: 'sei', label: '姓', expected: 'LastName' },
      { name: 'kaisha', label: '会社', expected: 'Company_Name__c' },
      { name: 'yakushoku', label: '役職', expected: 'Title' },
      { name: 'denwa', label: '電話', expected: 'Phone' },
      { name: 'mail', label: 'メール', expected: 'Email' },
      { name: 'keitai', label: '携帯電話', expected: 'MobilePhone' },
      { name: 'busho', label: '部署', expected: 'Department' },
      { name: 'tanjoubi', label: '生年月日', fieldType: 'date', expected: 'Birthdate' },
      { name: 'yuubin', label: '郵便番号', expected: 'MailingPostalCode' },
      { name: 'shumi', label: '趣味', expected: null },
    ],
  },
  {
    title: 'CamelCase app model',
    fields: [
      { name: 'emailAddress', fieldType: 'email', expected: 'Email' },
      { name: 'givenName', expected: 'FirstName' },
      { name: 'familyName', expected: 'LastName' },
      { name: 'organization', expected: 'Company_Name__c' },
      { name: 'position', expected: 'Title' },
      { name: 'subscriberId', expected: 'MarkMail_ID__c' },
      { name: 'signupSource', expected: 'LeadSource' },
      { name: 'region', expected: 'Region__c' },
      { name: 'city', expected: 'MailingCity' },
      { name: 'notes', expected: 'Description' },
      { name: 'lastOpenedAt', fieldType: 'datetime', expected: null },
    ],
  },
  {
    title: 'Opaque CSV columns, only the values tell',
    fields: [
      { name: 'col_1', samples: ['ann@example.com', 'bo@example.org', ''], expected: 'Email' },
      { name: 'col_2', samples: ['Ann', 'Bo'], expected: null },
      { name: 'col_3', samples: ['2024-01-02', '2023-12-31'], expected: null },
      { name: 'col_4', samples: ['true', 'false'], expected: null },
    ],
  },
  {
    // Written after the rules above were settled, and not tuned against: keeps the figures honest.
    title: 'Held-out mixed export',
    fields: [
      { name: 'E-mail', expected: 'Email' },
      { name: 'tel', expected: 'Phone' },
      { name: 'cell', expected: 'MobilePhone' },
      { name: 'surname', expected: 'LastName' },
      { name: 'dept', expected: 'Department' },
      { name: 'do_not_call', fieldType: 'boolean', expected: 'DoNotCall' },
      { name: 'country', expected: 'MailingCountry' },
      { name: 'postal_code', expected: 'MailingPostalCode' },
      { name: 'company_name', label: '会社名', expected: 'Company_Name__c' },
      { name: 'honorific', label: '敬称', expected: 'Salutation' },
      { name: 'fax', samples: ['03-1234-5678'], expected: null },
      { name: 'linkedin_url', samples: ['https://www.linkedin.com/in/x'], expected: null },
      { name: 'nickname', expected: null },
      { name: 'display_name', label: '表示名', expected: null },
      { name: 'email_2', label: 'Secondary email', samples: ['x@example.com'], expected: null },
    ],
  },
];

function evaluate(minConfidence?: number) {
  let suggested = 0;
  let correct = 0;
  let relevant = 0;
  const misses: string[] = [];
  for (const host of LABELLED) {
    const suggestions = suggestFieldMappings({
      hostFields: host.fields.map(({ expected: _expected, ...field }) => field),
      crmFields: SALESFORCE_CONTACT,
      ...(minConfidence === undefined ? {} : { minConfidence }),
    });
    const byHost = new Map(suggestions.map((s) => [s.hostField, s.crmField]));
    for (const field of host.fields) {
      const got = byHost.get(field.name);
      if (field.expected) relevant++;
      if (got !== undefined) suggested++;
      if (got !== undefined && got === field.expected) correct++;
      else if (got !== undefined || field.expected) {
        misses.push(
          `${host.title}: ${field.name} → ${got ?? '(none)'}, expected ${field.expected ?? '(none)'}`,
        );
      }
    }
  }
  return { precision: correct / suggested, recall: correct / relevant, suggested, correct, relevant, misses };
}

describe('suggestFieldMappings', () => {
  it('is measurably good on the labelled host/CRM field set (precision and recall printed)', () => {
    const result = evaluate();
    console.log(
      `suggestFieldMappings on ${result.relevant} labelled pairs: precision ${result.precision.toFixed(3)} ` +
        `(${result.correct}/${result.suggested}), recall ${result.recall.toFixed(3)} (${result.correct}/${result.relevant})`,
    );
    if (result.misses.length) console.log(`misses:\n  ${result.misses.join('\n  ')}`);
    expect(result.precision).toBeGreaterThanOrEqual(0.95);
    expect(result.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('gives each suggestion a confidence between 0 and 1 and a reason', () => {
    const suggestions = suggestFieldMappings({
      hostFields: [
        { name: 'sei', label: '姓' },
        { name: 'contact', samples: ['a@example.com', 'b@example.com'] },
        { name: 'first_name' },
      ],
      crmFields: SALESFORCE_CONTACT,
    });
    expect(suggestions).toEqual([
      {
        hostField: 'first_name',
        crmField: 'FirstName',
        confidence: 0.95,
        reason: 'same name',
        fieldType: 'text',
      },
      {
        hostField: 'sei',
        crmField: 'LastName',
        confidence: 0.9,
        reason: 'synonym of "last name" (姓)',
        fieldType: 'text',
      },
      {
        hostField: 'contact',
        crmField: 'Email',
        confidence: 0.8,
        reason: 'sampled values look like email addresses',
        fieldType: 'email',
      },
    ]);
  });

  it('is deterministic: the same input in another order gives the same suggestions', () => {
    const hostFields = LABELLED.flatMap((h) => h.fields.map(({ expected: _e, ...f }) => f));
    const a = suggestFieldMappings({ hostFields, crmFields: SALESFORCE_CONTACT });
    const b = suggestFieldMappings({
      hostFields: [...hostFields].reverse(),
      crmFields: [...SALESFORCE_CONTACT].reverse(),
    });
    expect(b).toEqual(a);
  });

  it('maps each CRM field at most once, to the strongest host field', () => {
    const suggestions = suggestFieldMappings({
      hostFields: [{ name: 'mail' }, { name: 'email' }],
      crmFields: SALESFORCE_CONTACT,
    });
    expect(suggestions.map((s) => [s.hostField, s.crmField])).toEqual([['email', 'Email']]);
  });

  it('never suggests read-only CRM fields or incompatible types', () => {
    const suggestions = suggestFieldMappings({
      hostFields: [
        { name: 'name', label: '氏名' },
        { name: 'email', fieldType: 'boolean' },
      ],
      crmFields: SALESFORCE_CONTACT,
    });
    expect(suggestions).toEqual([]);
  });

  it('takes samples keyed by host field name and uses sample shape for phone numbers', () => {
    const suggestions = suggestFieldMappings({
      hostFields: [{ name: 'c7' }],
      crmFields: [{ name: 'Phone', label: 'Phone', fieldType: 'phone' }],
      samples: { c7: ['+81 3-1234-5678', '03-9876-5432'] },
    });
    expect(suggestions).toMatchObject([{ hostField: 'c7', crmField: 'Phone', confidence: 0.6 }]);
  });

  it('rejects malformed input naming the field', () => {
    expect(() => suggestFieldMappings({ hostFields: [{ name: '' }], crmFields: [] } as never)).toThrowError(
      /hostFields\.0\.name/,
    );
  });
});
