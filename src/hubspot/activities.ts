import { createAbortError } from '../core/errors.js';
import {
  type CrmBulkSyncResult,
  type CrmEmailActivity,
  type CrmEmailActivityInput,
  CrmEmailActivitySchema,
  type CrmSyncResult,
  parseModel,
  toFieldIssues,
} from '../core/models.js';
import type { CrmBulkSyncOptions, CrmCallOptions } from '../core/provider.js';
import { HUBSPOT_BATCH_SIZE } from './contacts.js';
import {
  type HubSpotBatchResponse,
  type HubSpotContext,
  type HubSpotObject,
  objectsPath,
} from './context.js';
import { contactIdsByExternalId } from './lists.js';

/** HubSpot email engagements know sent and bounced; opens, clicks and unsubscribes are logged as sent emails with a subject saying what happened. */
const STATUS: Record<CrmEmailActivity['activityType'], string> = {
  sent: 'SENT',
  opened: 'SENT',
  clicked: 'SENT',
  bounced: 'BOUNCED',
  unsubscribed: 'SENT',
};

function properties(activity: CrmEmailActivity, context: HubSpotContext): Record<string, string> {
  const campaign = activity.campaignExternalId ? ` (campaign ${activity.campaignExternalId})` : '';
  return {
    hs_timestamp: activity.occurredAt.toISOString(),
    hs_email_direction: 'EMAIL',
    hs_email_status: STATUS[activity.activityType],
    hs_email_subject: `MarkMail: email ${activity.activityType}${campaign}`,
    [context.activityIdProperty]: activity.externalId,
  };
}

function failed(
  activity: { externalId: string },
  code: string,
  message: string,
  syncedAt: Date,
  fields?: string[],
): CrmSyncResult {
  return {
    entityType: 'email_activity',
    externalId: activity.externalId,
    success: false,
    error: { code, message, ...(fields?.length ? { fields } : {}) },
    syncedAt,
  };
}

/**
 * Logs up to 100 activities as email engagements: one batch upsert keyed on the activity id
 * property (so a repeat is an update, never a second engagement), then the new ones are
 * associated with their contact.
 */
async function logBatch(
  context: HubSpotContext,
  batch: CrmEmailActivity[],
  signal: AbortSignal | undefined,
): Promise<CrmSyncResult[]> {
  const syncedAt = context.now();
  const contacts = await contactIdsByExternalId(
    context,
    [...new Set(batch.map((a) => a.contactExternalId))],
    signal,
  );
  const ready = batch.filter((a) => contacts.has(a.contactExternalId));
  const byKey = new Map<string, HubSpotObject & { new?: boolean }>();
  const errors = new Map<string, string>();
  if (ready.length) {
    const { body } = await context.client.request<HubSpotBatchResponse<HubSpotObject & { new?: boolean }>>({
      operation: 'batch upsert email engagements',
      method: 'POST',
      path: `${objectsPath(context, 'emails')}/batch/upsert`,
      body: {
        inputs: ready.map((activity) => {
          const { [context.activityIdProperty]: _key, ...rest } = properties(activity, context);
          return {
            idProperty: context.activityIdProperty,
            id: activity.externalId,
            objectWriteTraceId: activity.externalId,
            properties: rest,
          };
        }),
      },
      idempotent: true,
      signal,
    });
    for (const result of body.results ?? []) {
      const key = result.properties?.[context.activityIdProperty];
      if (key) byKey.set(key, result);
    }
    for (const error of body.errors ?? []) {
      const key = error.context?.objectWriteTraceId?.[0] ?? error.context?.ids?.[0];
      if (key) errors.set(key, error.subCategory ?? error.category ?? 'HUBSPOT_ERROR');
    }
  }
  const out: CrmSyncResult[] = [];
  for (const activity of batch) {
    const contactId = contacts.get(activity.contactExternalId);
    if (!contactId) {
      out.push(
        failed(
          activity,
          'CONTACT_NOT_FOUND',
          'No HubSpot contact has the activity contact host id',
          syncedAt,
          ['contactExternalId'],
        ),
      );
      continue;
    }
    const error = errors.get(activity.externalId);
    const result = byKey.get(activity.externalId);
    if (error || !result) {
      out.push(
        failed(
          activity,
          error ?? 'MISSING_RESULT',
          `HubSpot rejected the email engagement: ${error ?? 'no result'}`,
          syncedAt,
        ),
      );
      continue;
    }
    if (result.new) {
      // v4 default association (email → contact); idempotent, so a retried run re-associates safely.
      await context.client.request({
        operation: 'associate email engagement with contact',
        method: 'PUT',
        path: `/crm/v4/objects/emails/${result.id}/associations/default/contacts/${contactId}`,
        idempotent: true,
        signal,
      });
    }
    out.push({
      entityType: 'email_activity',
      externalId: activity.externalId,
      crmId: result.id,
      success: true,
      created: result.new === true,
      syncedAt,
    });
  }
  return out;
}

/** Log one email activity (idempotent on its externalId). */
export async function logEmailActivity(
  context: HubSpotContext,
  input: CrmEmailActivityInput,
  options: CrmCallOptions = {},
): Promise<CrmSyncResult> {
  const activity = parseModel(CrmEmailActivitySchema, input, 'email activity');
  const [result] = await logBatch(context, [activity], options.signal);
  return result!;
}

/** Log many email activities, 100 per batch; invalid ones fail locally and the rest go on. */
export async function logEmailActivities(
  context: HubSpotContext,
  inputs: Iterable<CrmEmailActivityInput> | AsyncIterable<CrmEmailActivityInput>,
  options: CrmBulkSyncOptions = {},
): Promise<CrmBulkSyncResult> {
  const callsBefore = context.client.requests;
  const retriesBefore = context.client.retries;
  const results: CrmSyncResult[] = [];
  let batch: CrmEmailActivity[] = [];
  let slots: number[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const outcome = await logBatch(context, batch, options.signal);
    slots.forEach((slot, i) => {
      results[slot] = outcome[i]!;
    });
    batch = [];
    slots = [];
    const done = results.filter(Boolean);
    options.onProgress?.({ done: done.length, failed: done.filter((r) => !r.success).length });
  };
  for await (const raw of inputs as AsyncIterable<CrmEmailActivityInput>) {
    if (options.signal?.aborted) throw createAbortError(options.signal);
    const parsed = CrmEmailActivitySchema.safeParse(raw);
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.error, undefined, raw);
      results.push(
        failed(
          { externalId: typeof raw?.externalId === 'string' ? raw.externalId : '' },
          'DATA_CONVERSION',
          `Invalid email activity: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
          context.now(),
          issues.map((i) => i.field),
        ),
      );
      continue;
    }
    // A repeated key in one batch would be refused as a duplicate id: send it with the next batch.
    if (batch.length === HUBSPOT_BATCH_SIZE || batch.some((a) => a.externalId === parsed.data.externalId))
      await flush();
    slots.push(results.length);
    results.push(undefined as unknown as CrmSyncResult);
    batch.push(parsed.data);
  }
  await flush();
  return {
    total: results.length,
    success: results.filter((r) => r.success).length,
    failed: results.filter((r) => !r.success).length,
    results,
    apiCalls: context.client.requests - callsBefore,
    retries: context.client.retries - retriesBefore,
    mode: 'rest',
  };
}
