import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

type Loose = Record<string, unknown> & { fullName: string; success?: boolean; created?: boolean };
const asLoose = (value: unknown): Loose[] => (Array.isArray(value) ? value : [value]) as Loose[];

const widget = {
  fullName: 'Widget__c',
  label: 'Widget',
  pluralLabel: 'Widgets',
  nameField: { type: 'Text', label: 'Widget Name' },
  description: 'A thing',
  deploymentStatus: 'Deployed',
  sharingModel: 'ReadWrite',
  fields: [{ fullName: 'Code__c', type: 'Text', length: 20, label: 'Code', externalId: true }],
};

describe('Metadata API CRUD calls for CustomObject', () => {
  it('creates an object that REST then describes, writes and queries', async () => {
    const [result] = asLoose(await conn.metadata.create('CustomObject', widget));
    expect(result).toMatchObject({ fullName: 'Widget__c', success: true });
    const describe = await conn.sobject('Widget__c').describe();
    expect(describe).toMatchObject({ label: 'Widget', labelPlural: 'Widgets', custom: true });
    expect(describe.keyPrefix).toMatch(/^a[0-9A-Z]{2}$/);
    const fields = Object.fromEntries(describe.fields.map((f) => [f.name, f]));
    expect(fields.Name).toMatchObject({ label: 'Widget Name', nillable: false, createable: true });
    expect(fields.Code__c).toMatchObject({ externalId: true, length: 20 });
    expect(fields.OwnerId).toBeDefined();
    await expect(conn.sobject('Widget__c').create({ Code__c: 'x' })).rejects.toMatchObject({
      errorCode: 'REQUIRED_FIELD_MISSING',
    });
    const created = await conn.sobject('Widget__c').create({ Name: 'First', Code__c: 'W-1' });
    expect((created as { success: boolean }).success).toBe(true);
    const rows = await conn.query('SELECT Name, Code__c FROM Widget__c');
    expect(rows.records).toMatchObject([{ Name: 'First', Code__c: 'W-1' }]);
  });

  it('reads the component back, updates label and properties, nulls a property', async () => {
    const [read] = asLoose(await conn.metadata.read('CustomObject', ['Widget__c']));
    expect(read).toMatchObject({
      fullName: 'Widget__c',
      label: 'Widget',
      description: 'A thing',
      deploymentStatus: 'Deployed',
      nameField: { label: 'Widget Name', type: 'Text' },
    });
    expect(read?.fields).toMatchObject([{ fullName: 'Code__c', type: 'Text', externalId: true }]);
    const [updated] = asLoose(
      await conn.metadata.update('CustomObject', { ...read, label: 'Gadget', description: null } as never),
    );
    expect(updated).toMatchObject({ fullName: 'Widget__c', success: true });
    const [again] = asLoose(await conn.metadata.read('CustomObject', 'Widget__c'));
    expect(again?.label).toBe('Gadget');
    expect(again?.description).toBeUndefined();
    expect((await conn.sobject('Widget__c').describe()).label).toBe('Gadget');
  });

  it('upserts: created tells new from existing', async () => {
    const results = asLoose(
      await conn.metadata.upsert('CustomObject', [
        { ...widget, label: 'Widget again', fields: [] },
        { ...widget, fullName: 'Sprocket__c', label: 'Sprocket', pluralLabel: 'Sprockets', fields: [] },
      ]),
    );
    expect(results.map((r) => [r.fullName, r.success, r.created])).toEqual([
      ['Widget__c', true, false],
      ['Sprocket__c', true, true],
    ]);
  });

  it('numbers auto-number names from startingNumber with displayFormat', async () => {
    await conn.metadata.create('CustomObject', {
      ...widget,
      fullName: 'Ticket__c',
      nameField: { type: 'AutoNumber', label: 'Ticket #', displayFormat: 'T-{0000}', startingNumber: 7 },
      fields: [],
    });
    await expect(conn.sobject('Ticket__c').create({ Name: 'mine' })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    });
    await conn.sobject('Ticket__c').create([{}, {}]);
    const rows = await conn.query<{ Name: string }>('SELECT Name FROM Ticket__c ORDER BY Name');
    expect(rows.records.map((r) => r.Name)).toEqual(['T-0007', 'T-0008']);
  });

  it('describes an auto-number name as autoNumber (read-only, not nillable, defaulted, 30 characters)', async () => {
    const name = (await conn.sobject('Ticket__c').describe()).fields.find((f) => f.name === 'Name');
    expect(name).toMatchObject({
      autoNumber: true,
      createable: false,
      updateable: false,
      nillable: false,
      defaultedOnCreate: true,
      length: 30,
      nameField: true,
    });
    const textName = (await conn.sobject('Widget__c').describe()).fields.find((f) => f.name === 'Name');
    expect(textName).toMatchObject({ autoNumber: false, createable: true });
    const read = asLoose(await conn.metadata.read('CustomField', ['Ticket__c.Name']))[0];
    expect(read?.type).toBe('AutoNumber');
  });

  it('renames an object (result names the old one), keeping its records; lists it with an 01I id', async () => {
    const result = asLoose(await conn.metadata.rename('CustomObject', 'Widget__c', 'Gizmo__c'))[0];
    expect(result).toMatchObject({ fullName: 'Widget__c', success: true });
    const rows = await conn.query('SELECT Name FROM Gizmo__c');
    expect(rows.records).toMatchObject([{ Name: 'First', attributes: { type: 'Gizmo__c' } }]);
    await expect(conn.query('SELECT Id FROM Widget__c')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
    const listed = asLoose(await conn.metadata.list({ type: 'CustomObject' }));
    const gizmo = listed.find((l) => l.fullName === 'Gizmo__c');
    expect(gizmo?.id).toMatch(/^01I/);
    expect(listed.some((l) => l.fullName === 'ActivityHistory')).toBe(false);
  });

  it('deletes objects and their records', async () => {
    const results = asLoose(await conn.metadata.delete('CustomObject', ['Gizmo__c', 'Sprocket__c']));
    expect(results.map((r) => r.success)).toEqual([true, true]);
    await expect(conn.sobject('Gizmo__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('reports bad components one by one and goes on with the rest', async () => {
    const results = asLoose(
      await conn.metadata.create('CustomObject', [
        { ...widget, fullName: 'Bad Name__c', fields: [] },
        { ...widget, fullName: 'Ticket__c', fields: [] },
        { ...widget, fullName: 'NoLabel__c', label: '', fields: [] },
        { ...widget, fullName: 'Fine__c', fields: [] },
      ]),
    );
    const code = (r: Loose): string | undefined =>
      ([r.errors].flat()[0] as { statusCode?: string } | undefined)?.statusCode;
    expect(results.map((r) => [r.success, code(r)])).toEqual([
      [false, 'FIELD_INTEGRITY_EXCEPTION'],
      [false, 'DUPLICATE_DEVELOPER_NAME'],
      [false, 'FIELD_INTEGRITY_EXCEPTION'],
      [true, undefined],
    ]);
    const [missing] = asLoose(await conn.metadata.delete('CustomObject', 'Account'));
    expect([missing?.success, code(missing as Loose)]).toEqual([false, 'INVALID_CROSS_REFERENCE_KEY']);
    const [other] = asLoose(await conn.metadata.update('ApexClass', { fullName: 'Foo' } as never));
    expect([other?.success, code(other as Loose)]).toEqual([false, 'INVALID_TYPE']);
  });

  it('adds a CustomField to an existing object with createMetadata', async () => {
    const [result] = asLoose(
      await conn.metadata.create('CustomField', {
        fullName: 'Account.Tier__c',
        type: 'Number',
        label: 'Tier',
        precision: 3,
        scale: 0,
      } as never),
    );
    expect(result).toMatchObject({ fullName: 'Account.Tier__c', success: true });
    const field = (await conn.sobject('Account').describe()).fields.find((f) => f.name === 'Tier__c');
    expect(field).toMatchObject({ type: 'double', precision: 3, custom: true });
  });

  it('refuses more than 10 components in one call', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ ...widget, fullName: `Many${i}__c`, fields: [] }));
    await expect(conn.metadata.create('CustomObject', many)).rejects.toThrow(/more than 10/);
  });
});
