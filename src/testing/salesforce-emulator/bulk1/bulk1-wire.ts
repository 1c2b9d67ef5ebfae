import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** Namespace of every Bulk API 1.0 XML document. */
export const ASYNC_NS = 'http://www.force.com/2009/06/asyncapi/dataload';

/** How a request or response body is encoded: the job's `contentType` family. */
export type WireFormat = 'xml' | 'json';

/** A Bulk API 1.0 error: HTTP 400 `<error><exceptionCode/><exceptionMessage/></error>`. */
export class AsyncApiError extends Error {
  override readonly name = 'AsyncApiError';

  constructor(
    readonly exceptionCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => name === 'sObject' || name === 'fieldsToNull',
});
const builder = new XMLBuilder({ suppressEmptyNode: false, processEntities: true });

/**
 * Parses an XML request document (no DTDs: a DOCTYPE is refused before parsing, so no entity
 * expansion) and returns its root element's children.
 *
 * @throws {AsyncApiError} `InvalidXML` for malformed documents or a root other than `root`.
 */
export function parseXmlDocument(text: string, root: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new AsyncApiError('InvalidXML', 'DOCTYPE is not allowed');
  }
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text.trim(), true) as Record<string, unknown>;
  } catch (error) {
    throw new AsyncApiError('InvalidXML', `Failed to parse XML: ${(error as Error).message}`);
  }
  const element = document[root];
  if (element === undefined) throw new AsyncApiError('InvalidXML', `Expected a ${root} element`);
  return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
}

/** Serialises `{root: fields}` as the API does (declaration, namespace on the root). */
export function toXml(root: string, fields: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${ASYNC_NS}">${builder.build(fields)}</${root}>`;
}

/** A body in the requested format, with its Content-Type. */
export function encode(
  format: WireFormat,
  root: string,
  fields: Record<string, unknown>,
): { headers: Record<string, string>; body: string } {
  return format === 'json'
    ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(fields) }
    : { headers: { 'Content-Type': 'application/xml' }, body: toXml(root, fields) };
}

/** The error document (XML, or JSON for JSON requests). */
export function encodeError(
  error: AsyncApiError,
  format: WireFormat,
): { headers: Record<string, string>; body: string } {
  return encode(format, 'error', { exceptionCode: error.exceptionCode, exceptionMessage: error.message });
}
