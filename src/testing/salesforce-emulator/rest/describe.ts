import type { ObjectSchema, ResolvedField } from '../store/schema.js';

function urls(version: string, name: string): Record<string, string> {
  const base = `/services/data/${version}/sobjects/${name}`;
  return {
    compactLayouts: `${base}/describe/compactLayouts`,
    rowTemplate: `${base}/{ID}`,
    defaultValues: `${base}/defaultValues?recordTypeId&fields`,
    describe: `${base}/describe`,
    sobject: base,
  };
}

/** The per-object entry of describeGlobal (`GET /sobjects`). */
export function describeGlobalEntry(schema: ObjectSchema, version: string): Record<string, unknown> {
  return {
    activateable: false,
    createable: schema.createable,
    custom: schema.name.endsWith('__c'),
    customSetting: false,
    deepCloneable: false,
    deletable: schema.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: schema.keyPrefix === '' ? null : schema.keyPrefix,
    label: schema.label,
    labelPlural: schema.labelPlural,
    layoutable: true,
    mergeable: schema.name === 'Account' || schema.name === 'Contact' || schema.name === 'Lead',
    mruEnabled: true,
    name: schema.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: schema.deletable,
    updateable: schema.updateable,
    urls: urls(version, schema.name),
  };
}

/** The body of `GET /sobjects` (describeGlobal). */
export function describeGlobal(schemas: ObjectSchema[], version: string): Record<string, unknown> {
  return {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: schemas.map((s) => describeGlobalEntry(s, version)),
  };
}

const SOAP_TYPES: Record<string, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  boolean: 'xsd:boolean',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  address: 'urn:address',
  base64: 'xsd:base64Binary',
};

/** One entry of describe `fields[]`. */
export function describeField(field: ResolvedField): Record<string, unknown> {
  const textual = ![
    'boolean',
    'date',
    'datetime',
    'double',
    'currency',
    'percent',
    'int',
    'address',
  ].includes(field.type);
  // Compound fields can be selected but not filtered, grouped or sorted on.
  const plain = field.type !== 'textarea' && field.type !== 'address' && field.type !== 'base64';
  return {
    aggregatable: plain,
    autoNumber: field.autoNumber,
    byteLength: textual ? field.length * 3 : 0,
    calculated: field.calculated,
    calculatedFormula: null,
    cascadeDelete: field.cascadeDelete,
    caseSensitive: field.caseSensitive,
    compoundFieldName: field.compoundFieldName ?? null,
    controllerName: null,
    createable: field.createable,
    custom: field.custom,
    defaultValue: field.defaultValue ?? null,
    defaultValueFormula: null,
    defaultedOnCreate:
      field.autoNumber ||
      field.defaultValue !== undefined ||
      field.type === 'boolean' ||
      field.type === 'id' ||
      field.name === 'OwnerId',
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: field.type === 'int' ? field.precision : 0,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: field.externalId,
    extraTypeInfo: null,
    filterable: plain,
    filteredLookupInfo: null,
    groupable: plain,
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: field.idLookup,
    inlineHelpText: null,
    label: field.label,
    length: textual ? field.length : 0,
    mask: null,
    maskType: null,
    name: field.name,
    nameField: field.name === 'Name',
    namePointing: field.referenceTo.length > 1,
    nillable: field.nillable,
    permissionable: !field.required && field.type !== 'id' && !field.calculated,
    picklistValues: field.picklistValues.map((value, index) => ({
      active: true,
      defaultValue: field.defaultValue === value || (index === 0 && false),
      label: value,
      validFor: null,
      value,
    })),
    polymorphicForeignKey: field.referenceTo.length > 1,
    precision: ['double', 'currency', 'percent'].includes(field.type) ? field.precision : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: field.referenceTo,
    relationshipName: field.relationshipName ?? null,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: false,
    scale: field.scale,
    searchPrefilterable: false,
    soapType: SOAP_TYPES[field.type] ?? 'xsd:string',
    sortable: plain,
    type: field.type,
    unique: field.unique,
    updateable: field.updateable,
    writeRequiresMasterRead: false,
  };
}

/** The body of `GET /sobjects/{name}/describe`. */
export function describeObject(schema: ObjectSchema, version: string): Record<string, unknown> {
  return {
    ...describeGlobalEntry(schema, version),
    actionOverrides: [],
    childRelationships: schema.childRelationships.map((child) => ({
      cascadeDelete: child.cascadeDelete,
      childSObject: child.childSObject,
      deprecatedAndHidden: false,
      field: child.field,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: child.relationshipName,
      restrictedDelete: false,
    })),
    compactLayoutable: true,
    fields: schema.fields.map(describeField),
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [
      {
        active: true,
        available: true,
        defaultRecordTypeMapping: true,
        developerName: 'Master',
        master: true,
        name: 'Master',
        recordTypeId: '012000000000000AAA',
        urls: {
          layout: `/services/data/${version}/sobjects/${schema.name}/describe/layouts/012000000000000AAA`,
        },
      },
    ],
    searchLayoutable: true,
    supportedScopes: [{ label: 'All', name: 'everything' }],
  };
}
