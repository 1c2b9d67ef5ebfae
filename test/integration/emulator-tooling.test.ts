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
});

const bytes = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10, 0x80, 0x7f]);
const resource = (name: string, body: string | Buffer) => ({
  Name: name,
  ContentType: 'application/zip',
  CacheControl: 'Private',
  Body: body,
});

describe('Tooling API', () => {
  it('describes its own objects, apart from the data API', async () => {
    const global = await conn.tooling.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(['ApexClass', 'StaticResource', 'DebugLevel']);
    const body = (await conn.tooling.sobject('StaticResource').describe()).fields.find(
      (f) => f.name === 'Body',
    );
    expect(body).toMatchObject({ type: 'base64', soapType: 'xsd:base64Binary', filterable: false });
    await expect(conn.query('SELECT Id FROM DebugLevel')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
    const version = (await conn.request('/')) as Record<string, string>;
    expect(version.tooling).toBe('/services/data/v62.0/tooling');
    expect(await conn.request('/tooling')).toEqual({
      query: '/services/data/v62.0/tooling/query',
      queryAll: '/services/data/v62.0/tooling/queryAll',
      sobjects: '/services/data/v62.0/tooling/sobjects',
    });
  });

  it('stores a static resource sent as JSON base64 or as multipart, and serves its bytes from a blob URL', async () => {
    const json = await conn.tooling.create('StaticResource', resource('AsJson', bytes.toString('base64')));
    const multipart = await conn.tooling.create(
      'StaticResource',
      resource('AsMultipart', bytes.toString('base64')),
      {
        multipartFileFields: { Body: { contentType: 'application/zip', filename: 'x.zip' } },
      },
    );
    for (const created of [json, multipart]) {
      const id = (created as { id: string }).id;
      const record = await conn.tooling.retrieve('StaticResource', id);
      expect(record.Body).toBe(`/services/data/v62.0/tooling/sobjects/StaticResource/${id}/Body`);
      expect(record.BodyLength).toBe(bytes.length);
      expect(record.attributes?.url).toBe(`/services/data/v62.0/tooling/sobjects/StaticResource/${id}`);
      const downloaded = await conn.tooling.request<string>(
        record.Body as string,
        { encoding: 'base64' } as never,
      );
      expect(Buffer.from(downloaded, 'base64')).toEqual(bytes);
    }
    const queried = await conn.tooling.query<{ Name: string; Body: string }>(
      'SELECT Name, Body FROM StaticResource ORDER BY Name',
    );
    expect(queried.records.map((r) => [r.Name, r.Body.endsWith('/Body')])).toEqual([
      ['AsJson', true],
      ['AsMultipart', true],
    ]);
  });

  it('validates static resources: required fields, unique names, base64 bodies', async () => {
    await conn.tooling.create('StaticResource', resource('Once', bytes.toString('base64')));
    await expect(
      conn.tooling.sobject('StaticResource').create(resource('Once', 'AAAA')),
    ).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
    });
    await expect(
      conn.tooling.sobject('StaticResource').create(resource('Bad', 'not base64!')),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD',
    });
    await expect(
      conn.tooling
        .sobject('StaticResource')
        .create({ Name: 'NoBody', ContentType: 'text/plain', CacheControl: 'Public' }),
    ).rejects.toMatchObject({ errorCode: 'REQUIRED_FIELD_MISSING' });
  });

  it('creates, reads, updates and finally deletes a DebugLevel (no recycle bin for setup objects)', async () => {
    const created = await conn.tooling
      .sobject('DebugLevel')
      .create({ DeveloperName: 'emu', MasterLabel: 'Emu', ApexCode: 'ERROR' });
    const id = (created as { id: string }).id;
    expect(id.startsWith('7dl')).toBe(true);
    await conn.tooling.sobject('DebugLevel').update({ Id: id, ApexCode: 'WARN' });
    expect(await conn.tooling.sobject('DebugLevel').retrieve(id)).toMatchObject({
      ApexCode: 'WARN',
      Language: 'en_US',
    });
    await expect(
      conn.tooling.sobject('DebugLevel').create({ DeveloperName: 'emu', MasterLabel: 'Again' }),
    ).rejects.toMatchObject({ errorCode: 'DUPLICATE_VALUE' });
    await conn.tooling.sobject('DebugLevel').destroy(id);
    await expect(conn.tooling.sobject('DebugLevel').retrieve(id)).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
    const all = await conn.tooling.request<{ totalSize: number }>(
      '/tooling/queryAll?q=SELECT+Id+FROM+DebugLevel',
    );
    expect(all.totalSize).toBe(0);
  });

  it('refuses to create Apex classes (no compiler) and forgets tooling records on reset', async () => {
    expect(await conn.tooling.sobject('ApexClass').findOne()).toBeFalsy();
    await expect(
      conn.tooling.sobject('ApexClass').create({ Name: 'Foo', Body: 'public class Foo {}' }),
    ).rejects.toMatchObject({ errorCode: 'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY' });
    await conn.tooling.sobject('DebugLevel').create({ DeveloperName: 'gone', MasterLabel: 'Gone' });
    sf.reset();
    expect((await conn.tooling.query('SELECT Id FROM DebugLevel')).totalSize).toBe(0);
  });
});
