import type { OrgStore } from '../store/org-store.js';
import { meetsCriteria } from './criteria.js';
import type { ProcessDefinitions } from './process-definitions.js';
import { ProcessError } from './process-records.js';
import { performActions } from './workflow-actions.js';

/**
 * `POST /process/rules` (REST "Trigger Process Rules"): every active workflow rule of each
 * record's object is evaluated, and the actions of those whose criteria the record meets are
 * performed. All or nothing: one failure rolls every write back.
 *
 * @throws {ProcessError} for an id that is no record of the org, or a failed action.
 */
export function triggerRules(
  store: OrgStore,
  definitions: ProcessDefinitions,
  contextIds: readonly string[],
  today: Date,
): void {
  const transaction = store.beginTransaction();
  try {
    for (const id of contextIds) {
      const record = store.get(id);
      const schema = store.schemaForId(id);
      if (!record || !schema)
        throw new ProcessError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${id}`);
      const workflow = definitions.workflow(schema.name);
      for (const rule of workflow?.rules ?? []) {
        if (!rule.active) continue;
        const current = store.get(id) ?? record;
        const met =
          typeof rule.criteria === 'boolean' ? rule.criteria : meetsCriteria(rule.criteria, current);
        if (met) performActions(store, definitions, schema.name, id, rule.actions, today);
      }
    }
    transaction.end();
  } catch (error) {
    transaction.rollback();
    throw error;
  }
}
