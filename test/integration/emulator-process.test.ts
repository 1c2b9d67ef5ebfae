import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

/** Salesforce's Workflow / ApprovalProcess components, as jsforce's createMetadata sends them. */
const workflow = {
  fullName: 'Account',
  fieldUpdates: [
    {
      fullName: 'Mark_Approved',
      field: 'Name',
      formula: "'(Approved) ' & Name",
      name: 'Mark Approved',
      notifyAssignee: false,
      operation: 'Formula',
    },
    {
      fullName: 'Mark_Hot',
      field: 'Description',
      literalValue: 'hot account',
      name: 'Mark Hot',
      notifyAssignee: false,
      operation: 'Literal',
    },
    {
      fullName: 'Flag_Rejected',
      field: 'Description',
      literalValue: 'rejected',
      name: 'Flag Rejected',
      notifyAssignee: false,
      operation: 'Literal',
    },
  ],
  rules: [
    {
      fullName: 'Follow_Up',
      actions: [{ name: 'Follow_Up_Task', type: 'Task' }],
      active: true,
      criteriaItems: [{ field: 'Account.Name', operation: 'startsWith', value: 'Acme, Globex' }],
      triggerType: 'onCreateOnly',
    },
    {
      fullName: 'Hot_Accounts',
      actions: [{ name: 'Mark_Hot', type: 'FieldUpdate' }],
      active: true,
      criteriaItems: [{ field: 'Account.Rating', operation: 'equals', value: 'Hot' }],
      triggerType: 'onCreateOrTriggeringUpdate',
    },
    {
      fullName: 'Dormant',
      actions: [{ name: 'Flag_Rejected', type: 'FieldUpdate' }],
      active: false,
      criteriaItems: [{ field: 'Account.Name', operation: 'startsWith', value: 'Acme' }],
      triggerType: 'onAllChanges',
    },
  ],
  tasks: [
    {
      fullName: 'Follow_Up_Task',
      assignedToType: 'owner',
      dueDateOffset: 7,
      notifyAssignee: false,
      priority: 'High',
      protected: false,
      status: 'Not Started',
      subject: 'Call the new account',
    },
  ],
};

const approvalProcess = {
  fullName: 'Account.Account_Review',
  active: true,
  allowedSubmitters: [{ type: 'owner' }],
  approvalStep: [
    {
      allowDelegate: false,
      assignedApprover: {
        approver: [{ name: 'CreatedBy', type: 'relatedUserField' }],
        whenMultipleApprovers: 'FirstResponse',
      },
      label: 'Step 1',
      name: 'Step_1',
    },
    {
      allowDelegate: false,
      approvalActions: { action: [{ name: 'Mark_Approved', type: 'FieldUpdate' }] },
      assignedApprover: {
        approver: [{ name: 'Owner', type: 'relatedUserField' }],
        whenMultipleApprovers: 'FirstResponse',
      },
      label: 'Step 2',
      name: 'Step_2',
      rejectBehavior: { type: 'RejectRequest' },
    },
  ],
  entryCriteria: { criteriaItems: [{ field: 'Account.Name', operation: 'notEqual', value: 'Never Review' }] },
  finalRejectionActions: { action: [{ name: 'Flag_Rejected', type: 'FieldUpdate' }] },
  label: 'Account Review',
};

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  const results = await conn.metadata.create('Workflow', [workflow] as never);
  expect([results].flat()[0]).toMatchObject({ success: true, fullName: 'Account' });
  const approval = await conn.metadata.create('ApprovalProcess', [approvalProcess] as never);
  expect([approval].flat()[0]).toMatchObject({ success: true, fullName: 'Account.Account_Review' });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

async function account(name: string): Promise<string> {
  const result = await conn.sobject('Account').create({ Name: name });
  return (result as { id: string }).id;
}

describe('Process Rules (workflow rules defined through the Metadata API)', () => {
  it('reads back and lists what createMetadata defined, and refuses defining it twice', async () => {
    const read = (await conn.metadata.read('Workflow', 'Account')) as unknown as Record<string, unknown>;
    expect(read).toMatchObject({
      fullName: 'Account',
      tasks: [{ fullName: 'Follow_Up_Task', subject: 'Call the new account' }],
    });
    const listed = [await conn.metadata.list({ type: 'ApprovalProcess' })].flat();
    expect(listed.map((f) => f.fullName)).toEqual(['Account.Account_Review']);
    const [again] = [await conn.metadata.create('Workflow', [workflow] as never)].flat();
    expect(again).toMatchObject({ success: false, errors: [{ statusCode: 'DUPLICATE_DEVELOPER_NAME' }] });
  });

  it('lists the active rules by object with their actions', async () => {
    const rules = await conn.process.rule.list();
    expect(Object.keys(rules)).toEqual(['Account']);
    const active = (rules as unknown as Record<string, Array<Record<string, unknown>>>).Account ?? [];
    expect(active.map((r) => r.name)).toEqual(['Follow_Up', 'Hot_Accounts']);
    const [rule] = active;
    expect(rule).toMatchObject({
      name: 'Follow_Up',
      object: 'Account',
      namespacePrefix: null,
      description: null,
      actions: [{ name: 'Follow_Up_Task', type: 'Task', id: expect.stringMatching(/^00X/) }],
    });
    expect(await conn.request(`/process/rules/Account/${String(rule?.id)}`)).toMatchObject({
      name: 'Follow_Up',
    });
    expect(await conn.request('/process/rules/Contact')).toEqual({ rules: {} });
    await expect(conn.request('/process/rules/Account/01Q000000000000AAA')).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });

  it('performs the actions of the rules whose criteria a triggered record meets', async () => {
    const matching = await account('Globex Corporation');
    const other = await account('Initech');
    const tasksOf = async (id: string) =>
      (
        await conn.query<{ Subject: string; Priority: string; ActivityDate: string }>(
          `SELECT Subject, Priority, ActivityDate FROM Task WHERE WhatId = '${id}'`,
        )
      ).records;
    // Saving already ran the onCreateOnly rule once.
    expect(await tasksOf(matching)).toHaveLength(1);
    expect(await conn.process.rule.trigger([matching, other])).toEqual({ errors: null, success: true });
    const tasks = await tasksOf(matching);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]).toMatchObject({ Subject: 'Call the new account', Priority: 'High' });
    expect(await tasksOf(other)).toHaveLength(0);
    // The inactive rule did nothing.
    const record = await conn.sobject('Account').retrieve(matching);
    expect((record as { Description: string | null }).Description).toBeNull();
  });

  it('evaluates rules on saves by their trigger type, without re-running them for their own writes', async () => {
    const id = await account('Initech');
    const description = async () =>
      ((await conn.sobject('Account').retrieve(id)) as { Description: string | null }).Description;
    expect(await description()).toBeNull();
    await conn.sobject('Account').update({ Id: id, Rating: 'Hot' });
    expect(await description()).toBe('hot account');
    // Still Hot: an edit that does not newly meet the criteria leaves the rule alone.
    await conn.sobject('Account').update({ Id: id, Description: 'edited' });
    expect(await description()).toBe('edited');
    await conn.sobject('Account').update({ Id: id, Rating: 'Cold' });
    await conn.sobject('Account').update({ Id: id, Rating: 'Hot' });
    expect(await description()).toBe('hot account');
  });

  it('rolls the whole trigger back when one id is not a record', async () => {
    const matching = await account('Acme Rockets');
    const before = (await conn.query('SELECT Id FROM Task')).totalSize;
    await expect(conn.process.rule.trigger([matching, '001000000000000AAA'])).rejects.toMatchObject({
      errorCode: 'INVALID_CROSS_REFERENCE_KEY',
    });
    expect((await conn.query('SELECT Id FROM Task')).totalSize).toBe(before);
  });
});

describe('Process Approvals', () => {
  it('lists the approval processes', async () => {
    const approvals = (await conn.process.approval.list()) as unknown as Record<string, unknown[]>;
    expect(approvals.Account).toEqual([
      {
        description: null,
        id: expect.stringMatching(/^04a/),
        name: 'Account_Review',
        object: 'Account',
        sortOrder: 1,
      },
    ]);
  });

  it('walks a record through submit, approval of step 1 and rejection of step 2', async () => {
    const id = await account('Acme Rockets');
    const submitted = (await conn.process.approval.submit(id, 'Please review')) as unknown as Record<
      string,
      unknown
    >;
    expect(submitted).toMatchObject({
      success: true,
      errors: null,
      actorIds: [sf.userId],
      entityId: id,
      instanceStatus: 'Pending',
      instanceId: expect.stringMatching(/^04g/),
      newWorkitemIds: [expect.stringMatching(/^04i/)],
    });
    const instances = await conn.query<{ Status: string; TargetObjectId: string }>(
      'SELECT Status, TargetObjectId FROM ProcessInstance',
    );
    expect(instances.records).toMatchObject([{ Status: 'Pending', TargetObjectId: id }]);
    const [workitem] = submitted.newWorkitemIds as string[];
    const approved = (await conn.process.approval.approve(workitem as string, 'Fine')) as unknown as Record<
      string,
      unknown
    >;
    expect(approved).toMatchObject({
      success: true,
      instanceStatus: 'Pending',
      instanceId: submitted.instanceId,
    });
    const [next] = approved.newWorkitemIds as string[];
    expect(next).not.toBe(workitem);
    expect((await conn.query('SELECT Id FROM ProcessInstanceWorkitem')).records.map((r) => r.Id)).toEqual([
      next,
    ]);
    const rejected = (await conn.process.approval.reject(next as string, 'No')) as unknown as Record<
      string,
      unknown
    >;
    expect(rejected).toEqual({
      actorIds: null,
      entityId: id,
      errors: null,
      instanceId: submitted.instanceId,
      instanceStatus: 'Rejected',
      newWorkitemIds: [],
      success: true,
    });
    const steps = await conn.query<{ StepStatus: string; Comments: string | null }>(
      'SELECT StepStatus, Comments FROM ProcessInstanceStep',
    );
    expect(steps.records.map((s) => [s.StepStatus, s.Comments]).sort()).toEqual([
      ['Approved', 'Fine'],
      ['Rejected', 'No'],
      ['Started', 'Please review'],
    ]);
    const record = (await conn.sobject('Account').retrieve(id)) as { Name: string; Description: string };
    // Final rejection action ran; step 2's approval action did not.
    expect(record).toMatchObject({ Name: 'Acme Rockets', Description: 'rejected' });
  });

  it("runs a step's approval actions (a text formula field update) when the last step is approved", async () => {
    const id = await account('Acme Rockets');
    const submitted = (await conn.process.approval.submit(id)) as unknown as { newWorkitemIds: string[] };
    const step2 = (await conn.process.approval.approve(submitted.newWorkitemIds[0] as string)) as unknown as {
      newWorkitemIds: string[];
    };
    const done = (await conn.process.approval.approve(
      step2.newWorkitemIds[0] as string,
    )) as unknown as Record<string, unknown>;
    expect(done).toMatchObject({ instanceStatus: 'Approved', actorIds: null, newWorkitemIds: [] });
    expect(((await conn.sobject('Account').retrieve(id)) as { Name: string }).Name).toBe(
      '(Approved) Acme Rockets',
    );
  });

  it('refuses a second submission, a record no process applies to, and an unknown work item', async () => {
    const id = await account('Acme Rockets');
    await conn.process.approval.submit(id);
    await expect(conn.process.approval.submit(id)).rejects.toMatchObject({ errorCode: 'ALREADY_IN_PROCESS' });
    const excluded = await account('Never Review');
    await expect(conn.process.approval.submit(excluded)).rejects.toMatchObject({
      errorCode: 'NO_APPLICABLE_PROCESS',
    });
    await expect(conn.process.approval.approve('04i000000000000AAA')).rejects.toMatchObject({
      errorCode: 'INVALID_CROSS_REFERENCE_KEY',
    });
  });

  it('lets only an allowed submitter (here: the owner) submit', async () => {
    const id = await account('Acme Rockets');
    const notTheOwner = '005000000000099AAA';
    const submit = (contextActorId: string) =>
      conn.request({
        method: 'POST',
        url: '/process/approvals',
        body: JSON.stringify({ requests: [{ actionType: 'Submit', contextId: id, contextActorId }] }),
        headers: { 'content-type': 'application/json' },
      });
    await expect(submit(notTheOwner)).rejects.toMatchObject({ errorCode: 'NO_APPLICABLE_PROCESS' });
    await expect(submit(sf.userId)).resolves.toMatchObject([{ success: true, instanceStatus: 'Pending' }]);
  });

  it('refuses approval processes it cannot carry out when they are defined', async () => {
    const [queue] = [
      await conn.metadata.create('ApprovalProcess', [
        {
          ...approvalProcess,
          fullName: 'Account.Queue_Review',
          approvalStep: [
            {
              ...approvalProcess.approvalStep[0],
              assignedApprover: { approver: [{ name: 'Reviewers', type: 'queue' }] },
            },
          ],
        },
      ] as never),
    ].flat();
    expect(queue).toMatchObject({ success: false });
    expect(JSON.stringify(queue)).toContain('approvers of type queue are not emulated');
    const [missing] = [
      await conn.metadata.create('ApprovalProcess', [
        {
          ...approvalProcess,
          fullName: 'Account.Broken',
          finalApprovalActions: { action: [{ name: 'Nope', type: 'FieldUpdate' }] },
        },
      ] as never),
    ].flat();
    expect(JSON.stringify(missing)).toContain('no FieldUpdate named Nope');
  });
});
