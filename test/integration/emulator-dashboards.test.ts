import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';
import { createLeadsByCompanyReport } from '../fixtures/metadata-package.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterAll(async () => {
  await sf.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: metadata and dashboard representations are read loosely
type Json = any;

const chart = (componentType: string, report = 'Reports/Leads_by_company') => ({
  componentType,
  report,
  autoselectColumnsFromReport: true,
  header: `${componentType} of leads`,
});
const dashboard = (overrides: Record<string, unknown> = {}) => ({
  fullName: 'Sales_Dashboards/Lead_Dashboard',
  title: 'Lead Dashboard',
  dashboardType: 'SpecifiedUser',
  backgroundEndColor: '#FFFFFF',
  backgroundFadeDirection: 'Diagonal',
  backgroundStartColor: '#FFFFFF',
  textColor: '#000000',
  titleColor: '#000000',
  titleSize: 12,
  leftSection: { columnSize: 'Medium', components: [chart('Bar'), chart('Pie')] },
  rightSection: { columnSize: 'Wide', components: [chart('Table')] },
  ...overrides,
});
const errorsOf = (result: Json) => (Array.isArray(result.errors) ? result.errors : [result.errors]);

let reportId: string;

beforeEach(async () => {
  sf.reset();
  sf.store.insert('Lead', [
    { LastName: 'Ames', Company: 'Acme, Inc.' },
    { LastName: 'Bell', Company: 'Acme, Inc.' },
    { LastName: 'Cole', Company: 'Globex' },
  ]);
  reportId = await createLeadsByCompanyReport(conn);
  await conn.metadata.create('DashboardFolder', { fullName: 'Sales_Dashboards', name: 'Sales Dashboards' });
});

async function createDashboard(overrides: Record<string, unknown> = {}): Promise<string> {
  const result: Json = await conn.metadata.create('Dashboard', dashboard(overrides));
  expect(result.success).toBe(true);
  const found = await conn.sobject('Dashboard').findOne({ Title: 'Lead Dashboard' }, 'Id');
  return found?.Id as string;
}

describe('Metadata API: Dashboard and DashboardFolder', () => {
  it('creates a dashboard that SOQL finds, with one DashboardComponent per component, in its folder', async () => {
    const id = await createDashboard();
    expect(id.startsWith('01Z')).toBe(true);
    const record = await conn
      .sobject('Dashboard')
      .findOne({ Id: id }, 'DeveloperName, FolderName, LeftSize, RightSize, Type');
    expect(record).toMatchObject({
      DeveloperName: 'Lead_Dashboard',
      FolderName: 'Sales Dashboards',
      LeftSize: 'Medium',
      RightSize: 'Wide',
      Type: 'SpecifiedUser',
    });
    const components = await conn.query(
      `SELECT Name, CustomReportId FROM DashboardComponent WHERE DashboardId = '${id}'`,
    );
    expect(components.records.map((c: Json) => [c.Name, c.CustomReportId])).toEqual([
      ['Bar of leads', reportId],
      ['Pie of leads', reportId],
      ['Table of leads', reportId],
    ]);
    const folder = await conn.sobject('Folder').findOne({ DeveloperName: 'Sales_Dashboards' }, 'Name, Type');
    expect(folder).toMatchObject({ Name: 'Sales Dashboards', Type: 'Dashboard' });
  });

  it('refuses a dashboard whose folder, title or report reference is missing, and writes nothing', async () => {
    const noFolder: Json = await conn.metadata.create(
      'Dashboard',
      dashboard({ fullName: 'Nowhere/Lead_Dashboard' }),
    );
    expect(noFolder.success).toBe(false);
    expect(errorsOf(noFolder)[0].statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
    const noTitle: Json = await conn.metadata.create('Dashboard', dashboard({ title: '' }));
    expect(errorsOf(noTitle)[0].statusCode).toBe('REQUIRED_FIELD_MISSING');
    const badReport: Json = await conn.metadata.create(
      'Dashboard',
      dashboard({
        rightSection: { columnSize: 'Wide', components: [chart('Table', 'Reports/No_Such_Report')] },
      }),
    );
    expect(badReport.success).toBe(false);
    expect(errorsOf(badReport)[0]).toMatchObject({ statusCode: 'INVALID_CROSS_REFERENCE_KEY' });
    expect((await conn.query('SELECT Id FROM Dashboard')).totalSize).toBe(0);
    expect((await conn.query('SELECT Id FROM DashboardComponent')).totalSize).toBe(0);
  });

  it('refuses a second dashboard with the same full name', async () => {
    await createDashboard();
    const again: Json = await conn.metadata.create('Dashboard', dashboard());
    expect(errorsOf(again)[0].statusCode).toBe('DUPLICATE_DEVELOPER_NAME');
  });

  it('reads a dashboard back with its sections, and deletes it to the recycle bin', async () => {
    const id = await createDashboard();
    const read: Json = await conn.metadata.read('Dashboard', 'Sales_Dashboards/Lead_Dashboard');
    expect(read.title).toBe('Lead Dashboard');
    expect(read.leftSection.components.map((c: Json) => c.componentType)).toEqual(['Bar', 'Pie']);
    expect(read.rightSection).toMatchObject({
      columnSize: 'Wide',
      components: [expect.objectContaining({ componentType: 'Table', report: 'Reports/Leads_by_company' })],
    });
    expect(read.middleSection).toBeUndefined();
    const deleted: Json = await conn.metadata.delete('Dashboard', 'Sales_Dashboards/Lead_Dashboard');
    expect(deleted.success).toBe(true);
    expect((await conn.query('SELECT Id FROM Dashboard')).totalSize).toBe(0);
    const bin = await conn.query(`SELECT Id, IsDeleted FROM Dashboard WHERE Id = '${id}'`, { scanAll: true });
    expect(bin.records[0]).toMatchObject({ IsDeleted: true });
  });
});

describe('Reports and Dashboards REST API: dashboards', () => {
  it('lists dashboards with their urls', async () => {
    const id = await createDashboard();
    const list = await conn.analytics.dashboards();
    expect(list).toEqual([
      {
        id,
        name: 'Lead Dashboard',
        statusUrl: `/services/data/v62.0/analytics/dashboards/${id}/status`,
        url: `/services/data/v62.0/analytics/dashboards/${id}`,
      },
    ]);
  });

  it('describes a dashboard: components in section order, a layout column per section, folder and running user', async () => {
    const id = await createDashboard();
    const meta: Json = await conn.analytics.dashboard(id).describe();
    expect(meta.id).toBe(id);
    expect(meta.name).toBe('Lead Dashboard');
    expect(meta.components.map((c: Json) => [c.properties.visualizationType, c.reportId, c.type])).toEqual([
      ['Bar', reportId, 'Report'],
      ['Pie', reportId, 'Report'],
      ['Table', reportId, 'Report'],
    ]);
    expect(meta.layout).toEqual({ columns: [{ components: [0, 1] }, { components: [2] }] });
    const folder = await conn.sobject('Folder').findOne({ DeveloperName: 'Sales_Dashboards' }, 'Id');
    expect(meta.folderId).toBe(folder?.Id);
    expect(meta.runningUser.id).toBe(sf.userId);
  });

  it("returns every component's report result, or only the requested components", async () => {
    const id = await createDashboard();
    const meta: Json = await conn.analytics.dashboard(id).describe();
    const all: Json = await conn.analytics.dashboard(id).components();
    expect(all.componentData).toHaveLength(3);
    expect(all.componentData[0].reportResult.factMap['T!T'].aggregates[0].value).toBe(3);
    expect(all.componentData[0].status).toMatchObject({ dataStatus: 'DATA', refreshStatus: 'IDLE' });
    const one: Json = await conn.analytics.dashboard(id).components(meta.components[2].id);
    expect(one.componentData.map((c: Json) => c.componentId)).toEqual([meta.components[2].id]);
    await expect(conn.analytics.dashboard(id).components(['01a000000000000AAA'])).rejects.toMatchObject({
      errorCode: 'BAD_REQUEST',
    });
  });

  it('reports component status, and a refresh answers the status url and moves the refresh date', async () => {
    const id = await createDashboard();
    const status: Json = await conn.analytics.dashboard(id).status();
    expect(status.componentStatus).toHaveLength(3);
    expect(status.componentStatus[0].refreshStatus).toBe('IDLE');
    const refreshed: Json = await conn.analytics.dashboard(id).refresh();
    expect(refreshed.statusUrl).toBe(`/services/data/v62.0/analytics/dashboards/${id}/status`);
  });

  it('clones a dashboard under a new name into a folder, with its own components', async () => {
    const id = await createDashboard();
    const meta: Json = await conn.analytics.dashboard(id).describe();
    const clone: Json = await conn.analytics
      .dashboard(id)
      .clone({ name: 'Lead Dashboard Copy', folderId: meta.folderId });
    expect(clone.name).toBe('Lead Dashboard Copy');
    expect(clone.attributes.dashboardId).not.toBe(id);
    expect(clone.components).toHaveLength(3);
    expect(clone.components[0].id).not.toBe(meta.components[0].id);
    await expect(conn.analytics.dashboard(id).clone({ name: '' })).rejects.toMatchObject({
      errorCode: 'BAD_REQUEST',
    });
  });

  it('deletes a dashboard: it leaves the list and answers ENTITY_IS_DELETED; unknown ids answer NOT_FOUND', async () => {
    const id = await createDashboard();
    await conn.analytics.dashboard(id).destroy();
    expect(await conn.analytics.dashboards()).toEqual([]);
    await expect(conn.analytics.dashboard(id).describe()).rejects.toMatchObject({
      errorCode: 'ENTITY_IS_DELETED',
    });
    await expect(conn.analytics.dashboard('01Z000000000000AAA').describe()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
});
