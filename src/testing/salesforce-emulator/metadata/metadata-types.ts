import type { MetadataComponent } from './component-xml.js';

/**
 * What a type handler sees of the deploy it takes part in: components of the same deploy count as
 * existing while it is validated, so an approval process may name a field update deployed with it.
 */
export interface DeployScope {
  /** Whether a component of `type` named `fullName` (case-insensitive) is part of this deploy. */
  includes(type: string, fullName: string): boolean;
  /** That component's metadata as deployed here, or undefined. */
  component(type: string, fullName: string): MetadataComponent | undefined;
}

/** One component as a deploy hands it to its type's handler. */
export interface DeployedComponent {
  fullName: string;
  /** The metadata XML (the file, or the `-meta.xml` of a type with content) as plain values. */
  component: MetadataComponent;
  /** The body of a type with content (`.cls` source), else undefined. */
  content?: Buffer | undefined;
}

/** What applying one component did (a `DeployMessage` of `componentSuccesses`). */
export interface AppliedComponent {
  created: boolean;
  /** Id of the component (`''` when the type has none). */
  id: string;
  /**
   * Set when the emulator stored the component without giving it its runtime effect (Apex that
   * is not compiled, a layout the UI resources do not read): sent as `problemType: Warning`.
   */
  warning?: string;
}

/** A component as a retrieve packs it: its metadata XML (inner properties) and body. */
export interface RetrievedComponent {
  /** The properties inside the root element of the file (or of the `-meta.xml`). */
  innerXml: string;
  /** The body of a type with content, else undefined. */
  content?: Buffer | undefined;
}

/**
 * One metadata type the emulator deploys and retrieves (Metadata API "Metadata Types"). Add a
 * type by writing a handler in `metadata/types/` and listing it in `metadata-type-list.ts`.
 */
export interface MetadataTypeHandler {
  /** Type name as `package.xml` writes it, e.g. `Workflow`. */
  readonly type: string;
  /** Folder of its files in a package, e.g. `workflows`. */
  readonly directory: string;
  /** File suffix without the dot, e.g. `workflow`. */
  readonly suffix: string;
  /** Root element of its XML files when it differs from `type` (e.g. Settings: `OauthOidcSettings`). */
  readonly rootElement?: (fullName: string) => string;
  /** A body file (`X.cls`) with a `X.cls-meta.xml` beside it, as ApexClass has. */
  readonly hasContent?: boolean;
  /**
   * Kept in folders (Report, Dashboard, Document, EmailTemplate): a member without `/` is the
   * folder, read from `{directory}/{folder}-meta.xml`; `Folder/Name` is a component of it.
   */
  readonly inFolders?: boolean;
  /**
   * Kept inside its parent's file (`CustomField` `Obj.F` is a `<fields>` of `objects/Obj.object`):
   * the parent type and element; the member is `Parent.Child`.
   */
  readonly parent?: { type: string; element: string };
  /**
   * Said (as `problemType: Warning`) on every `DeployMessage` of this type, validations
   * included, when the emulator keeps its components without their effect.
   */
  readonly warning?: string;
  /**
   * Whether `createMetadata` may write it too (through `validate` and `apply`); only types whose
   * components take full effect, since a `SaveResult` carries no warning.
   */
  readonly createMetadata?: boolean;
  /**
   * Checks a component against the org and the rest of the deploy, writing nothing.
   *
   * @throws {ComponentError} what a deploy reports as the component's failure.
   */
  validate(item: DeployedComponent, scope: DeployScope): void;
  /** Applies a validated component. */
  apply(item: DeployedComponent): AppliedComponent;
  /** The stored component, or undefined when the org has none of that name. */
  retrieve(fullName: string): RetrievedComponent | undefined;
  /** Full names of every stored component (what `*` in a retrieve manifest means). */
  list(): string[];
}

/** The handlers by type name (case-insensitive), in the order a deploy applies them. */
export class MetadataTypeRegistry {
  private readonly handlers = new Map<string, MetadataTypeHandler>();

  constructor(handlers: readonly MetadataTypeHandler[]) {
    for (const handler of handlers) this.handlers.set(handler.type.toLowerCase(), handler);
  }

  get(type: string): MetadataTypeHandler | undefined {
    return this.handlers.get(type.toLowerCase());
  }

  /** Deploy order: list order (objects before fields, field updates before approval processes). */
  order(type: string): number {
    return [...this.handlers.keys()].indexOf(type.toLowerCase());
  }

  all(): MetadataTypeHandler[] {
    return [...this.handlers.values()];
  }
}
