import type { EmulatorModuleContext } from '../module.js';
import type { EmulatorSaveResult } from '../store/record-error.js';
import { standardTabs } from '../ui/tabs.js';
import { convertLead, type LeadConvertOutcome, readLeadConverts } from './convert-lead.js';
import { type MergeOutcome, mergeRecords, readMergeRequests } from './merge.js';
import { SoapFault, xmlElement } from './soap-envelope.js';

/** What an operation needs: its parsed body, the emulator, the instance base URL. */
export interface SoapCall {
  body: Record<string, unknown>;
  context: EmulatorModuleContext;
  baseUrl: string;
}

/** A partner-API operation: returns the XML inside `<{operation}Response>`. */
export type SoapOperation = (call: SoapCall) => string;

/** Apps `describeTabs` reports: the standard Sales and Marketing apps of a new org. */
const APPS: Array<{ label: string; namespace: null; selected: boolean; tabs: string[] }> = [
  {
    label: 'Sales',
    namespace: null,
    selected: true,
    tabs: ['Account', 'Contact', 'Lead', 'Opportunity', 'Campaign', 'Task'],
  },
  { label: 'Marketing', namespace: null, selected: false, tabs: ['Campaign', 'Lead', 'Contact', 'Account'] },
];

const many = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function errorsXml(errors: Array<{ fields: string[]; message: string; statusCode: string }>): string {
  return errors
    .map(
      (error) =>
        `<errors>${error.fields.map((field) => xmlElement('fields', field)).join('')}` +
        `${xmlElement('message', error.message)}${xmlElement('statusCode', error.statusCode)}</errors>`,
    )
    .join('');
}

function convertResultXml(outcome: LeadConvertOutcome): string {
  return (
    '<result>' +
    xmlElement('accountId', outcome.accountId) +
    xmlElement('contactId', outcome.contactId) +
    errorsXml(outcome.errors) +
    xmlElement('leadId', outcome.leadId) +
    xmlElement('opportunityId', outcome.opportunityId) +
    xmlElement('success', outcome.success) +
    '</result>'
  );
}

function mergeResultXml(outcome: MergeOutcome): string {
  return (
    '<result>' +
    errorsXml(outcome.errors) +
    xmlElement('id', outcome.id) +
    outcome.mergedRecordIds.map((id) => xmlElement('mergedRecordIds', id)).join('') +
    xmlElement('success', outcome.success) +
    outcome.updatedRelatedIds.map((id) => xmlElement('updatedRelatedIds', id)).join('') +
    '</result>'
  );
}

function undeleteResultXml(result: EmulatorSaveResult): string {
  return `<result>${errorsXml(result.errors)}${xmlElement('id', result.id ?? null)}${xmlElement('success', result.success)}</result>`;
}

/** Serialises a plain object as partner-API elements (arrays repeat the element). */
function objectXml(value: Record<string, unknown>): string {
  let xml = '';
  for (const [name, field] of Object.entries(value)) {
    for (const item of Array.isArray(field) ? field : [field]) {
      xml +=
        typeof item === 'object' && item !== null
          ? `<${name}>${objectXml(item as Record<string, unknown>)}</${name}>`
          : xmlElement(name, item === undefined ? null : (item as string | boolean | null));
    }
  }
  return xml;
}

/** The operations the emulated partner API answers (others → `No operation available`). */
export const SOAP_OPERATIONS: Readonly<Record<string, SoapOperation>> = {
  convertLead: ({ body, context }) =>
    readLeadConverts(body)
      .map((item) => convertLead(context.store, context.clock, item))
      .map(convertResultXml)
      .join(''),

  // `merge(MergeRequest[])`: each request merged all-or-nothing (see `merge.ts`).
  merge: ({ body, context }) =>
    readMergeRequests(body)
      .map((request) => mergeRecords(context.store, request))
      .map(mergeResultXml)
      .join(''),

  // `undelete(ids[])`: ≤ 200 ids; one result per id (MALFORMED_ID, UNDELETE_FAILED when the record
  // is not in the recycle bin).
  undelete: ({ body, context }) => {
    const ids = many(body.ids).map((id) => String(id).trim());
    if (ids.length > 200) {
      throw new SoapFault(
        'EXCEEDED_ID_LIMIT',
        'record limit reached. cannot submit more than 200 records into this call',
      );
    }
    return context.store.undelete(ids).map(undeleteResultXml).join('');
  },

  describeTabs: ({ context, baseUrl }) => {
    const tabs = new Map(standardTabs(context.store, baseUrl).map((tab) => [tab.sobjectName as string, tab]));
    return APPS.map((app) =>
      objectXml({
        result: {
          label: app.label,
          logoUrl: `${baseUrl}/img/seasonLogos/2025_Winter_aloha.png`,
          namespace: null,
          selected: app.selected,
          tabs: app.tabs.map((name) => tabs.get(name)).filter((tab) => tab !== undefined),
        },
      }),
    ).join('');
  },
};
