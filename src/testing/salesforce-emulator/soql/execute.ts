import type { FieldType, OrderByClause, Query, ValueQueryCondition } from '@jetstreamapp/soql-parser-js';
import { EmulatorHttpError } from '../http/errors.js';
import { isSalesforceIdShape, toId18 } from '../ids.js';
import { readField } from '../store/compound.js';
import type { OrgStore } from '../store/org-store.js';
import type { EmulatorRecord, ObjectSchema, ResolvedField } from '../store/schema.js';
import { activityRows, activityView } from './activity-views.js';
import {
  type DateRange,
  dateLiteralRange,
  parseDateLiteral,
  parseStringLiteral,
  type SoqlValue,
} from './literals.js';
import { parseQuery } from './parser.js';
import { buildWhereTree, type WhereNode } from './where.js';

/** A query result before paging: projected records shaped as the REST API returns them. */
export interface EmulatorQueryResult {
  /** Object queried (canonical name). */
  sobject: string;
  /** `COUNT()` queries: the count, with no records. */
  totalSize: number;
  records: Array<Record<string, unknown>>;
  /** Whether the query was `SELECT COUNT() …`. */
  isCount: boolean;
  /** Top-level column paths in SELECT order (e.g. `Id`, `Account.Name`), for CSV writers. */
  columns: string[];
}

/** Options for {@link executeSoql}. */
export interface ExecuteSoqlOptions {
  /** queryAll semantics: include recycle-bin rows. @default false */
  includeDeleted?: boolean;
  /** API version for `attributes.url`. @default 62 */
  apiVersion?: number;
  /** "Now" for date literals. */
  now: Date;
}

type RowPredicate = (row: EmulatorRecord) => boolean;

interface Resolved {
  /** Reads the value from a row (following parent relationships). */
  read: (row: EmulatorRecord) => unknown;
  field: ResolvedField;
}

/**
 * Runs a SOQL query against the store: parsed with `@jetstreamapp/soql-parser-js`, evaluated here.
 * Supports field lists with parent relationships, child sub-queries, `FIELDS(ALL|STANDARD|CUSTOM)`,
 * WHERE (comparisons, LIKE, IN/NOT IN incl. semi-joins, AND/OR/NOT, parentheses, NULL,
 * date/datetime literals and date literals), ORDER BY, LIMIT, OFFSET, `COUNT()` and
 * `COUNT(field)` without GROUP BY.
 *
 * @throws {EmulatorHttpError} 400 `MALFORMED_QUERY`, `INVALID_TYPE` or `INVALID_FIELD`.
 */
export function executeSoql(store: OrgStore, soql: string, options: ExecuteSoqlOptions): EmulatorQueryResult {
  let parsed: Query;
  try {
    parsed = parseQuery(soql);
  } catch (error) {
    throw new EmulatorHttpError(400, 'MALFORMED_QUERY', `unexpected token: ${firstLine(error)}`);
  }
  const result = new QueryRunner(store, soql, options).run(parsed);
  if ((parsed.for === 'VIEW' || parsed.for === 'REFERENCE') && !result.isCount) {
    const ids = result.records.map((r) => r.Id).filter((id): id is string => typeof id === 'string');
    store.markViewed(ids, parsed.for === 'VIEW' ? 'view' : 'reference');
  }
  return result;
}

/** A single-object query compiled to test and project one row at a time (PushTopic queries). */
export interface RowQuery {
  /** Object queried (canonical name). */
  sobject: string;
  /** Whether a row satisfies the WHERE clause (`true` without one). */
  matches: (row: EmulatorRecord) => boolean;
  /** The row in the SELECT's shape, without `attributes`. */
  project: (row: EmulatorRecord) => Record<string, unknown>;
  /** Canonical names of the fields the SELECT lists. */
  selectFields: string[];
  /** Canonical names of the fields the WHERE clause compares. */
  whereFields: string[];
}

/**
 * Compiles a query to be evaluated against single rows, as a PushTopic's query is evaluated
 * against each changed record.
 *
 * @throws {EmulatorHttpError} 400 `MALFORMED_QUERY`, `INVALID_TYPE` or `INVALID_FIELD`.
 */
export function compileRowQuery(store: OrgStore, soql: string, options: ExecuteSoqlOptions): RowQuery {
  let parsed: Query;
  try {
    parsed = parseQuery(soql);
  } catch (error) {
    throw new EmulatorHttpError(400, 'MALFORMED_QUERY', `unexpected token: ${firstLine(error)}`);
  }
  return new QueryRunner(store, soql, options).rowQuery(parsed);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

class QueryRunner {
  private readonly version: number;

  constructor(
    private readonly store: OrgStore,
    private readonly soql: string,
    private readonly options: ExecuteSoqlOptions,
    /** A child sub-query: the only place activity views may be read. */
    private readonly nested = false,
  ) {
    this.version = options.apiVersion ?? 62;
  }

  run(query: Query): EmulatorQueryResult {
    const schema = this.objectSchema(query.sObject ?? '');
    if (!this.nested && activityView(schema.name) !== undefined) {
      // Object Reference: ActivityHistory/OpenActivity support describeSObjects() only; their rows
      // are read as a relationship sub-query of the parent (`(SELECT … FROM ActivityHistories)`).
      throw new EmulatorHttpError(
        400,
        'INVALID_TYPE_FOR_OPERATION',
        `entity type ${schema.name} does not support query`,
      );
    }
    if (query.having) {
      throw new EmulatorHttpError(400, 'MALFORMED_QUERY', 'HAVING is not supported by the emulator');
    }
    const fields = query.fields ?? [];
    const predicate = query.where ? this.compileWhere(schema, buildTree(query.where)) : () => true;
    let rows = this.candidates(schema, query).filter(predicate);

    if (query.groupBy) return this.grouped(schema, query, rows);
    const aggregates = fields.filter((f) => f.type === 'FieldFunctionExpression' && f.isAggregateFn);
    if (aggregates.length > 0) {
      if (aggregates.length !== fields.length) {
        throw this.malformed('Field must be grouped or aggregated');
      }
      const only = aggregates[0] as Extract<FieldType, { type: 'FieldFunctionExpression' }>;
      if (
        fields.length === 1 &&
        only.functionName.toUpperCase() === 'COUNT' &&
        only.parameters.length === 0
      ) {
        return { sobject: schema.name, totalSize: rows.length, records: [], isCount: true, columns: [] };
      }
      return {
        sobject: schema.name,
        totalSize: 1,
        records: [this.aggregateRow(schema, aggregates, rows)],
        isCount: false,
        columns: aggregateKeys(aggregates),
      };
    }

    if (query.orderBy) rows = this.sort(schema, rows, toArray(query.orderBy));
    const offset = query.offset ?? 0;
    if (offset > 2000) {
      throw new EmulatorHttpError(400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
    }
    rows = rows.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
    const projection = this.projection(schema, fields);
    return {
      sobject: schema.name,
      totalSize: rows.length,
      records: rows.map((row) => projection(row)),
      isCount: false,
      columns: this.columns(schema, fields),
    };
  }

  rowQuery(query: Query): RowQuery {
    const schema = this.objectSchema(query.sObject ?? '');
    const fields = query.fields ?? [];
    const tree = query.where ? buildTree(query.where) : undefined;
    const predicate = tree ? this.compileWhere(schema, tree) : () => true;
    const projection = this.projection(schema, fields);
    const selectFields = fields.flatMap((f) =>
      f.type === 'Field' ? [schema.field(f.field)?.name ?? f.field] : [],
    );
    const whereFields: string[] = [];
    const walk = (node: WhereNode): void => {
      if (node.kind === 'and' || node.kind === 'or') node.nodes.forEach(walk);
      else if (node.kind === 'not') walk(node.node);
      else if ('field' in node.condition && typeof node.condition.field === 'string') {
        const field = schema.field(node.condition.field);
        if (field) whereFields.push(field.name);
      }
    };
    if (tree) walk(tree);
    return {
      sobject: schema.name,
      matches: predicate,
      project: (row) => {
        const { attributes: _attributes, ...rest } = projection(row);
        return rest;
      },
      selectFields,
      whereFields,
    };
  }

  /** `GROUP BY` on plain or parent fields, with aggregate functions; ORDER BY on selected columns. */
  private grouped(schema: ObjectSchema, query: Query, rows: EmulatorRecord[]): EmulatorQueryResult {
    const groupFields = toArray(query.groupBy as NonNullable<Query['groupBy']>).map((clause) => {
      if (!('field' in clause)) throw this.malformed('GROUP BY functions are not supported by the emulator');
      return { path: clause.field, resolved: this.plain(schema, clause.field, 'grouped') };
    });
    const aggregates: FieldType[] = [];
    const outputs: Array<{ key: string; group?: number }> = [];
    for (const field of query.fields ?? []) {
      if (field.type === 'FieldFunctionExpression' && field.isAggregateFn) {
        aggregates.push(field);
        outputs.push({ key: aggregateKeys(aggregates).at(-1) as string });
        continue;
      }
      const path =
        field.type === 'Field'
          ? field.field
          : field.type === 'FieldRelationship'
            ? [...field.relationships, field.field].join('.')
            : undefined;
      const group =
        path === undefined ? -1 : groupFields.findIndex((g) => g.path.toLowerCase() === path.toLowerCase());
      if (group < 0) throw this.malformed('Field must be grouped or aggregated');
      outputs.push({ key: (groupFields[group] as { resolved: Resolved }).resolved.field.name, group });
    }
    const groups = new Map<string, { values: unknown[]; rows: EmulatorRecord[] }>();
    for (const row of rows) {
      const values = groupFields.map((g) => g.resolved.read(row) ?? null);
      const key = JSON.stringify(values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)));
      const entry = groups.get(key);
      if (entry) entry.rows.push(row);
      else groups.set(key, { values, rows: [row] });
    }
    let records = [...groups.values()].map(({ values, rows: members }) => {
      const computed = this.aggregateRow(schema, aggregates, members);
      const record: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
      for (const output of outputs) {
        record[output.key] = output.group === undefined ? computed[output.key] : values[output.group];
      }
      return record;
    });
    if (query.orderBy) {
      const clauses = toArray(query.orderBy).map((clause) => {
        const name = 'field' in clause ? clause.field : (clause.fn.alias ?? clause.fn.rawValue ?? '');
        const output = outputs.find((o) => o.key.toLowerCase() === name.split('.').pop()?.toLowerCase());
        if (!output) throw this.malformed(`ORDER BY ${name} must be a selected column of the grouped query`);
        return { key: output.key, descending: clause.order === 'DESC' };
      });
      records = records.sort((a, b) => {
        for (const clause of clauses) {
          const left = a[clause.key] as string | number | null;
          const right = b[clause.key] as string | number | null;
          if (left === right) continue;
          if (left === null) return clause.descending ? 1 : -1;
          if (right === null) return clause.descending ? -1 : 1;
          const order = left < right ? -1 : 1;
          return clause.descending ? -order : order;
        }
        return 0;
      });
    }
    const offset = query.offset ?? 0;
    records = records.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
    return {
      sobject: schema.name,
      totalSize: records.length,
      records,
      isCount: false,
      columns: outputs.map((o) => o.key),
    };
  }

  private objectSchema(name: string): ObjectSchema {
    const schema = this.store.schema(name);
    if (!schema) {
      throw new EmulatorHttpError(
        400,
        'INVALID_TYPE',
        `${this.position(name)}sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return schema;
  }

  /** Salesforce prefixes query errors with the query and a caret under the offending token. */
  private position(token: string): string {
    const index = Math.max(0, this.soql.toLowerCase().indexOf(token.toLowerCase()));
    return `\n${this.soql}\n${' '.repeat(index)}^\nERROR at Row:1:Column:${index + 1}\n`;
  }

  private malformed(message: string): EmulatorHttpError {
    return new EmulatorHttpError(400, 'MALFORMED_QUERY', message);
  }

  private invalidField(schema: ObjectSchema, path: string): EmulatorHttpError {
    return new EmulatorHttpError(
      400,
      'INVALID_FIELD',
      `${this.position(path)}No such column '${path.split('.').pop()}' on entity '${schema.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }

  /** Uses the id / external-id indexes when a top-level conjunct pins the key. */
  private candidates(schema: ObjectSchema, query: Query): EmulatorRecord[] {
    const includeDeleted = this.options.includeDeleted ?? false;
    const closed = activityView(schema.name);
    if (closed !== undefined) return activityRows(this.store, closed, includeDeleted);
    if (query.where) {
      const tree = buildTree(query.where);
      const conjuncts = tree.kind === 'and' ? tree.nodes : [tree];
      for (const node of conjuncts) {
        if (node.kind !== 'condition') continue;
        const condition = node.condition as { field?: string; operator: string; value?: string | string[] };
        if (!condition.field || condition.field.includes('.') || condition.value === undefined) continue;
        if (condition.operator !== '=' && condition.operator !== 'IN') continue;
        const field = schema.field(condition.field);
        if (!field || !(field.type === 'id' || field.externalId || field.unique)) continue;
        const values = (Array.isArray(condition.value) ? condition.value : [condition.value]).map(
          parseStringLiteral,
        );
        const rows: EmulatorRecord[] = [];
        const seen = new Set<string>();
        for (const value of values) {
          if (field.type === 'id') {
            const row = this.store.get(value, { includeDeleted });
            if (row && this.store.schemaForId(row.Id as string) === schema && !seen.has(row.Id as string)) {
              seen.add(row.Id as string);
              rows.push(row);
            }
          } else if (!includeDeleted) {
            for (const id of this.store.findByExternalId(schema.name, field.name, value)) {
              const row = this.store.get(id);
              if (row && !seen.has(id)) {
                seen.add(id);
                rows.push(row);
              }
            }
          } else {
            return [...this.store.rows(schema.name, { includeDeleted })];
          }
        }
        return rows;
      }
    }
    return [...this.store.rows(schema.name, { includeDeleted })];
  }

  /** Resolves a field used in WHERE, GROUP BY or ORDER BY, where compound fields are refused. */
  private plain(schema: ObjectSchema, path: string, use: 'filtered' | 'grouped' | 'sorted'): Resolved {
    const resolved = this.resolve(schema, path);
    if (resolved.field.type === 'address') {
      throw new EmulatorHttpError(
        400,
        'INVALID_FIELD',
        `${this.position(path)}field '${resolved.field.name}' can not be ${use} in a query call`,
      );
    }
    return resolved;
  }

  /** Resolves `Field` or `Rel.Rel.Field` against a schema. */
  private resolve(schema: ObjectSchema, path: string): Resolved {
    const parts = path.split('.');
    // A leading object-name prefix (`Contact.Email`) is allowed in SOQL.
    if (
      parts.length > 1 &&
      (parts[0] as string).toLowerCase() === schema.name.toLowerCase() &&
      !schema.relationship(parts[0] as string)
    ) {
      parts.shift();
    }
    if (parts.length === 1) {
      const field = schema.field(parts[0] as string);
      if (!field) throw this.invalidField(schema, path);
      if (field.type === 'address') return { field, read: (row) => readField(schema, field, row) };
      const name = field.name;
      return { field, read: (row) => row[name] };
    }
    const reference = schema.relationship(parts[0] as string);
    if (!reference) throw this.invalidField(schema, path);
    const rest = parts.slice(1).join('.');
    const targets = reference.referenceTo
      .map((name) => this.store.schema(name))
      .filter((s): s is ObjectSchema => !!s);
    let inner: Resolved | undefined;
    for (const target of targets) {
      try {
        inner = this.resolve(target, rest);
        break;
      } catch {
        // Polymorphic reference: try the next target type.
      }
    }
    if (!inner) throw this.invalidField(schema, path);
    const innerRead = inner.read;
    const referenceName = reference.name;
    return {
      field: inner.field,
      read: (row) => {
        const id = row[referenceName];
        if (typeof id !== 'string') return null;
        const parent = this.store.get(id, { includeDeleted: true });
        return parent ? innerRead(parent) : null;
      },
    };
  }

  private compileWhere(schema: ObjectSchema, node: WhereNode): RowPredicate {
    switch (node.kind) {
      case 'and': {
        const parts = node.nodes.map((n) => this.compileWhere(schema, n));
        return (row) => parts.every((p) => p(row));
      }
      case 'or': {
        const parts = node.nodes.map((n) => this.compileWhere(schema, n));
        return (row) => parts.some((p) => p(row));
      }
      case 'not': {
        const inner = this.compileWhere(schema, node.node);
        return (row) => !inner(row);
      }
      case 'condition':
        return this.compileCondition(schema, node.condition);
    }
  }

  private compileCondition(
    schema: ObjectSchema,
    condition: WhereNode & { kind: 'condition' } extends { condition: infer C } ? C : never,
  ): RowPredicate {
    if (!('field' in condition)) {
      throw this.malformed('Functions in WHERE are not supported by the emulator');
    }
    const resolved = this.plain(schema, condition.field, 'filtered');
    const operator = condition.operator.toUpperCase();
    if ('valueQuery' in condition && condition.valueQuery) {
      const values = this.semiJoinValues((condition as ValueQueryCondition).valueQuery);
      const read = resolved.read;
      return operator === 'NOT IN'
        ? (row) => !values.has(String(read(row)))
        : (row) => values.has(String(read(row)));
    }
    const rawValues = (condition as { value: string | string[] }).value;
    const literalTypes = (condition as { literalType?: string | string[] }).literalType;
    const parseOne = (raw: string, index: number): SoqlValue =>
      this.literal(resolved.field, raw, Array.isArray(literalTypes) ? literalTypes[index] : literalTypes);
    const values = Array.isArray(rawValues) ? rawValues.map(parseOne) : [parseOne(rawValues, 0)];
    const { read, field } = resolved;
    const normalise = (v: unknown): unknown => normaliseFieldValue(field, v);
    switch (operator) {
      case 'IN':
        return (row) => values.some((value) => compare(normalise(read(row)), '=', value));
      case 'NOT IN':
        return (row) => values.every((value) => !compare(normalise(read(row)), '=', value));
      case 'LIKE': {
        const pattern = likePattern(String(values[0]));
        return (row) => {
          const value = read(row);
          return typeof value === 'string' && pattern.test(value);
        };
      }
      case 'INCLUDES':
      case 'EXCLUDES': {
        const wanted = values.map((v) => String(v).toLowerCase());
        const test = (row: EmulatorRecord) => {
          const value = read(row);
          if (typeof value !== 'string') return false;
          const picked = value.toLowerCase().split(';');
          return wanted.some((w) => w.split(';').every((part) => picked.includes(part)));
        };
        return operator === 'INCLUDES' ? test : (row) => !test(row);
      }
      default: {
        const value = values[0] as SoqlValue;
        return (row) => compare(normalise(read(row)), operator, value);
      }
    }
  }

  private semiJoinValues(subquery: Query): Set<string> {
    const result = new QueryRunner(this.store, this.soql, { ...this.options, includeDeleted: false }).run(
      subquery,
    );
    const column = result.columns[0];
    if (!column || result.columns.length !== 1)
      throw this.malformed('Semi-join sub-selects must select exactly one field');
    const values = new Set<string>();
    for (const record of result.records) {
      const value = column
        .split('.')
        .reduce<unknown>((acc, key) => (acc as Record<string, unknown> | null)?.[key], record);
      if (value !== null && value !== undefined) values.add(String(value));
    }
    return values;
  }

  /** Parses a WHERE literal for a field. */
  private literal(field: ResolvedField, raw: string, literalType: string | undefined): SoqlValue {
    switch (literalType) {
      case 'NULL':
        return null;
      case 'BOOLEAN':
        return raw.toUpperCase() === 'TRUE';
      case 'INTEGER':
      case 'DECIMAL':
        return Number(raw);
      case 'DATE':
      case 'DATETIME': {
        const ms = parseDateLiteral(raw);
        if (ms === undefined) throw this.malformed(`invalid date: ${raw}`);
        return field.type === 'date' && literalType === 'DATE' ? ms : ms;
      }
      case 'DATE_LITERAL':
      case 'DATE_N_LITERAL': {
        const range = dateLiteralRange(raw, this.options.now);
        if (!range) throw this.malformed(`unexpected token: ${raw}`);
        return range;
      }
      default: {
        const text = parseStringLiteral(raw);
        if (field.type === 'id' || field.type === 'reference')
          return isSalesforceIdShape(text) ? (toId18(text) as string) : text;
        return text;
      }
    }
  }

  private sort(schema: ObjectSchema, rows: EmulatorRecord[], clauses: OrderByClause[]): EmulatorRecord[] {
    const keys = clauses.map((clause) => {
      if (!('field' in clause)) throw this.malformed('ORDER BY functions are not supported by the emulator');
      const resolved = this.plain(schema, clause.field, 'sorted');
      const descending = clause.order === 'DESC';
      const nullsFirst = clause.nulls ? clause.nulls === 'FIRST' : !descending;
      return { resolved, descending, nullsFirst };
    });
    const decorated = rows.map((row) => ({
      row,
      values: keys.map((k) =>
        sortable(k.resolved.field, normaliseFieldValue(k.resolved.field, k.resolved.read(row))),
      ),
    }));
    decorated.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as (typeof keys)[number];
        const left = a.values[i];
        const right = b.values[i];
        if (left === right) continue;
        if (left === null || left === undefined) return key.nullsFirst ? -1 : 1;
        if (right === null || right === undefined) return key.nullsFirst ? 1 : -1;
        const order = left < right ? -1 : 1;
        return key.descending ? -order : order;
      }
      return 0;
    });
    return decorated.map((d) => d.row);
  }

  private aggregateRow(
    schema: ObjectSchema,
    aggregates: FieldType[],
    rows: EmulatorRecord[],
  ): Record<string, unknown> {
    const record: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
    const keys = aggregateKeys(aggregates);
    aggregates.forEach((aggregate, index) => {
      const fn = aggregate as Extract<FieldType, { type: 'FieldFunctionExpression' }>;
      const name = fn.functionName.toUpperCase();
      const param = fn.parameters[0];
      const key = keys[index] as string;
      if (typeof param !== 'string') {
        if (name === 'COUNT') record[key] = rows.length;
        else throw this.malformed(`${name} needs a field`);
        return;
      }
      const resolved = this.resolve(schema, param);
      const values = rows.map((row) => resolved.read(row)).filter((v) => v !== null && v !== undefined);
      switch (name) {
        case 'COUNT':
          record[key] = values.length;
          break;
        case 'COUNT_DISTINCT':
          record[key] = new Set(values.map((v) => String(v).toLowerCase())).size;
          break;
        case 'SUM':
          record[key] = values.length ? values.reduce<number>((s, v) => s + Number(v), 0) : null;
          break;
        case 'AVG':
          record[key] = values.length
            ? values.reduce<number>((s, v) => s + Number(v), 0) / values.length
            : null;
          break;
        case 'MIN':
        case 'MAX': {
          const sorted = [...values].sort((a, b) => {
            const l = sortable(resolved.field, a);
            const r = sortable(resolved.field, b);
            return l === r ? 0 : (l as number) < (r as number) ? -1 : 1;
          });
          record[key] = (name === 'MIN' ? sorted[0] : sorted[sorted.length - 1]) ?? null;
          break;
        }
        default:
          throw this.malformed(`Aggregate ${name} is not supported by the emulator`);
      }
    });
    return record;
  }

  private columns(schema: ObjectSchema, fields: FieldType[]): string[] {
    const columns: string[] = [];
    for (const field of fields) {
      if (field.type === 'Field') columns.push(this.resolveName(schema, field.field));
      else if (field.type === 'FieldRelationship')
        columns.push(field.rawValue ?? [...field.relationships, field.field].join('.'));
      else if (field.type === 'FieldFunctionExpression' && field.functionName.toUpperCase() === 'FIELDS') {
        columns.push(...this.fieldsFunction(schema, field.parameters[0]).map((f) => f.name));
      }
    }
    return columns;
  }

  private resolveName(schema: ObjectSchema, name: string): string {
    return schema.field(name)?.name ?? name;
  }

  private fieldsFunction(schema: ObjectSchema, parameter: unknown): ResolvedField[] {
    const which = String(parameter ?? '').toUpperCase();
    if (which === 'ALL') return schema.fields;
    if (which === 'STANDARD') return schema.fields.filter((f) => !f.custom);
    if (which === 'CUSTOM') return schema.fields.filter((f) => f.custom);
    throw this.malformed(`unexpected token: FIELDS(${String(parameter)})`);
  }

  /** Builds the function turning a stored row into the REST record shape. */
  private projection(
    schema: ObjectSchema,
    fields: FieldType[],
  ): (row: EmulatorRecord) => Record<string, unknown> {
    type Step = (row: EmulatorRecord, out: Record<string, unknown>) => void;
    const steps: Step[] = [];
    const relationshipPaths: string[][] = [];
    for (const field of fields) {
      switch (field.type) {
        case 'Field': {
          const resolved = schema.field(field.field);
          if (!resolved) {
            if (schema.relationship(field.field)) throw this.invalidField(schema, field.field);
            throw this.invalidField(schema, field.field);
          }
          const name = resolved.name;
          steps.push((row, out) => {
            out[name] = readField(schema, resolved, row);
          });
          break;
        }
        case 'FieldRelationship': {
          const path = [...field.relationships, field.field];
          if (
            path.length > 1 &&
            (path[0] as string).toLowerCase() === schema.name.toLowerCase() &&
            !schema.relationship(path[0] as string)
          ) {
            path.shift();
          }
          this.resolve(schema, path.join('.'));
          relationshipPaths.push(path);
          break;
        }
        case 'FieldFunctionExpression': {
          if (field.functionName.toUpperCase() !== 'FIELDS')
            throw this.malformed(`unexpected function ${field.functionName}`);
          for (const f of this.fieldsFunction(schema, field.parameters[0])) {
            const name = f.name;
            steps.push((row, out) => {
              out[name] = readField(schema, f, row);
            });
          }
          break;
        }
        case 'FieldSubquery': {
          steps.push(this.childStep(schema, field.subquery));
          break;
        }
        default:
          throw this.malformed('TYPEOF is not supported by the emulator');
      }
    }
    if (relationshipPaths.length > 0) steps.push(this.relationshipStep(schema, relationshipPaths));
    return (row) => {
      const out: Record<string, unknown> = { attributes: this.attributes(schema.name, row.Id as string) };
      for (const step of steps) step(row, out);
      return out;
    };
  }

  private attributes(type: string, id: string): { type: string; url: string } {
    return { type, url: `/services/data/v${this.version}.0/sobjects/${type}/${id}` };
  }

  /** Nested parent objects: `Account: { attributes, Name }` or `null` when the lookup is empty. */
  private relationshipStep(
    schema: ObjectSchema,
    paths: string[][],
  ): (row: EmulatorRecord, out: Record<string, unknown>) => void {
    const groups = new Map<string, string[][]>();
    const locals: string[] = [];
    for (const path of paths) {
      if (path.length === 1) {
        locals.push(path[0] as string);
        continue;
      }
      const head = (path[0] as string).toLowerCase();
      groups.set(head, [...(groups.get(head) ?? []), path.slice(1)]);
    }
    const steps: Array<(row: EmulatorRecord, out: Record<string, unknown>) => void> = [];
    for (const local of locals) {
      const field = schema.field(local) as ResolvedField;
      steps.push((row, out) => {
        out[field.name] = readField(schema, field, row);
      });
    }
    for (const [head, subPaths] of groups) {
      const reference = schema.relationship(head) as ResolvedField;
      const relationshipName = reference.relationshipName as string;
      const byType = new Map<string, (row: EmulatorRecord, out: Record<string, unknown>) => void>();
      steps.push((row, out) => {
        const id = row[reference.name];
        const parent = typeof id === 'string' ? this.store.get(id, { includeDeleted: true }) : undefined;
        if (!parent) {
          out[relationshipName] = null;
          return;
        }
        const parentSchema = this.store.schemaForId(id as string) as ObjectSchema;
        let step = byType.get(parentSchema.name);
        if (!step) {
          const valid = subPaths.filter((p) => {
            try {
              this.resolve(parentSchema, p.join('.'));
              return true;
            } catch {
              return false;
            }
          });
          step = this.relationshipStep(parentSchema, valid);
          byType.set(parentSchema.name, step);
        }
        const nested: Record<string, unknown> = {
          attributes: this.attributes(parentSchema.name, parent.Id as string),
        };
        step(parent, nested);
        out[relationshipName] = nested;
      });
    }
    return (row, out) => {
      for (const step of steps) step(row, out);
    };
  }

  /** Child sub-query (`SELECT Id, (SELECT Id FROM Contacts) FROM Account`). */
  private childStep(
    schema: ObjectSchema,
    subquery: Query & { relationshipName?: string },
  ): (row: EmulatorRecord, out: Record<string, unknown>) => void {
    const relationshipName = subquery.relationshipName ?? '';
    const child = schema.childRelationships.find(
      (c) => c.relationshipName.toLowerCase() === relationshipName.toLowerCase(),
    );
    if (!child) {
      throw new EmulatorHttpError(
        400,
        'INVALID_TYPE',
        `${this.position(relationshipName)}Didn't understand relationship '${relationshipName}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const childSchema = this.store.schema(child.childSObject) as ObjectSchema;
    const runner = new QueryRunner(this.store, this.soql, this.options, true);
    return (row, out) => {
      const where = {
        left: { field: child.field, operator: '=', literalType: 'STRING', value: `'${row.Id}'` },
      };
      const combined: Query = {
        ...subquery,
        sObject: childSchema.name,
        where: subquery.where
          ? { left: where.left as never, operator: 'AND', right: wrap(subquery.where) }
          : (where as never),
      };
      const result = runner.run(combined);
      out[child.relationshipName] =
        result.records.length === 0
          ? null
          : { totalSize: result.records.length, done: true, records: result.records };
    };
  }
}

/** Parenthesises a WHERE list so it can be AND-ed after another condition. */
function wrap(where: NonNullable<Query['where']>): NonNullable<Query['where']> {
  const copy = structuredClone(where) as { left: { openParen?: number } | null; right?: unknown };
  if (copy.left) copy.left.openParen = (copy.left.openParen ?? 0) + 1;
  else copy.left = { openParen: 1 };
  let last = copy as { left: { closeParen?: number } | null; right?: unknown };
  while (last.right) last = last.right as typeof last;
  if (last.left) last.left.closeParen = (last.left.closeParen ?? 0) + 1;
  return copy as NonNullable<Query['where']>;
}

/**
 * Output names of aggregate columns: the alias, else `exprN` where N counts only the aggregates
 * without an alias ("Using Aliases with GROUP BY" in the SOQL reference).
 */
function aggregateKeys(aggregates: FieldType[]): string[] {
  let unaliased = 0;
  return aggregates.map((a) => (a as { alias?: string }).alias ?? `expr${unaliased++}`);
}

function buildTree(where: NonNullable<Query['where']>): WhereNode {
  try {
    return buildWhereTree(where);
  } catch (error) {
    throw new EmulatorHttpError(400, 'MALFORMED_QUERY', firstLine(error));
  }
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Turns stored values into comparable scalars: datetimes/dates → epoch ms, text → lower case. */
function normaliseFieldValue(field: ResolvedField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (field.type === 'datetime' && typeof value === 'string') return Date.parse(`${value.slice(0, 23)}Z`);
  if (field.type === 'date' && typeof value === 'string') return Date.parse(`${value}T00:00:00Z`);
  return value;
}

function sortable(field: ResolvedField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && field.type !== 'id' && field.type !== 'reference')
    return value.toLowerCase();
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function isRange(value: SoqlValue): value is DateRange {
  return typeof value === 'object' && value !== null;
}

function compare(actual: unknown, operator: string, expected: SoqlValue): boolean {
  if (isRange(expected)) {
    if (typeof actual !== 'number') return operator === '!=' ? actual === null : false;
    switch (operator) {
      case '=':
        return actual >= expected.start && actual < expected.end;
      case '!=':
        return actual < expected.start || actual >= expected.end;
      case '<':
        return actual < expected.start;
      case '<=':
        return actual < expected.end;
      case '>':
        return actual >= expected.end;
      case '>=':
        return actual >= expected.start;
      default:
        return false;
    }
  }
  if (expected === null) {
    if (operator === '=') return actual === null;
    if (operator === '!=') return actual !== null;
    return false;
  }
  if (actual === null) return operator === '!=';
  let left: unknown = actual;
  let right: unknown = expected;
  if (typeof left === 'string' && typeof right === 'string') {
    left = left.toLowerCase();
    right = right.toLowerCase();
  } else if (typeof left === 'number' && typeof right === 'string') {
    right = Number(right);
  } else if (typeof left === 'boolean' && typeof right === 'string') {
    right = right.toLowerCase() === 'true';
  }
  switch (operator) {
    case '=':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>':
      return (left as number) > (right as number);
    case '>=':
      return (left as number) >= (right as number);
    default:
      return false;
  }
}

/** SOQL LIKE: `%` any run, `_` one character, `\%`/`\_` literal, case-insensitive. */
function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i] as string);
    } else if (ch === '%') {
      source += '[\\s\\S]*';
    } else if (ch === '_') {
      source += '[\\s\\S]';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`^${source}$`, 'i');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
