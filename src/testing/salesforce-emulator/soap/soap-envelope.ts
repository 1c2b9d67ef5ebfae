import { XMLParser } from 'fast-xml-parser';

/** Namespace of the partner WSDL (`urn:partner.soap.sforce.com`). */
export const PARTNER_NS = 'urn:partner.soap.sforce.com';
const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** Largest SOAP request body the emulator reads (Salesforce caps SOAP requests at 50 MB). */
export const MAX_SOAP_BODY_BYTES = 50 * 1024 * 1024;

/** A SOAP fault: HTTP 500 with `<soapenv:Fault>`, as the partner API answers. */
export class SoapFault extends Error {
  override readonly name = 'SoapFault';

  /**
   * @param code exception code, e.g. `INVALID_SESSION_ID` (sent as `sf:<code>`), or a full
   *   `soapenv:Client` code when `qualified`.
   * @param message text after `<code>: ` in `faultstring`.
   */
  constructor(
    readonly code: string,
    message: string,
    readonly qualified = false,
  ) {
    super(message);
  }
}

/** A parsed request: the session id from `SessionHeader` and the single operation element. */
export interface SoapRequest {
  sessionId: string | undefined;
  operation: string;
  body: Record<string, unknown>;
}

function createParser(attributes: boolean): XMLParser {
  return new XMLParser({
    // Metadata calls need `xsi:type` (read as `@type`) and `xsi:nil` (`@nil`); the partner API not.
    ignoreAttributes: !attributes,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    // Only the predefined entities (&amp; …): a DOCTYPE, and so any custom entity, is refused first.
    processEntities: true,
    htmlEntities: false,
    isArray: (name) => name === 'leadConverts',
  });
}

/**
 * Parses a SOAP 1.1 envelope. Documents with a DOCTYPE are refused outright (no DTDs, no entity
 * expansion), as Salesforce's parser refuses them.
 *
 * `attributes` keeps element attributes (namespace prefix removed, `@` before the name).
 *
 * @throws {SoapFault} for DOCTYPE, malformed XML or a missing Body operation.
 */
export function parseSoapRequest(xml: string, options: { attributes?: boolean } = {}): SoapRequest {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new SoapFault('soapenv:Client', 'DOCTYPE is not allowed in SOAP requests', true);
  }
  let document: Record<string, unknown>;
  try {
    document = createParser(options.attributes ?? false).parse(xml, true) as Record<string, unknown>;
  } catch (error) {
    throw new SoapFault(
      'soapenv:Client',
      `Unable to parse the request: ${(error as Error).message.split('\n')[0] ?? ''}`,
      true,
    );
  }
  const envelope = asRecord(document.Envelope);
  const body = asRecord(envelope?.Body);
  if (!envelope || !body) throw new SoapFault('soapenv:Client', 'Missing SOAP Envelope or Body', true);
  const operation = Object.keys(body).find((key) => !key.startsWith('?') && !key.startsWith('@'));
  if (!operation) throw new SoapFault('soapenv:Client', 'The SOAP Body has no operation element', true);
  const header = asRecord(envelope.Header);
  const sessionId = asRecord(header?.SessionHeader)?.sessionId;
  return {
    sessionId: typeof sessionId === 'string' ? sessionId.trim() : undefined,
    operation,
    body: asRecord(body[operation]) ?? {},
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Escapes text for element content. */
export function xmlText(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** `<name>value</name>`, or `<name xsi:nil="true"/>` for null. */
export function xmlElement(name: string, value: string | boolean | null): string {
  if (value === null) return `<${name} xsi:nil="true"/>`;
  return `<${name}>${xmlText(String(value))}</${name}>`;
}

/** A partner-API response envelope with `LimitInfoHeader` and the operation's response element. */
export function soapResponse(
  operation: string,
  resultsXml: string,
  usage: { used: number; max: number },
): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns="${PARTNER_NS}" xmlns:xsi="${XSI_NS}">` +
    '<soapenv:Header><LimitInfoHeader><limitInfo>' +
    `<current>${usage.used}</current><limit>${usage.max}</limit><type>API REQUESTS</type>` +
    '</limitInfo></LimitInfoHeader></soapenv:Header>' +
    `<soapenv:Body><${operation}Response>${resultsXml}</${operation}Response></soapenv:Body>` +
    '</soapenv:Envelope>'
  );
}

/** The fault envelope (jsforce reads `faultcode`/`faultstring`; `sf:INVALID_SESSION_ID` triggers its refresh). */
export function soapFaultXml(fault: SoapFault): string {
  const faultcode = fault.qualified ? fault.code : `sf:${fault.code}`;
  const faultstring = fault.qualified ? fault.message : `${fault.code}: ${fault.message}`;
  const detail = fault.qualified
    ? ''
    : '<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">' +
      `<sf:exceptionCode>${xmlText(fault.code)}</sf:exceptionCode>` +
      `<sf:exceptionMessage>${xmlText(fault.message)}</sf:exceptionMessage>` +
      '</sf:UnexpectedErrorFault></detail>';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="${XSI_NS}">` +
    `<soapenv:Body><soapenv:Fault><faultcode>${xmlText(faultcode)}</faultcode>` +
    `<faultstring>${xmlText(faultstring)}</faultstring>${detail}</soapenv:Fault></soapenv:Body>` +
    '</soapenv:Envelope>'
  );
}
