import { ComponentError } from './component-error.js';
import { parseComponentFile } from './component-xml.js';
import type {
  DeployedComponent,
  DeployScope,
  MetadataTypeHandler,
  MetadataTypeRegistry,
} from './metadata-types.js';
import { type ArchiveFiles, type PackageManifest, parseManifest, readArchive } from './package-archive.js';

/** `DeployOptions` (Metadata API `meta_deploy.htm`) as the emulator reads them. */
export interface DeployOptions {
  checkOnly: boolean;
  ignoreWarnings: boolean;
  rollbackOnError: boolean;
  singlePackage: boolean;
  /** `NoTestRun`, `RunSpecifiedTests`, `RunLocalTests` or `RunAllTestsInOrg`. */
  testLevel: string;
  runTests: string[];
}

/** One `DeployMessage` (`componentSuccesses` / `componentFailures`). */
export interface DeployMessage {
  changed: boolean;
  componentType: string;
  created: boolean;
  createdDate: string;
  deleted: boolean;
  fileName: string;
  fullName: string;
  id: string | null;
  problem: string | null;
  problemType: 'Error' | 'Warning' | null;
  success: boolean;
}

/** What a finished deploy reports (the parts of `DeployResult` a deploy decides). */
export interface DeployOutcome {
  status: 'Succeeded' | 'SucceededPartial' | 'Failed';
  successes: DeployMessage[];
  failures: DeployMessage[];
  numberComponentsTotal: number;
  numberComponentsDeployed: number;
  numberComponentErrors: number;
  errorMessage: string | null;
  errorStatusCode: string | null;
  runTestsEnabled: boolean;
  /** The components that passed validation (applied unless `checkOnly`; replayed by a quick deploy). */
  validated: PlannedComponent[];
  /** Packages (`package.xml` `<fullName>`) of the deploy, with what they list. */
  packages: PackageManifest[];
}

/** A component of the deploy, located and parsed, with its handler. */
export interface PlannedComponent {
  handler: MetadataTypeHandler;
  item: DeployedComponent;
  fileName: string;
}

/** What a deploy needs from the org besides the type handlers. */
export interface DeployEnvironment {
  registry: MetadataTypeRegistry;
  /** Names of the Apex test classes (`@isTest`) the org already holds. */
  apexTestClasses(): string[];
  now(): string;
}

/** The test levels of `DeployOptions.testLevel`. */
const TEST_LEVELS = new Set(['NoTestRun', 'RunSpecifiedTests', 'RunLocalTests', 'RunAllTestsInOrg']);

/**
 * Runs a deploy: reads the zip, finds each `package.xml`, locates and parses the file of every
 * member it lists, validates all of them (components of the same deploy resolve each other), then
 * — unless `checkOnly`, and only when nothing failed or `rollbackOnError` is false — applies them
 * in type order through their handlers.
 */
export function runDeploy(
  zip: Buffer,
  options: DeployOptions,
  environment: DeployEnvironment,
): DeployOutcome {
  const failures: DeployMessage[] = [];
  const now = environment.now();
  const failure = (
    componentType: string,
    fullName: string,
    fileName: string,
    problem: string,
  ): DeployMessage => ({
    changed: false,
    componentType,
    created: false,
    createdDate: now,
    deleted: false,
    fileName,
    fullName,
    id: null,
    problem,
    problemType: 'Error',
    success: false,
  });
  let planned: PlannedComponent[] = [];
  const packages: PackageManifest[] = [];
  try {
    const files = readArchive(zip);
    const roots = packageRoots(files, options.singlePackage);
    if (roots.length === 0) throw new ComponentError('INVALID_ZIP', 'No package.xml found');
    for (const root of roots) {
      const manifest = parseManifest(files.get(`${root}package.xml`) as Buffer);
      packages.push(manifest);
      planned = planned.concat(plan(files, root, manifest, environment.registry, failures, failure));
    }
  } catch (error) {
    if (!(error instanceof ComponentError)) throw error;
    failures.push(failure('', 'package.xml', 'package.xml', error.message));
  }
  // Members that could not even be located or parsed still count as components of the deploy.
  const planFailures = failures.filter((f) => f.fullName !== 'package.xml').length;
  // Type order, and within a type kept in folders the folders first (a dashboard needs its folder).
  const folderFirst = (entry: PlannedComponent): number =>
    entry.handler.inFolders && !entry.item.fullName.includes('/') ? 0 : 1;
  planned.sort(
    (a, b) =>
      environment.registry.order(a.handler.type) - environment.registry.order(b.handler.type) ||
      folderFirst(a) - folderFirst(b),
  );

  const included = new Map(planned.map((p) => [key(p.handler.type, p.item.fullName), p.item.component]));
  const scope: DeployScope = {
    includes: (type, fullName) => included.has(key(type, fullName)),
    component: (type, fullName) => included.get(key(type, fullName)),
  };
  const validated: PlannedComponent[] = [];
  for (const entry of planned) {
    try {
      entry.handler.validate(entry.item, scope);
      validated.push(entry);
    } catch (error) {
      if (!(error instanceof ComponentError)) throw error;
      failures.push(failure(entry.handler.type, entry.item.fullName, entry.fileName, error.message));
    }
  }

  const tests = testRun(options, validated, environment);
  const successes: DeployMessage[] = [];
  const total = planned.length + planFailures;
  const blocked = tests.error !== null || (failures.length > 0 && options.rollbackOnError);
  for (const entry of validated) {
    let applied = { created: false, id: '', warning: undefined as string | undefined };
    if (!options.checkOnly && !blocked) {
      try {
        applied = { warning: undefined, ...entry.handler.apply(entry.item) };
      } catch (error) {
        // Only components whose object is created by this same deploy are checked this late.
        if (!(error instanceof ComponentError)) throw error;
        failures.push(failure(entry.handler.type, entry.item.fullName, entry.fileName, error.message));
        continue;
      }
    }
    successes.push({
      changed: !options.checkOnly && !blocked,
      componentType: entry.handler.type,
      created: applied.created,
      createdDate: now,
      deleted: false,
      fileName: entry.fileName,
      fullName: entry.item.fullName,
      id: applied.id || null,
      problem: applied.warning ?? entry.handler.warning ?? null,
      problemType: (applied.warning ?? entry.handler.warning) ? 'Warning' : null,
      success: true,
    });
  }
  if (!failures.some((f) => f.fullName === 'package.xml'))
    successes.push({
      changed: true,
      componentType: '',
      created: false,
      createdDate: now,
      deleted: false,
      fileName: 'package.xml',
      fullName: 'package.xml',
      id: null,
      problem: null,
      problemType: null,
      success: true,
    });
  const status = blocked ? 'Failed' : failures.length > 0 ? 'SucceededPartial' : 'Succeeded';
  const deployed = successes.filter((m) => m.fullName !== 'package.xml').length;
  return {
    status,
    successes,
    failures,
    numberComponentsTotal: total,
    numberComponentsDeployed: deployed,
    numberComponentErrors: failures.length,
    errorMessage: tests.error,
    errorStatusCode: tests.error === null ? null : 'FUNCTIONALITY_NOT_ENABLED',
    runTestsEnabled: tests.enabled,
    validated,
    packages: packages.filter((p) => p.fullName),
  };
}

/**
 * Applies the components of a succeeded validation (a quick deploy, `deployRecentValidation`);
 * the ones the org no longer accepts come back as failures.
 */
export function applyValidated(validated: readonly PlannedComponent[], now: string): DeployMessage[] {
  const failures: DeployMessage[] = [];
  for (const entry of validated) {
    try {
      entry.handler.apply(entry.item);
    } catch (error) {
      if (!(error instanceof ComponentError)) throw error;
      failures.push({
        changed: false,
        componentType: entry.handler.type,
        created: false,
        createdDate: now,
        deleted: false,
        fileName: entry.fileName,
        fullName: entry.item.fullName,
        id: null,
        problem: error.message,
        problemType: 'Error',
        success: false,
      });
    }
  }
  return failures;
}

function key(type: string, fullName: string): string {
  return `${type.toLowerCase()}:${fullName.toLowerCase()}`;
}

/**
 * Folders holding a `package.xml`: the zip root for `singlePackage`, else each top-level folder
 * (a root `package.xml` is read too, as the `sf` CLI sends single packages that way).
 */
function packageRoots(files: ArchiveFiles, singlePackage: boolean): string[] {
  const roots: string[] = [];
  for (const path of files.keys()) {
    const match = /^(?:([^/]+)\/)?package\.xml$/.exec(path);
    if (!match) continue;
    if (singlePackage && match[1] !== undefined) continue;
    roots.push(match[1] === undefined ? '' : `${match[1]}/`);
  }
  return roots.sort();
}

/** The components one `package.xml` names, located in the zip and parsed; misses become failures. */
function plan(
  files: ArchiveFiles,
  root: string,
  manifest: PackageManifest,
  registry: MetadataTypeRegistry,
  failures: DeployMessage[],
  failure: (type: string, fullName: string, fileName: string, problem: string) => DeployMessage,
): PlannedComponent[] {
  const planned: PlannedComponent[] = [];
  for (const { name: type, members } of manifest.types) {
    const handler = registry.get(type);
    if (!handler) {
      for (const member of members)
        failures.push(
          failure(
            type,
            member,
            `${root}package.xml`,
            `The emulator does not deploy metadata of type ${type}; nothing of it was applied`,
          ),
        );
      continue;
    }
    for (const member of expandMembers(files, root, handler, members, registry)) {
      try {
        const located = locate(files, root, handler, member, registry);
        planned.push({ handler, item: located.item, fileName: located.fileName });
      } catch (error) {
        if (!(error instanceof ComponentError)) throw error;
        failures.push(failure(handler.type, member, `${root}package.xml`, error.message));
      }
    }
  }
  return planned;
}

/** `*` stands for every component of the type in the package (Metadata API "wildcard"). */
function expandMembers(
  files: ArchiveFiles,
  root: string,
  handler: MetadataTypeHandler,
  members: string[],
  registry: MetadataTypeRegistry,
): string[] {
  if (!members.includes('*')) return members;
  const named = new Set(members.filter((m) => m !== '*'));
  if (handler.parent) {
    const parent = registry.get(handler.parent.type);
    if (parent)
      for (const [path, bytes] of files) {
        const name = fileMember(root, parent, path);
        if (name === undefined) continue;
        const { component } = parseComponentFile(bytes.toString('utf8'));
        for (const child of [component[handler.parent.element]].flat())
          if (typeof child === 'object' && child !== null && 'fullName' in child)
            named.add(`${name}.${String((child as { fullName: unknown }).fullName)}`);
      }
  } else {
    for (const path of files.keys()) {
      const name = fileMember(root, handler, path);
      if (name !== undefined) named.add(name);
    }
  }
  return [...named];
}

/** The member a file is (`workflows/Account.workflow` → `Account`), or undefined. */
function fileMember(root: string, handler: MetadataTypeHandler, path: string): string | undefined {
  const prefix = `${root}${handler.directory}/`;
  const suffix = `.${handler.suffix}`;
  if (!path.startsWith(prefix) || !path.endsWith(suffix)) return undefined;
  return path.slice(prefix.length, -suffix.length);
}

function locate(
  files: ArchiveFiles,
  root: string,
  handler: MetadataTypeHandler,
  member: string,
  registry: MetadataTypeRegistry,
): { item: DeployedComponent; fileName: string } {
  const missing = (): ComponentError =>
    new ComponentError(
      'NOT_FOUND',
      `An object '${member}' of type ${handler.type} was named in package.xml, but was not found in zipped directory`,
    );
  if (handler.parent) {
    const dot = member.indexOf('.');
    const parent = registry.get(handler.parent.type);
    if (dot <= 0 || !parent) throw missing();
    const parentName = member.slice(0, dot);
    const fileName = `${root}${parent.directory}/${parentName}.${parent.suffix}`;
    const bytes = files.get(fileName);
    if (!bytes) throw missing();
    const { component } = parseComponentFile(bytes.toString('utf8'));
    const childName = member.slice(dot + 1);
    const child = [component[handler.parent.element]]
      .flat()
      .find(
        (c): c is Record<string, unknown> =>
          typeof c === 'object' && c !== null && String((c as { fullName?: unknown }).fullName) === childName,
      );
    if (!child) throw missing();
    return { item: { fullName: member, component: { ...child, fullName: member } }, fileName };
  }
  const base = `${root}${handler.directory}/${member}`;
  if (handler.inFolders && !member.includes('/')) {
    const fileName = `${base}-meta.xml`;
    const bytes = files.get(fileName);
    if (!bytes) throw missing();
    return { item: { fullName: member, component: parsed(bytes, member) }, fileName };
  }
  const fileName = `${base}.${handler.suffix}`;
  const bytes = files.get(fileName);
  if (!bytes) throw missing();
  if (handler.hasContent) {
    const meta = files.get(`${fileName}-meta.xml`);
    if (!meta) throw missing();
    return { item: { fullName: member, component: parsed(meta, member), content: bytes }, fileName };
  }
  return { item: { fullName: member, component: parsed(bytes, member) }, fileName };
}

function parsed(bytes: Buffer, fullName: string): Record<string, unknown> {
  return { ...parseComponentFile(bytes.toString('utf8')).component, fullName };
}

/**
 * What the test level asks for. The emulator has no Apex runtime, so a deploy that would run Apex
 * tests fails as a whole (nothing applied) with `FUNCTIONALITY_NOT_ENABLED`; a level with no test
 * to run (no `@isTest` class in the org or the deploy) runs none and goes on. The default level of
 * a non-production org is `NoTestRun`.
 */
function testRun(
  options: DeployOptions,
  validated: readonly PlannedComponent[],
  environment: DeployEnvironment,
): { enabled: boolean; error: string | null } {
  const level = options.testLevel;
  if (!TEST_LEVELS.has(level))
    return { enabled: false, error: `Invalid testLevel ${level}: use ${[...TEST_LEVELS].join(', ')}` };
  if (level === 'NoTestRun') return { enabled: false, error: null };
  const cannotRun = (tests: string[]): string =>
    `The emulator cannot run Apex tests (testLevel ${level}: ${tests.join(', ')}): Apex is not executed offline. Deploy with testLevel NoTestRun.`;
  if (level === 'RunSpecifiedTests') {
    if (options.runTests.length === 0)
      return { enabled: true, error: 'testLevel RunSpecifiedTests needs at least one class in runTests' };
    return { enabled: true, error: cannotRun(options.runTests) };
  }
  const tests = new Set(environment.apexTestClasses());
  for (const entry of validated)
    if (
      entry.handler.type === 'ApexClass' &&
      entry.item.content &&
      /@isTest\b/i.test(entry.item.content.toString('utf8'))
    )
      tests.add(entry.item.fullName);
  if (tests.size === 0) return { enabled: true, error: null };
  return { enabled: true, error: cannotRun([...tests]) };
}
