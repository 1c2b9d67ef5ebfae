/**
 * Deploy a metadata package to the Salesforce emulator and watch it act: a custom object, a
 * workflow rule that opens a follow-up task for new "Acme…" accounts, and an approval process —
 * the way `sf project deploy` or jsforce's `metadata.deploy` would against a scratch org. Then
 * retrieve the package back. No org, no network.
 *
 *   npx tsx examples/emulator-deploy-and-workflow.ts
 */
import { startSalesforceEmulator } from '@markmail/crm/testing';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import jsforce from 'jsforce';

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
const xml = (root: string, body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><${root} ${NS}>${body}</${root}>`;

/** A package as `sf project deploy` zips it: `package.xml` and one file per component. */
function packageZip(): Buffer {
  const manifest = xml(
    'Package',
    '<types><members>Widget__c</members><name>CustomObject</name></types>' +
      '<types><members>Account</members><name>Workflow</name></types>' +
      '<types><members>Account.Account_Review</members><name>ApprovalProcess</name></types>' +
      '<version>62.0</version>',
  );
  const widget = xml(
    'CustomObject',
    '<deploymentStatus>Deployed</deploymentStatus>' +
      '<fields><fullName>Code__c</fullName><externalId>true</externalId><label>Code</label><length>20</length><type>Text</type></fields>' +
      '<label>Widget</label><nameField><label>Widget Name</label><type>Text</type></nameField>' +
      '<pluralLabel>Widgets</pluralLabel><sharingModel>ReadWrite</sharingModel>',
  );
  const workflow = xml(
    'Workflow',
    '<fieldUpdates><fullName>Mark_Approved</fullName><field>Description</field><literalValue>approved</literalValue>' +
      '<name>Mark Approved</name><notifyAssignee>false</notifyAssignee><operation>Literal</operation></fieldUpdates>' +
      '<rules><fullName>Follow_Up</fullName><actions><name>Follow_Up_Task</name><type>Task</type></actions><active>true</active>' +
      '<criteriaItems><field>Account.Name</field><operation>startsWith</operation><value>Acme</value></criteriaItems>' +
      '<triggerType>onCreateOnly</triggerType></rules>' +
      '<tasks><fullName>Follow_Up_Task</fullName><assignedToType>owner</assignedToType><dueDateOffset>7</dueDateOffset>' +
      '<notifyAssignee>false</notifyAssignee><priority>High</priority><protected>false</protected>' +
      '<status>Not Started</status><subject>Call the new account</subject></tasks>',
  );
  const approval = xml(
    'ApprovalProcess',
    '<active>true</active><allowedSubmitters><type>owner</type></allowedSubmitters>' +
      '<approvalStep><allowDelegate>false</allowDelegate><approvalActions><action><name>Mark_Approved</name><type>FieldUpdate</type></action></approvalActions>' +
      '<assignedApprover><approver><name>Owner</name><type>relatedUserField</type></approver></assignedApprover>' +
      '<label>Review</label><name>Review</name></approvalStep>' +
      '<label>Account Review</label><recordEditability>AdminOnly</recordEditability>',
  );
  return Buffer.from(
    zipSync({
      'pkg/package.xml': strToU8(manifest),
      'pkg/objects/Widget__c.object': strToU8(widget),
      'pkg/workflows/Account.workflow': strToU8(workflow),
      'pkg/approvalProcesses/Account.Account_Review.approvalProcess': strToU8(approval),
    }),
  );
}

const sf = await startSalesforceEmulator();
try {
  const conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  conn.metadata.pollInterval = 50;

  // 1. Deploy, as a CI pipeline would (all or nothing).
  const deploy = await conn.metadata
    .deploy(packageZip(), { rollbackOnError: true, singlePackage: false })
    .complete(true);
  console.log(
    `Deploy ${deploy.status}: ${deploy.numberComponentsDeployed} of ${deploy.numberComponentsTotal} components`,
  );
  const successes = deploy.details?.componentSuccesses;
  for (const c of Array.isArray(successes) ? successes : successes ? [successes] : []) {
    if (c.fullName !== 'package.xml')
      console.log(
        `  ${c.componentType} ${c.fullName}: ${String(c.created) === 'true' ? 'created' : 'changed'}`,
      );
  }

  // 2. The deployed object takes records; the workflow rule acts on a new "Acme…" account.
  await conn.sobject('Widget__c').create({ Name: 'Sprocket', Code__c: 'W-1' });
  const widgets = await conn.query<{ Name: string; Code__c: string }>('SELECT Name, Code__c FROM Widget__c');
  console.log(`Widgets: ${widgets.records.map((w) => `${w.Name} (${w.Code__c})`).join(', ')}`);
  const acme = await conn.sobject('Account').create({ Name: 'Acme Corp' });
  const other = await conn.sobject('Account').create({ Name: 'Globex' });
  if (!acme.success || !other.success) throw new Error('accounts not created');
  const tasks = await conn.query<{ Subject: string; What: { Name: string } }>(
    `SELECT Subject, What.Name FROM Task WHERE WhatId IN ('${acme.id}', '${other.id}')`,
  );
  console.log(
    `Follow-up tasks from the workflow rule: ${tasks.records.map((t) => `"${t.Subject}" on ${t.What.Name}`).join(', ')}`,
  );

  // 3. The approval process: submit the account, approve it, and its field update runs.
  const submitted = await conn.request<
    Array<{ instanceStatus: string; actorIds: string[]; newWorkitemIds: string[] }>
  >({
    method: 'POST',
    url: '/process/approvals',
    body: JSON.stringify({
      requests: [{ actionType: 'Submit', contextId: acme.id, comments: 'Please review' }],
    }),
    headers: { 'Content-Type': 'application/json' },
  });
  const workitem = submitted[0]?.newWorkitemIds[0];
  console.log(`Approval request: ${submitted[0]?.instanceStatus}`);
  const approved = await conn.request<Array<{ instanceStatus: string }>>({
    method: 'POST',
    url: '/process/approvals',
    body: JSON.stringify({
      requests: [{ actionType: 'Approve', contextId: workitem, comments: 'Looks good' }],
    }),
    headers: { 'Content-Type': 'application/json' },
  });
  const reviewed = await conn.sobject('Account').retrieve(acme.id as string);
  console.log(
    `After approval: ${approved[0]?.instanceStatus}; Description is "${(reviewed as { Description?: string }).Description}"`,
  );

  // 4. Retrieve what the org now holds, as `sf project retrieve` would.
  // jsforce types every field of a package manifest as required (its types come from the WSDL);
  // the Metadata API needs only `types` and `version`.
  const request = {
    apiVersion: '62.0',
    singlePackage: true,
    unpackaged: {
      types: [
        { name: 'CustomObject', members: ['Widget__c'] },
        { name: 'Workflow', members: ['Account'] },
      ],
      version: '62.0',
    },
  } as unknown as Parameters<typeof conn.metadata.retrieve>[0];
  const retrieve = await conn.metadata.retrieve(request).complete();
  const files = unzipSync(Buffer.from(retrieve.zipFile, 'base64'));
  console.log(`Retrieved: ${Object.keys(files).sort().join(', ')}`);
  const retrievedObject = files['objects/Widget__c.object'];
  console.log(
    `Widget__c has an external id field: ${retrievedObject ? strFromU8(retrievedObject).includes('<externalId>true</externalId>') : false}`,
  );
} finally {
  await sf.stop();
}
