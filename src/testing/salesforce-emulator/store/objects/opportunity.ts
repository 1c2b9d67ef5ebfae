import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition, EmulatorRecord } from '../schema.js';
import { LEAD_SOURCES, owner, readOnly, recentlyViewedFields, systemFields } from './common.js';

interface Stage {
  probability: number;
  forecastCategory: 'Pipeline' | 'Closed' | 'Omitted';
  closed: boolean;
  won: boolean;
}

/** The default Opportunity stages of a new org, with their default probability and forecast category. */
export const OPPORTUNITY_STAGES: Readonly<Record<string, Stage>> = {
  Prospecting: { probability: 10, forecastCategory: 'Pipeline', closed: false, won: false },
  Qualification: { probability: 10, forecastCategory: 'Pipeline', closed: false, won: false },
  'Needs Analysis': { probability: 20, forecastCategory: 'Pipeline', closed: false, won: false },
  'Value Proposition': { probability: 50, forecastCategory: 'Pipeline', closed: false, won: false },
  'Id. Decision Makers': { probability: 60, forecastCategory: 'Pipeline', closed: false, won: false },
  'Perception Analysis': { probability: 70, forecastCategory: 'Pipeline', closed: false, won: false },
  'Proposal/Price Quote': { probability: 75, forecastCategory: 'Pipeline', closed: false, won: false },
  'Negotiation/Review': { probability: 90, forecastCategory: 'Pipeline', closed: false, won: false },
  'Closed Won': { probability: 100, forecastCategory: 'Closed', closed: true, won: true },
  'Closed Lost': { probability: 0, forecastCategory: 'Omitted', closed: true, won: false },
};

/**
 * Fields Salesforce derives from the stage and close date: `IsClosed`, `IsWon`, the forecast
 * category, a default `Probability`, `ExpectedRevenue` = Amount × Probability / 100 and the
 * fiscal period (fiscal year = calendar year, the default fiscal year of a new org).
 */
function deriveOpportunityFields(row: EmulatorRecord): void {
  const stage = typeof row.StageName === 'string' ? OPPORTUNITY_STAGES[row.StageName] : undefined;
  if (stage) {
    row.IsClosed = stage.closed;
    row.IsWon = stage.won;
    row.ForecastCategory = stage.forecastCategory;
    row.ForecastCategoryName = stage.forecastCategory;
    if (row.Probability === null || row.Probability === undefined) row.Probability = stage.probability;
  }
  row.ExpectedRevenue =
    typeof row.Amount === 'number' && typeof row.Probability === 'number'
      ? (row.Amount * row.Probability) / 100
      : null;
  const close = typeof row.CloseDate === 'string' ? /^(\d{4})-(\d{2})/.exec(row.CloseDate) : null;
  if (close) {
    const quarter = Math.floor((Number(close[2]) - 1) / 3) + 1;
    row.FiscalYear = Number(close[1]);
    row.FiscalQuarter = quarter;
    row.Fiscal = `${close[1]} ${quarter}`;
  }
}

/** Opportunity as a Developer/scratch org describes it (Object Reference "Opportunity"). */
export function opportunityDefinition(): EmulatorObjectDefinition {
  return {
    name: 'Opportunity',
    label: 'Opportunity',
    labelPlural: 'Opportunities',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Opportunity,
    derive: deriveOpportunityFields,
    fields: [
      ...systemFields(),
      {
        name: 'AccountId',
        type: 'reference',
        label: 'Account ID',
        referenceTo: ['Account'],
        relationshipName: 'Account',
        cascadeDelete: true,
      },
      { name: 'IsPrivate', type: 'boolean', label: 'Private', defaultValue: false },
      { name: 'Name', type: 'string', label: 'Name', length: 120, required: true },
      { name: 'Description', type: 'textarea' },
      {
        name: 'StageName',
        type: 'picklist',
        label: 'Stage',
        length: 255,
        required: true,
        picklistValues: Object.keys(OPPORTUNITY_STAGES),
      },
      { name: 'Amount', type: 'currency', precision: 18, scale: 2 },
      { name: 'Probability', type: 'percent', label: 'Probability (%)', precision: 3 },
      readOnly({
        name: 'ExpectedRevenue',
        type: 'currency',
        label: 'Expected Amount',
        precision: 18,
        scale: 2,
      }),
      { name: 'TotalOpportunityQuantity', type: 'double', label: 'Quantity', precision: 18, scale: 2 },
      { name: 'CloseDate', type: 'date', label: 'Close Date', required: true },
      {
        name: 'Type',
        type: 'picklist',
        label: 'Opportunity Type',
        length: 255,
        picklistValues: [
          'Existing Customer - Upgrade',
          'Existing Customer - Replacement',
          'Existing Customer - Downgrade',
          'New Customer',
        ],
      },
      { name: 'NextStep', type: 'string', label: 'Next Step', length: 255 },
      { name: 'LeadSource', type: 'picklist', length: 255, picklistValues: LEAD_SOURCES },
      readOnly({ name: 'IsClosed', type: 'boolean', label: 'Closed', defaultValue: false }),
      readOnly({ name: 'IsWon', type: 'boolean', label: 'Won', defaultValue: false }),
      readOnly({
        name: 'ForecastCategory',
        type: 'picklist',
        length: 40,
        picklistValues: ['Omitted', 'Pipeline', 'BestCase', 'Forecast', 'Closed'],
      }),
      {
        name: 'ForecastCategoryName',
        type: 'picklist',
        label: 'Forecast Category',
        length: 255,
        picklistValues: ['Omitted', 'Pipeline', 'Best Case', 'Commit', 'Closed'],
      },
      {
        name: 'CampaignId',
        type: 'reference',
        label: 'Campaign ID',
        referenceTo: ['Campaign'],
        relationshipName: 'Campaign',
      },
      readOnly({
        name: 'HasOpportunityLineItem',
        type: 'boolean',
        label: 'Has Line Item',
        defaultValue: false,
      }),
      owner,
      readOnly({ name: 'LastActivityDate', type: 'date', label: 'Last Activity' }),
      readOnly({ name: 'FiscalQuarter', type: 'int', label: 'Fiscal Quarter', precision: 9 }),
      readOnly({ name: 'FiscalYear', type: 'int', label: 'Fiscal Year', precision: 9 }),
      readOnly({ name: 'Fiscal', type: 'string', label: 'Fiscal Period', length: 6 }),
      {
        name: 'ContactId',
        type: 'reference',
        label: 'Contact ID',
        referenceTo: ['Contact'],
        relationshipName: 'Contact',
      },
      ...recentlyViewedFields(),
      readOnly({ name: 'HasOpenActivity', type: 'boolean', label: 'Has Open Activity', defaultValue: false }),
      readOnly({ name: 'HasOverdueTask', type: 'boolean', label: 'Has Overdue Task', defaultValue: false }),
    ],
  };
}

/** OpportunityContactRole (Object Reference "OpportunityContactRole"). */
export function opportunityContactRoleDefinition(): EmulatorObjectDefinition {
  return {
    name: 'OpportunityContactRole',
    label: 'Opportunity Contact Role',
    labelPlural: 'Opportunity Contact Roles',
    keyPrefix: SALESFORCE_KEY_PREFIXES.OpportunityContactRole,
    fields: [
      ...systemFields(),
      {
        name: 'OpportunityId',
        type: 'reference',
        label: 'Opportunity ID',
        referenceTo: ['Opportunity'],
        relationshipName: 'Opportunity',
        required: true,
        updateable: false,
        cascadeDelete: true,
      },
      {
        name: 'ContactId',
        type: 'reference',
        label: 'Contact ID',
        referenceTo: ['Contact'],
        relationshipName: 'Contact',
        required: true,
        cascadeDelete: true,
      },
      {
        name: 'Role',
        type: 'picklist',
        length: 40,
        picklistValues: [
          'Business User',
          'Decision Maker',
          'Economic Buyer',
          'Economic Decision Maker',
          'Evaluator',
          'Executive Sponsor',
          'Influencer',
          'Technical Buyer',
          'Other',
        ],
      },
      { name: 'IsPrimary', type: 'boolean', label: 'Primary', defaultValue: false },
    ],
  };
}
