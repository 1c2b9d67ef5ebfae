import { compileRowQuery, type RowQuery } from '../soql/execute.js';
import type { OrgStore, StoreChange } from '../store/org-store.js';
import type { EmulatorRecord } from '../store/schema.js';

/** `event.type` of a PushTopic notification. */
export type PushTopicEventType = 'created' | 'updated' | 'deleted' | 'undeleted';

/** One notification to publish on `/topic/<topic>`. */
export interface PushTopicNotification {
  topic: string;
  type: PushTopicEventType;
  /** The SELECT's fields of the record (`Id` always). */
  sobject: Record<string, unknown>;
}

/** Fields the store maintains on every write; a change to them alone is not a field change. */
const SYSTEM_FIELDS = new Set(['LastModifiedDate', 'LastModifiedById', 'SystemModstamp']);

interface ActiveTopic {
  row: EmulatorRecord;
  query: RowQuery;
}

/**
 * The PushTopic notifications one write batch generates (Streaming API Developer Guide, "Event
 * Notification Rules"): each active PushTopic whose query is on the changed object notifies for
 * the operations its `NotifyForOperation*` flags allow, when the record matches the WHERE clause;
 * an update notifies only when a field chosen by `NotifyForFields` changed (`All`: any field;
 * `Referenced`: SELECT or WHERE fields; `Select`; `Where`). A topic whose query no longer compiles
 * (e.g. a field deleted since) is skipped.
 */
export function pushTopicNotifications(
  store: OrgStore,
  changes: readonly StoreChange[],
  now: Date,
): PushTopicNotification[] {
  if (!store.schema('PushTopic')) return [];
  const topics: ActiveTopic[] = [];
  for (const row of store.rows('PushTopic')) {
    if (row.IsActive === false) continue;
    try {
      topics.push({ row, query: compileRowQuery(store, String(row.Query ?? ''), { now }) });
    } catch {
      // Salesforce would have refused the query on save; the emulator skips it here.
    }
  }
  if (topics.length === 0) return [];
  const notifications: PushTopicNotification[] = [];
  for (const change of changes) {
    for (const { row, query } of topics) {
      if (query.sobject !== change.sobject) continue;
      const type = eventType(row, query, change);
      if (!type) continue;
      const record = (type === 'deleted' ? (change.before ?? change.after) : change.after) as EmulatorRecord;
      notifications.push({
        topic: String(row.Name),
        type,
        sobject: { Id: change.id, ...query.project(record) },
      });
    }
  }
  return notifications;
}

function eventType(
  topic: EmulatorRecord,
  query: RowQuery,
  change: StoreChange,
): PushTopicEventType | undefined {
  switch (change.kind) {
    case 'create':
      return topic.NotifyForOperationCreate !== false && query.matches(change.after as EmulatorRecord)
        ? 'created'
        : undefined;
    case 'update': {
      if (topic.NotifyForOperationUpdate === false) return undefined;
      if (!query.matches(change.after as EmulatorRecord)) return undefined;
      return fieldsChanged(topic, query, change) ? 'updated' : undefined;
    }
    case 'undelete':
      return topic.NotifyForOperationUndelete !== false && query.matches(change.after as EmulatorRecord)
        ? 'undeleted'
        : undefined;
    case 'delete':
    case 'hardDelete': {
      // Purging a row already in the recycle bin deletes nothing a subscriber has seen.
      if (!change.before || change.before.IsDeleted === true) return undefined;
      return topic.NotifyForOperationDelete !== false && query.matches(change.before) ? 'deleted' : undefined;
    }
  }
}

function fieldsChanged(topic: EmulatorRecord, query: RowQuery, change: StoreChange): boolean {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const changed = Object.keys({ ...before, ...after }).filter(
    (name) => !SYSTEM_FIELDS.has(name) && !sameValue(before[name], after[name]),
  );
  const mode = String(topic.NotifyForFields ?? 'Referenced');
  if (mode === 'All') return changed.length > 0;
  const watched = new Set(
    mode === 'Select'
      ? query.selectFields
      : mode === 'Where'
        ? query.whereFields
        : [...query.selectFields, ...query.whereFields],
  );
  return changed.some((name) => watched.has(name));
}

function sameValue(left: unknown, right: unknown): boolean {
  return left === right || JSON.stringify(left ?? null) === JSON.stringify(right ?? null);
}
