import { type MetadataComponent, propertiesXml } from '../component-xml.js';

/** A component kept as deployed: its properties (without `fullName`) and body. */
export interface StoredComponent {
  id: string;
  component: MetadataComponent;
  content: Buffer | undefined;
}

/** Components of one type kept as deployed, by full name (case-insensitive), for retrieve. */
export class StoredComponents {
  private readonly byName = new Map<string, { fullName: string; stored: StoredComponent }>();

  /** Stores a component; `created` when the name was new. The id of an existing one is kept. */
  put(
    fullName: string,
    component: MetadataComponent,
    content: Buffer | undefined,
    newId: () => string,
  ): { created: boolean; id: string } {
    const existing = this.byName.get(fullName.toLowerCase());
    const { fullName: _name, ...properties } = component;
    const id = existing?.stored.id ?? newId();
    this.byName.set(fullName.toLowerCase(), { fullName, stored: { id, component: properties, content } });
    return { created: existing === undefined, id };
  }

  get(fullName: string): StoredComponent | undefined {
    return this.byName.get(fullName.toLowerCase())?.stored;
  }

  names(): string[] {
    return [...this.byName.values()].map((entry) => entry.fullName);
  }

  /** The retrieve form of a stored component. */
  retrieve(fullName: string): { innerXml: string; content: Buffer | undefined } | undefined {
    const stored = this.get(fullName);
    return stored ? { innerXml: propertiesXml(stored.component), content: stored.content } : undefined;
  }
}
