import type { OrgStore } from '../store/org-store.js';
import type { EmulatorRecord } from '../store/schema.js';

/** Read-only activity views and whether they hold closed (history) or open tasks. */
const VIEWS: Readonly<Record<string, boolean>> = { activityhistory: true, openactivity: false };

/** `true`/`false` for ActivityHistory/OpenActivity (closed/open tasks), `undefined` for a real table. */
export function activityView(sobject: string): boolean | undefined {
  return VIEWS[sobject.toLowerCase()];
}

/**
 * Rows of an activity view (Object Reference "ActivityHistory", "OpenActivity"): the tasks whose
 * `IsClosed` matches, with `IsTask: true`, `ActivityType` from the task's `Type`, and `AccountId`
 * "the account associated with the WhatId, if it exists; or the account associated with the
 * WhoId, if it exists; otherwise null".
 */
export function activityRows(store: OrgStore, closed: boolean, includeDeleted: boolean): EmulatorRecord[] {
  const rows: EmulatorRecord[] = [];
  for (const task of store.rows('Task', { includeDeleted })) {
    if ((task.IsClosed === true) !== closed) continue;
    rows.push({ ...task, IsTask: true, ActivityType: task.Type ?? null, AccountId: accountOf(store, task) });
  }
  return rows;
}

function accountOf(store: OrgStore, task: EmulatorRecord): string | null {
  for (const key of ['WhatId', 'WhoId'] as const) {
    const id = task[key];
    if (typeof id !== 'string') continue;
    if (id.startsWith('001')) return id;
    const parent = store.get(id);
    if (typeof parent?.AccountId === 'string') return parent.AccountId;
  }
  return null;
}
