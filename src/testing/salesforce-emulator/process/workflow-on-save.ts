import type { OrgStore, StoreChange } from '../store/org-store.js';
import { meetsCriteria } from './criteria.js';
import type { ProcessDefinitions } from './process-definitions.js';
import { performActions } from './workflow-actions.js';
import type { WorkflowRuleDefinition } from './workflow-definition.js';

/** Origin of the writes workflow actions make: they do not evaluate rules again. */
export const WORKFLOW_ORIGIN = 'workflow';

/**
 * Evaluates workflow rules when records are saved (Help "Workflow Rule Evaluation Criteria"):
 * `onCreateOnly` on creation, `onAllChanges` on creation and every edit,
 * `onCreateOrTriggeringUpdate` on creation and on an edit that makes a record meet the criteria
 * it did not meet before. Actions run right after the save commits (not inside its transaction
 * [U]); their own writes are not evaluated again (no `reevaluateOnChange`). A failing action
 * undoes that rule's writes only.
 */
export function workflowOnSave(
  store: OrgStore,
  definitions: ProcessDefinitions,
  today: () => Date,
): (changes: readonly StoreChange[]) => void {
  return (changes) => {
    for (const change of changes) {
      if (change.origin === WORKFLOW_ORIGIN || !change.after) continue;
      if (change.kind !== 'create' && change.kind !== 'update') continue;
      const workflow = definitions.workflow(change.sobject);
      for (const rule of workflow?.rules ?? []) {
        if (!rule.active || !fires(rule, change)) continue;
        let transaction: { rollback(): void; end(): void };
        try {
          transaction = store.beginTransaction();
        } catch {
          continue;
        }
        try {
          store.withOrigin(WORKFLOW_ORIGIN, () =>
            performActions(store, definitions, change.sobject, change.id, rule.actions, today()),
          );
          transaction.end();
        } catch {
          transaction.rollback();
        }
      }
    }
  };
}

function fires(rule: WorkflowRuleDefinition, change: StoreChange): boolean {
  const met = (record: Record<string, unknown> | undefined): boolean =>
    record !== undefined &&
    (typeof rule.criteria === 'boolean' ? rule.criteria : meetsCriteria(rule.criteria, record));
  if (!met(change.after)) return false;
  switch (rule.triggerType) {
    case 'onCreateOnly':
      return change.kind === 'create';
    case 'onAllChanges':
      return true;
    case 'onCreateOrTriggeringUpdate':
      return change.kind === 'create' || !met(change.before);
    default:
      return false;
  }
}
