import { SALESFORCE_KEY_PREFIXES } from '../../ids.js';
import type { EmulatorObjectDefinition } from '../schema.js';
import { address, individualId, readOnly, recentlyViewedFields, systemFields } from './common.js';

/**
 * User (Object Reference "User"). Seeded only: the emulator has no Profile object to satisfy
 * User's required ProfileId, so the API user is the one user.
 */
export function userDefinition(): EmulatorObjectDefinition {
  return {
    name: 'User',
    label: 'User',
    labelPlural: 'Users',
    keyPrefix: SALESFORCE_KEY_PREFIXES.User,
    createable: false,
    deletable: false,
    fields: [
      ...systemFields(),
      { name: 'Username', type: 'string', length: 80, required: true, unique: true, idLookup: true },
      { name: 'LastName', type: 'string', length: 80, required: true },
      { name: 'FirstName', type: 'string', length: 40 },
      { name: 'Name', type: 'string', label: 'Full Name', length: 121, calculated: true },
      { name: 'CompanyName', type: 'string', label: 'Company Name', length: 80 },
      { name: 'Division', type: 'string', length: 80 },
      { name: 'Department', type: 'string', length: 80 },
      { name: 'Title', type: 'string', length: 80 },
      ...address(''),
      { name: 'Email', type: 'email', length: 128, required: true, idLookup: true },
      { name: 'SenderEmail', type: 'email', label: 'Email Sender Address', length: 80 },
      { name: 'SenderName', type: 'string', label: 'Email Sender Name', length: 80 },
      { name: 'Signature', type: 'textarea', label: 'Email Signature', length: 1333 },
      { name: 'Phone', type: 'phone' },
      { name: 'Fax', type: 'phone' },
      { name: 'MobilePhone', type: 'phone', label: 'Mobile' },
      { name: 'Alias', type: 'string', length: 8, required: true },
      { name: 'CommunityNickname', type: 'string', label: 'Nickname', length: 40 },
      { name: 'IsActive', type: 'boolean', label: 'Active', defaultValue: true },
      { name: 'TimeZoneSidKey', type: 'picklist', label: 'Time Zone', length: 40, defaultValue: 'GMT' },
      { name: 'LocaleSidKey', type: 'picklist', label: 'Locale', length: 40, defaultValue: 'en_US' },
      {
        name: 'EmailEncodingKey',
        type: 'picklist',
        label: 'Email Encoding',
        length: 40,
        defaultValue: 'UTF-8',
      },
      { name: 'LanguageLocaleKey', type: 'picklist', label: 'Language', length: 40, defaultValue: 'en_US' },
      {
        name: 'UserType',
        type: 'picklist',
        label: 'User Type',
        length: 40,
        createable: false,
        updateable: false,
        defaultValue: 'Standard',
        picklistValues: [
          'Standard',
          'PowerPartner',
          'CspLitePortal',
          'CustomerSuccess',
          'PowerCustomerSuccess',
          'CsnOnly',
          'Guest',
        ],
      },
      {
        name: 'ManagerId',
        type: 'reference',
        label: 'Manager ID',
        referenceTo: ['User'],
        relationshipName: 'Manager',
      },
      readOnly({ name: 'LastLoginDate', type: 'datetime', label: 'Last Login' }),
      readOnly({ name: 'LastPasswordChangeDate', type: 'datetime', label: 'Last Password Change or Reset' }),
      { name: 'ReceivesInfoEmails', type: 'boolean', label: 'Info Emails', defaultValue: false },
      { name: 'EmployeeNumber', type: 'string', label: 'Employee Number', length: 20 },
      readOnly({ name: 'SmallPhotoUrl', type: 'url', label: 'Photo' }),
      readOnly({ name: 'FullPhotoUrl', type: 'url', label: 'Url for full-sized Photo' }),
      ...recentlyViewedFields(),
      individualId,
    ],
  };
}

/** Organization (Object Reference "Organization"): the one, read-only org record. */
export function organizationDefinition(): EmulatorObjectDefinition {
  return {
    name: 'Organization',
    label: 'Organization',
    labelPlural: 'Organizations',
    keyPrefix: SALESFORCE_KEY_PREFIXES.Organization,
    createable: false,
    deletable: false,
    updateable: false,
    fields: [
      ...systemFields(),
      { name: 'Name', type: 'string', length: 80, required: true },
      { name: 'InstanceName', type: 'string', length: 5 },
      { name: 'IsSandbox', type: 'boolean', defaultValue: false },
      { name: 'TrialExpirationDate', type: 'datetime' },
      { name: 'NamespacePrefix', type: 'string', length: 15 },
      { name: 'OrganizationType', type: 'picklist', label: 'Edition', defaultValue: 'Developer Edition' },
      { name: 'DefaultLocaleSidKey', type: 'picklist', defaultValue: 'en_US' },
      { name: 'TimeZoneSidKey', type: 'picklist', defaultValue: 'GMT' },
      { name: 'LanguageLocaleKey', type: 'picklist', defaultValue: 'en_US' },
      { name: 'FiscalYearStartMonth', type: 'int', label: 'Fiscal Year Starts In', defaultValue: 1 },
    ],
  };
}
