import { ComponentError } from '../metadata/component-error.js';
import { flagOf, type MetadataComponent, recordsOf, textOf } from '../metadata/component-xml.js';
import type { ObjectSchema } from '../store/schema.js';
import { type CriteriaItem, readCriteria } from './criteria.js';
import { type ActionReference, readActions } from './workflow-definition.js';

/** Who approves a step: a user field of the record, or a named user. */
export type ApproverDefinition =
  | { type: 'relatedUserField'; field: string }
  | { type: 'user'; username: string };

/** One `ApprovalStep`. */
export interface ApprovalStepDefinition {
  name: string;
  label: string;
  /** Empty: the submitter names the approver (`nextApproverIds`). */
  approvers: ApproverDefinition[];
  approvalActions: ActionReference[];
  rejectionActions: ActionReference[];
  /** `RejectRequest` (default) or `BackToPrevious`. */
  rejectBehavior: 'RejectRequest' | 'BackToPrevious';
}

/** Who may submit (`allowedSubmitters`). */
export type SubmitterDefinition =
  | { type: 'owner' | 'creator' | 'allInternalUsers' }
  | { type: 'user'; username: string };

/** An `ApprovalProcess` component (`approvalProcesses/Account.Name.approvalProcess`). */
export interface ApprovalProcessDefinition {
  /** `ProcessDefinition` id (`04a…`). */
  id: string;
  /** `Object.DeveloperName`. */
  fullName: string;
  object: string;
  /** Developer name (the part after the object). */
  name: string;
  label: string;
  description: string | null;
  active: boolean;
  entryCriteria: CriteriaItem[];
  allowedSubmitters: SubmitterDefinition[];
  steps: ApprovalStepDefinition[];
  initialSubmissionActions: ActionReference[];
  finalApprovalActions: ActionReference[];
  finalRejectionActions: ActionReference[];
  component: MetadataComponent;
}

/** Fields a `relatedUserField` approver may name besides user lookups of the object. */
const RELATED_USER_FIELDS: Readonly<Record<string, string>> = {
  owner: 'OwnerId',
  createdby: 'CreatedById',
  lastmodifiedby: 'LastModifiedById',
};

/**
 * Reads an `ApprovalProcess` component (Metadata API "ApprovalProcess"). Actions name field
 * updates and tasks of the object's `Workflow` (`actionNames`). What the emulator cannot carry
 * out — step entry criteria, queue/role/manager approvers, unanimous approval by several users,
 * submitters other than owner/creator/user/all internal users — is refused.
 *
 * @throws {ComponentError}
 */
export function readApprovalProcess(
  fullName: string,
  component: MetadataComponent,
  schema: ObjectSchema,
  actionNames: { fieldUpdates: readonly { name: string }[]; tasks: readonly { name: string }[] },
  id: string,
): ApprovalProcessDefinition {
  const what = `Approval process ${fullName}`;
  const name = fullName.slice(fullName.indexOf('.') + 1);
  const actions = (value: unknown, where: string): ActionReference[] =>
    readActions(
      value === undefined ? undefined : (value as MetadataComponent).action,
      `${what} ${where}`,
      actionNames.fieldUpdates,
      actionNames.tasks,
    );
  const entry = component.entryCriteria as MetadataComponent | undefined;
  if (entry && textOf(entry, 'formula'))
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: entry criteria formulas are not evaluated by the emulator`,
    );
  const steps = recordsOf(component.approvalStep).map((step): ApprovalStepDefinition => {
    const stepName = textOf(step, 'name');
    const where = `${what} step ${stepName}`;
    if (step.entryCriteria !== undefined)
      throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `${where}: step entry criteria are not emulated`);
    const assigned = step.assignedApprover as MetadataComponent | undefined;
    const approvers = recordsOf(assigned?.approver).map((approver): ApproverDefinition => {
      const type = textOf(approver, 'type');
      const value = textOf(approver, 'name');
      if (type === 'user') return { type, username: value };
      if (type === 'relatedUserField') {
        const field =
          RELATED_USER_FIELDS[value.toLowerCase()] ??
          schema.fields.find(
            (f) =>
              f.name.toLowerCase() === value.toLowerCase() &&
              f.type === 'reference' &&
              f.referenceTo.includes('User'),
          )?.name;
        if (!field)
          throw new ComponentError(
            'FIELD_INTEGRITY_EXCEPTION',
            `${where}: ${value} is not a user field of ${schema.name}`,
          );
        return { type, field };
      }
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${where}: approvers of type ${type || '(none)'} are not emulated`,
      );
    });
    if (approvers.length > 1 && textOf(assigned ?? {}, 'whenMultipleApprovers') === 'Unanimous')
      throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `${where}: unanimous approval is not emulated`);
    const reject =
      textOf((step.rejectBehavior as MetadataComponent | undefined) ?? {}, 'type') || 'RejectRequest';
    if (reject !== 'RejectRequest' && reject !== 'BackToPrevious')
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${where}: rejectBehavior ${reject} is not known`,
      );
    return {
      name: stepName,
      label: textOf(step, 'label'),
      approvers,
      approvalActions: actions(step.approvalActions, `step ${stepName}`),
      rejectionActions: actions(step.rejectionActions, `step ${stepName}`),
      rejectBehavior: reject,
    };
  });
  if (steps.length === 0)
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: an approval process needs at least one approvalStep`,
    );
  const allowedSubmitters = recordsOf(component.allowedSubmitters).map((submitter): SubmitterDefinition => {
    const type = textOf(submitter, 'type');
    if (type === 'owner' || type === 'creator' || type === 'allInternalUsers') return { type };
    if (type === 'user') return { type, username: textOf(submitter, 'submitter') };
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: submitters of type ${type || '(none)'} are not emulated`,
    );
  });
  return {
    id,
    fullName,
    object: schema.name,
    name,
    label: textOf(component, 'label') || name,
    description: textOf(component, 'description') || null,
    active: flagOf(component, 'active'),
    entryCriteria: entry ? readCriteria(entry, schema, what) : [],
    allowedSubmitters: allowedSubmitters.length > 0 ? allowedSubmitters : [{ type: 'owner' }],
    steps,
    initialSubmissionActions: actions(component.initialSubmissionActions, 'initial submission actions'),
    finalApprovalActions: actions(component.finalApprovalActions, 'final approval actions'),
    finalRejectionActions: actions(component.finalRejectionActions, 'final rejection actions'),
    component,
  };
}
