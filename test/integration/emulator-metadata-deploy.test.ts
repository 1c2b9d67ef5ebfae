import { strFromU8, unzipSync } from 'fflate';
import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';
import { METADATA_NS, packageZip } from '../fixtures/metadata-package.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  conn.metadata.pollInterval = 50;
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

const widgetObject = (extra = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?><CustomObject ${METADATA_NS}>` +
  '<deploymentStatus>Deployed</deploymentStatus>' +
  '<fields><fullName>Code__c</fullName><externalId>true</externalId><label>Code</label><length>20</length><type>Text</type></fields>' +
  '<label>Widget</label><nameField><label>Widget Name</label><type>Text</type></nameField>' +
  `<pluralLabel>Widgets</pluralLabel><sharingModel>ReadWrite</sharingModel>${extra}</CustomObject>`;

const accountWorkflow =
  `<?xml version="1.0" encoding="UTF-8"?><Workflow ${METADATA_NS}>` +
  '<fieldUpdates><fullName>Mark_Approved</fullName><field>Name</field><formula>&apos;(Approved) &apos; &amp; Name</formula>' +
  '<name>Mark Approved</name><notifyAssignee>false</notifyAssignee><operation>Formula</operation></fieldUpdates>' +
  '<fieldUpdates><fullName>Flag_Rejected</fullName><field>Description</field><literalValue>rejected</literalValue>' +
  '<name>Flag Rejected</name><notifyAssignee>false</notifyAssignee><operation>Literal</operation></fieldUpdates>' +
  '<rules><fullName>Follow_Up</fullName><actions><name>Follow_Up_Task</name><type>Task</type></actions><active>true</active>' +
  '<criteriaItems><field>Account.Name</field><operation>startsWith</operation><value>Acme</value></criteriaItems>' +
  '<triggerType>onCreateOnly</triggerType></rules>' +
  '<tasks><fullName>Follow_Up_Task</fullName><assignedToType>owner</assignedToType><dueDateOffset>7</dueDateOffset>' +
  '<notifyAssignee>false</notifyAssignee><priority>High</priority><protected>false</protected><status>Not Started</status>' +
  '<subject>Call the new account</subject></tasks></Workflow>';

const accountApproval =
  `<?xml version="1.0" encoding="UTF-8"?><ApprovalProcess ${METADATA_NS}><active>true</active>` +
  '<allowedSubmitters><type>owner</type></allowedSubmitters>' +
  '<approvalStep><allowDelegate>false</allowDelegate><assignedApprover><approver><name>CreatedBy</name><type>relatedUserField</type></approver>' +
  '<whenMultipleApprovers>FirstResponse</whenMultipleApprovers></assignedApprover><label>Step 1</label><name>Step_1</name></approvalStep>' +
  '<approvalStep><allowDelegate>false</allowDelegate><approvalActions><action><name>Mark_Approved</name><type>FieldUpdate</type></action></approvalActions>' +
  '<assignedApprover><approver><name>Owner</name><type>relatedUserField</type></approver></assignedApprover>' +
  '<label>Step 2</label><name>Step_2</name><rejectBehavior><type>RejectRequest</type></rejectBehavior></approvalStep>' +
  '<finalRejectionActions><action><name>Flag_Rejected</name><type>FieldUpdate</type></action></finalRejectionActions>' +
  '<label>Account Review</label><recordEditability>AdminOnly</recordEditability></ApprovalProcess>';

const apexClass = (name: string, body = ''): Record<string, string> => ({
  [`classes/${name}.cls`]: `public class ${name} { ${body} }`,
  [`classes/${name}.cls-meta.xml`]: `<?xml version="1.0" encoding="UTF-8"?><ApexClass ${METADATA_NS}><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`,
});

describe('Metadata API deploy', () => {
  it('applies every component of the package through its type and reports each as a success', async () => {
    const zip = packageZip(
      { CustomObject: ['Widget__c'], Workflow: ['Account'], ApprovalProcess: ['Account.Account_Review'] },
      {
        'objects/Widget__c.object': widgetObject(),
        'workflows/Account.workflow': accountWorkflow,
        'approvalProcesses/Account.Account_Review.approvalProcess': accountApproval,
      },
    );
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(result).toMatchObject({
      done: true,
      success: true,
      status: 'Succeeded',
      numberComponentErrors: 0,
    });
    expect(result.numberComponentsTotal).toBe(3);
    expect(result.numberComponentsDeployed).toBe(3);
    const successes = [result.details?.componentSuccesses ?? []].flat();
    expect(successes.map((m) => `${m.componentType}:${m.fullName}`).sort()).toEqual([
      ':package.xml',
      'ApprovalProcess:Account.Account_Review',
      'CustomObject:Widget__c',
      'Workflow:Account',
    ]);
    expect(successes.find((m) => m.fullName === 'Widget__c')).toMatchObject({
      created: true,
      fileName: 'pkg/objects/Widget__c.object',
    });
    const describe = await conn.sobject('Widget__c').describe();
    expect(describe.fields.find((f) => f.name === 'Code__c')).toMatchObject({ externalId: true, length: 20 });
    expect(Object.keys(await conn.process.rule.list())).toEqual(['Account']);
  });

  it('reports a type the emulator cannot deploy as a component failure and, rolling back, applies nothing', async () => {
    const zip = packageZip(
      { CustomObject: ['Gadget__c'], Flow: ['My_Flow'] },
      { 'objects/Gadget__c.object': widgetObject(), 'flows/My_Flow.flow': `<Flow ${METADATA_NS}/>` },
    );
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(result).toMatchObject({
      success: false,
      status: 'Failed',
      numberComponentErrors: 1,
      numberComponentsTotal: 2,
    });
    expect([result.details?.componentFailures].flat()[0]).toMatchObject({
      componentType: 'Flow',
      fullName: 'My_Flow',
      problemType: 'Error',
      success: false,
    });
    await expect(conn.sobject('Gadget__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('with rollbackOnError false applies what is valid and ends SucceededPartial', async () => {
    const zip = packageZip(
      { CustomObject: ['Partial__c', 'Missing__c'] },
      { 'objects/Partial__c.object': widgetObject() },
    );
    const result = await conn.metadata.deploy(zip, { rollbackOnError: false }).complete(true);
    expect(result.status).toBe('SucceededPartial');
    expect([result.details?.componentFailures].flat()[0]?.problem).toBe(
      "An object 'Missing__c' of type CustomObject was named in package.xml, but was not found in zipped directory",
    );
    expect((await conn.sobject('Partial__c').describe()).name).toBe('Partial__c');
  });

  it('refuses a workflow the emulator would not carry out faithfully', async () => {
    const badWorkflow = accountWorkflow
      .replace('<field>Account.Name</field>', '<field>Contact.NoSuchField__c</field>')
      .replace('<subject>', '<description>x</description><subject>');
    const zip = packageZip({ Workflow: ['Contact'] }, { 'workflows/Contact.workflow': badWorkflow });
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(result.status).toBe('Failed');
    expect([result.details?.componentFailures].flat()[0]?.problem).toContain(
      'no field Contact.NoSuchField__c',
    );
    expect(Object.keys(await conn.process.rule.list())).not.toContain('Contact');
    const alerts = accountWorkflow.replace(
      '<rules>',
      '<alerts><fullName>Mail</fullName><description>x</description></alerts><rules>',
    );
    const refused = await conn.metadata
      .deploy(packageZip({ Workflow: ['Account'] }, { 'workflows/Account.workflow': alerts }), {})
      .complete(true);
    expect([refused.details?.componentFailures].flat()[0]?.problem).toContain(
      'alerts are not performed by the emulator',
    );
  });

  it('validates with checkOnly without applying, and deployRecentValidation then applies it under a new id', async () => {
    const zip = packageZip({ CustomObject: ['Checked__c'] }, { 'objects/Checked__c.object': widgetObject() });
    const validation = await conn.metadata.deploy(zip, { checkOnly: true }).complete(true);
    expect(validation).toMatchObject({ status: 'Succeeded', checkOnly: true });
    await expect(conn.sobject('Checked__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    const quick = await conn.metadata.deployRecentValidation({ id: validation.id, rest: false });
    expect(quick).not.toBe(validation.id);
    expect((await conn.sobject('Checked__c').describe()).name).toBe('Checked__c');
    await expect(
      conn.metadata.deployRecentValidation({ id: validation.id, rest: true }),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_ID_FIELD',
    });
  });

  it('stores Apex source with a warning that it is not executed, and fails a deploy that must run Apex tests', async () => {
    const stored = await conn.metadata
      .deploy(packageZip({ ApexClass: ['Greeter'] }, apexClass('Greeter')), {})
      .complete(true);
    expect(stored.status).toBe('Succeeded');
    expect([stored.details?.componentSuccesses].flat().find((m) => m?.fullName === 'Greeter')).toMatchObject({
      problemType: 'Warning',
      problem: expect.stringContaining('does not execute Apex'),
    });
    // A validation says the same, though it applies nothing.
    const validation = await conn.metadata
      .deploy(packageZip({ ApexClass: ['Other'] }, apexClass('Other')), { checkOnly: true })
      .complete(true);
    expect(
      [validation.details?.componentSuccesses].flat().find((m) => m?.fullName === 'Other'),
    ).toMatchObject({
      problemType: 'Warning',
      changed: false,
    });
    expect([await conn.metadata.list({ type: 'ApexClass' })].flat().map((f) => f?.fullName)).not.toContain(
      'Other',
    );
    const withTests = packageZip(
      { CustomObject: ['Tested__c'] },
      { 'objects/Tested__c.object': widgetObject() },
    );
    const tested = await conn.metadata
      .deploy(withTests, { testLevel: 'RunSpecifiedTests', runTests: ['GreeterTest'] })
      .complete(true);
    expect(tested).toMatchObject({
      status: 'Failed',
      success: false,
      errorStatusCode: 'FUNCTIONALITY_NOT_ENABLED',
    });
    expect(tested.numberTestsCompleted).toBe(0);
    await expect(conn.sobject('Tested__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    // No @isTest class anywhere: RunLocalTests has nothing to run.
    const local = await conn.metadata.deploy(withTests, { testLevel: 'RunLocalTests' }).complete(true);
    expect(local.status).toBe('Succeeded');
    const testClass = packageZip(
      { ApexClass: ['GreeterTest'] },
      apexClass('GreeterTest', '@isTest static void t() {}'),
    );
    const local2 = await conn.metadata.deploy(testClass, { testLevel: 'RunLocalTests' }).complete(true);
    expect(local2).toMatchObject({ status: 'Failed', errorStatusCode: 'FUNCTIONALITY_NOT_ENABLED' });
  });

  it('refuses an Apex class whose file does not declare it', async () => {
    const files = apexClass('Greeter');
    files['classes/Greeter.cls'] = 'public class SomethingElse {}';
    const result = await conn.metadata
      .deploy(packageZip({ ApexClass: ['Greeter'] }, files), {})
      .complete(true);
    expect([result.details?.componentFailures].flat()[0]?.problem).toContain('does not declare');
  });

  it('accepts the REST deployRequest resource and reports details on GET', async () => {
    const zip = packageZip({ CustomObject: ['Rested__c'] }, { 'objects/Rested__c.object': widgetObject() });
    const { id } = await conn.metadata.deployRest(zip, { rollbackOnError: true });
    const status = await conn.metadata.checkDeployStatus(id, true, true);
    expect(status).toMatchObject({
      done: true,
      success: true,
      status: 'Succeeded',
      numberComponentsDeployed: 1,
    });
    expect(status.details.componentSuccesses.map((m) => m.fullName)).toContain('Rested__c');
    // The same deploy through SOAP, by its 15-character id too.
    expect((await conn.metadata.checkDeployStatus(id.slice(0, 15))).id).toBe(id);
    await expect(conn.request('/metadata/deployRequest/0Af000000000000AAA')).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
  it('stores the types it does not act on with a warning, and deploys custom settings', async () => {
    const zip = packageZip(
      {
        CustomObject: ['Setting__c'],
        CustomField: ['Setting__c.Limit__c'],
        Layout: ['Setting__c-Setting Layout'],
        PermissionSet: ['Power_User'],
        Settings: ['OauthOidc'],
        Report: ['Team_Reports', 'Team_Reports/Open_Leads'],
      },
      {
        'objects/Setting__c.object':
          `<CustomObject ${METADATA_NS}><customSettingsType>Hierarchy</customSettingsType>` +
          '<fields><fullName>Limit__c</fullName><label>Limit</label><precision>4</precision><scale>0</scale><type>Number</type></fields>' +
          '<label>Team Setting</label><visibility>Public</visibility></CustomObject>',
        'layouts/Setting__c-Setting Layout.layout': `<Layout ${METADATA_NS}><layoutSections/></Layout>`,
        'permissionsets/Power_User.permissionset': `<PermissionSet ${METADATA_NS}><label>Power User</label></PermissionSet>`,
        'settings/OauthOidc.settings': `<OauthOidcSettings ${METADATA_NS}><blockOAuthUsrAgtFlow>true</blockOAuthUsrAgtFlow></OauthOidcSettings>`,
        'reports/Team_Reports-meta.xml': `<ReportFolder ${METADATA_NS}><name>Team Reports</name></ReportFolder>`,
        'reports/Team_Reports/Open_Leads.report': `<Report ${METADATA_NS}><name>Open Leads</name><reportType>LeadList</reportType></Report>`,
      },
    );
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(result).toMatchObject({
      status: 'Succeeded',
      numberComponentsTotal: 7,
      numberComponentsDeployed: 7,
    });
    const warnings = [result.details?.componentSuccesses]
      .flat()
      .filter((m) => m?.problemType === 'Warning')
      .map((m) => m?.componentType)
      .sort();
    expect(warnings).toEqual(['Layout', 'PermissionSet', 'Report', 'Report', 'Settings']);
    const fields = (await conn.sobject('Setting__c').describe()).fields.map((f) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['Name', 'SetupOwnerId', 'Limit__c']));
    expect(fields).not.toContain('OwnerId');
    const retrieved = await conn.metadata
      .retrieve({
        singlePackage: true,
        unpackaged: {
          types: [
            { name: 'Settings', members: ['OauthOidc'] },
            { name: 'Report', members: ['*'] },
          ],
          version: '62.0',
        },
      } as never)
      .complete();
    const files = unzipSync(Buffer.from(retrieved.zipFile, 'base64'));
    expect(Object.keys(files).sort()).toEqual([
      'package.xml',
      'reports/Team_Reports-meta.xml',
      'reports/Team_Reports/Open_Leads.report',
      'settings/OauthOidc.settings',
    ]);
    expect(strFromU8(files['settings/OauthOidc.settings'] as Uint8Array)).toContain(
      '<OauthOidcSettings xmlns="http://soap.sforce.com/2006/04/metadata"><blockOAuthUsrAgtFlow>true',
    );
  });

  it('gives Apex back on retrieve as source plus -meta.xml', async () => {
    await conn.metadata
      .deploy(packageZip({ ApexClass: ['Echo'] }, apexClass('Echo', 'void run() {}')), {})
      .complete(true);
    const retrieved = await conn.metadata
      .retrieve({
        unpackaged: { types: [{ name: 'ApexClass', members: ['Echo'] }], version: '62.0' },
      } as never)
      .complete();
    const files = unzipSync(Buffer.from(retrieved.zipFile, 'base64'));
    expect(strFromU8(files['unpackaged/classes/Echo.cls'] as Uint8Array)).toBe(
      'public class Echo { void run() {} }',
    );
    expect(strFromU8(files['unpackaged/classes/Echo.cls-meta.xml'] as Uint8Array)).toContain(
      '<apiVersion>62.0</apiVersion>',
    );
    const listed = await conn.metadata.list({ type: 'ApexClass' });
    expect([listed].flat().map((f) => f.fullName)).toContain('Echo');
  });
});

describe('Metadata API retrieve', () => {
  it('packs the manifest members into unpackaged/ and says which it could not find', async () => {
    const zip = packageZip(
      { CustomObject: ['Widget__c'], Workflow: ['Account'] },
      { 'objects/Widget__c.object': widgetObject(), 'workflows/Account.workflow': accountWorkflow },
    );
    await conn.metadata.deploy(zip, {}).complete(true);
    const result = await conn.metadata
      .retrieve({
        apiVersion: '62.0',
        unpackaged: {
          types: [
            { name: 'CustomObject', members: ['Widget__c', 'Nope__c'] },
            { name: 'Workflow', members: ['*'] },
          ],
          version: '62.0',
        },
      } as never)
      .complete();
    expect(result).toMatchObject({ done: true, success: true, status: 'Succeeded' });
    const files = unzipSync(Buffer.from(result.zipFile, 'base64'));
    expect(Object.keys(files).sort()).toEqual([
      'unpackaged/objects/Widget__c.object',
      'unpackaged/package.xml',
      'unpackaged/workflows/Account.workflow',
    ]);
    const object = strFromU8(files['unpackaged/objects/Widget__c.object'] as Uint8Array);
    expect(object).toContain('<fields><fullName>Code__c</fullName>');
    expect(object).toContain('<label>Widget</label>');
    expect(strFromU8(files['unpackaged/workflows/Account.workflow'] as Uint8Array)).toContain(
      '<fullName>Follow_Up</fullName>',
    );
    expect([result.messages].flat()[0]?.problem).toBe(
      "Entity of type 'CustomObject' named 'Nope__c' cannot be found",
    );
  });

  it('retrieves a package by the name its deploy gave it', async () => {
    const zip = packageZip(
      { CustomObject: ['Packaged__c'] },
      { 'objects/Packaged__c.object': widgetObject() },
      { root: 'My Package/', fullName: 'My Package' },
    );
    await conn.metadata.deploy(zip, {}).complete(true);
    const result = await conn.metadata.retrieve({ packageNames: ['My Package'] }).complete();
    const files = unzipSync(Buffer.from(result.zipFile, 'base64'));
    expect(Object.keys(files).sort()).toEqual([
      'My Package/objects/Packaged__c.object',
      'My Package/package.xml',
    ]);
    expect(strFromU8(files['My Package/package.xml'] as Uint8Array)).toContain(
      '<fullName>My Package</fullName>',
    );
  });
});
