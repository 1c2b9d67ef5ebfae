import { type ApprovalProcessDefinition, readApprovalProcess } from '../../process/approval-definition.js';
import type { ProcessDefinitions } from '../../process/process-definitions.js';
import { readWorkflow, type WorkflowDefinition } from '../../process/workflow-definition.js';
import type { OrgStore } from '../../store/org-store.js';
import type { ObjectSchema } from '../../store/schema.js';
import { ComponentError } from '../component-error.js';
import { type MetadataComponent, propertiesXml, recordsOf, textOf } from '../component-xml.js';
import type { DeployScope, MetadataTypeHandler } from '../metadata-types.js';

/**
 * `Workflow` (`workflows/Account.workflow`) and `ApprovalProcess`
 * (`approvalProcesses/Account.Name.approvalProcess`): read into {@link ProcessDefinitions}, which
 * the Process Rules and Process Approvals resources act on. `createMetadata` of either type goes
 * through the same `validate` and `apply`.
 */
export function processTypes(
  definitions: ProcessDefinitions,
  store: OrgStore,
  onApprovalObject: (object: string) => void,
): MetadataTypeHandler[] {
  /** The object's schema; undefined while it is only part of this deploy (checked on apply). */
  const objectSchema = (object: string, scope: DeployScope | undefined): ObjectSchema | undefined => {
    const schema = store.schema(object);
    if (schema || scope?.includes('CustomObject', object)) return schema;
    throw new ComponentError(
      'INVALID_CROSS_REFERENCE_KEY',
      `In field: fullName - no CustomObject named ${object} found`,
    );
  };
  const workflowOf = (
    object: string,
    component: MetadataComponent,
    schema: ObjectSchema,
  ): WorkflowDefinition =>
    readWorkflow(component, schema, (prefix, name) => definitions.idOf(prefix, object, name));
  const workflow: MetadataTypeHandler = {
    type: 'Workflow',
    createMetadata: true,
    directory: 'workflows',
    suffix: 'workflow',
    validate(item, scope) {
      const schema = objectSchema(item.fullName, scope);
      if (schema) workflowOf(schema.name, item.component, schema);
    },
    apply(item) {
      const schema = objectSchema(item.fullName, undefined) as ObjectSchema;
      const created = definitions.setWorkflow(workflowOf(schema.name, item.component, schema));
      return { created, id: '' };
    },
    retrieve(fullName) {
      const found = definitions.workflow(fullName);
      if (!found) return undefined;
      const { fullName: _name, ...properties } = found.component;
      return { innerXml: propertiesXml(properties) };
    },
    list: () => definitions.allWorkflows().map((w) => w.object),
  };

  /** Field updates and tasks an approval process may name: the object's Workflow, deployed or in this deploy. */
  const actionNames = (object: string, scope: DeployScope | undefined) => {
    const pending = scope?.component('Workflow', object);
    if (pending) {
      const names = (key: string) =>
        recordsOf(pending[key]).map((entry) => ({ name: textOf(entry, 'fullName') }));
      return { fieldUpdates: names('fieldUpdates'), tasks: names('tasks') };
    }
    const deployed = definitions.workflow(object);
    return { fieldUpdates: deployed?.fieldUpdates ?? [], tasks: deployed?.tasks ?? [] };
  };
  const approvalOf = (
    fullName: string,
    component: MetadataComponent,
    scope: DeployScope | undefined,
  ): ApprovalProcessDefinition | undefined => {
    const dot = fullName.indexOf('.');
    if (dot <= 0)
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `An approval process is named Object.Name, not ${fullName}`,
      );
    const schema = objectSchema(fullName.slice(0, dot), scope);
    if (!schema) return undefined;
    const id = definitions.idOf('04a', schema.name, fullName.slice(dot + 1));
    return readApprovalProcess(fullName, component, schema, actionNames(schema.name, scope), id);
  };
  const approvalProcess: MetadataTypeHandler = {
    type: 'ApprovalProcess',
    createMetadata: true,
    directory: 'approvalProcesses',
    suffix: 'approvalProcess',
    validate(item, scope) {
      approvalOf(item.fullName, item.component, scope);
    },
    apply(item) {
      const definition = approvalOf(item.fullName, item.component, undefined) as ApprovalProcessDefinition;
      onApprovalObject(definition.object);
      const created = definitions.setApprovalProcess(definition);
      return { created, id: definition.id };
    },
    retrieve(fullName) {
      const found = definitions.approvalProcess(fullName);
      if (!found) return undefined;
      const { fullName: _name, ...properties } = found.component;
      return { innerXml: propertiesXml(properties) };
    },
    list: () => definitions.allApprovalProcesses().map((a) => a.fullName),
  };
  return [workflow, approvalProcess];
}
