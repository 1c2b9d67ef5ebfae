import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

type ListViews = { listviews: Array<{ id: string; label: string }> };

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator({ sampleData: true });
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
});

describe('layouts', () => {
  it('describes a page layout built from the object fields, with related lists', async () => {
    const result = await conn.sobject('Account').layouts();
    expect(result.recordTypeMappings).toEqual([]);
    const [layout] = result.layouts;
    expect(layout?.id?.startsWith('00h')).toBe(true);
    const items = layout?.detailLayoutSections[0]?.layoutRows.flatMap((row) => row.layoutItems) ?? [];
    expect(items.map((i) => i.layoutComponents[0]?.value)).toEqual(
      expect.arrayContaining(['Name', 'ParentId', 'Rating']),
    );
    expect(items.find((i) => i.layoutComponents[0]?.value === 'Name')?.required).toBe(true);
    expect(layout?.relatedLists.map((r) => r.name)).toEqual(
      expect.arrayContaining(['Contacts', 'Opportunities']),
    );
    // Stable across calls, as a real layout id is.
    expect((await conn.sobject('Account').layouts()).layouts[0]?.id).toBe(layout?.id);
  });

  it('serves the UserAlt named layout and 404s an unknown one', async () => {
    expect((await conn.sobject('User').layouts('UserAlt')).layouts).toHaveLength(1);
    await expect(conn.sobject('User').layouts('Nope')).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('answers compact layouts (the system default) and approval layouts (none: no approval processes)', async () => {
    const compact = await conn.sobject('Account').compactLayouts();
    expect(compact.compactLayouts[0]).toMatchObject({ name: 'SYSTEM', objectType: 'Account', id: null });
    expect(compact.compactLayouts[0]?.fieldItems.map((i) => i.layoutComponents[0]?.value)).toEqual([
      'Name',
      'OwnerId',
    ]);
    expect(await conn.sobject('Account').approvalLayouts()).toEqual({ approvalLayouts: [] });
  });
});

describe('list views', () => {
  it('lists, describes, runs and explains the standard list views', async () => {
    const { listviews } = (await conn.sobject('Account').listviews()) as ListViews;
    expect(listviews.map((v) => v.label)).toEqual(['All Accounts', 'My Accounts', 'New This Week']);
    const all = listviews[0] as { id: string };
    const describe = (await conn.sobject('Account').listview(all.id).describe()) as { query: string };
    expect(describe.query).toBe(
      'SELECT Name, Site, BillingState, Phone, Type, Owner.Alias, Id, CreatedDate, LastModifiedDate, SystemModstamp FROM Account ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST',
    );
    const results = (await conn.sobject('Account').listview(all.id).results()) as {
      size: number;
      done: boolean;
      records: unknown[];
    };
    expect(results.size).toBe(12);
    expect(results.done).toBe(true);
    const first = (
      results.records[0] as unknown as { columns: Array<{ fieldNameOrPath: string; value: string | null }> }
    ).columns;
    expect(first.find((c) => c.fieldNameOrPath === 'Name')?.value).toBe(
      'Burlington Textiles Corp of America',
    );
    expect(first.find((c) => c.fieldNameOrPath === 'Owner.Alias')?.value).toBe('eadmin');
    const plan = (await conn.sobject('Account').listview(all.id).explain()) as {
      plans: Array<Record<string, unknown>>;
    };
    expect(plan.plans[0]).toMatchObject({
      sobjectType: 'Account',
      cardinality: 12,
      leadingOperationType: 'TableScan',
    });
  });

  it('404s a list view id of another object', async () => {
    const { listviews } = (await conn.sobject('Account').listviews()) as ListViews;
    await expect(
      conn
        .sobject('Contact')
        .listview((listviews[0] as { id: string }).id)
        .describe(),
    ).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
});

describe('recent, tabs and theme', () => {
  it('lists records viewed with SOQL FOR VIEW, newest first, without editing them', async () => {
    expect(await conn.recent()).toEqual([]);
    const before = sf.records('Account').find((a) => a.Name === 'GenePoint');
    await conn.query("SELECT Id, Name FROM Account WHERE Name = 'GenePoint' FOR VIEW");
    const recent = (await conn.recent(2)) as unknown as Array<{ Name: string; attributes: { type: string } }>;
    expect(recent.map((r) => [r.attributes.type, r.Name])).toEqual([['Account', 'GenePoint']]);
    const after = sf.records('Account').find((a) => a.Name === 'GenePoint');
    expect(after?.LastViewedDate).toEqual(expect.any(String));
    expect(after?.LastModifiedDate).toBe(before?.LastModifiedDate);
  });

  it('answers tabs and theme for the standard objects, and lists them as version resources', async () => {
    const tabs = (await conn.tabs()) as Array<{ name: string; label: string; url: string }>;
    expect(tabs.map((t) => t.name)).toEqual(
      expect.arrayContaining(['standard-Account', 'standard-Opportunity']),
    );
    expect(tabs.find((t) => t.name === 'standard-Account')?.url).toBe(`${sf.instanceUrl}/001/o`);
    const theme = (await conn.theme()) as {
      themeItems: Array<{ name: string; colors: unknown[]; icons: unknown[] }>;
    };
    expect(theme.themeItems.find((t) => t.name === 'Account')?.colors).toHaveLength(1);
    const resources = (await conn.request('/services/data/v62.0')) as Record<string, string>;
    expect(Object.keys(resources)).toEqual(expect.arrayContaining(['recent', 'tabs', 'theme']));
  });
});
