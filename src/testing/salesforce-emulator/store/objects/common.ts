import type { EmulatorFieldDefinition } from '../schema.js';

/** Fields every emulated object has (read-only system fields, maintained by the store). */
export function systemFields(): EmulatorFieldDefinition[] {
  return [
    { name: 'Id', type: 'id', label: 'Record ID' },
    { name: 'IsDeleted', type: 'boolean', label: 'Deleted', createable: false, updateable: false },
    { name: 'CreatedDate', type: 'datetime', createable: false, updateable: false },
    readOnlyUser('CreatedById', 'CreatedBy'),
    { name: 'LastModifiedDate', type: 'datetime', createable: false, updateable: false },
    readOnlyUser('LastModifiedById', 'LastModifiedBy'),
    {
      name: 'SystemModstamp',
      type: 'datetime',
      label: 'System Modstamp',
      createable: false,
      updateable: false,
    },
  ];
}

function readOnlyUser(name: string, relationshipName: string): EmulatorFieldDefinition {
  return {
    name,
    type: 'reference',
    referenceTo: ['User'],
    relationshipName,
    createable: false,
    updateable: false,
  };
}

/** `OwnerId` (defaults to the API user). */
export const owner: EmulatorFieldDefinition = {
  name: 'OwnerId',
  type: 'reference',
  referenceTo: ['User'],
  relationshipName: 'Owner',
};

/** Read-only field (maintained by Salesforce: activity dates, recently viewed, …). */
export function readOnly(definition: EmulatorFieldDefinition): EmulatorFieldDefinition {
  return { ...definition, createable: false, updateable: false };
}

/** `LastViewedDate` / `LastReferencedDate`, which every "recently viewed" object reports. */
export function recentlyViewedFields(): EmulatorFieldDefinition[] {
  return [
    readOnly({ name: 'LastViewedDate', type: 'datetime' }),
    readOnly({ name: 'LastReferencedDate', type: 'datetime' }),
  ];
}

/** `MasterRecordId`: the record this one was merged into (read-only). */
export function masterRecord(sobject: string): EmulatorFieldDefinition {
  return readOnly({
    name: 'MasterRecordId',
    type: 'reference',
    label: `Master Record ID`,
    referenceTo: [sobject],
    relationshipName: 'MasterRecord',
  });
}

/**
 * A compound address (`BillingAddress`, or `Address` with an empty prefix) and its component
 * fields (`BillingStreet`, …, `BillingGeocodeAccuracy`), each naming the compound in describe.
 */
export function address(prefix: string): EmulatorFieldDefinition[] {
  const compoundFieldName = `${prefix}Address`;
  const components: EmulatorFieldDefinition[] = [
    { name: `${prefix}Street`, type: 'textarea', length: 255 },
    { name: `${prefix}City`, type: 'string', length: 40 },
    { name: `${prefix}State`, type: 'string', length: 80 },
    { name: `${prefix}PostalCode`, type: 'string', length: 20 },
    { name: `${prefix}Country`, type: 'string', length: 80 },
    { name: `${prefix}Latitude`, type: 'double', precision: 18, scale: 15 },
    { name: `${prefix}Longitude`, type: 'double', precision: 18, scale: 15 },
    {
      name: `${prefix}GeocodeAccuracy`,
      type: 'picklist',
      length: 40,
      picklistValues: [
        'Address',
        'NearAddress',
        'Block',
        'Street',
        'ExtendedZip',
        'Zip',
        'Neighborhood',
        'City',
        'County',
        'State',
        'Unknown',
      ],
    },
  ];
  return [
    ...components.map((field) => ({ ...field, compoundFieldName })),
    { name: compoundFieldName, type: 'address', label: `${prefix} Address`.trim() },
  ];
}

/** Data.com fields (`Jigsaw`, `CleanStatus`) on Account, Contact and Lead. */
export function dataComFields(idField: string): EmulatorFieldDefinition[] {
  return [
    { name: 'Jigsaw', type: 'string', label: 'Data.com Key', length: 20 },
    readOnly({ name: idField, type: 'string', label: 'Jigsaw ID', length: 20 }),
    {
      name: 'CleanStatus',
      type: 'picklist',
      label: 'Clean Status',
      length: 40,
      picklistValues: [
        'Matched',
        'Different',
        'Acknowledged',
        'NotFound',
        'Inactive',
        'Pending',
        'SelectMatch',
        'Skipped',
      ],
    },
  ];
}

/** The standard Lead Source picklist. */
export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];

/** The standard Industry picklist. */
export const INDUSTRIES = [
  'Agriculture',
  'Apparel',
  'Banking',
  'Biotechnology',
  'Chemicals',
  'Communications',
  'Construction',
  'Consulting',
  'Education',
  'Electronics',
  'Energy',
  'Engineering',
  'Entertainment',
  'Environmental',
  'Finance',
  'Food & Beverage',
  'Government',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Machinery',
  'Manufacturing',
  'Media',
  'Not For Profit',
  'Recreation',
  'Retail',
  'Shipping',
  'Technology',
  'Telecommunications',
  'Transportation',
  'Utilities',
  'Other',
];

/** The standard Salutation picklist. */
export const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'];

/** The standard Rating picklist (Account, Lead). */
export const RATINGS = ['Hot', 'Warm', 'Cold'];

/** `MarkMail_ID__c`: the unique external id the MarkMail sync keys contacts and leads on. */
export const markMailId: EmulatorFieldDefinition = {
  name: 'MarkMail_ID__c',
  type: 'string',
  label: 'MarkMail ID',
  length: 255,
  unique: true,
  externalId: true,
};

/** `IndividualId`: the data-privacy record of a person (Contact, Lead). */
export const individualId: EmulatorFieldDefinition = {
  name: 'IndividualId',
  type: 'reference',
  label: 'Individual ID',
  referenceTo: ['Individual'],
  relationshipName: 'Individual',
};
