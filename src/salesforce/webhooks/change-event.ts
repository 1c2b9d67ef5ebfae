import { CrmWebhookError } from '../../core/errors.js';

/** Every `ChangeEventHeader.changeType` of Change Data Capture. */
export const SALESFORCE_CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
] as const;

/** A Change Data Capture change type. Gap types carry a header only: re-read the records. */
export type SalesforceChangeType = (typeof SALESFORCE_CHANGE_TYPES)[number];

/** The decoded `ChangeEventHeader` of a Change Data Capture event. */
export interface SalesforceChangeEventHeader {
  /** API name of the object, e.g. `Contact` or `Invoice__c`. */
  entityName: string;
  /**
   * Ids of the changed records: usually one; several when one transaction changed many records
   * the same way; empty for `GAP_OVERFLOW`; may be a wildcard like `003*` for some conversions.
   */
  recordIds: string[];
  changeType: SalesforceChangeType;
  /**
   * `com/salesforce/api/<api>/<version>;client=<tag>` for API changes (the `client=` part only
   * when the writer sent `Sforce-Call-Options: client=<tag>`), `''` otherwise. See
   * {@link changeEventClientTag} for echo suppression.
   */
  changeOrigin: string;
  /** Shared by every event of one transaction. */
  transactionKey: string;
  /** Order of this change within its transaction. */
  sequenceNumber: number;
  /** Commit time, ms since epoch. */
  commitTimestamp: number;
  /**
   * System change number, as text: Salesforce's value can exceed `Number.MAX_SAFE_INTEGER`.
   * Diagnostic only; `undefined` when absent.
   */
  commitNumber: string | undefined;
  /** Id of the user who committed the change. */
  commitUser: string;
  /** UPDATE only: the fields that changed (LastModifiedDate included); `[]` otherwise. */
  changedFields: string[];
  /** Fields explicitly set to null (`[]` when Salesforce did not send the list). */
  nulledFields: string[];
  /** Large text fields sent as a diff rather than a value. */
  diffFields: string[];
}

/** A decoded Change Data Capture event, as handed to `subscribeToChangeEvents`'s `onEvent`. */
export interface SalesforceChangeEvent {
  /** The channel it arrived on, e.g. `/data/ContactChangeEvent`. */
  channel: string;
  /** Opaque position in the event stream: store it, never compute with it. */
  replayId: number;
  /** Avro schema id of the payload, when sent. */
  schema: string | undefined;
  header: SalesforceChangeEventHeader;
  /**
   * Record fields of the event with compound fields flattened to their API names (`Name` →
   * `FirstName`, `LastName`, …; `MailingAddress` → `MailingStreet`, …). CREATE/UNDELETE carry
   * every non-empty field, UPDATE only the changed ones (`null` = set to null), DELETE and gap
   * events none.
   */
  fields: Record<string, unknown>;
  /** True for `GAP_*` change types (incl. overflow): the event carries no field values. */
  isGap: boolean;
}

/**
 * Decodes the `data` part of a CometD Change Data Capture message (`{ schema, payload: {
 * ChangeEventHeader, …fields }, event: { replayId } }`) into a {@link SalesforceChangeEvent}.
 * The header's array fields are optional on the wire and default to `[]`.
 *
 * @param data the message `data` the streaming client delivered.
 * @param channel the channel it came from.
 * @throws {CrmWebhookError} (`details.reason: 'invalid_change_event'`) when the shape is not a
 *   change event or a header field has the wrong type.
 */
export function decodeChangeEvent(data: unknown, channel: string): SalesforceChangeEvent {
  if (!isObject(data)) throw invalid('the message has no data object');
  const event = data.event;
  const replayId = isObject(event) ? event.replayId : undefined;
  if (typeof replayId !== 'number' || !Number.isFinite(replayId)) throw invalid('event.replayId is missing');
  const payload = data.payload;
  if (!isObject(payload)) throw invalid('payload is missing');
  const rawHeader = payload.ChangeEventHeader;
  if (!isObject(rawHeader)) throw invalid('payload.ChangeEventHeader is missing');

  const changeType = rawHeader.changeType;
  if (
    typeof changeType !== 'string' ||
    !(SALESFORCE_CHANGE_TYPES as readonly string[]).includes(changeType)
  ) {
    throw invalid('ChangeEventHeader.changeType is not a known change type');
  }
  const header: SalesforceChangeEventHeader = {
    entityName: requiredString(rawHeader, 'entityName'),
    recordIds: stringArray(rawHeader, 'recordIds'),
    changeType: changeType as SalesforceChangeType,
    changeOrigin: optionalString(rawHeader, 'changeOrigin') ?? '',
    transactionKey: optionalString(rawHeader, 'transactionKey') ?? '',
    sequenceNumber: optionalNumber(rawHeader, 'sequenceNumber') ?? 0,
    commitTimestamp: optionalNumber(rawHeader, 'commitTimestamp') ?? 0,
    commitNumber:
      rawHeader.commitNumber === undefined || rawHeader.commitNumber === null
        ? undefined
        : String(rawHeader.commitNumber),
    commitUser: optionalString(rawHeader, 'commitUser') ?? '',
    changedFields: stringArray(rawHeader, 'changedFields'),
    nulledFields: stringArray(rawHeader, 'nulledFields'),
    diffFields: stringArray(rawHeader, 'diffFields'),
  };
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (name === 'ChangeEventHeader') continue;
    flattenInto(fields, name, value);
  }
  return {
    channel,
    replayId,
    schema: typeof data.schema === 'string' ? data.schema : undefined,
    header,
    fields,
    isGap: header.changeType.startsWith('GAP_'),
  };
}

/** True for `GAP_CREATE` … `GAP_OVERFLOW`. */
export function isGapChangeType(changeType: SalesforceChangeType): boolean {
  return changeType.startsWith('GAP_');
}

/**
 * The `client=` tag of a `changeOrigin` (what the writer sent in `Sforce-Call-Options`), or
 * `undefined`. An event whose tag equals the SDK's own tag is an echo of the SDK's own write.
 *
 * @example
 * changeEventClientTag('com/salesforce/api/rest/62.0;client=markmail-crm') // 'markmail-crm'
 */
export function changeEventClientTag(changeOrigin: string): string | undefined {
  const match = /(?:^|;)\s*client=([^;]*)/.exec(changeOrigin);
  return match?.[1]?.trim() || undefined;
}

/** The CDC channel of an object: `Contact` → `/data/ContactChangeEvent`, `Foo__c` → `/data/Foo__ChangeEvent`. */
export function changeEventChannel(sobject: string): string {
  const base = sobject.endsWith('__c') ? sobject.slice(0, -1) : sobject;
  return `/data/${base}ChangeEvent`;
}

const COMPOUND_NAME_FIELDS = new Set(['Name']);

function flattenInto(target: Record<string, unknown>, name: string, value: unknown): void {
  if (isObject(value) && COMPOUND_NAME_FIELDS.has(name)) {
    for (const [sub, subValue] of Object.entries(value)) target[sub] = subValue;
    return;
  }
  if (isObject(value) && name.endsWith('Address')) {
    // `MailingAddress.Street` → `MailingStreet`; Lead's `Address.Street` → `Street`.
    const prefix = name.slice(0, -'Address'.length);
    for (const [sub, subValue] of Object.entries(value)) target[prefix + sub] = subValue;
    return;
  }
  target[name] = value;
}

function requiredString(header: Record<string, unknown>, name: string): string {
  const value = header[name];
  if (typeof value !== 'string' || value === '') throw invalid(`ChangeEventHeader.${name} is missing`);
  return value;
}

function optionalString(header: Record<string, unknown>, name: string): string | undefined {
  const value = header[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`ChangeEventHeader.${name} must be a string`);
  return value;
}

function optionalNumber(header: Record<string, unknown>, name: string): number | undefined {
  const value = header[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw invalid(`ChangeEventHeader.${name} must be a number`);
  return number;
}

function stringArray(header: Record<string, unknown>, name: string): string[] {
  const value = header[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalid(`ChangeEventHeader.${name} must be a list of strings`);
  }
  return [...(value as string[])];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): CrmWebhookError {
  return new CrmWebhookError(`Change event rejected: ${detail}`, {
    details: { reason: 'invalid_change_event' },
  });
}
