import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

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
beforeEach(() => {
  sf.reset();
  sf.store.insert('Lead', [
    { LastName: 'Ames', Company: 'Acme, Inc.', Email: 'ames@acme.example', LeadSource: 'Web' },
    { LastName: 'Bell', Company: 'Acme, Inc.', LeadSource: 'Phone Inquiry' },
    { LastName: 'Cole', Company: 'Globex', LeadSource: 'Web' },
  ]);
});

// biome-ignore lint/suspicious/noExplicitAny: report representations are read loosely
type Json = any;
const create = async (reportMetadata: Record<string, unknown>): Promise<Json> =>
  await conn.request({
    method: 'POST',
    url: '/services/data/v62.0/analytics/reports',
    body: JSON.stringify({ reportMetadata }),
    headers: { 'content-type': 'application/json' },
  });
const summary = {
  name: 'Leads by company',
  reportType: { type: 'LeadList' },
  reportFormat: 'SUMMARY',
  detailColumns: ['LAST_NAME', 'EMAIL', 'LEAD_SOURCE'],
  groupingsDown: [{ name: 'COMPANY', sortOrder: 'Asc' }],
};

describe('Reports REST API', () => {
  it('creates a report that SOQL finds as a Report record and the list shows', async () => {
    const created = await create(summary);
    const id = created.reportMetadata.id as string;
    expect(id.startsWith('00O')).toBe(true);
    const found = await conn.sobject('Report').findOne({ Name: 'Leads by company' }, 'Id, Format');
    expect(found).toMatchObject({ Id: id, Format: 'Summary' });
    const list = await conn.analytics.reports();
    expect(list.map((r) => r.id)).toEqual([id]);
    const meta = await conn.analytics.report(id).describe();
    expect(meta.reportMetadata).toMatchObject({ name: 'Leads by company', reportFormat: 'SUMMARY' });
    expect(Object.keys(meta.reportExtendedMetadata.detailColumnInfo)).toEqual([
      'LAST_NAME',
      'EMAIL',
      'LEAD_SOURCE',
    ]);
  });

  it('runs: counts per grouping and in total, detail rows only when asked', async () => {
    const id = (await create(summary)).reportMetadata.id as string;
    const plain: Json = await conn.analytics.report(id).execute();
    expect(plain.hasDetailRows).toBe(false);
    expect(plain.factMap['T!T']).toEqual({ aggregates: [{ label: '3', value: 3 }] });
    expect(plain.groupingsDown.groupings.map((g: Json) => [g.key, g.label])).toEqual([
      ['0', 'Acme, Inc.'],
      ['1', 'Globex'],
    ]);
    expect(plain.factMap['0!T'].aggregates[0].value).toBe(2);
    const detailed: Json = await conn.analytics.report(id).execute({ details: true });
    expect(detailed.factMap['1!T'].rows).toEqual([
      {
        dataCells: [
          { label: 'Cole', value: 'Cole' },
          { label: '-', value: null },
          { label: 'Web', value: 'Web' },
        ],
      },
    ]);
  });

  it('applies filter overrides (comma-separated values match any) without saving them', async () => {
    const id = (await create(summary)).reportMetadata.id as string;
    const filtered: Json = await conn.analytics.report(id).execute({
      details: true,
      metadata: {
        reportMetadata: {
          reportFilters: [{ column: 'LEAD_SOURCE', operator: 'equals', value: 'Web,Email' }],
        },
      },
    } as never);
    expect(filtered.factMap['T!T'].aggregates[0].value).toBe(2);
    expect(filtered.reportMetadata.reportFilters).toHaveLength(1);
    const again: Json = await conn.analytics.report(id).execute();
    expect(again.factMap['T!T'].aggregates[0].value).toBe(3);
    await expect(
      conn.analytics.report(id).execute({
        metadata: { reportMetadata: { reportFilters: [{ column: 'NOPE', operator: 'equals', value: 'x' }] } },
      } as never),
    ).rejects.toMatchObject({ errorCode: 'BAD_REQUEST' });
  });

  it('runs as an instance, lists it and returns its result; explains its query', async () => {
    const id = (await create(summary)).reportMetadata.id as string;
    const instance = await conn.analytics.report(id).executeAsync();
    expect(instance).toMatchObject({ status: 'Success' });
    expect((await conn.analytics.report(id).instances()).map((i) => i.id)).toEqual([instance.id]);
    const result: Json = await conn.analytics.report(id).instance(instance.id).retrieve();
    expect(result.attributes).toMatchObject({ id: instance.id, reportId: id, status: 'Success' });
    expect(result.factMap['T!T'].aggregates[0].value).toBe(3);
    const plan = await conn.analytics.report(id).explain();
    expect(plan.plans[0]).toMatchObject({ sobjectType: 'Lead' });
  });

  it('clones and deletes reports; a deleted report is gone from SOQL and the API', async () => {
    const id = (await create(summary)).reportMetadata.id as string;
    const clone: Json = await conn.analytics.report(id).clone('Copy');
    const cloneId = clone.reportMetadata.id as string;
    expect(cloneId).not.toBe(id);
    expect(clone.reportMetadata).toMatchObject({
      name: 'Copy',
      detailColumns: ['LAST_NAME', 'EMAIL', 'LEAD_SOURCE'],
    });
    await conn.analytics.report(cloneId).destroy();
    await expect(conn.analytics.report(cloneId).describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    expect(await conn.sobject('Report').count({ Id: cloneId })).toBe(0);
  });

  it('refuses bad definitions', async () => {
    await expect(create({ ...summary, name: '' })).rejects.toMatchObject({ errorCode: 'BAD_REQUEST' });
    await expect(create({ ...summary, reportType: { type: 'Opportunity' } })).rejects.toMatchObject({
      errorCode: 'BAD_REQUEST',
    });
    await expect(create({ ...summary, groupingsDown: [] })).rejects.toMatchObject({
      errorCode: 'BAD_REQUEST',
    });
    await expect(create({ ...summary, detailColumns: ['SALARY'] })).rejects.toMatchObject({
      errorCode: 'BAD_REQUEST',
    });
    await expect(conn.analytics.report('00O000000000000AAA').execute()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
});
