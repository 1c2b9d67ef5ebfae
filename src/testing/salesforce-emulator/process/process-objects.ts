import { readOnly, systemFields } from '../store/objects/common.js';
import type { EmulatorFieldDefinition, EmulatorObjectDefinition } from '../store/schema.js';

/** Status values of a ProcessInstance and of its steps (Object Reference "ProcessInstance"). */
const STATUSES = [
  'Approved',
  'Rejected',
  'Removed',
  'Fault',
  'Pending',
  'Held',
  'Reassigned',
  'NoResponse',
  'Started',
];

const user = (name: string, relationshipName: string): EmulatorFieldDefinition =>
  readOnly({ name, type: 'reference', referenceTo: ['User'], relationshipName });

/**
 * The approval records (Object Reference "ProcessInstance", "ProcessInstanceWorkitem",
 * "ProcessInstanceStep"): read-only through the API, written by the Process Approvals resource.
 * `TargetObjectId` may point to any object that has an approval process (the list grows as
 * processes are defined). `ProcessDefinitionId` is the `04a…` id of the approval process as
 * `GET /process/approvals` lists it; the emulator has no ProcessDefinition object, so it is text.
 */
export function processObjectDefinitions(targets: string[]): EmulatorObjectDefinition[] {
  const readOnlyObject = { createable: false, updateable: false, deletable: false } as const;
  const instance = readOnly({
    name: 'ProcessInstanceId',
    type: 'reference',
    referenceTo: ['ProcessInstance'],
    relationshipName: 'ProcessInstance',
  });
  return [
    {
      name: 'ProcessInstance',
      label: 'Process Instance',
      labelPlural: 'Process Instances',
      keyPrefix: '04g',
      ...readOnlyObject,
      fields: [
        ...systemFields(),
        readOnly({ name: 'ProcessDefinitionId', type: 'string', length: 18, label: 'Approval Process ID' }),
        readOnly({
          name: 'TargetObjectId',
          type: 'reference',
          label: 'Target Object ID',
          referenceTo: targets,
          relationshipName: 'TargetObject',
        }),
        readOnly({ name: 'Status', type: 'picklist', length: 40, picklistValues: STATUSES }),
        readOnly({ name: 'CompletedDate', type: 'datetime', label: 'Completed Date' }),
        user('LastActorId', 'LastActor'),
        user('SubmittedById', 'SubmittedBy'),
      ],
    },
    {
      name: 'ProcessInstanceWorkitem',
      label: 'Approval Request',
      labelPlural: 'Approval Requests',
      keyPrefix: '04i',
      ...readOnlyObject,
      fields: [
        ...systemFields(),
        instance,
        user('OriginalActorId', 'OriginalActor'),
        user('ActorId', 'Actor'),
      ],
    },
    {
      name: 'ProcessInstanceStep',
      label: 'Approval Step',
      labelPlural: 'Approval Steps',
      keyPrefix: '04h',
      ...readOnlyObject,
      fields: [
        ...systemFields(),
        instance,
        readOnly({
          name: 'StepStatus',
          type: 'picklist',
          length: 40,
          label: 'Status',
          picklistValues: STATUSES,
        }),
        user('OriginalActorId', 'OriginalActor'),
        user('ActorId', 'Actor'),
        readOnly({ name: 'Comments', type: 'textarea', length: 4000 }),
        readOnly({ name: 'StepNodeId', type: 'string', length: 18, label: 'Node ID' }),
      ],
    },
  ];
}
