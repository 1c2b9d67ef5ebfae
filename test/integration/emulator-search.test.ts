import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator({});
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
  sf.store.insert('Account', [
    { Name: 'Search Acme 1001', Phone: '555-0100' },
    { Name: 'Search Acme 1002', Description: 'partner' },
    { Name: 'Globex' },
  ]);
  sf.store.insert('Contact', [
    { LastName: 'Acmeson', FirstName: 'Ann', Email: 'ann@acme.example' },
    { LastName: 'Other', Email: 'other@example.org' },
  ]);
  const [gone] = sf.store.insert('Account', [{ Name: 'Search Acme Deleted' }]);
  sf.store.delete([gone?.id as string]);
});
afterAll(async () => {
  await sf.stop();
});

describe('SOSL search (GET /search?q=FIND {…})', () => {
  it('finds records whose name fields hold the term as a word, per RETURNING object', async () => {
    const { searchRecords } = await conn.search(
      'FIND {Acme} IN NAME FIELDS RETURNING Account(Id, Name ORDER BY Name)',
    );
    expect(searchRecords.map((r) => r.Name)).toEqual(['Search Acme 1001', 'Search Acme 1002']);
    expect(searchRecords[0]?.attributes).toMatchObject({ type: 'Account' });
  });

  it('supports wildcards, AND/OR, quoted terms, field groups, WHERE and LIMIT', async () => {
    const names = async (sosl: string) => (await conn.search(sosl)).searchRecords.map((r) => r.Name).sort();
    expect(await names('FIND {Acme*} IN NAME FIELDS RETURNING Account(Name), Contact(Name)')).toEqual([
      'Ann Acmeson',
      'Search Acme 1001',
      'Search Acme 1002',
    ]);
    expect(await names('FIND {"1001"} RETURNING Account(Name)')).toEqual(['Search Acme 1001']);
    expect(await names('FIND {acme AND partner} RETURNING Account(Name)')).toEqual(['Search Acme 1002']);
    expect(await names('FIND {1001 OR Globex} RETURNING Account(Name)')).toEqual([
      'Globex',
      'Search Acme 1001',
    ]);
    expect(await names('FIND {acme} IN EMAIL FIELDS RETURNING Contact(Name), Account(Name)')).toEqual([
      'Ann Acmeson',
    ]);
    expect(await names('FIND {Acme} RETURNING Account(Name WHERE Phone != null)')).toEqual([
      'Search Acme 1001',
    ]);
    expect((await conn.search('FIND {Acme} RETURNING Account(Name) LIMIT 1')).searchRecords).toHaveLength(1);
  });

  it('skips the recycle bin and answers empty when nothing matches', async () => {
    expect((await conn.search('FIND {Deleted} RETURNING Account(Name)')).searchRecords).toEqual([]);
  });

  it('rejects a malformed search or an unknown object', async () => {
    await expect(conn.search('Acme RETURNING Account')).rejects.toMatchObject({
      errorCode: 'MALFORMED_SEARCH',
    });
    await expect(conn.search('FIND {Acme} RETURNING Nope__c(Id)')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
  });
});
