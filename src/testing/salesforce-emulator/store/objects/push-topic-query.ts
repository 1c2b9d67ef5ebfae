import type { Query } from '@jetstreamapp/soql-parser-js';
import { EmulatorHttpError } from '../../http/errors.js';
import { compileRowQuery } from '../../soql/execute.js';
import { parseQuery } from '../../soql/parser.js';
import { buildWhereTree, type WhereNode } from '../../soql/where.js';
import type { OrgStore } from '../org-store.js';
import { RecordFailure } from '../record-error.js';

/**
 * Checks a PushTopic's `Query` when the PushTopic is saved (Streaming API Developer Guide,
 * "Unsupported PushTopic Queries"): it must compile against the org (unknown object or field →
 * that error) and may not use what the guide lists — a SELECT without `Id`, relationship fields,
 * aggregates / COUNT / GROUP BY, semi- and anti-joins, LIMIT, ORDER BY or NOT — each refused with
 * `INVALID_FIELD` and the guide's message.
 *
 * @param now "now" for date literals in the query.
 * @throws {RecordFailure} the save error.
 */
export function checkPushTopicQuery(store: OrgStore, soql: string, now: Date): void {
  const refuse = (message: string): never => {
    throw new RecordFailure('INVALID_FIELD', message, ['Query']);
  };
  let query: Query;
  try {
    query = parseQuery(soql);
  } catch (error) {
    throw new RecordFailure('MALFORMED_QUERY', `unexpected token: ${firstLine(error)}`, ['Query']);
  }
  const fields = query.fields ?? [];
  if (query.groupBy || fields.some((f) => f.type === 'FieldFunctionExpression' && f.isAggregateFn))
    refuse('Aggregate queries are not supported');
  if (
    fields.some(
      (f) => f.type === 'FieldRelationship' || f.type === 'FieldSubquery' || f.type === 'FieldTypeof',
    )
  )
    refuse('relationships are not supported');
  if (query.limit !== undefined) refuse("'LIMIT' is not allowed");
  if (query.orderBy !== undefined) refuse("'ORDER BY' clause is not allowed");
  const tree = query.where ? safeTree(query) : undefined;
  if (tree) checkWhere(tree, refuse);
  if (!fields.some((f) => f.type === 'Field' && f.field.toLowerCase() === 'id'))
    refuse('The Id field must be selected in a PushTopic query');
  try {
    compileRowQuery(store, soql, { now });
  } catch (error) {
    if (error instanceof EmulatorHttpError)
      throw new RecordFailure(error.errorCode, error.message, ['Query']);
    throw error;
  }
}

function safeTree(query: Query): WhereNode {
  try {
    return buildWhereTree(query.where as NonNullable<Query['where']>);
  } catch (error) {
    throw new RecordFailure('MALFORMED_QUERY', `unexpected token: ${firstLine(error)}`, ['Query']);
  }
}

function checkWhere(node: WhereNode, refuse: (message: string) => never): void {
  if (node.kind === 'and' || node.kind === 'or') {
    for (const child of node.nodes) checkWhere(child, refuse);
    return;
  }
  if (node.kind === 'not') refuse("'NOT' is not supported");
  if (node.kind !== 'condition') return;
  const condition = node.condition as { field?: unknown; valueQuery?: unknown };
  if (condition.valueQuery !== undefined) refuse('semi/anti join sub-selects are not supported');
  if (typeof condition.field === 'string' && condition.field.includes('.'))
    refuse('relationships are not supported');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
