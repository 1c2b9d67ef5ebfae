import type { OrgStore } from '../store/org-store.js';
import type { ApprovalProcessDefinition, ApproverDefinition } from './approval-definition.js';
import { meetsCriteria } from './criteria.js';
import type { ProcessDefinitions } from './process-definitions.js';
import { ProcessError, write } from './process-records.js';
import { performActions } from './workflow-actions.js';

/** One request of `POST /process/approvals` (REST "Submit, Approve, or Reject Process Approvals"). */
export interface ApprovalRequest {
  actionType: string;
  contextId: string;
  contextActorId?: string | undefined;
  comments?: string | undefined;
  nextApproverIds?: string[] | undefined;
  processDefinitionNameOrId?: string | undefined;
  skipEntryCriteria?: boolean | undefined;
}

/** A `ProcessResult` of a request that succeeded. */
export interface ApprovalResult {
  actorIds: string[] | null;
  entityId: string;
  errors: null;
  instanceId: string;
  instanceStatus: 'Pending' | 'Approved' | 'Rejected';
  newWorkitemIds: string[];
  success: true;
}

/** Where a pending approval stands (records hold the rest). */
interface InstanceState {
  definition: ApprovalProcessDefinition;
  recordId: string;
  step: number;
}

/**
 * Approval processes at run time: submitting a record starts a ProcessInstance (with a
 * `Started` ProcessInstanceStep) and one ProcessInstanceWorkitem per approver of the first
 * step; approving moves to the next step or approves the instance, rejecting rejects it (or goes
 * back a step with `BackToPrevious`); each step's and the process's actions run on the way.
 * Every request is all or nothing. Records are not locked (the emulator has no record locking).
 */
export class ApprovalEngine {
  private readonly instances = new Map<string, InstanceState>();

  constructor(
    private readonly store: OrgStore,
    private readonly definitions: ProcessDefinitions,
    private readonly today: () => Date,
  ) {}

  /** @throws {ProcessError} with Salesforce's status code (`NO_APPLICABLE_PROCESS`, …). */
  process(request: ApprovalRequest, userId: string): ApprovalResult {
    const transaction = this.store.beginTransaction();
    const before = new Map([...this.instances].map(([id, state]) => [id, { ...state }]));
    try {
      let result: ApprovalResult;
      if (request.actionType === 'Submit') result = this.submit(request, userId);
      else if (request.actionType === 'Approve' || request.actionType === 'Reject')
        result = this.decide(request, userId, request.actionType === 'Approve');
      else
        throw new ProcessError(
          'INVALID_OPERATION',
          `actionType must be Submit, Approve or Reject, not ${request.actionType || '(none)'}`,
        );
      transaction.end();
      return result;
    } catch (error) {
      transaction.rollback();
      this.instances.clear();
      for (const [id, state] of before) this.instances.set(id, state);
      throw error;
    }
  }

  clear(): void {
    this.instances.clear();
  }

  private submit(request: ApprovalRequest, userId: string): ApprovalResult {
    const record = this.store.get(request.contextId);
    const schema = this.store.schemaForId(request.contextId);
    if (!record || !schema)
      throw new ProcessError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    const recordId = String(record.Id);
    for (const pending of this.store.rows('ProcessInstance'))
      if (pending.TargetObjectId === recordId && pending.Status === 'Pending')
        throw new ProcessError(
          'ALREADY_IN_PROCESS',
          'This record is currently in an approval process. A record can be in only one approval process at a time.',
        );
    const submitter = request.contextActorId || userId;
    const definition = this.applicableProcess(request, schema.name, record, submitter);
    const [instanceId] = write(this.store, [
      {
        kind: 'insert',
        sobject: 'ProcessInstance',
        values: {
          ProcessDefinitionId: definition.id,
          TargetObjectId: recordId,
          Status: 'Pending',
          SubmittedById: submitter,
          LastActorId: submitter,
        },
      },
    ]);
    this.step(instanceId as string, 'Started', submitter, submitter, request.comments);
    this.instances.set(instanceId as string, { definition, recordId, step: 0 });
    performActions(
      this.store,
      this.definitions,
      schema.name,
      recordId,
      definition.initialSubmissionActions,
      this.today(),
    );
    return this.enterStep(instanceId as string, 0, request.nextApproverIds);
  }

  private applicableProcess(
    request: ApprovalRequest,
    object: string,
    record: Record<string, unknown>,
    submitter: string,
  ): ApprovalProcessDefinition {
    const named = request.processDefinitionNameOrId?.trim();
    const candidates = this.definitions
      .allApprovalProcesses()
      .filter((d) => d.active && d.object === object)
      .filter(
        (d) =>
          !named || d.name.toLowerCase() === named.toLowerCase() || d.id.slice(0, 15) === named.slice(0, 15),
      );
    const skip = Boolean(named) && request.skipEntryCriteria === true;
    const found = candidates.find(
      (d) => (skip || meetsCriteria(d.entryCriteria, record)) && this.maySubmit(d, record, submitter),
    );
    if (!found) throw new ProcessError('NO_APPLICABLE_PROCESS', 'No applicable approval process was found.');
    return found;
  }

  private maySubmit(
    definition: ApprovalProcessDefinition,
    record: Record<string, unknown>,
    submitter: string,
  ): boolean {
    return definition.allowedSubmitters.some((allowed) => {
      if (allowed.type === 'allInternalUsers') return true;
      if (allowed.type === 'owner') return record.OwnerId === submitter;
      if (allowed.type === 'creator') return record.CreatedById === submitter;
      return allowed.type === 'user' && this.userId(allowed.username) === submitter;
    });
  }

  private userId(username: string): string | undefined {
    for (const user of this.store.rows('User'))
      if (String(user.Username ?? '').toLowerCase() === username.toLowerCase()) return String(user.Id);
    return undefined;
  }

  /** Opens the work items of a step; its approvers come from the record, a user, or the submitter's choice. */
  private enterStep(
    instanceId: string,
    index: number,
    nextApproverIds: string[] | undefined,
  ): ApprovalResult {
    const state = this.instances.get(instanceId) as InstanceState;
    state.step = index;
    const step = state.definition.steps[index];
    const record = this.store.get(state.recordId) ?? {};
    const approvers =
      step && step.approvers.length > 0
        ? step.approvers.map((approver) => this.approverId(approver, record))
        : (nextApproverIds ?? []).slice(0, 1);
    if (approvers.length === 0 || approvers.some((id) => !id))
      throw new ProcessError(
        'REQUIRED_FIELD_MISSING',
        `No approver for step ${step?.name ?? index}: name one in nextApproverIds or fill the approver field`,
      );
    const workitemIds = write(
      this.store,
      approvers.map((actor) => ({
        kind: 'insert' as const,
        sobject: 'ProcessInstanceWorkitem',
        values: { ProcessInstanceId: instanceId, ActorId: actor, OriginalActorId: actor },
      })),
    );
    return {
      actorIds: approvers as string[],
      entityId: state.recordId,
      errors: null,
      instanceId,
      instanceStatus: 'Pending',
      newWorkitemIds: workitemIds,
      success: true,
    };
  }

  private approverId(approver: ApproverDefinition, record: Record<string, unknown>): string | undefined {
    if (approver.type === 'user') return this.userId(approver.username);
    const value = record[approver.field];
    return typeof value === 'string' && value ? value : undefined;
  }

  private decide(request: ApprovalRequest, userId: string, approve: boolean): ApprovalResult {
    const workitem = this.store.get(request.contextId);
    const state = workitem ? this.instances.get(String(workitem.ProcessInstanceId)) : undefined;
    if (!workitem || this.store.schemaForId(request.contextId)?.name !== 'ProcessInstanceWorkitem' || !state)
      throw new ProcessError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    const instanceId = String(workitem.ProcessInstanceId);
    const actor = request.contextActorId || userId;
    // The first response decides the step: every open work item of it goes.
    const open = [...this.store.rows('ProcessInstanceWorkitem')].filter(
      (w) => w.ProcessInstanceId === instanceId,
    );
    write(
      this.store,
      open.map((w) => ({ kind: 'hardDelete' as const, id: String(w.Id) })),
    );
    this.step(
      instanceId,
      approve ? 'Approved' : 'Rejected',
      actor,
      String(workitem.OriginalActorId),
      request.comments,
    );
    write(this.store, [{ kind: 'update', id: instanceId, values: { LastActorId: actor } }]);
    const { definition, recordId, step: index } = state;
    const step = definition.steps[index];
    const object = definition.object;
    if (approve) {
      performActions(
        this.store,
        this.definitions,
        object,
        recordId,
        step?.approvalActions ?? [],
        this.today(),
      );
      if (index + 1 < definition.steps.length)
        return this.enterStep(instanceId, index + 1, request.nextApproverIds);
      performActions(
        this.store,
        this.definitions,
        object,
        recordId,
        definition.finalApprovalActions,
        this.today(),
      );
      return this.finish(instanceId, recordId, 'Approved');
    }
    performActions(
      this.store,
      this.definitions,
      object,
      recordId,
      step?.rejectionActions ?? [],
      this.today(),
    );
    if (step?.rejectBehavior === 'BackToPrevious' && index > 0)
      return this.enterStep(instanceId, index - 1, request.nextApproverIds);
    performActions(
      this.store,
      this.definitions,
      object,
      recordId,
      definition.finalRejectionActions,
      this.today(),
    );
    return this.finish(instanceId, recordId, 'Rejected');
  }

  private finish(instanceId: string, recordId: string, status: 'Approved' | 'Rejected'): ApprovalResult {
    write(this.store, [
      {
        kind: 'update',
        id: instanceId,
        values: { Status: status, CompletedDate: this.today().toISOString() },
      },
    ]);
    this.instances.delete(instanceId);
    return {
      actorIds: null,
      entityId: recordId,
      errors: null,
      instanceId,
      instanceStatus: status,
      newWorkitemIds: [],
      success: true,
    };
  }

  private step(
    instanceId: string,
    status: string,
    actor: string,
    originalActor: string,
    comments: string | undefined,
  ): void {
    write(this.store, [
      {
        kind: 'insert',
        sobject: 'ProcessInstanceStep',
        values: {
          ProcessInstanceId: instanceId,
          StepStatus: status,
          ActorId: actor,
          OriginalActorId: originalActor,
          ...(comments ? { Comments: comments } : {}),
        },
      },
    ]);
  }
}
