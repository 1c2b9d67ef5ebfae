import { strFromU8, unzipSync } from 'fflate';
import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';
import { createLeadsByCompanyReport, METADATA_NS, packageZip } from '../fixtures/metadata-package.js';

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

// biome-ignore lint/suspicious/noExplicitAny: REST and metadata results are read loosely
type Json = any;

const folderFile = (name = 'Sales Dashboards'): string =>
  `<?xml version="1.0" encoding="UTF-8"?><DashboardFolder ${METADATA_NS}><accessType>Public</accessType><name>${name}</name></DashboardFolder>`;

const dashboardFile = (report = 'unfiled$public/Leads_by_company', title = 'Lead Dashboard'): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Dashboard ${METADATA_NS}>` +
  '<backgroundEndColor>#FFFFFF</backgroundEndColor><backgroundFadeDirection>Diagonal</backgroundFadeDirection>' +
  '<backgroundStartColor>#FFFFFF</backgroundStartColor><dashboardType>SpecifiedUser</dashboardType>' +
  '<leftSection><columnSize>Medium</columnSize>' +
  `<components><componentType>Bar</componentType><header>Leads by company</header><report>${report}</report></components>` +
  `<components><componentType>Pie</componentType><report>${report}</report></components>` +
  '</leftSection>' +
  `<textColor>#000000</textColor><title>${title}</title><titleColor>#000000</titleColor><titleSize>12</titleSize></Dashboard>`;

/** Folder and dashboard, the dashboard listed first: the folder must still be written before it. */
const folderAndDashboard = (dashboard = dashboardFile()): Buffer =>
  packageZip(
    { Dashboard: ['Sales_Dashboards/Lead_Dashboard', 'Sales_Dashboards'] },
    {
      'dashboards/Sales_Dashboards-meta.xml': folderFile(),
      'dashboards/Sales_Dashboards/Lead_Dashboard.dashboard': dashboard,
    },
  );

const listDashboards = async (): Promise<Json[]> =>
  conn.request({ method: 'GET', url: '/services/data/v62.0/analytics/dashboards' });

const failuresOf = (result: Json): Json[] => [result.details?.componentFailures ?? []].flat();
const successesOf = (result: Json): Json[] => [result.details?.componentSuccesses ?? []].flat();

let reportId: string;

beforeEach(async () => {
  sf.reset();
  sf.store.insert('Lead', [
    { LastName: 'Ames', Company: 'Acme, Inc.' },
    { LastName: 'Cole', Company: 'Globex' },
  ]);
  reportId = await createLeadsByCompanyReport(conn);
});

describe('Metadata API deploy and retrieve: Dashboard (with its folders)', () => {
  it('deploys a folder and a dashboard on an existing report, which the Analytics REST API then serves', async () => {
    const result = await conn.metadata.deploy(folderAndDashboard(), {}).complete(true);
    expect(result).toMatchObject({ success: true, status: 'Succeeded', numberComponentErrors: 0 });
    expect(result.numberComponentsDeployed).toBe(2);
    const successes = successesOf(result);
    expect(successes.find((m) => m.fullName === 'Sales_Dashboards')).toMatchObject({
      componentType: 'Dashboard',
      created: true,
      fileName: 'pkg/dashboards/Sales_Dashboards-meta.xml',
    });
    const deployed = successes.find((m) => m.fullName === 'Sales_Dashboards/Lead_Dashboard');
    expect(deployed).toMatchObject({
      componentType: 'Dashboard',
      created: true,
      fileName: 'pkg/dashboards/Sales_Dashboards/Lead_Dashboard.dashboard',
    });
    // Not stored-only: no Warning on the message.
    expect(deployed?.problemType).not.toBe('Warning');
    expect(String(deployed?.id).startsWith('01Z')).toBe(true);

    const listed = await listDashboards();
    expect(listed.map((d) => d.name)).toEqual(['Lead Dashboard']);
    const described: Json = await conn.request(
      `/services/data/v62.0/analytics/dashboards/${listed[0].id}/describe`,
    );
    expect(described).toMatchObject({ developerName: 'Lead_Dashboard', name: 'Lead Dashboard' });
    expect(described.components.map((c: Json) => [c.reportId, c.properties.visualizationType])).toEqual([
      [reportId, 'Bar'],
      [reportId, 'Pie'],
    ]);
    const folder = await conn.sobject('Folder').findOne({ DeveloperName: 'Sales_Dashboards' }, 'Name, Type');
    expect(folder).toMatchObject({ Name: 'Sales Dashboards', Type: 'Dashboard' });
  });

  it('fails a dashboard whose report does not exist, naming it, and with rollbackOnError applies nothing', async () => {
    const result = await conn.metadata
      .deploy(folderAndDashboard(dashboardFile('unfiled$public/No_Such_Report')), { rollbackOnError: true })
      .complete(true);
    expect(result).toMatchObject({ success: false, status: 'Failed', numberComponentErrors: 1 });
    expect(failuresOf(result)).toEqual([
      expect.objectContaining({
        componentType: 'Dashboard',
        fullName: 'Sales_Dashboards/Lead_Dashboard',
        problemType: 'Error',
        problem: 'In field: report - no Report named unfiled$public/No_Such_Report found',
      }),
    ]);
    expect(await listDashboards()).toEqual([]);
    expect(await conn.sobject('Folder').find({ DeveloperName: 'Sales_Dashboards' })).toEqual([]);
  });

  it('applies the folder but not the refused dashboard when rollbackOnError is false', async () => {
    const result = await conn.metadata
      .deploy(folderAndDashboard(dashboardFile('unfiled$public/No_Such_Report')), {
        rollbackOnError: false,
      })
      .complete(true);
    expect(result).toMatchObject({ status: 'SucceededPartial', numberComponentErrors: 1 });
    expect(successesOf(result).map((m) => m.fullName)).toContain('Sales_Dashboards');
    expect(await listDashboards()).toEqual([]);
    expect(await conn.sobject('Folder').find({ DeveloperName: 'Sales_Dashboards' })).toHaveLength(1);
  });

  it('refuses a dashboard on a report deployed in the same package, since deployed reports are stored only', async () => {
    const zip = packageZip(
      {
        Dashboard: ['Sales_Dashboards', 'Sales_Dashboards/Lead_Dashboard'],
        Report: ['Team_Reports', 'Team_Reports/Open_Leads'],
      },
      {
        'dashboards/Sales_Dashboards-meta.xml': folderFile(),
        'dashboards/Sales_Dashboards/Lead_Dashboard.dashboard': dashboardFile('Team_Reports/Open_Leads'),
        'reports/Team_Reports-meta.xml': `<ReportFolder ${METADATA_NS}><name>Team Reports</name></ReportFolder>`,
        'reports/Team_Reports/Open_Leads.report': `<Report ${METADATA_NS}><format>Tabular</format><name>Open Leads</name><reportType>LeadList</reportType></Report>`,
      },
    );
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(result.status).toBe('Failed');
    const [failure] = failuresOf(result);
    expect(failure).toMatchObject({
      componentType: 'Dashboard',
      fullName: 'Sales_Dashboards/Lead_Dashboard',
    });
    expect(failure.problem).toContain('the Report Team_Reports/Open_Leads is deployed in this package');
    expect(failure.problem).toContain('Reports REST API');
  });

  it('fails a dashboard whose folder is neither in the org nor in the deploy', async () => {
    const zip = packageZip(
      { Dashboard: ['Other_Folder/Lead_Dashboard'] },
      { 'dashboards/Other_Folder/Lead_Dashboard.dashboard': dashboardFile() },
    );
    const result = await conn.metadata.deploy(zip, {}).complete(true);
    expect(failuresOf(result)[0]).toMatchObject({
      fullName: 'Other_Folder/Lead_Dashboard',
      problem: 'In field: fullName - no DashboardFolder named Other_Folder found',
    });
  });

  it('checks the same rules as createMetadata: a folder needs a name, a dashboard a title', async () => {
    const zip = packageZip(
      { Dashboard: ['Sales_Dashboards', 'Sales_Dashboards/Lead_Dashboard'] },
      {
        'dashboards/Sales_Dashboards-meta.xml': `<DashboardFolder ${METADATA_NS}><accessType>Public</accessType></DashboardFolder>`,
        'dashboards/Sales_Dashboards/Lead_Dashboard.dashboard': dashboardFile().replace(
          '<title>Lead Dashboard</title>',
          '',
        ),
      },
    );
    const result = await conn.metadata.deploy(zip, { checkOnly: true }).complete(true);
    expect(
      failuresOf(result)
        .map((m) => `${m.fullName}: ${m.problem}`)
        .sort(),
    ).toEqual([
      'Sales_Dashboards/Lead_Dashboard: Required field is missing: title',
      'Sales_Dashboards: Required field is missing: name',
    ]);
  });

  it('validates with checkOnly without writing anything', async () => {
    const result = await conn.metadata.deploy(folderAndDashboard(), { checkOnly: true }).complete(true);
    expect(result).toMatchObject({ success: true, status: 'Succeeded', checkOnly: true });
    expect(await listDashboards()).toEqual([]);
    expect(await conn.sobject('Folder').find({ DeveloperName: 'Sales_Dashboards' })).toEqual([]);
  });

  it('retrieves deployed and created dashboards, and a redeploy replaces the dashboard under the same id', async () => {
    await conn.metadata.deploy(folderAndDashboard(), {}).complete(true);
    const created: Json = await conn.metadata.create('Dashboard', {
      fullName: 'Sales_Dashboards/Made_By_Create',
      title: 'Made by create',
      leftSection: {
        columnSize: 'Wide',
        components: [{ componentType: 'Table', report: 'unfiled$public/Leads_by_company' }],
      },
    });
    expect(created.success).toBe(true);

    // As the Dashboard page says: list the folders, then each folder's dashboards, and name them.
    const folders = [await conn.metadata.list({ type: 'DashboardFolder' })].flat();
    expect(folders.map((f) => [f.fullName, f.fileName, f.type])).toEqual([
      ['Sales_Dashboards', 'dashboards/Sales_Dashboards', 'DashboardFolder'],
    ]);
    const inFolder = [await conn.metadata.list({ type: 'Dashboard', folder: 'Sales_Dashboards' })].flat();
    expect(inFolder.map((f) => f.fullName).sort()).toEqual([
      'Sales_Dashboards/Lead_Dashboard',
      'Sales_Dashboards/Made_By_Create',
    ]);
    expect([await conn.metadata.list({ type: 'Dashboard', folder: 'Other' })].flat().filter(Boolean)).toEqual(
      [],
    );
    const members = ['Sales_Dashboards', ...inFolder.map((f) => f.fullName)];
    const retrieved = await conn.metadata
      .retrieve({
        singlePackage: true,
        unpackaged: { types: [{ name: 'Dashboard', members }], version: '62.0' },
      } as never)
      .complete();
    const files = unzipSync(Buffer.from(retrieved.zipFile, 'base64'));
    expect(Object.keys(files).sort()).toEqual([
      'dashboards/Sales_Dashboards-meta.xml',
      'dashboards/Sales_Dashboards/Lead_Dashboard.dashboard',
      'dashboards/Sales_Dashboards/Made_By_Create.dashboard',
      'package.xml',
    ]);
    expect(strFromU8(files['dashboards/Sales_Dashboards-meta.xml'] as Uint8Array)).toContain(
      `<DashboardFolder ${METADATA_NS}><accessType>Public</accessType><name>Sales Dashboards</name></DashboardFolder>`,
    );
    const dashboardXml = strFromU8(
      files['dashboards/Sales_Dashboards/Lead_Dashboard.dashboard'] as Uint8Array,
    );
    expect(dashboardXml).toContain(`<Dashboard ${METADATA_NS}>`);
    expect(dashboardXml).toContain('<title>Lead Dashboard</title>');
    expect(dashboardXml).toContain(
      '<leftSection><columnSize>Medium</columnSize><components><componentType>Bar</componentType>',
    );
    expect(dashboardXml).not.toContain('<fullName>');
    expect(strFromU8(files['dashboards/Sales_Dashboards/Made_By_Create.dashboard'] as Uint8Array)).toContain(
      '<title>Made by create</title>',
    );

    const [before] = await listDashboards();
    const redeploy = await conn.metadata
      .deploy(folderAndDashboard(dashboardFile(undefined, 'Renamed Dashboard')), {})
      .complete(true);
    expect(successesOf(redeploy).find((m) => m.fullName === 'Sales_Dashboards/Lead_Dashboard')).toMatchObject(
      { created: false, id: before.id },
    );
    const after = await listDashboards();
    expect(after.map((d) => [d.id, d.name]).sort()).toEqual(
      [
        [before.id, 'Renamed Dashboard'],
        [expect.any(String), 'Made by create'],
      ].sort(),
    );
    // The replaced dashboard's components are new records; the old ones are gone.
    const components = await conn.sobject('DashboardComponent').find({ DashboardId: before.id }, 'Id');
    expect(components).toHaveLength(2);
  });
});
