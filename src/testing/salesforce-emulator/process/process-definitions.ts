import type { IdGenerator } from '../ids.js';
import type { ApprovalProcessDefinition } from './approval-definition.js';
import type { FieldUpdateDefinition, TaskDefinition, WorkflowDefinition } from './workflow-definition.js';

/**
 * The workflow rules and approval processes of the org, as the Metadata API defined them
 * (`createMetadata` or a deploy of `Workflow` / `ApprovalProcess`), read by the Process Rules and
 * Process Approvals resources. Like custom objects, they outlive `emulator.reset()`.
 */
export class ProcessDefinitions {
  private readonly workflows = new Map<string, WorkflowDefinition>();
  private readonly approvals = new Map<string, ApprovalProcessDefinition>();
  /** Ids stay the same when a component is deployed again (`prefix:object:name` → id). */
  private readonly ids = new Map<string, string>();
  private readonly workflowListeners: Array<() => void> = [];

  constructor(private readonly idGenerator: IdGenerator) {}

  /** A stable id for a named part of an object's automation. */
  idOf(prefix: string, object: string, name: string): string {
    const key = `${prefix}:${object.toLowerCase()}:${name.toLowerCase()}`;
    let id = this.ids.get(key);
    if (!id) {
      id = this.idGenerator.next(prefix);
      this.ids.set(key, id);
    }
    return id;
  }

  setWorkflow(definition: WorkflowDefinition): boolean {
    const created = !this.workflows.has(definition.object.toLowerCase());
    this.workflows.set(definition.object.toLowerCase(), definition);
    for (const listener of this.workflowListeners) listener();
    return created;
  }

  /** Calls `listener` whenever a workflow is defined (the save-time evaluation starts then). */
  onWorkflowDefined(listener: () => void): void {
    this.workflowListeners.push(listener);
  }

  workflow(object: string): WorkflowDefinition | undefined {
    return this.workflows.get(object.toLowerCase());
  }

  allWorkflows(): WorkflowDefinition[] {
    return [...this.workflows.values()];
  }

  setApprovalProcess(definition: ApprovalProcessDefinition): boolean {
    const key = definition.fullName.toLowerCase();
    const created = !this.approvals.has(key);
    this.approvals.set(key, definition);
    return created;
  }

  approvalProcess(fullName: string): ApprovalProcessDefinition | undefined {
    return this.approvals.get(fullName.toLowerCase());
  }

  /** Every approval process, in the order they were first defined (their `sortOrder`). */
  allApprovalProcesses(): ApprovalProcessDefinition[] {
    return [...this.approvals.values()];
  }

  fieldUpdate(object: string, name: string): FieldUpdateDefinition | undefined {
    return this.workflow(object)?.fieldUpdates.find((u) => u.name === name);
  }

  task(object: string, name: string): TaskDefinition | undefined {
    return this.workflow(object)?.tasks.find((t) => t.name === name);
  }
}
