import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import {
  address,
  dataComFields,
  INDUSTRIES,
  LEAD_SOURCES,
  masterRecord,
  owner,
  RATINGS,
  readOnly,
  recentlyViewedFields,
  systemFields,
} from './common.js';

/** Account as a Developer/scratch org describes it (Object Reference "Account"). */
export function accountDefinition(): EmulatorObjectDefinition {
  return {
    name: 'Account',
    label: 'Account',
    labelPlural: 'Accounts',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Account,
    fields: [
      ...systemFields(),
      masterRecord('Account'),
      { name: 'Name', type: 'string', label: 'Account Name', length: 255, required: true, idLookup: true },
      {
        name: 'Type',
        type: 'picklist',
        label: 'Account Type',
        length: 40,
        picklistValues: [
          'Prospect',
          'Customer - Direct',
          'Customer - Channel',
          'Channel Partner / Reseller',
          'Installation Partner',
          'Technology Partner',
          'Other',
        ],
      },
      {
        name: 'ParentId',
        type: 'reference',
        label: 'Parent Account ID',
        referenceTo: ['Account'],
        relationshipName: 'Parent',
      },
      ...address('Billing'),
      ...address('Shipping'),
      { name: 'Phone', type: 'phone', label: 'Account Phone' },
      { name: 'Fax', type: 'phone', label: 'Account Fax' },
      { name: 'AccountNumber', type: 'string', label: 'Account Number', length: 40 },
      { name: 'Website', type: 'url' },
      readOnly({ name: 'PhotoUrl', type: 'url', label: 'Photo URL' }),
      { name: 'Sic', type: 'string', label: 'SIC Code', length: 20 },
      { name: 'Industry', type: 'picklist', length: 40, picklistValues: INDUSTRIES },
      { name: 'AnnualRevenue', type: 'currency', precision: 18 },
      { name: 'NumberOfEmployees', type: 'int', label: 'Employees', precision: 8 },
      {
        name: 'Ownership',
        type: 'picklist',
        length: 40,
        picklistValues: ['Public', 'Private', 'Subsidiary', 'Other'],
      },
      { name: 'TickerSymbol', type: 'string', label: 'Ticker Symbol', length: 20 },
      { name: 'Description', type: 'textarea', label: 'Account Description' },
      { name: 'Rating', type: 'picklist', label: 'Account Rating', length: 40, picklistValues: RATINGS },
      { name: 'Site', type: 'string', label: 'Account Site', length: 80 },
      owner,
      readOnly({ name: 'LastActivityDate', type: 'date', label: 'Last Activity' }),
      ...recentlyViewedFields(),
      ...dataComFields('JigsawCompanyId'),
      {
        name: 'AccountSource',
        type: 'picklist',
        label: 'Account Source',
        length: 40,
        picklistValues: LEAD_SOURCES,
      },
      { name: 'SicDesc', type: 'string', label: 'SIC Description', length: 80 },
    ],
  };
}
