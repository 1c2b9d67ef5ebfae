import { XMLParser } from 'fast-xml-parser';
import { xmlText } from '../soap/soap-envelope.js';
import { ComponentError } from './component-error.js';

/** A component as parsed from a request or a package file (`@type` = its `xsi:type`). */
export type MetadataComponent = Record<string, unknown>;

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  // Values stay strings, as in SOAP requests: each handler reads the types it needs.
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

/**
 * A package file (`objects/X.object`, `workflows/Account.workflow`, a `-meta.xml`): its root
 * element name and its content as plain values (repeated elements become arrays, an empty element
 * `''`). DOCTYPEs are refused, as for SOAP requests.
 *
 * @throws {ComponentError} `INVALID_XML` when the file is not well-formed XML.
 */
export function parseComponentFile(text: string): { root: string; component: MetadataComponent } {
  if (/<!DOCTYPE/i.test(text)) throw new ComponentError('INVALID_XML', 'DOCTYPE is not allowed');
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text, true) as Record<string, unknown>;
  } catch (error) {
    throw new ComponentError(
      'INVALID_XML',
      `Error parsing file: ${(error as Error).message.split('\n')[0] ?? ''}`,
    );
  }
  const root = Object.keys(document).find((key) => !key.startsWith('?'));
  if (!root) throw new ComponentError('INVALID_XML', 'Error parsing file: no root element');
  const value = document[root];
  return { root, component: typeof value === 'object' && value !== null ? (value as MetadataComponent) : {} };
}

/** A list property: one element parses to a value, several to an array, none to `undefined`. */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** A list of nested elements (`<rules>…</rules>` ×n) as objects. */
export function recordsOf(value: unknown): MetadataComponent[] {
  return asList(value).filter((item): item is MetadataComponent => typeof item === 'object' && item !== null);
}

/** A text property (`''` when absent). */
export function textOf(component: MetadataComponent, key: string): string {
  const value = component[key];
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

/** A boolean property as the XML schema writes it (`true`/`1`). */
export function flagOf(component: MetadataComponent, key: string): boolean {
  const value = component[key];
  return value === true || value === 'true' || value === '1';
}

/** Component properties back as XML, in the order given (objects nest, arrays repeat). */
export function propertiesXml(properties: MetadataComponent): string {
  let xml = '';
  for (const [key, value] of Object.entries(properties)) {
    if (key.startsWith('@') || value === null || value === undefined) continue;
    for (const item of asList(value)) {
      xml +=
        typeof item === 'object' && item !== null
          ? `<${key}>${propertiesXml(item as MetadataComponent)}</${key}>`
          : `<${key}>${xmlText(String(item))}</${key}>`;
    }
  }
  return xml;
}

/** A whole package file: declaration, root element in the metadata namespace, properties. */
export function componentFileXml(root: string, innerXml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${METADATA_NS}">${innerXml}</${root}>\n`;
}
