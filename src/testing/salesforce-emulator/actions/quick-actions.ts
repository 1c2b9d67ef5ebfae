import { formatDate } from '../dates.js';
import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { describeField } from '../rest/describe.js';
import { toHttpError } from '../rest/single-record-error.js';
import type { EmulatorRecord, EmulatorValue, ObjectSchema } from '../store/schema.js';

/** A standard global action of a new org's global publisher layout. */
interface QuickActionDefinition {
  name: string;
  label: string;
  /** `LogACall` or `Create` (the only invocable kinds with Update). */
  type: 'LogACall' | 'Create';
  targetSobjectType: string;
  /** Fields of the action layout, in order. */
  fields: string[];
  /** Predefined field values. */
  predefined: (today: string) => EmulatorRecord;
}

/**
 * The global actions the emulator offers (Help "Global Actions": Log a Call, New Task, New
 * Contact, New Opportunity, New Lead — those whose target objects are emulated).
 */
const GLOBAL_ACTIONS: readonly QuickActionDefinition[] = [
  {
    name: 'LogACall',
    label: 'Log a Call',
    type: 'LogACall',
    targetSobjectType: 'Task',
    fields: ['Subject', 'Description', 'WhoId', 'WhatId'],
    // A logged call is a completed call task dated today.
    predefined: (today) => ({
      Subject: 'Call',
      Status: 'Completed',
      ActivityDate: today,
      TaskSubtype: 'Call',
    }),
  },
  {
    name: 'NewTask',
    label: 'New Task',
    type: 'Create',
    targetSobjectType: 'Task',
    fields: ['Subject', 'ActivityDate', 'WhoId', 'WhatId', 'OwnerId', 'Status', 'Priority'],
    predefined: () => ({}),
  },
  {
    name: 'NewContact',
    label: 'New Contact',
    type: 'Create',
    targetSobjectType: 'Contact',
    fields: ['FirstName', 'LastName', 'AccountId', 'Title', 'Email', 'Phone'],
    predefined: () => ({}),
  },
  {
    name: 'NewOpportunity',
    label: 'New Opportunity',
    type: 'Create',
    targetSobjectType: 'Opportunity',
    fields: ['Name', 'AccountId', 'CloseDate', 'StageName', 'Amount'],
    predefined: () => ({}),
  },
  {
    name: 'NewLead',
    label: 'New Lead',
    type: 'Create',
    targetSobjectType: 'Lead',
    fields: ['FirstName', 'LastName', 'Email', 'Phone', 'Company', 'Title'],
    predefined: () => ({}),
  },
];

/**
 * Quick actions (REST "Quick Actions", "sObject Quick Actions"): `GET /quickActions` (global
 * actions), `GET /sobjects/X/quickActions` (an object's actions: the global ones, as the
 * resource returns "all actions—both global and standard"), `…/{name}/describe`,
 * `…/{name}/defaultValues[/{contextId}]` and `POST …/{name}` `{contextId, record}` creating the
 * target record with the predefined values, the context's lookup and the given fields.
 */
export const quickActionsModule: EmulatorModule = {
  name: 'quick-actions',
  create(context) {
    context.registerResource('quickActions');
    const bases = [
      '/services/data/:version/quickActions',
      '/services/data/:version/sobjects/:sobject/quickActions',
    ];
    for (const base of bases) {
      context.router.add({
        method: 'GET',
        pattern: base,
        kind: 'api',
        handler: (request) => {
          const prefix = prefixOf(context, request.versionSegment, request.params.sobject);
          return { status: 200, body: GLOBAL_ACTIONS.map((action) => listEntry(action, prefix)) };
        },
      });
      context.router.add({
        method: 'GET',
        pattern: `${base}/:action/describe`,
        kind: 'api',
        handler: (request) => {
          const prefix = prefixOf(context, request.versionSegment, request.params.sobject);
          const action = actionOf(request.params.action);
          return { status: 200, body: describeAction(context, action, prefix, request.params.sobject) };
        },
      });
      for (const suffix of ['defaultValues', 'defaultValues/:contextId']) {
        context.router.add({
          method: 'GET',
          pattern: `${base}/:action/${suffix}`,
          kind: 'api',
          handler: (request) => {
            prefixOf(context, request.versionSegment, request.params.sobject);
            const action = actionOf(request.params.action);
            return { status: 200, body: defaultValues(context, action, request.params.contextId) };
          },
        });
      }
      context.router.add({
        method: 'GET',
        pattern: `${base}/:action`,
        kind: 'api',
        handler: (request) => {
          const prefix = prefixOf(context, request.versionSegment, request.params.sobject);
          return { status: 200, body: listEntry(actionOf(request.params.action), prefix) };
        },
      });
      context.router.add({
        method: 'POST',
        pattern: `${base}/:action`,
        kind: 'api',
        handler: async (request) => {
          prefixOf(context, request.versionSegment, request.params.sobject);
          const action = actionOf(request.params.action);
          const body = (await request.json()) as { contextId?: unknown; record?: unknown } | null;
          const contextId = typeof body?.contextId === 'string' ? body.contextId : undefined;
          const given =
            typeof body?.record === 'object' && body.record !== null ? (body.record as EmulatorRecord) : {};
          const values: EmulatorRecord = { ...defaultValues(context, action, contextId), ...given };
          delete values.attributes;
          try {
            const result = context.store.applySingle({
              kind: 'insert',
              sobject: action.targetSobjectType,
              values,
            });
            return {
              status: 201,
              body: {
                contextId: contextId ?? null,
                created: true,
                errors: [],
                feedItemIds: [],
                id: result.id,
                success: true,
              },
            };
          } catch (error) {
            throw toHttpError(error);
          }
        },
      });
    }
    return undefined;
  },
};

function prefixOf(context: EmulatorModuleContext, version: string, sobject: string | undefined): string {
  if (sobject === undefined) return `/services/data/${version}/quickActions`;
  const schema = context.store.schema(sobject);
  if (!schema) throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  return `/services/data/${version}/sobjects/${schema.name}/quickActions`;
}

function actionOf(name: string | undefined): QuickActionDefinition {
  const action = GLOBAL_ACTIONS.find((a) => a.name.toLowerCase() === (name ?? '').toLowerCase());
  if (!action) throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  return action;
}

function listEntry(action: QuickActionDefinition, prefix: string): Record<string, unknown> {
  return {
    actionEnumOrId: action.name,
    label: action.label,
    name: action.name,
    type: action.type,
    urls: {
      defaultValues: `${prefix}/${action.name}/defaultValues`,
      quickAction: `${prefix}/${action.name}`,
      describe: `${prefix}/${action.name}/describe`,
      defaultValuesTemplate: `${prefix}/${action.name}/defaultValues/{ID}`,
    },
  };
}

function describeAction(
  context: EmulatorModuleContext,
  action: QuickActionDefinition,
  prefix: string,
  contextSobject: string | undefined,
): Record<string, unknown> {
  const schema = context.store.schema(action.targetSobjectType) as ObjectSchema;
  const items = action.fields.flatMap((name) => {
    const field = schema.field(name);
    return field ? [field] : [];
  });
  return {
    accessLevelRequired: null,
    actionEnumOrId: action.name,
    canvasApplicationId: null,
    canvasApplicationName: null,
    colors: [],
    contextSobjectType: contextSobject ? (context.store.schema(contextSobject)?.name ?? null) : null,
    defaultValues: [],
    flowDevName: null,
    flowRecordIdVar: null,
    height: null,
    iconName: null,
    iconUrl: null,
    icons: [],
    label: action.label,
    layout: {
      layoutRows: items.map((field) => ({
        layoutItems: [
          {
            editableForNew: field.createable,
            editableForUpdate: field.updateable,
            label: field.label,
            layoutComponents: [
              {
                details: describeField(field),
                displayLines: 1,
                tabOrder: 1,
                type: 'Field',
                value: field.name,
              },
            ],
            placeholder: false,
            required: field.required,
          },
        ],
        numItems: 1,
      })),
      numColumns: 1,
      numRows: items.length,
      useCollapsibleSection: false,
      useHeading: false,
      heading: null,
    },
    lightningComponentAttributeName: null,
    lightningComponentBundleId: null,
    lightningComponentBundleName: null,
    lightningComponentQualifiedName: null,
    miniIconUrl: null,
    mobileExtensionDisplayMode: null,
    mobileExtensionId: null,
    name: action.name,
    showQuickActionLcHeader: true,
    showQuickActionVfHeader: true,
    targetParentField: null,
    targetRecordTypeId: null,
    targetSobjectType: action.targetSobjectType,
    type: action.type,
    urls: listEntry(action, prefix).urls,
    visualforcePageName: null,
    visualforcePageUrl: null,
    width: null,
  };
}

/**
 * The record an action starts from: every layout field (null unless predefined), the predefined
 * values, and the context record in its lookup — a contact or lead as `WhoId`, another record as
 * `WhatId` for tasks, the account as `AccountId` for contacts and opportunities.
 */
function defaultValues(
  context: EmulatorModuleContext,
  action: QuickActionDefinition,
  contextId: string | undefined,
): EmulatorRecord & { attributes?: unknown } {
  const values: Record<string, EmulatorValue> = {};
  for (const name of action.fields) values[name] = null;
  Object.assign(values, action.predefined(formatDate(context.clock.now())));
  if (contextId !== undefined) {
    const row = context.store.get(contextId);
    const parent = row ? context.store.schemaForId(row.Id as string) : undefined;
    if (!row || !parent)
      throw new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const id = row.Id as string;
    if (action.targetSobjectType === 'Task') {
      if (parent.name === 'Contact' || parent.name === 'Lead') values.WhoId = id;
      else values.WhatId = id;
    } else if (parent.name === 'Account' && action.fields.includes('AccountId')) {
      values.AccountId = id;
    }
  }
  return { attributes: { type: action.targetSobjectType }, ...values } as EmulatorRecord & {
    attributes?: unknown;
  };
}
