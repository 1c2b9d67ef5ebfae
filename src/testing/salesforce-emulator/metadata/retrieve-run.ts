import { xmlElement } from '../soap/soap-envelope.js';
import { asList, componentFileXml, type MetadataComponent, recordsOf, textOf } from './component-xml.js';
import type { MetadataTypeHandler, MetadataTypeRegistry } from './metadata-types.js';
import { manifestXml, type PackageManifest, writeArchive } from './package-archive.js';

/** A `RetrieveRequest` (Metadata API `meta_retrieve_request.htm`) as the emulator reads it. */
export interface RetrieveRequest {
  apiVersion: string;
  packageNames: string[];
  singlePackage: boolean;
  unpackaged: PackageManifest | undefined;
}

/** One `FileProperties` of a `RetrieveResult`. */
export interface RetrievedFile {
  fileName: string;
  fullName: string;
  id: string;
  type: string;
}

/** What a finished retrieve reports. */
export interface RetrieveOutcome {
  zipFile: Buffer;
  files: RetrievedFile[];
  /** `RetrieveMessage`s: components asked for that the org does not have. */
  messages: Array<{ fileName: string; problem: string }>;
}

/** Reads the SOAP `retrieve` request element. */
export function readRetrieveRequest(request: MetadataComponent): RetrieveRequest {
  const unpackaged = request.unpackaged as MetadataComponent | undefined;
  return {
    apiVersion: textOf(request, 'apiVersion'),
    packageNames: asList(request.packageNames).map((name) => String(name).trim()),
    singlePackage: textOf(request, 'singlePackage') === 'true',
    unpackaged:
      unpackaged === undefined || unpackaged === null
        ? undefined
        : {
            fullName: undefined,
            version: textOf(unpackaged, 'version') || textOf(request, 'apiVersion'),
            types: recordsOf(unpackaged.types).map((type) => ({
              name: textOf(type, 'name'),
              members: asList(type.members).map((member) => String(member).trim()),
            })),
          },
  };
}

/**
 * Packs the components a retrieve asks for into a zip, each package in its own folder: the
 * manifest's components under `unpackaged/` (at the root with `singlePackage`), each named
 * package (created by deploying a `package.xml` with that `<fullName>`) under its name.
 */
export function runRetrieve(
  request: RetrieveRequest,
  registry: MetadataTypeRegistry,
  packages: ReadonlyMap<string, PackageManifest>,
  version: string,
): RetrieveOutcome {
  const files = new Map<string, string | Buffer>();
  const properties: RetrievedFile[] = [];
  const messages: RetrieveOutcome['messages'] = [];
  const pack = (root: string, manifest: PackageManifest): void => {
    const listed: PackageManifest = {
      fullName: manifest.fullName,
      version: manifest.version || version,
      types: [],
    };
    /** Parent file → child elements, for children (CustomField) whose parent is not retrieved whole. */
    const children = new Map<string, { handler: MetadataTypeHandler; xml: string }>();
    const whole = new Set<string>();
    for (const { name: type, members } of manifest.types) {
      const handler = registry.get(type);
      if (!handler) {
        for (const member of members)
          messages.push({
            fileName: `${root}package.xml`,
            problem: `The emulator does not retrieve metadata of type ${type} (${member})`,
          });
        continue;
      }
      const names = members.includes('*')
        ? [...new Set([...members.filter((m) => m !== '*'), ...handler.list()])]
        : members;
      const found: string[] = [];
      for (const name of names) {
        const component = handler.retrieve(name);
        if (!component) {
          messages.push({
            fileName: `${root}package.xml`,
            problem: `Entity of type '${type}' named '${name}' cannot be found`,
          });
          continue;
        }
        found.push(name);
        if (handler.parent) {
          const parent = registry.get(handler.parent.type) as MetadataTypeHandler;
          const parentName = name.slice(0, name.indexOf('.'));
          const fileName = `${root}${parent.directory}/${parentName}.${parent.suffix}`;
          const entry = children.get(fileName) ?? { handler: parent, xml: '' };
          entry.xml += `<${handler.parent.element}>${component.innerXml}</${handler.parent.element}>`;
          children.set(fileName, entry);
          properties.push({ fileName, fullName: name, id: '', type: handler.type });
          continue;
        }
        const base = `${root}${handler.directory}/${name}`;
        const rootElement = handler.rootElement?.(name) ?? handler.type;
        const folder = handler.inFolders && !name.includes('/');
        const fileName = folder ? `${base}-meta.xml` : `${base}.${handler.suffix}`;
        if (handler.hasContent) {
          files.set(fileName, component.content ?? Buffer.alloc(0));
          files.set(`${fileName}-meta.xml`, componentFileXml(rootElement, component.innerXml));
        } else {
          files.set(fileName, componentFileXml(rootElement, component.innerXml));
          whole.add(fileName);
        }
        properties.push({ fileName, fullName: name, id: '', type: handler.type });
      }
      if (found.length > 0) listed.types.push({ name: handler.type, members: found });
    }
    for (const [fileName, { handler, xml }] of children)
      if (!whole.has(fileName)) files.set(fileName, componentFileXml(handler.type, xml));
    files.set(`${root}package.xml`, manifestXml(listed));
    properties.push({
      fileName: `${root}package.xml`,
      fullName: `${root}package.xml`.replace(/\/package\.xml$/, ''),
      id: '',
      type: 'Package',
    });
  };
  if (request.unpackaged) pack(request.singlePackage ? '' : 'unpackaged/', request.unpackaged);
  for (const name of request.packageNames) {
    const manifest = packages.get(name.toLowerCase());
    if (!manifest) {
      messages.push({ fileName: name, problem: `No package named '${name}' found` });
      continue;
    }
    pack(request.singlePackage ? '' : `${manifest.fullName ?? name}/`, manifest);
  }
  return { zipFile: writeArchive(files), files: properties, messages };
}

/** The SOAP `RetrieveResult` (`meta_retrieveresult.htm`). */
export function retrieveResultXml(
  id: string,
  outcome: RetrieveOutcome,
  user: { id: string; name: string },
  date: string,
  includeZip: boolean,
): string {
  const file = (f: RetrievedFile): string =>
    '<fileProperties>' +
    xmlElement('createdById', user.id) +
    xmlElement('createdByName', user.name) +
    xmlElement('createdDate', date) +
    xmlElement('fileName', f.fileName) +
    xmlElement('fullName', f.fullName) +
    xmlElement('id', f.id) +
    xmlElement('lastModifiedById', user.id) +
    xmlElement('lastModifiedByName', user.name) +
    xmlElement('lastModifiedDate', date) +
    xmlElement('manageableState', 'unmanaged') +
    xmlElement('type', f.type) +
    '</fileProperties>';
  return (
    '<result>' +
    xmlElement('done', true) +
    outcome.files.map(file).join('') +
    xmlElement('id', id) +
    outcome.messages
      .map(
        (m) =>
          `<messages>${xmlElement('fileName', m.fileName)}${xmlElement('problem', m.problem)}</messages>`,
      )
      .join('') +
    xmlElement('status', 'Succeeded') +
    xmlElement('success', true) +
    (includeZip ? xmlElement('zipFile', outcome.zipFile.toString('base64')) : '') +
    '</result>'
  );
}
