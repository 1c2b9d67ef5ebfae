import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvLines } from '../../src/salesforce/bulk.js';
import { BulkCsvReader } from '../../src/salesforce/bulk-csv.js';

/** Deterministic pseudo-random cells with every character CSV cares about. */
function randomCells(seed: number, rows: number, columns: number): string[][] {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const alphabet = ['a', 'Z', '0', ',', '"', '\n', '\r', ' ', '\t', 'é', '😀', ';', "'", '#'];
  return Array.from({ length: rows }, () =>
    Array.from({ length: columns }, () =>
      Array.from({ length: next() % 8 }, () => alphabet[next() % alphabet.length]).join(''),
    ),
  );
}

/** Every row of `text`, as the ingest results reader sees them. */
function csvRecords(text: string): string[][] {
  return new BulkCsvReader(text).rows(Number.POSITIVE_INFINITY);
}

describe('BulkCsvReader on ingest result sets (sf__Id, sf__Created, sf__Error)', () => {
  it('reads what csv-parse reads: quotes, doubled quotes, commas and line breaks inside quotes', () => {
    const text =
      '"sf__Id","sf__Created",MarkMail_ID__c,FirstName\n003A,true,h-1,"Zoë, ""Z"""\n003B,false,h-2,"two\nlines"\n003C,true,h-3,\n';
    expect([...csvRecords(text)]).toEqual(parse(text, { relax_column_count: true }));
  });

  it('handles CRLF, a BOM, a missing final newline and blank lines', () => {
    const text = '\uFEFFa,b\r\n1,"x\r\ny"\r\n\r\n2,3';
    expect([...csvRecords(text)]).toEqual([
      ['a', 'b'],
      ['1', 'x\r\ny'],
      ['2', '3'],
    ]);
  });

  it('agrees with csv-parse on 2,000 random records (quoted by csv-stringify, as Salesforce quotes)', () => {
    for (const seed of [1, 2, 3]) {
      const rows = randomCells(seed, 2_000, 5).map((row) => ['id', ...row]);
      for (const quotedAll of [false, true]) {
        // Cells with a carriage return are quoted, as Salesforce and the emulator write them.
        const text = stringify(rows, { quoted: quotedAll, quoted_match: /\r/, record_delimiter: 'unix' });
        expect([...csvRecords(text)]).toEqual(parse(text, { relax_column_count: true }));
      }
    }
  });
});

describe('csvLines (upload CSV, written by hand)', () => {
  it('writes exactly what csv-stringify wrote with the previous options, on random cells', () => {
    const rows = randomCells(7, 3_000, 6);
    const library = stringify(rows, { record_delimiter: 'unix', quoted_match: [/\r/, /^\s|\s$/] });
    expect(csvLines(rows)).toBe(library);
    expect(parse(csvLines(rows), { relax_column_count: true })).toEqual(rows.filter((r) => r.length));
  });
});
