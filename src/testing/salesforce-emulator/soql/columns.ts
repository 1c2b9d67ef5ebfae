import type { FieldType, Query } from '@jetstreamapp/soql-parser-js';
import { EmulatorHttpError } from '../http/errors.js';
import type { OrgStore } from '../store/org-store.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';
import { parseQuery } from './parser.js';

/** One entry of the `columnMetadata` the query resource returns for `?columns=true`. */
export interface QueryColumn {
  aggregate: boolean;
  apexType: string | null;
  booleanType: boolean;
  columnName: string;
  custom: boolean;
  displayName: string;
  foreignKeyName: string | null;
  insertable: boolean;
  joinColumns: QueryColumn[];
  numberType: boolean;
  textType: boolean;
  updatable: boolean;
}

const APEX_TYPES: Record<string, string> = {
  id: 'Id',
  reference: 'Id',
  boolean: 'Boolean',
  date: 'Date',
  datetime: 'Datetime',
  double: 'Double',
  currency: 'Decimal',
  percent: 'Decimal',
  int: 'Integer',
};

function fieldColumn(field: ResolvedField, displayName: string): QueryColumn {
  return {
    aggregate: false,
    apexType: APEX_TYPES[field.type] ?? 'String',
    booleanType: field.type === 'boolean',
    columnName: field.name,
    custom: field.custom,
    displayName,
    foreignKeyName: null,
    insertable: field.createable,
    joinColumns: [],
    numberType: ['double', 'currency', 'percent', 'int'].includes(field.type),
    textType: !['boolean', 'date', 'datetime', 'double', 'currency', 'percent', 'int'].includes(field.type),
    updatable: field.updateable,
  };
}

function structural(
  columnName: string,
  displayName: string,
  aggregate: boolean,
  joinColumns: QueryColumn[],
): QueryColumn {
  return {
    aggregate,
    apexType: null,
    booleanType: false,
    columnName,
    custom: false,
    displayName,
    foreignKeyName: null,
    insertable: false,
    joinColumns,
    numberType: false,
    textType: false,
    updatable: false,
  };
}

/**
 * The body of `GET /query?q=…&columns=true` (used by `sf data query` to lay out its table):
 * `{ columnMetadata, entityName, groupBy, idSelected, keyPrefix }`. Undocumented by Salesforce;
 * shape taken from what `@salesforce/plugin-data` reads.
 *
 * @throws {EmulatorHttpError} for unparseable queries or unknown objects/fields.
 */
export function describeQueryColumns(store: OrgStore, soql: string): Record<string, unknown> {
  let query: Query;
  try {
    query = parseQuery(soql);
  } catch {
    throw new EmulatorHttpError(400, 'MALFORMED_QUERY', 'unexpected token in query');
  }
  const schema = store.schema(query.sObject ?? '');
  if (!schema)
    throw new EmulatorHttpError(
      400,
      'INVALID_TYPE',
      `sObject type '${query.sObject ?? ''}' is not supported.`,
    );
  const columns = columnsOf(store, schema, query.fields ?? []);
  return {
    columnMetadata: columns,
    entityName: schema.name,
    groupBy: query.groupBy !== undefined,
    idSelected: columns.some((c) => c.columnName === 'Id'),
    keyPrefix: schema.keyPrefix,
  };
}

function columnsOf(store: OrgStore, schema: ObjectSchema, fields: FieldType[]): QueryColumn[] {
  const columns: QueryColumn[] = [];
  let expression = 0;
  for (const field of fields) {
    switch (field.type) {
      case 'Field': {
        const resolved = schema.field(field.field);
        if (!resolved)
          throw new EmulatorHttpError(
            400,
            'INVALID_FIELD',
            `No such column '${field.field}' on entity '${schema.name}'.`,
          );
        columns.push(fieldColumn(resolved, resolved.name));
        break;
      }
      case 'FieldRelationship':
        columns.push(relationshipColumn(store, schema, field.relationships, field.field));
        break;
      case 'FieldFunctionExpression': {
        if (field.functionName.toUpperCase() === 'FIELDS') {
          for (const f of schema.fields) columns.push(fieldColumn(f, f.name));
          break;
        }
        const name = field.alias ?? `expr${expression++}`;
        columns.push(structural(name, field.rawValue ?? name, true, []));
        break;
      }
      case 'FieldSubquery': {
        const child = schema.childRelationships.find(
          (c) => c.relationshipName.toLowerCase() === field.subquery.relationshipName.toLowerCase(),
        );
        const childSchema = child ? store.schema(child.childSObject) : undefined;
        if (!child || !childSchema) {
          throw new EmulatorHttpError(
            400,
            'INVALID_TYPE',
            `Didn't understand relationship '${field.subquery.relationshipName}'`,
          );
        }
        columns.push(
          structural(
            child.relationshipName,
            child.relationshipName,
            true,
            columnsOf(store, childSchema, field.subquery.fields ?? []),
          ),
        );
        break;
      }
      default:
        break;
    }
  }
  return columns;
}

function relationshipColumn(
  store: OrgStore,
  schema: ObjectSchema,
  path: string[],
  leaf: string,
): QueryColumn {
  const [head, ...rest] = path;
  const reference = head === undefined ? undefined : schema.relationship(head);
  const target = reference?.referenceTo.map((name) => store.schema(name)).find((s) => s !== undefined);
  if (!reference || !target)
    throw new EmulatorHttpError(
      400,
      'INVALID_FIELD',
      `No such column '${head ?? ''}' on entity '${schema.name}'.`,
    );
  let inner: QueryColumn;
  if (rest.length === 0) {
    const field = target.field(leaf);
    if (!field)
      throw new EmulatorHttpError(
        400,
        'INVALID_FIELD',
        `No such column '${leaf}' on entity '${target.name}'.`,
      );
    inner = fieldColumn(field, `${reference.relationshipName}.${field.name}`);
  } else {
    inner = relationshipColumn(store, target, rest, leaf);
  }
  const column = structural(
    reference.relationshipName as string,
    reference.relationshipName as string,
    false,
    [inner],
  );
  column.foreignKeyName = reference.name;
  return column;
}
