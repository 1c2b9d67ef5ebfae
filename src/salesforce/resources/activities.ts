import { createHash } from 'node:crypto';
import { throwIfAborted } from '../../core/errors.js';
import {
  type CrmBulkSyncResult,
  type CrmEmailActivity,
  type CrmEmailActivityInput,
  CrmEmailActivitySchema,
  type CrmSyncResult,
  parseModel,
  toFieldIssues,
} from '../../core/models.js';
import type { CrmBulkSyncOptions, CrmCallOptions } from '../../core/provider.js';
import type { SalesforceRecord } from '../mapping.js';
import { chunks } from '../pool.js';
import { soqlString, soqlStringList } from '../soql.js';
import type { OperationCounters } from '../transport.js';
import { resolveContactIds } from './contacts.js';
import type { SalesforceContext } from './context.js';
import { COLLECTION_LIMIT, createCollection, queryAll, sliceArray, upsertCollection } from './query.js';
import {
  bulkSyncResult,
  issuesError,
  rawExternalId,
  recordError,
  recordFailure,
  syncResult,
} from './results.js';

const ACTIVITY_SUBJECT_MAX = 255;

/** An activity of the batch, its position in the input, its Task and the Subject marker. */
interface TaskToWrite {
  activity: CrmEmailActivity;
  index: number;
  task: SalesforceRecord;
  marker: string;
}

/** Key of an activity inside the Task Subject marker: readable when short and safe, hashed otherwise. */
export function activityMarkerKey(externalId: string): string {
  if (/^[A-Za-z0-9.:-]{1,64}$/.test(externalId)) return externalId;
  return `h${createHash('sha256').update(externalId).digest('hex').slice(0, 40)}`;
}

/**
 * Log one email activity as a completed `Task` (idempotent on its externalId).
 * @throws {CrmApiError} when it cannot be logged (e.g. `CONTACT_NOT_FOUND`).
 */
export async function logEmailActivity(
  context: SalesforceContext,
  input: CrmEmailActivityInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const activity = parseModel(CrmEmailActivitySchema, input, 'email activity');
  const result = await logEmailActivities(context, [activity], options);
  const first = result.results[0];
  if (!first) throw recordFailure('log email activity', { code: 'NO_RESULT', message: 'No result' });
  if (first.error) throw recordFailure('log email activity', first.error);
  return first;
}

/**
 * Log many email activities as `Task` records, 200 per request: Subject from the activity type
 * and campaign, `TaskSubtype` Email, `Status` Completed, `WhoId` the contact, `WhatId` the
 * campaign (when it exists in Salesforce), `ActivityDate` the day it occurred. An activity whose
 * externalId was logged before is reported as a success with `created: false`.
 */
export async function logEmailActivities(
  context: SalesforceContext,
  activities: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
  options: CrmBulkSyncOptions = {},
): Promise<CrmBulkSyncResult> {
  const { signal } = options;
  const counters: OperationCounters = { apiCalls: 0 };
  const results: CrmSyncResult[] = [];
  let index = 0;
  const numbered = (async function* () {
    for await (const raw of activities as AsyncIterable<CrmEmailActivityInput>) yield { raw, index: index++ };
  })();
  for await (const batch of chunks(numbered, COLLECTION_LIMIT)) {
    throwIfAborted(signal);
    const valid: Array<{ activity: CrmEmailActivity; index: number }> = [];
    for (const { raw, index: i } of batch) {
      const parsed = CrmEmailActivitySchema.safeParse(raw);
      if (parsed.success) valid.push({ activity: parsed.data, index: i });
      else {
        results[i] = syncResult(
          'email_activity',
          rawExternalId(raw),
          { error: issuesError(toFieldIssues(parsed.error)) },
          context.clock.now(),
        );
      }
    }
    if (valid.length) await logActivityBatch(context, valid, results, signal, counters);
    const failedSoFar = results.filter((r) => r && !r.success).length;
    options.onProgress?.({ done: results.filter(Boolean).length, failed: failedSoFar });
  }
  const dense = Array.from({ length: index }, (_, i) => results[i] as CrmSyncResult);
  return bulkSyncResult(dense, counters, 'rest');
}

async function logActivityBatch(
  context: SalesforceContext,
  batch: Array<{ activity: CrmEmailActivity; index: number }>,
  results: CrmSyncResult[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<void> {
  const toWrite = await buildTasks(context, batch, results, signal, counters);
  if (!toWrite.length) return;
  if (context.activityExternalIdField) {
    await upsertTasks(context, context.activityExternalIdField, toWrite, results, signal, counters);
  } else {
    await insertNewTasks(context, toWrite, results, signal, counters);
  }
}

/** The Task of every activity whose contact exists; the others fail with `CONTACT_NOT_FOUND`. */
async function buildTasks(
  context: SalesforceContext,
  batch: Array<{ activity: CrmEmailActivity; index: number }>,
  results: CrmSyncResult[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<TaskToWrite[]> {
  const contactIds = await resolveContactIds(
    context,
    batch.map((b) => b.activity.contactExternalId),
    signal,
    counters,
  );
  const campaigns = await campaignsByExternalId(context, batch, signal, counters);
  const toWrite: TaskToWrite[] = [];
  for (const { activity, index } of batch) {
    const whoId = contactIds.get(activity.contactExternalId);
    if (!whoId) {
      results[index] = syncResult(
        'email_activity',
        activity.externalId,
        {
          error: {
            code: 'CONTACT_NOT_FOUND',
            message: 'No Salesforce contact matches contactExternalId',
            fields: ['contactExternalId'],
          },
        },
        context.clock.now(),
      );
      continue;
    }
    const campaign = activity.campaignExternalId ? campaigns.get(activity.campaignExternalId) : undefined;
    const marker = `[mm:${activityMarkerKey(activity.externalId)}]`;
    const label = campaign?.Name ?? activity.campaignExternalId;
    let subject = `Email ${activity.activityType}${label ? `: ${label}` : ''}`;
    subject = `${subject.slice(0, ACTIVITY_SUBJECT_MAX - marker.length - 1)} ${marker}`;
    const task: SalesforceRecord = {
      Subject: subject,
      TaskSubtype: 'Email',
      Type: 'Email',
      Status: 'Completed',
      Priority: 'Normal',
      WhoId: whoId,
      ActivityDate: activity.occurredAt.toISOString().slice(0, 10),
      Description: [
        `MarkMail email ${activity.activityType} at ${activity.occurredAt.toISOString()}`,
        activity.metadata ? JSON.stringify(activity.metadata).slice(0, 30_000) : '',
      ]
        .filter(Boolean)
        .join('\n'),
    };
    if (campaign) task.WhatId = campaign.Id;
    if (context.activityExternalIdField) task[context.activityExternalIdField] = activity.externalId;
    toWrite.push({ activity, index, task, marker });
  }
  return toWrite;
}

/** The Salesforce campaigns the batch's activities name, by their external id. */
async function campaignsByExternalId(
  context: SalesforceContext,
  batch: Array<{ activity: CrmEmailActivity }>,
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<Map<string, { Id: string; Name?: string }>> {
  const keys = [...new Set(batch.map((b) => b.activity.campaignExternalId).filter((k): k is string => !!k))];
  const campaigns = new Map<string, { Id: string; Name?: string }>();
  if (!keys.length) return campaigns;
  const field = context.campaignExternalIdField;
  const rows = await queryAll<SalesforceRecord>(
    context,
    'query Campaign',
    `SELECT Id, Name, ${field} FROM Campaign WHERE ${field} IN ${soqlStringList(keys, 'campaignExternalId')}`,
    { signal, counters },
  );
  for (const row of rows) campaigns.set(String(row[field]), { Id: String(row.Id), Name: row.Name as string });
  return campaigns;
}

/** External-id mode: upsert the Tasks on `field`, so a repeat updates instead of duplicating. */
async function upsertTasks(
  context: SalesforceContext,
  field: string,
  toWrite: TaskToWrite[],
  results: CrmSyncResult[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<void> {
  const response = await upsertCollection(
    context,
    'Task',
    field,
    toWrite.map((w) => w.task),
    signal,
    counters,
  );
  for (const [i, w] of toWrite.entries()) {
    const r = response[i];
    results[w.index] = syncResult(
      'email_activity',
      w.activity.externalId,
      r?.success ? { crmId: r.id, created: r.created ?? true } : { error: recordError(r?.errors?.[0] ?? {}) },
      context.clock.now(),
    );
  }
}

/** Marker mode: look the Subject markers up, insert only the new ones. */
async function insertNewTasks(
  context: SalesforceContext,
  toWrite: TaskToWrite[],
  results: CrmSyncResult[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<void> {
  const existing = await existingMarkers(context, toWrite, signal, counters);
  const fresh: TaskToWrite[] = [];
  const freshMarkers = new Set<string>();
  for (const w of toWrite) {
    const id = existing.get(w.marker);
    if (id || freshMarkers.has(w.marker)) {
      results[w.index] = syncResult(
        'email_activity',
        w.activity.externalId,
        { crmId: id, created: false },
        context.clock.now(),
      );
    } else {
      freshMarkers.add(w.marker);
      fresh.push(w);
    }
  }
  if (!fresh.length) return;
  const response = await createCollection(
    context,
    'Task',
    fresh.map((w) => w.task),
    { signal, counters },
  );
  for (const [i, w] of fresh.entries()) {
    const r = response[i];
    results[w.index] = syncResult(
      'email_activity',
      w.activity.externalId,
      r?.success ? { crmId: r.id, created: true } : { error: recordError(r?.errors?.[0] ?? {}) },
      context.clock.now(),
    );
  }
  // Duplicates inside this batch point at the record just created.
  for (const w of toWrite) {
    const result = results[w.index];
    if (result && !result.crmId && result.success) {
      const twin = fresh.find((f) => f.marker === w.marker);
      const twinResult = twin ? results[twin.index] : undefined;
      if (twinResult?.crmId) result.crmId = twinResult.crmId;
    }
  }
}

/** Task ids by Subject marker, for the markers of `toWrite` that Salesforce already holds. */
async function existingMarkers(
  context: SalesforceContext,
  toWrite: TaskToWrite[],
  signal: AbortSignal | undefined,
  counters: OperationCounters,
): Promise<Map<string, string>> {
  const existing = new Map<string, string>();
  for (const part of sliceArray(toWrite, 100)) {
    const clauses = part.map((w) => `Subject LIKE ${soqlString(`%${w.marker}`, 'externalId')}`).join(' OR ');
    const rows = await queryAll<{ Id: string; Subject?: string }>(
      context,
      'query Task',
      `SELECT Id, Subject FROM Task WHERE TaskSubtype = 'Email' AND (${clauses})`,
      { signal, counters },
    );
    for (const row of rows) {
      const match = /\[mm:[^\]]+\]$/.exec(row.Subject ?? '');
      if (match) existing.set(match[0], row.Id);
    }
  }
  return existing;
}
