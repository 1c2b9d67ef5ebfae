import { ComponentError } from '../metadata/component-error.js';
import { flagOf, type MetadataComponent, recordsOf, textOf } from '../metadata/component-xml.js';
import type { ObjectSchema } from '../store/schema.js';
import { type CriteriaItem, readCriteria } from './criteria.js';
import { TextFormula } from './text-formula.js';

/** An action a rule or approval step names (`<actions><name/><type/></actions>`). */
export interface ActionReference {
  name: string;
  /** `FieldUpdate` or `Task` (the kinds the emulator performs). */
  type: 'FieldUpdate' | 'Task';
}

/** `WorkflowFieldUpdate`: sets one field of the record. */
export interface FieldUpdateDefinition {
  id: string;
  name: string;
  field: string;
  /** `Literal`, `Null` or `Formula` (text formulas, see {@link TextFormula}). */
  operation: 'Literal' | 'Null' | 'Formula';
  literalValue: string | null;
  formula: TextFormula | undefined;
}

/** `WorkflowTask`: a Task created on the record. */
export interface TaskDefinition {
  id: string;
  name: string;
  subject: string;
  status: string;
  priority: string;
  dueDateOffset: number;
  /** `owner` (the record's owner) or `creator` (who created the record). */
  assignedToType: 'owner' | 'creator';
  description: string | null;
}

/** `WorkflowRule`. */
export interface WorkflowRuleDefinition {
  id: string;
  name: string;
  object: string;
  active: boolean;
  description: string | null;
  triggerType: string;
  /** Criteria items (ANDed); `true` for the formula `true` (always), `false` for `false`. */
  criteria: CriteriaItem[] | boolean;
  actions: ActionReference[];
}

/** A `Workflow` component: everything of one object (`workflows/Account.workflow`). */
export interface WorkflowDefinition {
  object: string;
  fieldUpdates: FieldUpdateDefinition[];
  tasks: TaskDefinition[];
  rules: WorkflowRuleDefinition[];
  /** The component as deployed (read back by retrieve). */
  component: MetadataComponent;
}

/** `WorkflowRule.triggerType` values (Metadata API "Workflow"). */
const TRIGGER_TYPES = new Set(['onCreateOnly', 'onCreateOrTriggeringUpdate', 'onAllChanges']);

/** Kinds of workflow actions the emulator does not perform: deploying one is refused. */
const UNSUPPORTED_ACTIONS = ['alerts', 'outboundMessages', 'knowledgePublishes', 'send', 'flowActions'];

/**
 * Reads a `Workflow` component for `schema` (Metadata API "Workflow"): field updates, tasks and
 * rules whose actions name them. `idOf(kind, name)` gives stable ids across redeploys.
 *
 * @throws {ComponentError} for anything the emulator would not carry out faithfully.
 */
export function readWorkflow(
  component: MetadataComponent,
  schema: ObjectSchema,
  idOf: (prefix: string, name: string) => string,
): WorkflowDefinition {
  for (const kind of UNSUPPORTED_ACTIONS)
    if (recordsOf(component[kind]).length > 0)
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `Workflow ${schema.name}: ${kind} are not performed by the emulator`,
      );
  const fieldUpdates = recordsOf(component.fieldUpdates).map((update) =>
    readFieldUpdate(update, schema, idOf),
  );
  const tasks = recordsOf(component.tasks).map((task): TaskDefinition => {
    const name = textOf(task, 'fullName');
    const assignedToType = textOf(task, 'assignedToType');
    if (assignedToType !== 'owner' && assignedToType !== 'creator')
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `Workflow task ${name}: assignedToType ${assignedToType || '(none)'} is not emulated (owner, creator)`,
      );
    return {
      id: idOf('00X', `task:${name}`),
      name,
      subject: textOf(task, 'subject'),
      status: textOf(task, 'status') || 'Not Started',
      priority: textOf(task, 'priority') || 'Normal',
      dueDateOffset: Number(textOf(task, 'dueDateOffset') || 0),
      assignedToType,
      description: textOf(task, 'description') || null,
    };
  });
  const rules = recordsOf(component.rules).map((rule): WorkflowRuleDefinition => {
    const name = textOf(rule, 'fullName');
    const what = `Workflow rule ${name}`;
    if (recordsOf(rule.workflowTimeTriggers).length > 0)
      throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `${what}: time triggers are not emulated`);
    const formula = textOf(rule, 'formula');
    let criteria: CriteriaItem[] | boolean;
    if (formula) {
      if (formula !== 'true' && formula !== 'false')
        throw new ComponentError(
          'FIELD_INTEGRITY_EXCEPTION',
          `${what}: rule formulas other than true/false are not evaluated by the emulator`,
        );
      criteria = formula === 'true';
    } else criteria = readCriteria(rule, schema, what);
    const triggerType = textOf(rule, 'triggerType');
    if (!TRIGGER_TYPES.has(triggerType))
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${what}: triggerType must be ${[...TRIGGER_TYPES].join(', ')}, not ${triggerType || '(none)'}`,
      );
    return {
      id: idOf('01Q', `rule:${name}`),
      name,
      object: schema.name,
      active: flagOf(rule, 'active'),
      description: textOf(rule, 'description') || null,
      triggerType,
      criteria,
      actions: readActions(rule.actions, what, fieldUpdates, tasks),
    };
  });
  return { object: schema.name, fieldUpdates, tasks, rules, component };
}

/** Reads one `WorkflowFieldUpdate` (also what approval actions point to). */
function readFieldUpdate(
  update: MetadataComponent,
  schema: ObjectSchema,
  idOf: (prefix: string, name: string) => string,
): FieldUpdateDefinition {
  const name = textOf(update, 'fullName');
  const what = `Field update ${name}`;
  const field = schema.field(textOf(update, 'field'));
  if (!field)
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: no field ${textOf(update, 'field')} on ${schema.name}`,
    );
  if (textOf(update, 'targetObject'))
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: cross-object field updates are not emulated`,
    );
  const operation = textOf(update, 'operation');
  if (operation !== 'Literal' && operation !== 'Null' && operation !== 'Formula')
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: operation ${operation || '(none)'} is not emulated (Literal, Null, Formula)`,
    );
  return {
    id: idOf('04Y', `fieldUpdate:${name}`),
    name,
    field: field.name,
    operation,
    literalValue: operation === 'Literal' ? textOf(update, 'literalValue') : null,
    formula: operation === 'Formula' ? TextFormula.parse(textOf(update, 'formula'), schema, what) : undefined,
  };
}

/**
 * Action references (`<actions>` of a rule, `<action>` of approval actions), each resolved
 * against the given field updates and tasks.
 *
 * @throws {ComponentError} for another action type or a name that is not defined.
 */
export function readActions(
  value: unknown,
  what: string,
  fieldUpdates: readonly { name: string }[],
  tasks: readonly { name: string }[],
): ActionReference[] {
  return recordsOf(value).map((action) => {
    const name = textOf(action, 'name');
    const type = textOf(action, 'type');
    if (type !== 'FieldUpdate' && type !== 'Task')
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${what}: actions of type ${type || '(none)'} are not performed by the emulator (FieldUpdate, Task)`,
      );
    const defined = type === 'FieldUpdate' ? fieldUpdates : tasks;
    if (!defined.some((d) => d.name === name))
      throw new ComponentError('INVALID_CROSS_REFERENCE_KEY', `${what}: no ${type} named ${name}`);
    return { name, type };
  });
}
