import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import { masterRecord, owner, recentlyViewedFields, SALUTATIONS, systemFields } from './common.js';

/**
 * Individual (Object Reference "Individual"): a person's data-privacy preferences, linked from
 * Contact/Lead/User `IndividualId`. Available when "Make data protection details available in
 * records" is on, as in new scratch orgs.
 */
export function individualDefinition(): EmulatorObjectDefinition {
  const flag = (name: string, label: string) => ({
    name,
    type: 'boolean' as const,
    label,
    defaultValue: false,
  });
  return {
    name: 'Individual',
    label: 'Individual',
    labelPlural: 'Individuals',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Individual,
    fields: [
      ...systemFields(),
      owner,
      masterRecord('Individual'),
      { name: 'LastName', type: 'string', length: 80, required: true },
      { name: 'FirstName', type: 'string', length: 40 },
      { name: 'Salutation', type: 'picklist', length: 40, picklistValues: SALUTATIONS },
      { name: 'Name', type: 'string', label: 'Full Name', length: 121, calculated: true },
      flag('HasOptedOutTracking', "Don't Track"),
      flag('HasOptedOutProfiling', "Don't Profile"),
      flag('HasOptedOutProcessing', "Don't Process"),
      flag('HasOptedOutSolicit', "Don't Market"),
      flag('ShouldForget', 'Forget this Individual'),
      flag('SendIndividualData', 'Export Individual’s Data'),
      flag('CanStorePiiElsewhere', 'OK to Store PII Data Elsewhere'),
      flag('HasOptedOutGeoTracking', "Don't Track Location"),
      { name: 'BirthDate', type: 'date', label: 'Birth Date' },
      {
        name: 'IndividualsAge',
        type: 'picklist',
        label: "Individual's Age",
        length: 40,
        picklistValues: ['13 or Older', '16 or Older', 'Under 13', 'Under 16'],
      },
      { name: 'ConsumerCreditScore', type: 'int', label: 'Consumer Credit Score', precision: 9 },
      {
        name: 'ConsumerCreditScoreProviderName',
        type: 'string',
        label: 'Consumer Credit Score Provider',
        length: 255,
      },
      ...recentlyViewedFields(),
    ],
  };
}
