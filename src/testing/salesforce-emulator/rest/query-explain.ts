import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorResponse } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';

/** One entry of `plans` in a query-plan answer (REST "Get Feedback on Query Performance"). */
export interface EmulatorQueryPlan {
  cardinality: number;
  fields: string[];
  leadingOperationType: 'TableScan' | 'Index' | 'Other' | 'Sharing';
  notes: Array<{ description: string; fields: string[]; tableEnumOrId: string }>;
  relativeCost: number;
  sobjectCardinality: number;
  sobjectType: string;
}

/**
 * Resolves the `explain` parameter to SOQL: a query as is, or (through `resolveId`) the query
 * behind a list view or report id. `undefined` = not an id the emulator knows.
 */
export type ExplainSourceResolver = (value: string) => string | undefined;

/**
 * `GET /query?explain=…`: the emulator keeps no indexes beyond the id and external-id maps, so it
 * answers with one plan — an `Index` plan when the WHERE clause compares `Id` or an external id
 * to a value, otherwise a `TableScan` whose relative cost is the share of rows matched (Salesforce
 * reports costs above 1 as non-selective; a full scan of a small object stays below).
 */
export function explainQuery(
  context: EmulatorModuleContext,
  explain: string,
  resolveId: ExplainSourceResolver,
): EmulatorResponse {
  const soql = /^\s*select\s/i.test(explain) ? explain : resolveId(explain.trim());
  if (soql === undefined) {
    throw new EmulatorHttpError(
      400,
      'MALFORMED_QUERY',
      `explain: ${explain} is neither a query, a list view nor a report id`,
    );
  }
  const result = context.query(soql);
  const schema = context.store.schema(result.sobject);
  const sobjectCardinality = context.store.count(result.sobject);
  const cardinality = result.isCount ? result.totalSize : result.records.length;
  const indexed = (schema?.indexedFields() ?? []).map((f) => f.name);
  const where =
    /\swhere\s([\s\S]*?)(\sorder\s+by\s|\sgroup\s+by\s|\slimit\s|\soffset\s|$)/i.exec(soql)?.[1] ?? '';
  const used = indexed.filter((name) => new RegExp(`\\b${name}\\s*(=|in\\b)`, 'i').test(where));
  const plan: EmulatorQueryPlan =
    used.length > 0
      ? {
          cardinality,
          fields: used,
          leadingOperationType: 'Index',
          notes: [],
          relativeCost: 0,
          sobjectCardinality,
          sobjectType: result.sobject,
        }
      : {
          cardinality,
          fields: [],
          leadingOperationType: 'TableScan',
          notes: [],
          relativeCost:
            sobjectCardinality === 0 ? 0 : Math.round((cardinality / sobjectCardinality) * 1e4) / 1e4,
          sobjectCardinality,
          sobjectType: result.sobject,
        };
  return { status: 200, body: { plans: [plan] } };
}
