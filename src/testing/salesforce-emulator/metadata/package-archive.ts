import { strFromU8, unzipSync, zipSync } from 'fflate';
import { ComponentError } from './component-error.js';
import { asList, parseComponentFile, recordsOf, textOf } from './component-xml.js';

/** What `package.xml` lists (Metadata API "Sample package.xml Manifest Files"). */
export interface PackageManifest {
  /** `<fullName>`: the package a deploy creates or updates (named by a later `packageNames` retrieve). */
  fullName: string | undefined;
  version: string;
  types: Array<{ name: string; members: string[] }>;
}

/** A zip as path → bytes (folders dropped). */
export type ArchiveFiles = Map<string, Buffer>;

/**
 * Reads a deploy's zip file (fflate: a small, dependency-free zip implementation).
 *
 * @throws {ComponentError} `INVALID_ZIP` when the bytes are not a zip archive.
 */
export function readArchive(zip: Buffer): ArchiveFiles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength));
  } catch (error) {
    throw new ComponentError('INVALID_ZIP', `The zip file could not be read: ${(error as Error).message}`);
  }
  const files: ArchiveFiles = new Map();
  for (const [path, bytes] of Object.entries(entries)) {
    if (path.endsWith('/')) continue;
    files.set(path.replace(/^\.\//, ''), Buffer.from(bytes));
  }
  return files;
}

/** Builds a retrieve's zip file. */
export function writeArchive(files: ReadonlyMap<string, Buffer | string>): Buffer {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, content] of files)
    entries[path] =
      typeof content === 'string' ? new Uint8Array(Buffer.from(content, 'utf8')) : new Uint8Array(content);
  return Buffer.from(zipSync(entries));
}

/**
 * Parses `package.xml` (`<Package>` with `<types><members/>…<name/></types>`, `<version>`,
 * optional `<fullName>`).
 *
 * @throws {ComponentError} when it is not XML or its root is not `Package`.
 */
export function parseManifest(bytes: Buffer | string): PackageManifest {
  const { root, component } = parseComponentFile(typeof bytes === 'string' ? bytes : strFromU8(bytes));
  if (root !== 'Package') throw new ComponentError('INVALID_XML', `Expected a Package, found ${root}`);
  return {
    fullName: textOf(component, 'fullName') || undefined,
    version: textOf(component, 'version'),
    types: recordsOf(component.types).map((entry) => ({
      name: textOf(entry, 'name'),
      members: asList(entry.members).map((member) => String(member).trim()),
    })),
  };
}

/** `package.xml` of a retrieve. */
export function manifestXml(manifest: PackageManifest): string {
  const text = (value: string): string =>
    value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n' +
    (manifest.fullName ? `    <fullName>${text(manifest.fullName)}</fullName>\n` : '') +
    manifest.types
      .map(
        (type) =>
          '    <types>\n' +
          type.members.map((member) => `        <members>${text(member)}</members>\n`).join('') +
          `        <name>${text(type.name)}</name>\n    </types>\n`,
      )
      .join('') +
    `    <version>${text(manifest.version)}</version>\n</Package>\n`
  );
}
