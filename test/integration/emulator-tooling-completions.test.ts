import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;

const connect = (version: string) =>
  new jsforce.Connection({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken, version });

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});

describe('Tooling API code completions', () => {
  it('lists standard Visualforce components with their attributes, types and allowed values', async () => {
    const result = await connect('62.0').tooling.completions('visualforce');
    expect(result.publicDeclarations).toBeUndefined();
    const completions = result.completions ?? {};
    expect(Object.keys(completions)).toHaveLength(40);
    expect(Object.keys(completions).every((name) => name.startsWith('apex:'))).toBe(true);

    const page = completions['apex:page'];
    expect(page?.simple).toBe(false);
    expect(page?.attribs).toMatchObject({
      controller: { type: 'String' },
      standardController: { type: 'String' },
      extensions: { type: 'String' },
      action: { type: 'ApexPages.Action' },
      showHeader: { type: 'Boolean', values: ['true', 'false'] },
    });
    const inputField = completions['apex:inputField'];
    expect(inputField?.simple).toBe(true);
    expect(inputField?.attribs).toMatchObject({
      value: { type: 'Object' },
      required: { type: 'Boolean', values: ['true', 'false'] },
    });
    expect((inputField?.attribs.type as { values?: string[] } | undefined)?.values).toContain(
      'datetime-local',
    );
    expect(Object.keys(completions['apex:param']?.attribs ?? {}).sort()).toEqual([
      'assignTo',
      'id',
      'name',
      'value',
    ]);
    // A String attribute has no value list.
    expect(completions['apex:form']?.attribs.id).toEqual({ type: 'String' });
  });

  it('lists public declarations of System types: constructors, overloaded methods, static flags, properties', async () => {
    const result = await connect('62.0').tooling.completions('apex');
    expect(result.completions).toBeUndefined();
    const system = result.publicDeclarations?.System ?? {};
    expect(Object.keys(system).sort()).toEqual([
      'Database',
      'Date',
      'Datetime',
      'Integer',
      'LIST',
      'Map',
      'Math',
      'Set',
      'String',
      'System',
    ]);

    const math = system.Math;
    expect(math?.properties.map((p) => p.name)).toEqual(['E', 'PI']);
    expect(math?.constructors).toEqual([{ methodDoc: null, name: 'Math', parameters: [], references: [] }]);
    const max = math?.methods.filter((m) => m.name === 'max') ?? [];
    expect(max.map((m) => m.argTypes)).toEqual([
      ['Decimal', 'Decimal'],
      ['Double', 'Double'],
      ['Integer', 'Integer'],
      ['Long', 'Long'],
    ]);
    expect(max.every((m) => m.isStatic)).toBe(true);

    const newInstance = system.Date?.methods.find((m) => m.name === 'newInstance');
    expect(newInstance).toEqual({
      argTypes: ['Integer', 'Integer', 'Integer'],
      isStatic: true,
      methodDoc: null,
      name: 'newInstance',
      parameters: [
        { name: 'year', type: 'Integer' },
        { name: 'month', type: 'Integer' },
        { name: 'day', type: 'Integer' },
      ],
      references: [],
      returnType: 'Date',
    });
    const addDays = system.Date?.methods.find((m) => m.name === 'addDays');
    expect(addDays).toMatchObject({ isStatic: false, returnType: 'Date' });
    expect(system.Database?.methods.some((m) => m.name === 'query' && m.isStatic)).toBe(true);
    expect(system.String?.methods.length).toBeGreaterThan(100);
  });

  it('exists for Visualforce from API 38.0 on; Apex symbols are served by every version the emulator serves', async () => {
    await expect(connect('37.0').tooling.completions('visualforce')).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
    expect((await connect('38.0').tooling.completions('visualforce')).completions).toBeDefined();
    expect((await connect('31.0').tooling.completions('apex')).publicDeclarations).toBeDefined();
  });

  it('refuses a missing or unknown completion type', async () => {
    const conn = connect('62.0');
    for (const url of ['/tooling/completions', '/tooling/completions?type=lightning']) {
      await expect(conn.request(url)).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
    }
  });
});
