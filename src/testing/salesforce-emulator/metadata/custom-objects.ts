import type { EmulatorModuleContext } from '../module.js';
import { SoapFault, xmlElement } from '../soap/soap-envelope.js';
import { owner, systemFields } from '../store/objects/common.js';
import type {
  EmulatorFieldDefinition,
  EmulatorFieldType,
  EmulatorRecord,
  ObjectSchema,
} from '../store/schema.js';
import { ComponentError } from './component-error.js';
import { asList, type MetadataComponent, propertiesXml } from './component-xml.js';

/** The Metadata API's synchronous calls accept at most 10 components (`meta_createMetadata.htm`). */
const MAX_COMPONENTS = 10;

/** Custom object API names: letter first, letters/digits/single underscores, `__c` suffix. */
const CUSTOM_OBJECT_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$/;

/** Metadata field types → emulator types (inverse of what readMetadata reports). */
const FIELD_TYPES: Readonly<Record<string, EmulatorFieldType>> = {
  Text: 'string',
  TextArea: 'textarea',
  LongTextArea: 'textarea',
  Email: 'email',
  Checkbox: 'boolean',
  Picklist: 'picklist',
  MultiselectPicklist: 'multipicklist',
  Lookup: 'reference',
  Date: 'date',
  DateTime: 'datetime',
  Number: 'double',
  Currency: 'currency',
  Percent: 'percent',
  Phone: 'phone',
  Url: 'url',
};

/**
 * `CustomObject` components written through the Metadata API's CRUD calls (`createMetadata`,
 * `updateMetadata`, `upsertMetadata`, `renameMetadata`, `deleteMetadata`) become objects of the
 * store: system fields, `OwnerId` (unless `sharingModel` is `ControlledByParent`), `Name` from
 * `nameField` (Text: required, 80 characters; AutoNumber: read-only, numbered by `displayFormat`
 * from `startingNumber`) and the component's custom `fields`. The component's other properties
 * (`description`, `deploymentStatus`, `sharingModel`, …) are kept as given and read back.
 */
export class CustomObjectMetadata {
  /** Lower-case full name → the component as last written (without `fields`) and its `01I` id. */
  private readonly components = new Map<string, { id: string; properties: MetadataComponent }>();

  constructor(private readonly context: EmulatorModuleContext) {}

  /** The `01I…` id of an object created through the Metadata API, else `''`. */
  idOf(fullName: string): string {
    return this.components.get(fullName.toLowerCase())?.id ?? '';
  }

  /** `createMetadata`: `SaveResult` per component. */
  create(components: MetadataComponent[]): string {
    return each(components, (component) => {
      if (component['@type'] === 'CustomField') {
        const fullName = nameOf(component);
        const schema = this.context.store.schema(fullName.split('.')[0] ?? '');
        if (!schema || !fullName.includes('.'))
          throw new ComponentError(
            'INVALID_CROSS_REFERENCE_KEY',
            `In field: fullName - no CustomObject named ${fullName.split('.')[0]} found`,
          );
        const definition = customField(component);
        if (schema.field(definition.name))
          throw new ComponentError(
            'DUPLICATE_DEVELOPER_NAME',
            `There is already a field named ${definition.name} on ${schema.name}`,
          );
        this.context.store.addField(schema.name, definition);
        return saveResult(`${schema.name}.${definition.name}`, true);
      }
      checkType(component['@type']);
      return saveResult(this.createOne(component), true);
    });
  }

  /** `updateMetadata`: `SaveResult` per component. */
  update(components: MetadataComponent[]): string {
    return each(components, (component) => {
      checkType(component['@type']);
      return saveResult(this.updateOne(component), true);
    });
  }

  /** `upsertMetadata`: `UpsertResult` per component (`created` tells which were new). */
  upsert(components: MetadataComponent[]): string {
    return each(
      components,
      (component) => {
        checkType(component['@type']);
        const fullName = nameOf(component);
        const exists = this.context.store.schema(fullName) !== undefined && CUSTOM_OBJECT_NAME.test(fullName);
        const name = exists ? this.updateOne(component) : this.createOne(component);
        return saveResult(name, true, !exists);
      },
      true,
    );
  }

  /** `deleteMetadata`: `DeleteResult` per full name; the object and its records go. */
  delete(type: string, fullNames: string[]): string {
    return each(fullNames, (fullName) => {
      checkType(type);
      const schema = this.requireCustom(fullName);
      this.context.store.removeObject(schema.name);
      this.components.delete(schema.name.toLowerCase());
      return saveResult(schema.name, true);
    });
  }

  /** `renameMetadata`: one `SaveResult` naming the old full name, as Salesforce answers. */
  rename(type: string, oldFullName: string, newFullName: string): string {
    return each([oldFullName], (fullName) => {
      checkType(type);
      const schema = this.requireCustom(fullName);
      checkName(newFullName);
      if (this.context.store.schema(newFullName))
        throw new ComponentError(
          'DUPLICATE_DEVELOPER_NAME',
          `There is already a CustomObject named ${newFullName}`,
        );
      this.context.store.redefineObject(schema.name, { name: newFullName });
      const entry = this.components.get(schema.name.toLowerCase());
      this.components.delete(schema.name.toLowerCase());
      if (entry) {
        this.components.set(newFullName.toLowerCase(), {
          id: entry.id,
          properties: { ...entry.properties, fullName: newFullName },
        });
      }
      return saveResult(fullName, true);
    });
  }

  /**
   * Checks an object file of a deploy without writing anything: the name, the required
   * properties and every inline field, as {@link create} would.
   *
   * @throws {ComponentError}
   */
  validateDeploy(component: MetadataComponent): void {
    const fullName = nameOf(component);
    checkName(fullName);
    required(component);
    for (const field of asList(component.fields)) customField(field as MetadataComponent);
  }

  /** Creates the object of a deploy, or updates it when it exists; `created` tells which. */
  deploy(component: MetadataComponent): { created: boolean; id: string } {
    const fullName = nameOf(component);
    const created = this.context.store.schema(fullName) === undefined;
    const name = created ? this.createOne(component) : this.updateOne(component);
    return { created, id: this.idOf(name) };
  }

  /** The properties of an object as a package file holds them, or undefined when there is none. */
  fileXml(
    fullName: string,
    fieldXml: (schema: ObjectSchema, fieldName: string) => string,
  ): string | undefined {
    const record = this.read(fullName, fieldXml);
    if (record === undefined) return undefined;
    return record
      .replace(/^<records xsi:type="CustomObject">/, '')
      .replace(/<\/records>$/, '')
      .replace(/^<fullName>[^<]*<\/fullName>/, '');
  }

  /** `readMetadata` record of an object, or undefined when there is none. */
  read(fullName: string, fieldXml: (schema: ObjectSchema, fieldName: string) => string): string | undefined {
    const schema = this.context.store.schema(fullName);
    if (!schema) return undefined;
    const stored = this.components.get(schema.name.toLowerCase())?.properties;
    const properties: MetadataComponent = stored
      ? { ...stored }
      : { label: schema.label, pluralLabel: schema.labelPlural, sharingModel: 'ReadWrite' };
    const nameField = schema.field('Name');
    if (stored && nameField && typeof properties.nameField === 'object' && properties.nameField !== null)
      properties.nameField = { ...(properties.nameField as object), label: nameField.label };
    else if (!stored && nameField?.type === 'string')
      properties.nameField = { label: nameField.label, type: 'Text' };
    delete properties.fullName;
    const fields = schema.fields
      .filter((f) => f.custom)
      .map((f) => `<fields>${fieldXml(schema, f.name)}</fields>`)
      .join('');
    return (
      '<records xsi:type="CustomObject">' +
      xmlElement('fullName', schema.name) +
      fields +
      propertiesXml(properties) +
      '</records>'
    );
  }

  private createOne(component: MetadataComponent): string {
    const fullName = nameOf(component);
    checkName(fullName);
    if (this.context.store.schema(fullName))
      throw new ComponentError(
        'DUPLICATE_DEVELOPER_NAME',
        `There is already a CustomObject named ${fullName}`,
      );
    const { label, pluralLabel, nameField, settingsType } = required(component);
    const fields: EmulatorFieldDefinition[] = [...systemFields()];
    if (component.sharingModel !== 'ControlledByParent' && !settingsType) fields.push(owner);
    let derive: ((row: EmulatorRecord) => void) | undefined;
    if (settingsType) {
      // Custom settings have no name field definition: `Name` (38 characters) and, for the
      // hierarchy type, the user, profile or org the values belong to (`SetupOwnerId`).
      fields.push({
        name: 'Name',
        type: 'string',
        length: 38,
        label: 'Name',
        required: settingsType === 'List',
      });
      if (settingsType === 'Hierarchy')
        fields.push({
          name: 'SetupOwnerId',
          type: 'reference',
          label: 'Location',
          referenceTo: ['Organization', 'User'],
          relationshipName: 'SetupOwner',
        });
    } else if (nameField.type === 'AutoNumber') {
      // Salesforce numbers auto-number names itself; `{0}`/`{000}` is the zero-padded counter.
      let next = Number(nameField.startingNumber ?? 0) || 0;
      const format = typeof nameField.displayFormat === 'string' ? nameField.displayFormat : '{0}';
      // SOAP API Field.autoNumber: "read only, non-createable text fields with a maximum length of 30".
      fields.push({ name: 'Name', type: 'string', length: 30, label: nameField.label, autoNumber: true });
      derive = (row) => {
        if (row.Name !== null && row.Name !== undefined) return;
        const n = next++;
        row.Name = format.replace(/\{(0+)\}/, (_, zeros: string) => String(n).padStart(zeros.length, '0'));
      };
    } else {
      fields.push({
        name: 'Name',
        type: 'string',
        length: 80,
        label: nameField.label,
        required: true,
        idLookup: true,
      });
    }
    for (const field of asList(component.fields)) fields.push(customField(field as MetadataComponent));
    this.context.store.addObject({
      name: fullName,
      label,
      labelPlural: pluralLabel,
      keyPrefix: this.freeKeyPrefix(),
      fields,
      ...(derive ? { derive } : {}),
    });
    const { fields: _fields, '@type': _type, ...properties } = component;
    this.components.set(fullName.toLowerCase(), { id: this.context.ids.next('01I'), properties });
    return fullName;
  }

  private updateOne(component: MetadataComponent): string {
    const schema = this.requireCustom(nameOf(component));
    const { label, pluralLabel, nameField, settingsType } = required(component);
    this.context.store.redefineObject(schema.name, { label, labelPlural: pluralLabel });
    const name = this.context.store.schema(schema.name)?.field('Name');
    if (name && !settingsType) name.label = nameField.label;
    // Fields are their own components (CustomField): new ones are added, existing ones kept.
    for (const field of asList(component.fields)) {
      const definition = customField(field as MetadataComponent);
      if (!this.context.store.schema(schema.name)?.field(definition.name))
        this.context.store.addField(schema.name, definition);
    }
    const { fields: _fields, '@type': _type, ...properties } = component;
    const entry = this.components.get(schema.name.toLowerCase());
    this.components.set(schema.name.toLowerCase(), {
      id: entry?.id ?? this.context.ids.next('01I'),
      properties: { ...properties, fullName: schema.name },
    });
    return schema.name;
  }

  private requireCustom(fullName: string): ObjectSchema {
    const schema = this.context.store.schema(fullName);
    if (!schema || !CUSTOM_OBJECT_NAME.test(schema.name))
      throw new ComponentError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no CustomObject named ${fullName} found`,
      );
    return schema;
  }

  /** Custom objects get `a00`, `a01`, … — the first prefix no object uses. */
  private freeKeyPrefix(): string {
    const used = new Set(this.context.store.schemas().map((s) => s.keyPrefix));
    const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (const second of digits)
      for (const third of digits) if (!used.has(`a${second}${third}`)) return `a${second}${third}`;
    throw new ComponentError('LIMIT_EXCEEDED', 'Too many custom objects');
  }
}

/** Rejects more than {@link MAX_COMPONENTS} and maps each item to its result, errors included. */
export function each<T>(items: T[], run: (item: T) => string, upsert = false): string {
  if (items.length > MAX_COMPONENTS) {
    throw new SoapFault(
      'INVALID_CROSS_REFERENCE_KEY',
      `Cannot process more than ${MAX_COMPONENTS} components in one call`,
    );
  }
  return items
    .map((item) => {
      try {
        return run(item);
      } catch (error) {
        if (!(error instanceof ComponentError)) throw error;
        const fullName = typeof item === 'string' ? item : nameOf(item as MetadataComponent);
        return (
          '<result>' +
          (upsert ? xmlElement('created', false) : '') +
          `<errors>${xmlElement('message', error.message)}${xmlElement('statusCode', error.statusCode)}</errors>` +
          xmlElement('fullName', fullName) +
          xmlElement('success', false) +
          '</result>'
        );
      }
    })
    .join('');
}

export function saveResult(fullName: string, success: boolean, created?: boolean): string {
  return (
    '<result>' +
    (created === undefined ? '' : xmlElement('created', created)) +
    xmlElement('fullName', fullName) +
    xmlElement('success', success) +
    '</result>'
  );
}

function nameOf(component: MetadataComponent): string {
  return typeof component.fullName === 'string' ? component.fullName.trim() : '';
}

/** Only CustomObject components are stored (CustomField only through createMetadata). */
function checkType(type: unknown): void {
  if (type !== 'CustomObject')
    throw new ComponentError('INVALID_TYPE', `The emulator does not store metadata of type ${String(type)}`);
}

function checkName(fullName: string): void {
  if (!CUSTOM_OBJECT_NAME.test(fullName)) {
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `The custom object name ${fullName} can only contain underscores and alphanumeric characters, must end in __c, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.`,
    );
  }
}

function required(component: MetadataComponent): {
  label: string;
  pluralLabel: string;
  nameField: { label: string; type: string; displayFormat?: unknown; startingNumber?: unknown };
  /** `customSettingsType` (`List`, `Hierarchy`) of a custom setting, else undefined. */
  settingsType: string | undefined;
} {
  const label = component.label;
  const pluralLabel = component.pluralLabel;
  const nameField = component.nameField as Record<string, unknown> | undefined;
  if (typeof label !== 'string' || label === '')
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      'Must specify a non-empty label for the CustomObject',
    );
  const settingsType = component.customSettingsType;
  if (settingsType !== undefined) {
    // A custom setting (customobject.htm `customSettingsType`) has neither plural label nor name field.
    if (settingsType !== 'List' && settingsType !== 'Hierarchy')
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `customSettingsType must be List or Hierarchy, not ${String(settingsType)}`,
      );
    return {
      label,
      pluralLabel: label,
      nameField: { label: 'Name', type: 'Text' },
      settingsType,
    };
  }
  if (typeof pluralLabel !== 'string' || pluralLabel === '')
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      'Must specify a non-empty plural label for the CustomObject',
    );
  if (typeof nameField !== 'object' || nameField === null || typeof nameField.label !== 'string')
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      'Must specify the name field (nameField) of the CustomObject',
    );
  const type = nameField.type === 'AutoNumber' ? 'AutoNumber' : 'Text';
  return {
    label,
    pluralLabel,
    nameField: { ...nameField, label: nameField.label, type },
    settingsType: undefined,
  };
}

/** A `CustomField` (inside an object or on its own, `fullName` `Object.Field__c`) as a store field. */
export function customField(component: MetadataComponent): EmulatorFieldDefinition {
  const fullName = nameOf(component);
  const name = fullName.includes('.') ? fullName.slice(fullName.indexOf('.') + 1) : fullName;
  if (!/^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$/.test(name))
    throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `Invalid custom field name ${fullName}`);
  const type = FIELD_TYPES[String(component.type ?? '')];
  if (!type)
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `The emulator has no field type ${String(component.type)}`,
    );
  const flag = (key: string): boolean => component[key] === true || component[key] === 'true';
  const number = (key: string): number | undefined =>
    component[key] === undefined ? undefined : Number(component[key]);
  const definition: EmulatorFieldDefinition = {
    name,
    type,
    externalId: flag('externalId'),
    unique: flag('unique'),
    required: flag('required'),
  };
  if (typeof component.label === 'string') definition.label = component.label;
  const length = number('length');
  if (length !== undefined) definition.length = length;
  const precision = number('precision');
  if (precision !== undefined) definition.precision = precision;
  const scale = number('scale');
  if (scale !== undefined) definition.scale = scale;
  if (type === 'reference') {
    definition.referenceTo = [String(component.referenceTo ?? '')];
    definition.relationshipName = `${String(component.relationshipName ?? name.replace(/__c$/, ''))}__r`;
  }
  return definition;
}
