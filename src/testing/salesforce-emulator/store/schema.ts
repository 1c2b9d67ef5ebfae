/** Field data types the emulator knows (names as in describe `fields[].type`). */
export type EmulatorFieldType =
  | 'id'
  | 'string'
  | 'email'
  | 'boolean'
  | 'picklist'
  | 'multipicklist'
  | 'reference'
  | 'date'
  | 'datetime'
  | 'double'
  | 'int'
  | 'currency'
  | 'percent'
  | 'phone'
  | 'textarea'
  | 'url'
  /** A compound address (`BillingAddress`): read-only, read as an object of its components. */
  | 'address'
  /** Binary content as base64 text (e.g. a static resource's `Body`); REST reads it from a blob URL. */
  | 'base64';

/** A value as stored and returned in JSON. Dates are `YYYY-MM-DD`, datetimes `…T…000+0000`. */
export type EmulatorValue = string | number | boolean | null;

/** A stored record: canonical field API name → value. */
export type EmulatorRecord = Record<string, EmulatorValue>;

/** Definition of one field (what describe reports and validation enforces). */
export interface EmulatorFieldDefinition {
  /** API name, e.g. `MarkMail_ID__c`. Custom fields must end in `__c`. */
  name: string;
  /** @default derived from the name */
  label?: string;
  type: EmulatorFieldType;
  /** Maximum characters for text types. @default 255 (textarea 32768, email 80, phone 40) */
  length?: number;
  /** Number precision/scale for double, currency, percent. @default 18 / 0 */
  precision?: number;
  scale?: number;
  /** Required on create (describe: createable, not nillable, not defaulted). @default false */
  required?: boolean;
  /** @default true */
  createable?: boolean;
  /** @default true */
  updateable?: boolean;
  /** Value set on create when none is given (makes describe `defaultedOnCreate` true). */
  defaultValue?: EmulatorValue;
  /** Values must be unique across live records. @default false */
  unique?: boolean;
  /** Usable as an upsert key (`/sobjects/X/Field/value`). @default false */
  externalId?: boolean;
  /**
   * Describe's `idLookup`: usable as an upsert key on a standard object although not an
   * external id (SOAP `upsert()`: "On standard objects, this call can use the name of any field
   * with the idLookup instead of the external ID"), e.g. Contact.Email, Account.Name.
   * @default true for `Id` and external ids, else false
   */
  idLookup?: boolean;
  /** Unique/external-id matching is case-sensitive. @default false */
  caseSensitive?: boolean;
  /** For references: object names the id may point to. */
  referenceTo?: string[];
  /** For references: the SOQL relationship name (`Account` for `AccountId`). */
  relationshipName?: string;
  /** For references: deleting the parent deletes this record too. @default false */
  cascadeDelete?: boolean;
  /** Picklist values reported by describe (not enforced, like unrestricted picklists). */
  picklistValues?: string[];
  /** Computed by the emulator (e.g. `Name` on Contact), never writable. @default false */
  calculated?: boolean;
  /**
   * An auto-number field (describe `autoNumber`: "The API creates an autonumber"): never
   * createable or updateable, not nillable, defaulted on create. The numbering itself is the
   * object's `derive`. @default false
   */
  autoNumber?: boolean;
  /** For a component of a compound field (`MailingCity`): the compound's name (`MailingAddress`). */
  compoundFieldName?: string;
}

/** Definition of one sObject type. */
export interface EmulatorObjectDefinition {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: EmulatorFieldDefinition[];
  /** @default true */
  createable?: boolean;
  /** @default true */
  updateable?: boolean;
  /** @default true */
  deletable?: boolean;
  /**
   * Combinations of fields that must be unique among live records (skipped while any of them is
   * null), e.g. CampaignMember's `[CampaignId, ContactId]` → "Already a campaign member.".
   */
  uniqueTogether?: Array<{ fields: string[]; message: string }>;
  /**
   * Sets fields Salesforce derives from others on every write (e.g. Opportunity `IsClosed` from
   * `StageName`); gets the full row after the write's values are merged.
   */
  derive?: (row: EmulatorRecord) => void;
}

/** A field with every default filled in. */
export interface ResolvedField
  extends Required<Omit<EmulatorFieldDefinition, 'defaultValue' | 'relationshipName' | 'compoundFieldName'>> {
  defaultValue: EmulatorValue | undefined;
  compoundFieldName: string | undefined;
  relationshipName: string | undefined;
  custom: boolean;
  nillable: boolean;
}

/** A child relationship as describe reports it (`Contacts` on Account). */
export interface ChildRelationship {
  childSObject: string;
  field: string;
  relationshipName: string;
  cascadeDelete: boolean;
}

/** Compiled schema of one object with case-insensitive field lookup. */
export class ObjectSchema {
  readonly name: string;
  readonly label: string;
  readonly labelPlural: string;
  readonly keyPrefix: string;
  readonly createable: boolean;
  readonly updateable: boolean;
  readonly deletable: boolean;
  readonly fields: ResolvedField[] = [];
  private readonly byLowerName = new Map<string, ResolvedField>();
  private readonly byLowerRelationship = new Map<string, ResolvedField>();
  readonly childRelationships: ChildRelationship[] = [];
  readonly uniqueTogether: Array<{ fields: string[]; message: string }>;
  readonly derive: ((row: EmulatorRecord) => void) | undefined;

  constructor(definition: EmulatorObjectDefinition) {
    this.name = definition.name;
    this.label = definition.label;
    this.labelPlural = definition.labelPlural;
    this.keyPrefix = definition.keyPrefix;
    this.createable = definition.createable ?? true;
    this.updateable = definition.updateable ?? true;
    this.deletable = definition.deletable ?? true;
    this.uniqueTogether = definition.uniqueTogether ?? [];
    this.derive = definition.derive;
    for (const field of definition.fields) this.addField(field);
  }

  /**
   * Adds a field.
   *
   * @throws {Error} when a field of that name already exists.
   */
  addField(definition: EmulatorFieldDefinition): ResolvedField {
    const lower = definition.name.toLowerCase();
    if (this.byLowerName.has(lower))
      throw new Error(`Field ${definition.name} already exists on ${this.name}`);
    const field = resolveField(definition);
    this.fields.push(field);
    this.byLowerName.set(lower, field);
    if (field.relationshipName) this.byLowerRelationship.set(field.relationshipName.toLowerCase(), field);
    return field;
  }

  /** Field by API name, case-insensitively. */
  field(name: string): ResolvedField | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  /** Reference field whose relationship name is `name`, case-insensitively. */
  relationship(name: string): ResolvedField | undefined {
    return this.byLowerRelationship.get(name.toLowerCase());
  }

  /** Fields indexed for uniqueness or upsert. */
  indexedFields(): ResolvedField[] {
    return this.fields.filter((f) => f.unique || isUpsertKey(f));
  }
}

/**
 * Whether upsert (REST, collections, Bulk) may match on this field: `Id`, an external id, or an
 * `idLookup` field of a standard object (Email, Name, …), as Salesforce's upsert allows.
 */
export function isUpsertKey(field: ResolvedField): boolean {
  return field.type === 'id' || field.externalId || field.idLookup;
}

const DEFAULT_LENGTHS: Partial<Record<EmulatorFieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  textarea: 32768,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
};

function resolveField(definition: EmulatorFieldDefinition): ResolvedField {
  const calculated = definition.calculated ?? false;
  const autoNumber = definition.autoNumber ?? false;
  const required = definition.required ?? false;
  // Compound fields are read-only: writes go to their components.
  const writable = definition.type !== 'id' && definition.type !== 'address';
  const createable = !calculated && !autoNumber && (definition.createable ?? writable);
  return {
    name: definition.name,
    label: definition.label ?? labelFromName(definition.name),
    type: definition.type,
    length: definition.length ?? DEFAULT_LENGTHS[definition.type] ?? 0,
    precision: definition.precision ?? (isNumeric(definition.type) ? 18 : 0),
    scale: definition.scale ?? 0,
    required,
    createable,
    updateable: !calculated && !autoNumber && (definition.updateable ?? writable),
    defaultValue: definition.defaultValue,
    unique: definition.unique ?? false,
    externalId: definition.externalId ?? false,
    idLookup: definition.idLookup ?? (definition.type === 'id' || (definition.externalId ?? false)),
    caseSensitive: definition.caseSensitive ?? false,
    referenceTo: definition.referenceTo ?? [],
    relationshipName: definition.relationshipName,
    cascadeDelete: definition.cascadeDelete ?? false,
    picklistValues: definition.picklistValues ?? [],
    calculated,
    autoNumber,
    compoundFieldName: definition.compoundFieldName,
    custom: definition.name.endsWith('__c'),
    // Booleans are never null in Salesforce; required fields are not nillable.
    nillable: !required && !autoNumber && definition.type !== 'boolean' && definition.type !== 'id',
  };
}

function isNumeric(type: EmulatorFieldType): boolean {
  return type === 'double' || type === 'currency' || type === 'percent' || type === 'int';
}

function labelFromName(name: string): string {
  const base = name.replace(/__c$/, '').replace(/_/g, ' ');
  if (base.endsWith('Id') && base.length > 2)
    return `${base.slice(0, -2).replace(/([a-z])([A-Z])/g, '$1 $2')} ID`;
  return base.replace(/([a-z])([A-Z])/g, '$1 $2');
}
