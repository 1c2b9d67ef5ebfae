import type { OrgStore } from '../store/org-store.js';
import type { ProcessDefinitions } from './process-definitions.js';
import { ProcessError, write } from './process-records.js';
import type { ActionReference } from './workflow-definition.js';

/**
 * Performs workflow actions on a record (Help "Workflow Actions"): a field update writes its
 * field (a literal as the field's type reads it, null, or a text formula); a task creates a Task
 * related to the record (`WhatId`, or `WhoId` for contacts and leads), owned by the record's owner
 * or creator, due `dueDateOffset` days from today.
 */
export function performActions(
  store: OrgStore,
  definitions: ProcessDefinitions,
  object: string,
  recordId: string,
  actions: readonly ActionReference[],
  today: Date,
): void {
  for (const action of actions) {
    const record = store.get(recordId);
    if (!record) throw new ProcessError('ENTITY_IS_DELETED', 'entity is deleted');
    if (action.type === 'FieldUpdate') {
      const update = definitions.fieldUpdate(object, action.name);
      if (!update)
        throw new ProcessError('INVALID_CROSS_REFERENCE_KEY', `No field update ${action.name} on ${object}`);
      if (update.operation === 'Literal' && update.literalValue) {
        write(
          store,
          [{ kind: 'update', id: recordId, values: { [update.field]: update.literalValue } }],
          true,
        );
        continue;
      }
      const value = update.operation === 'Formula' ? (update.formula?.evaluate(record) ?? null) : null;
      write(store, [{ kind: 'update', id: recordId, values: { [update.field]: value } }]);
      continue;
    }
    const task = definitions.task(object, action.name);
    if (!task) throw new ProcessError('INVALID_CROSS_REFERENCE_KEY', `No task ${action.name} on ${object}`);
    const due = new Date(today.getTime() + task.dueDateOffset * 86_400_000).toISOString().slice(0, 10);
    const taskSchema = store.schema('Task');
    const relation = taskSchema?.field('WhoId')?.referenceTo.includes(object) ? 'WhoId' : 'WhatId';
    const owner =
      task.assignedToType === 'creator' ? record.CreatedById : (record.OwnerId ?? record.CreatedById);
    write(store, [
      {
        kind: 'insert',
        sobject: 'Task',
        values: {
          Subject: task.subject,
          Status: task.status,
          Priority: task.priority,
          ActivityDate: due,
          OwnerId: owner,
          [relation]: recordId,
          ...(task.description ? { Description: task.description } : {}),
        },
      },
    ]);
  }
}

/** Whether Task can be related to records of `object` (its `WhatId` or `WhoId` lists it). */
export function taskRelatesTo(store: OrgStore, object: string): boolean {
  const task = store.schema('Task');
  return Boolean(
    task?.field('WhatId')?.referenceTo.includes(object) || task?.field('WhoId')?.referenceTo.includes(object),
  );
}
