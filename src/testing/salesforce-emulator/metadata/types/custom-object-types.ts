import type { OrgStore } from '../../store/org-store.js';
import type { ObjectSchema, ResolvedField } from '../../store/schema.js';
import { ComponentError } from '../component-error.js';
import { asList, type MetadataComponent } from '../component-xml.js';
import { type CustomObjectMetadata, customField } from '../custom-objects.js';
import { fieldXml } from '../field-xml.js';
import type { MetadataTypeHandler } from '../metadata-types.js';

const CUSTOM = /__c$/i;

/**
 * `CustomObject` (`objects/X__c.object`, fields inline) and `CustomField` (`X.F__c`, a `<fields>`
 * of the object's file) through the same code as `createMetadata`/`updateMetadata`. A standard
 * object's file (`objects/Account.object`) adds its new custom fields only.
 */
export function customObjectTypes(objects: CustomObjectMetadata, store: OrgStore): MetadataTypeHandler[] {
  const fieldOf = (schema: ObjectSchema, name: string): string =>
    fieldXml(schema, schema.field(name) as ResolvedField, name);
  const standard = (fullName: string): ObjectSchema | undefined => {
    const schema = store.schema(fullName);
    return schema && !CUSTOM.test(schema.name) ? schema : undefined;
  };
  const customObject: MetadataTypeHandler = {
    type: 'CustomObject',
    directory: 'objects',
    suffix: 'object',
    validate(item) {
      if (standard(item.fullName)) {
        for (const field of asList(item.component.fields)) customField(field as MetadataComponent);
        return;
      }
      objects.validateDeploy(item.component);
    },
    apply(item) {
      const schema = standard(item.fullName);
      if (!schema) return objects.deploy(item.component);
      for (const field of asList(item.component.fields)) {
        const definition = customField(field as MetadataComponent);
        if (!schema.field(definition.name)) store.addField(schema.name, definition);
      }
      return { created: false, id: '' };
    },
    retrieve(fullName) {
      const innerXml = objects.fileXml(fullName, fieldOf);
      return innerXml === undefined ? undefined : { innerXml };
    },
    list: () =>
      store
        .schemas()
        .filter((s) => CUSTOM.test(s.name))
        .map((s) => s.name),
  };
  const split = (fullName: string): { object: string; field: string } => {
    const dot = fullName.indexOf('.');
    return { object: fullName.slice(0, Math.max(dot, 0)), field: fullName.slice(dot + 1) };
  };
  const customFieldType: MetadataTypeHandler = {
    type: 'CustomField',
    directory: 'objects',
    suffix: 'object',
    parent: { type: 'CustomObject', element: 'fields' },
    validate(item, scope) {
      const { object } = split(item.fullName);
      if (!store.schema(object) && !scope.includes('CustomObject', object))
        throw new ComponentError(
          'INVALID_CROSS_REFERENCE_KEY',
          `In field: fullName - no CustomObject named ${object} found`,
        );
      customField(item.component);
    },
    apply(item) {
      const { object } = split(item.fullName);
      const definition = customField(item.component);
      const schema = store.schema(object);
      if (!schema)
        throw new ComponentError(
          'INVALID_CROSS_REFERENCE_KEY',
          `In field: fullName - no CustomObject named ${object} found`,
        );
      if (schema.field(definition.name)) return { created: false, id: '' };
      store.addField(schema.name, definition);
      return { created: true, id: '' };
    },
    retrieve(fullName) {
      const { object, field } = split(fullName);
      const schema = store.schema(object);
      const resolved = schema?.field(field);
      if (!schema || !resolved?.custom) return undefined;
      return { innerXml: fieldXml(schema, resolved, resolved.name) };
    },
    list: () =>
      store.schemas().flatMap((s) => s.fields.filter((f) => f.custom).map((f) => `${s.name}.${f.name}`)),
  };
  return [customObject, customFieldType];
}
