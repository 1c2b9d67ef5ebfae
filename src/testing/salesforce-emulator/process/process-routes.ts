import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import type { ApprovalEngine, ApprovalRequest, ApprovalResult } from './approval-engine.js';
import type { ProcessDefinitions } from './process-definitions.js';
import { ProcessError } from './process-records.js';
import type { WorkflowRuleDefinition } from './workflow-definition.js';
import { triggerRules } from './workflow-engine.js';

/** A rule as `GET /process/rules` lists it (REST "Get a List of Process Rules"). */
function ruleBody(rule: WorkflowRuleDefinition, definitions: ProcessDefinitions) {
  return {
    actions: rule.actions.map((action) => ({
      id:
        action.type === 'FieldUpdate'
          ? (definitions.fieldUpdate(rule.object, action.name)?.id ?? '')
          : (definitions.task(rule.object, action.name)?.id ?? ''),
      name: action.name,
      type: action.type,
    })),
    description: rule.description,
    id: rule.id,
    name: rule.name,
    namespacePrefix: null,
    object: rule.object,
  };
}

/**
 * The Process Rules and Process Approvals resources (REST API, version 30.0+):
 * - `GET /process/rules` → `{rules: {Object: [rule…]}}` (active rules), `GET …/rules/{sObject}`
 *   the same for one object, `GET …/rules/{sObject}/{ruleId}` one rule;
 *   `POST /process/rules {contextIds}` triggers the rules of those records → `{errors: null, success: true}`.
 * - `GET /process/approvals` → `{approvals: {Object: [{description, id, name, object, sortOrder}]}}`;
 *   `POST /process/approvals {requests: [{actionType, contextId, …}]}` → one `ProcessResult` each.
 * A single request that fails answers 400 with Salesforce's error array; in a batch, a failed
 * request gets `{success: false, errors}` and the others are still committed.
 */
export function registerProcessRoutes(
  context: EmulatorModuleContext,
  definitions: ProcessDefinitions,
  approvals: ApprovalEngine,
): void {
  const { router, store } = context;
  const failed = (error: unknown): never => {
    if (error instanceof ProcessError) throw new EmulatorHttpError(400, error.statusCode, error.message);
    throw error;
  };
  const activeRules = (object?: string): Record<string, ReturnType<typeof ruleBody>[]> => {
    const rules: Record<string, ReturnType<typeof ruleBody>[]> = {};
    for (const workflow of definitions.allWorkflows()) {
      if (object && workflow.object.toLowerCase() !== object.toLowerCase()) continue;
      const active = workflow.rules.filter((rule) => rule.active).map((rule) => ruleBody(rule, definitions));
      if (active.length > 0) rules[workflow.object] = active;
    }
    return rules;
  };
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/process/rules',
    kind: 'api',
    handler: () => ({ status: 200, body: { rules: activeRules() } }),
  });
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/process/rules/:sobject',
    kind: 'api',
    handler: (request) => {
      const schema = store.schema(request.params.sobject ?? '');
      if (!schema) throw notFound();
      return { status: 200, body: { rules: activeRules(schema.name) } };
    },
  });
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/process/rules/:sobject/:ruleId',
    kind: 'api',
    handler: (request) => {
      const id = request.params.ruleId ?? '';
      const rule = definitions
        .workflow(request.params.sobject ?? '')
        ?.rules.find((r) => r.active && r.id.slice(0, 15) === id.slice(0, 15));
      if (!rule) throw notFound();
      return { status: 200, body: ruleBody(rule, definitions) };
    },
  });
  router.add({
    method: 'POST',
    pattern: '/services/data/:version/process/rules',
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { contextIds?: unknown } | null;
      const ids = Array.isArray(body?.contextIds) ? body.contextIds.map((id) => String(id)) : [];
      if (ids.length === 0)
        throw new EmulatorHttpError(
          400,
          'JSON_PARSER_ERROR',
          'The request body needs contextIds: an array of record ids',
        );
      try {
        triggerRules(store, definitions, ids, context.clock.now());
      } catch (error) {
        failed(error);
      }
      return { status: 200, body: { errors: null, success: true } };
    },
  });
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/process/approvals',
    kind: 'api',
    handler: () => {
      const byObject: Record<string, unknown[]> = {};
      definitions.allApprovalProcesses().forEach((definition, index) => {
        const list = byObject[definition.object] ?? [];
        list.push({
          description: definition.description,
          id: definition.id,
          name: definition.name,
          object: definition.object,
          sortOrder: index + 1,
        });
        byObject[definition.object] = list;
      });
      return { status: 200, body: { approvals: byObject } };
    },
  });
  router.add({
    method: 'POST',
    pattern: '/services/data/:version/process/approvals',
    kind: 'api',
    handler: async (request) => {
      const body = (await request.json()) as { requests?: unknown } | null;
      const requests = Array.isArray(body?.requests) ? (body.requests as Array<Record<string, unknown>>) : [];
      if (requests.length === 0)
        throw new EmulatorHttpError(
          400,
          'JSON_PARSER_ERROR',
          'The request body needs requests: an array of process requests',
        );
      const userId = request.session?.userId ?? context.userId;
      const results: Array<ApprovalResult | Record<string, unknown>> = [];
      for (const raw of requests) {
        const approvalRequest: ApprovalRequest = {
          actionType: String(raw.actionType ?? ''),
          contextId: String(raw.contextId ?? ''),
          contextActorId: typeof raw.contextActorId === 'string' ? raw.contextActorId : undefined,
          comments: typeof raw.comments === 'string' ? raw.comments : undefined,
          nextApproverIds: Array.isArray(raw.nextApproverIds) ? raw.nextApproverIds.map(String) : undefined,
          processDefinitionNameOrId:
            typeof raw.processDefinitionNameOrId === 'string' ? raw.processDefinitionNameOrId : undefined,
          skipEntryCriteria: raw.skipEntryCriteria === true || raw.skipEntryCriteria === 'true',
        };
        try {
          results.push(approvals.process(approvalRequest, userId));
        } catch (error) {
          if (requests.length === 1 || !(error instanceof ProcessError)) failed(error);
          const { statusCode, message } = error as ProcessError;
          results.push({ errors: [{ fields: [], message, statusCode }], success: false });
        }
      }
      return { status: 200, body: results };
    },
  });
}
