import type { EmulatorRecord } from '../store/schema.js';

/** One notification to render. */
export interface OutboundNotificationInput {
  /** Notification id (`04l…`). */
  id: string;
  sobject: string;
  /** Fields to send after `Id`. */
  fields: readonly string[];
  record: EmulatorRecord;
}

const STORE_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

/**
 * Renders an outbound message the way Salesforce sends it (SOAP 1.1, `notifications` in
 * `http://soap.sforce.com/2005/09/outbound`, each `sObject` typed `sf:<Object>` in the enterprise
 * namespace). Null values are sent as `xsi:nil="true"`; the session id is never sent.
 */
export function outboundNotificationXml(message: {
  organizationId: string;
  actionId: string;
  enterpriseUrl: string;
  partnerUrl: string;
  notifications: readonly OutboundNotificationInput[];
}): string {
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '<soapenv:Body>',
    '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">',
    `<OrganizationId>${escapeXmlText(message.organizationId)}</OrganizationId>`,
    `<ActionId>${escapeXmlText(message.actionId)}</ActionId>`,
    '<SessionId xsi:nil="true"/>',
    `<EnterpriseUrl>${escapeXmlText(message.enterpriseUrl)}</EnterpriseUrl>`,
    `<PartnerUrl>${escapeXmlText(message.partnerUrl)}</PartnerUrl>`,
  ];
  for (const notification of message.notifications) {
    parts.push(
      '<Notification>',
      `<Id>${escapeXmlText(notification.id)}</Id>`,
      `<sObject xsi:type="sf:${escapeXmlText(notification.sobject)}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`,
      `<sf:Id>${escapeXmlText(String(notification.record.Id ?? ''))}</sf:Id>`,
    );
    for (const field of notification.fields) {
      const value = notification.record[field];
      if (value === null || value === undefined) parts.push(`<sf:${field} xsi:nil="true"/>`);
      else parts.push(`<sf:${field}>${escapeXmlText(soapValue(value))}</sf:${field}>`);
    }
    parts.push('</sObject>', '</Notification>');
  }
  parts.push('</notifications>', '</soapenv:Body>', '</soapenv:Envelope>');
  return parts.join('');
}

function soapValue(value: unknown): string {
  if (typeof value === 'string' && STORE_DATETIME.test(value)) return `${value.slice(0, -5)}Z`;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function escapeXmlText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
