import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import {
  address,
  dataComFields,
  INDUSTRIES,
  individualId,
  LEAD_SOURCES,
  markMailId,
  masterRecord,
  owner,
  RATINGS,
  readOnly,
  recentlyViewedFields,
  SALUTATIONS,
  systemFields,
} from './common.js';

/** The standard Lead Status picklist (the converted status is "Closed - Converted"). */
export const LEAD_STATUSES = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Converted',
  'Closed - Not Converted',
];

/** Lead as a Developer/scratch org describes it (Object Reference "Lead"). */
export function leadDefinition(): EmulatorObjectDefinition {
  const converted = (name: string, referenceTo: string, relationshipName: string) =>
    readOnly({ name, type: 'reference', referenceTo: [referenceTo], relationshipName });
  return {
    name: 'Lead',
    label: 'Lead',
    labelPlural: 'Leads',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Lead,
    fields: [
      ...systemFields(),
      masterRecord('Lead'),
      { name: 'LastName', type: 'string', length: 80, required: true },
      { name: 'FirstName', type: 'string', length: 40 },
      { name: 'Salutation', type: 'picklist', length: 40, picklistValues: SALUTATIONS },
      { name: 'Name', type: 'string', label: 'Full Name', length: 121, calculated: true },
      { name: 'Title', type: 'string', length: 128 },
      { name: 'Company', type: 'string', length: 255, required: true },
      ...address(''),
      { name: 'Phone', type: 'phone' },
      { name: 'MobilePhone', type: 'phone' },
      { name: 'Fax', type: 'phone' },
      { name: 'Email', type: 'email', idLookup: true },
      { name: 'Website', type: 'url' },
      readOnly({ name: 'PhotoUrl', type: 'url', label: 'Photo URL' }),
      { name: 'Description', type: 'textarea' },
      { name: 'LeadSource', type: 'picklist', length: 40, picklistValues: LEAD_SOURCES },
      {
        name: 'Status',
        type: 'picklist',
        label: 'Lead Status',
        length: 40,
        defaultValue: 'Open - Not Contacted',
        picklistValues: LEAD_STATUSES,
      },
      { name: 'Industry', type: 'picklist', length: 40, picklistValues: INDUSTRIES },
      { name: 'Rating', type: 'picklist', length: 40, picklistValues: RATINGS },
      { name: 'AnnualRevenue', type: 'currency', precision: 18 },
      { name: 'NumberOfEmployees', type: 'int', label: 'Employees', precision: 8 },
      owner,
      { name: 'HasOptedOutOfEmail', type: 'boolean', label: 'Email Opt Out', defaultValue: false },
      { name: 'IsConverted', type: 'boolean', label: 'Converted', defaultValue: false, updateable: false },
      readOnly({ name: 'ConvertedDate', type: 'date' }),
      converted('ConvertedAccountId', 'Account', 'ConvertedAccount'),
      converted('ConvertedContactId', 'Contact', 'ConvertedContact'),
      converted('ConvertedOpportunityId', 'Opportunity', 'ConvertedOpportunity'),
      { name: 'IsUnreadByOwner', type: 'boolean', label: 'Unread By Owner', defaultValue: false },
      { name: 'DoNotCall', type: 'boolean', defaultValue: false },
      { name: 'HasOptedOutOfFax', type: 'boolean', label: 'Fax Opt Out', defaultValue: false },
      readOnly({ name: 'LastActivityDate', type: 'date', label: 'Last Activity' }),
      ...recentlyViewedFields(),
      ...dataComFields('JigsawContactId'),
      { name: 'CompanyDunsNumber', type: 'string', label: 'Company D-U-N-S Number', length: 9 },
      { name: 'EmailBouncedReason', type: 'string' },
      { name: 'EmailBouncedDate', type: 'datetime' },
      individualId,
      markMailId,
    ],
  };
}
