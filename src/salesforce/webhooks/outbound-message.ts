import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CrmErrorReason } from '../../core/errors.js';
import { CrmWebhookError } from '../../core/errors.js';

/** Namespace of the outbound-message WSDL (`notifications`, `notificationsResponse`). */
export const OUTBOUND_MESSAGE_NAMESPACE = 'http://soap.sforce.com/2005/09/outbound';
/** SOAP 1.1 envelope namespace. */
export const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';

/**
 * A field value as Salesforce sent it: always the literal text (numbers, booleans and dates are
 * not converted, so `"007"` and `"false"` survive), `''` for an empty element and `null` for
 * `xsi:nil="true"`.
 */
export type SalesforceOutboundFieldValue = string | null;

/** One `Notification` of an outbound message. */
export interface SalesforceOutboundNotification {
  /** Notification id (`04l…`): the same id is sent again on redelivery, so it is the dedupe key. */
  id: string;
  sObject: {
    /** API name from `xsi:type`, without the `sf:` prefix, e.g. `Contact` or `Invoice__c`. */
    type: string;
    /** The selected fields by API name, `Id` included, in document order. */
    fields: Record<string, SalesforceOutboundFieldValue>;
  };
}

/** A parsed Salesforce outbound message (SOAP `notifications` element). */
export interface SalesforceOutboundMessage {
  /** 18-character org id: check it against the orgs you expect. */
  organizationId: string;
  /** Id of the outbound-message action (`04k…`). */
  actionId: string;
  /** Present only when the action is configured with "Send Session ID". Treat as a secret. */
  sessionId?: string;
  /** Enterprise SOAP API URL for call-backs. */
  enterpriseUrl: string;
  /** Partner SOAP API URL for call-backs. */
  partnerUrl: string;
  /** 1 to 100 notifications, possibly of a record already delivered before. */
  notifications: SalesforceOutboundNotification[];
}

/** Deepest element nesting accepted; a real message nests 6 levels. */
const MAX_DEPTH = 16;

const NOTIFICATION_PATH = 'Envelope.Body.notifications.Notification';

/**
 * Salesforce never sends a DTD. Refusing one before the parser sees it rules out entity-expansion
 * and external-entity attacks whatever the parser's own limits are.
 */
const DOCTYPE_PATTERN = /<!DOCTYPE/i;

const XML_ENTITY_PATTERN = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * True when the raw body declares a DOCTYPE (which {@link parseOutboundMessage} refuses). Cheap
 * enough to run on every request before parsing.
 */
export function hasDoctype(xml: string): boolean {
  return DOCTYPE_PATTERN.test(xml);
}

/**
 * Parses a Salesforce outbound message (SOAP 1.1 `notifications`) for any sObject type and any
 * number of notifications. Namespace prefixes are ignored; `xsi:nil="true"` becomes `null`;
 * values stay strings.
 *
 * Hostile input is refused rather than processed: any DOCTYPE (so no custom entities, no
 * external entities, no billion laughs), nesting deeper than 16 elements. Only the five XML
 * entities and numeric character references are decoded.
 *
 * @param xml the request body.
 * @returns the message.
 * @throws {CrmWebhookError} (`status: 400`, `details.reason` one of `doctype`, `malformed_xml`,
 *   `not_an_outbound_message`, `missing_field`, `invalid_field`) when the body is not a
 *   well-formed outbound message.
 * @example
 * ```ts
 * const message = parseOutboundMessage(body);
 * for (const n of message.notifications) console.log(n.sObject.type, n.sObject.fields.Id);
 * ```
 */
export function parseOutboundMessage(xml: string): SalesforceOutboundMessage {
  if (typeof xml !== 'string') throw invalid('not_an_outbound_message', 'body must be a string');
  if (hasDoctype(xml)) throw invalid('doctype', 'a DOCTYPE is not allowed in an outbound message');
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    throw invalid('malformed_xml', `malformed XML at line ${validation.err.line}`);
  }
  let tree: unknown;
  try {
    tree = createParser().parse(xml);
  } catch (error) {
    throw new CrmWebhookError('Outbound message: the XML could not be parsed', {
      status: 400,
      cause: error,
      details: { reason: 'malformed_xml' },
    });
  }
  const notificationsElement = path(tree, ['Envelope', 'Body', 'notifications']);
  if (!isObject(notificationsElement)) {
    throw invalid('not_an_outbound_message', 'no soapenv:Body/notifications element');
  }
  const rawNotifications = notificationsElement.Notification;
  if (!Array.isArray(rawNotifications) || rawNotifications.length === 0) {
    throw invalid('missing_field', 'no Notification element');
  }
  const message: SalesforceOutboundMessage = {
    organizationId: requiredText(notificationsElement, 'OrganizationId'),
    actionId: requiredText(notificationsElement, 'ActionId'),
    enterpriseUrl: requiredText(notificationsElement, 'EnterpriseUrl'),
    partnerUrl: requiredText(notificationsElement, 'PartnerUrl'),
    notifications: rawNotifications.map((raw, index) => parseNotification(raw, index)),
  };
  const sessionId = optionalText(notificationsElement, 'SessionId');
  if (sessionId) message.sessionId = sessionId;
  return message;
}

/**
 * The SOAP response Salesforce requires to consider the message delivered: HTTP 200 with a
 * `notificationsResponse` carrying `Ack`. Anything else (including `Ack` false) makes Salesforce
 * retry.
 *
 * @param ack whether the notifications were accepted. @default true
 * @returns the XML body (send it as `text/xml; charset=utf-8`).
 */
export function outboundMessageAck(ack = true): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}">` +
    '<soapenv:Body>' +
    `<notificationsResponse xmlns="${OUTBOUND_MESSAGE_NAMESPACE}"><Ack>${ack ? 'true' : 'false'}</Ack></notificationsResponse>` +
    '</soapenv:Body>' +
    '</soapenv:Envelope>'
  );
}

/**
 * A SOAP 1.1 fault body. `Client` faults mean "do not send this again as is", `Server` faults a
 * failure on our side (Salesforce retries either way; it only stops on an ACK).
 *
 * @param faultCode `Client` or `Server`.
 * @param faultString a short reason, never including request content.
 */
export function outboundMessageFault(faultCode: 'Client' | 'Server', faultString: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}">` +
    '<soapenv:Body><soapenv:Fault>' +
    `<faultcode>soapenv:${faultCode}</faultcode>` +
    `<faultstring>${escapeXml(faultString)}</faultstring>` +
    '</soapenv:Fault></soapenv:Body>' +
    '</soapenv:Envelope>'
  );
}

/** Escapes text for an XML element or attribute value. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function createParser(): XMLParser {
  return new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    // Entities are decoded below in one pass so `&amp;#39;` stays `&#39;`; the parser itself
    // must not expand anything.
    processEntities: false,
    htmlEntities: false,
    maxNestedTags: MAX_DEPTH,
    isArray: (_name, jpath) => jpath === NOTIFICATION_PATH,
  });
}

function parseNotification(raw: unknown, index: number): SalesforceOutboundNotification {
  if (!isObject(raw)) throw invalid('missing_field', `Notification[${index}] is empty`);
  const id = requiredText(raw, 'Id', `Notification[${index}].Id`);
  const sObject = raw.sObject;
  if (!isObject(sObject)) throw invalid('missing_field', `Notification[${index}].sObject is missing`);
  const rawType = sObject['@_type'];
  if (typeof rawType !== 'string' || rawType.trim() === '') {
    throw invalid('missing_field', `Notification[${index}].sObject has no xsi:type`);
  }
  const typeText = decodeEntities(rawType.trim());
  const type = typeText.includes(':') ? typeText.slice(typeText.indexOf(':') + 1) : typeText;
  const fields: Record<string, SalesforceOutboundFieldValue> = Object.create(null);
  for (const [name, value] of Object.entries(sObject)) {
    if (name.startsWith('@_')) continue;
    if (Array.isArray(value)) {
      throw invalid('invalid_field', `Notification[${index}].sObject.${name} appears more than once`);
    }
    fields[name] = fieldValue(value, `Notification[${index}].sObject.${name}`);
  }
  return { id, sObject: { type, fields: { ...fields } } };
}

function fieldValue(value: unknown, where: string): SalesforceOutboundFieldValue {
  if (typeof value === 'string') return decodeEntities(value);
  if (isObject(value)) {
    if (value['@_nil'] === 'true' || value['@_nil'] === '1') return null;
    const keys = Object.keys(value).filter((key) => !key.startsWith('@_'));
    if (keys.length === 0) return '';
    if (keys.length === 1 && keys[0] === '#text' && typeof value['#text'] === 'string') {
      return decodeEntities(value['#text']);
    }
  }
  throw invalid('invalid_field', `${where} is not a simple value`);
}

function requiredText(parent: Record<string, unknown>, name: string, label = name): string {
  const text = optionalText(parent, name, label);
  if (!text) throw invalid('missing_field', `${label} is missing`);
  return text;
}

function optionalText(parent: Record<string, unknown>, name: string, label = name): string | undefined {
  const value = parent[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw invalid('invalid_field', `${label} appears more than once`);
  const text = fieldValue(value, label);
  return text === null ? undefined : text;
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    XML_ENTITY_PATTERN,
    (match, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
      if (named) return NAMED_ENTITIES[named] ?? match;
      const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
      if (!Number.isFinite(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return match;
      return String.fromCodePoint(code);
    },
  );
}

function path(tree: unknown, names: string[]): unknown {
  let node = tree;
  for (const name of names) {
    if (!isObject(node)) return undefined;
    node = node[name];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: CrmErrorReason, detail: string): CrmWebhookError {
  return new CrmWebhookError(`Outbound message rejected: ${detail}`, { status: 400, details: { reason } });
}
