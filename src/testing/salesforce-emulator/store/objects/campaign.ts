import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorFieldDefinition, EmulatorObjectDefinition } from '../schema.js';
import { owner, readOnly, recentlyViewedFields, systemFields } from './common.js';

const count = (name: string, label: string): EmulatorFieldDefinition =>
  readOnly({ name, type: 'int', label, precision: 9, defaultValue: 0 });
const amount = (name: string, label: string): EmulatorFieldDefinition =>
  readOnly({ name, type: 'currency', label, precision: 18, defaultValue: 0 });

/** Campaign as a Developer/scratch org describes it (Object Reference "Campaign"). */
export function campaignDefinition(): EmulatorObjectDefinition {
  return {
    name: 'Campaign',
    label: 'Campaign',
    labelPlural: 'Campaigns',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Campaign,
    fields: [
      ...systemFields(),
      { name: 'Name', type: 'string', label: 'Campaign Name', length: 80, required: true, idLookup: true },
      {
        name: 'ParentId',
        type: 'reference',
        label: 'Parent Campaign ID',
        referenceTo: ['Campaign'],
        relationshipName: 'Parent',
      },
      {
        name: 'Type',
        type: 'picklist',
        length: 255,
        picklistValues: [
          'Conference',
          'Webinar',
          'Trade Show',
          'Public Relations',
          'Partners',
          'Referral Program',
          'Advertisement',
          'Banner Ads',
          'Direct Mail',
          'Email',
          'Telemarketing',
          'Other',
        ],
      },
      {
        name: 'Status',
        type: 'picklist',
        length: 255,
        defaultValue: 'Planned',
        picklistValues: ['Planned', 'In Progress', 'Completed', 'Aborted'],
      },
      { name: 'StartDate', type: 'date' },
      { name: 'EndDate', type: 'date' },
      { name: 'ExpectedRevenue', type: 'currency', label: 'Expected Revenue in Campaign', precision: 18 },
      { name: 'BudgetedCost', type: 'currency', label: 'Budgeted Cost in Campaign', precision: 18 },
      { name: 'ActualCost', type: 'currency', label: 'Actual Cost in Campaign', precision: 18 },
      { name: 'ExpectedResponse', type: 'percent', label: 'Expected Response (%)', precision: 10, scale: 2 },
      { name: 'NumberSent', type: 'double', label: 'Num Sent in Campaign', precision: 18 },
      { name: 'IsActive', type: 'boolean', label: 'Active', defaultValue: false },
      { name: 'Description', type: 'textarea', length: 32000 },
      count('NumberOfLeads', 'Leads in Campaign'),
      count('NumberOfConvertedLeads', 'Converted Leads in Campaign'),
      count('NumberOfContacts', 'Contacts in Campaign'),
      count('NumberOfResponses', 'Responses in Campaign'),
      count('NumberOfOpportunities', 'Opportunities in Campaign'),
      count('NumberOfWonOpportunities', 'Won Opportunities in Campaign'),
      amount('AmountAllOpportunities', 'Value Opportunities in Campaign'),
      amount('AmountWonOpportunities', 'Value Won Opportunities in Campaign'),
      owner,
      readOnly({ name: 'LastActivityDate', type: 'date', label: 'Last Activity' }),
      ...recentlyViewedFields(),
      {
        name: 'MarkMail_Campaign_ID__c',
        type: 'string',
        label: 'MarkMail Campaign ID',
        length: 255,
        unique: true,
        externalId: true,
      },
    ],
  };
}

/** CampaignMember (Object Reference "CampaignMember"); one per Campaign + Contact or Lead. */
export function campaignMemberDefinition(): EmulatorObjectDefinition {
  const member = (name: string, referenceTo: string) => ({
    name,
    type: 'reference' as const,
    label: `${referenceTo} ID`,
    cascadeDelete: true,
    referenceTo: [referenceTo],
    relationshipName: referenceTo,
    updateable: false,
  });
  return {
    name: 'CampaignMember',
    label: 'Campaign Member',
    labelPlural: 'Campaign Members',
    keyPrefix: SALESFORCE_KEY_PREFIXES.CampaignMember,
    uniqueTogether: [
      { fields: ['CampaignId', 'ContactId'], message: 'Already a campaign member.' },
      { fields: ['CampaignId', 'LeadId'], message: 'Already a campaign member.' },
    ],
    fields: [
      ...systemFields(),
      { ...member('CampaignId', 'Campaign'), required: true },
      member('LeadId', 'Lead'),
      member('ContactId', 'Contact'),
      {
        name: 'Status',
        type: 'picklist',
        length: 40,
        defaultValue: 'Sent',
        picklistValues: ['Planned', 'Sent', 'Received', 'Responded'],
      },
      readOnly({ name: 'HasResponded', type: 'boolean', label: 'Responded', defaultValue: false }),
      readOnly({ name: 'FirstRespondedDate', type: 'date' }),
    ],
  };
}
