import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { BulkCsvReader } from '../../src/salesforce/bulk-csv.js';

/** Deterministic PRNG (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '0', ' ', ',', '"', '""', '\n', '\r\n', '\r', 'é', '😀', '#N/A', ';', '\t'];

function cell(next: () => number): string {
  const length = Math.floor(next() * 6);
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return text;
}

/** A page as Salesforce writes it: every cell quoted, quotes doubled. */
function page(rows: string[][], lineEnding = '\n'): string {
  return rows
    .map((row) => `${row.map((c) => `"${c.replaceAll('"', '""')}"`).join(',')}${lineEnding}`)
    .join('');
}

function readAll(text: string, batch = 3): string[][] {
  const reader = new BulkCsvReader(text);
  const rows: string[][] = [];
  while (!reader.done) rows.push(...reader.rows(batch));
  return rows;
}

describe('BulkCsvReader reads Bulk API 2.0 query results exactly as csv-parse does', () => {
  it('random pages (quotes, commas, CR/LF inside cells, unicode, empty cells) match csv-parse, row for row', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const columns = 1 + Math.floor(next() * 5);
      const rows = Array.from({ length: 1 + Math.floor(next() * 8) }, () =>
        Array.from({ length: columns }, () => cell(next)),
      );
      const lineEnding = next() < 0.3 ? '\r\n' : '\n';
      const text = page(rows, lineEnding);
      const expected = parse(text, { relax_column_count: true }) as string[][];
      expect({ seed, rows: readAll(text, 1 + Math.floor(next() * 4)) }).toEqual({ seed, rows: expected });
      expect(expected).toEqual(rows);
    }
  });

  it('reads bare (unquoted) cells, a byte-order mark and a last line without a line break', () => {
    const text = '\uFEFF"Id","Name",Title\n"001",,\n002,"A ""B""",x';
    expect(readAll(text)).toEqual([
      ['Id', 'Name', 'Title'],
      ['001', '', ''],
      ['002', 'A "B"', 'x'],
    ]);
    expect(readAll(text)).toEqual(parse(text, { bom: true }));
  });

  it('hands rows out in batches of the size asked for', () => {
    const reader = new BulkCsvReader(page([['h'], ['1'], ['2'], ['3'], ['4']]));
    expect(reader.rows(2)).toEqual([['h'], ['1']]);
    expect(reader.rows(2)).toEqual([['2'], ['3']]);
    expect(reader.done).toBe(false);
    expect(reader.rows(2)).toEqual([['4']]);
    expect(reader.done).toBe(true);
    expect(reader.rows(2)).toEqual([]);
  });

  it.each([
    ['an unterminated quote', '"Id"\n"001'],
    ['text after a closing quote', '"Id"x\n'],
    ['a quote inside a bare cell', 'Id\nab"c\n'],
  ])('refuses %s with a typed error', (_name, text) => {
    expect(() => readAll(text)).toThrow(
      expect.objectContaining({ name: 'CrmApiError', providerCode: 'MALFORMED_CSV' }),
    );
  });
});

/** `text` fed to a reader in pieces cut at `cuts`, rows taken `batch` at a time after each piece. */
function readInPieces(text: string, cuts: number[], batch = 3): string[][] {
  const reader = new BulkCsvReader();
  const rows: string[][] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    reader.append(text.slice(from, cut));
    from = cut;
    for (let more = reader.rows(batch); more.length > 0; more = reader.rows(batch)) rows.push(...more);
  }
  expect(reader.done).toBe(false);
  reader.end();
  while (!reader.done) rows.push(...reader.rows(batch));
  return rows;
}

describe('BulkCsvReader fed in pieces (a result set read as it downloads)', () => {
  it('cut at every position — inside a cell, a doubled quote, a CRLF, a BOM — reads what the whole text reads', () => {
    const text = '\uFEFF"Id","Name",Title\r\n"001",,\r\n002,"A ""B""\r\nC",x\n\n"003","",\r\n004,"q"';
    const whole = readAll(text);
    for (let a = 0; a <= text.length; a++) {
      expect({ a, rows: readInPieces(text, [a]) }).toEqual({ a, rows: whole });
      for (let b = a; b <= text.length; b += 3) {
        expect({ a, b, rows: readInPieces(text, [a, b], 1) }).toEqual({ a, b, rows: whole });
      }
    }
  });

  it('random pages cut into random pieces match csv-parse, row for row', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const columns = 1 + Math.floor(next() * 5);
      const rows = Array.from({ length: 1 + Math.floor(next() * 12) }, () =>
        Array.from({ length: columns }, () => cell(next)),
      );
      const text = page(rows, next() < 0.3 ? '\r\n' : '\n');
      const cuts = Array.from({ length: Math.floor(next() * 10) }, () =>
        Math.floor(next() * text.length),
      ).sort((x, y) => x - y);
      expect({ seed, rows: readInPieces(text, cuts, 1 + Math.floor(next() * 4)) }).toEqual({
        seed,
        rows: parse(text, { relax_column_count: true }),
      });
    }
  });

  it('holds back a row until its end arrives, and a last row without a line break until end()', () => {
    const reader = new BulkCsvReader();
    reader.append('"Id","Note"\n"1","two');
    expect(reader.rows(10)).toEqual([['Id', 'Note']]);
    reader.append('\nlines"\n"2","x');
    expect(reader.rows(10)).toEqual([['1', 'two\nlines']]);
    reader.append('"');
    expect(reader.rows(10)).toEqual([]);
    reader.end();
    expect(reader.rows(10)).toEqual([['2', 'x']]);
    expect(reader.done).toBe(true);
  });

  it('an unterminated quote is refused once the text is known to be over, not before', () => {
    const reader = new BulkCsvReader();
    reader.append('"Id"\n"001');
    expect(reader.rows(10)).toEqual([['Id']]);
    reader.end();
    expect(() => reader.rows(10)).toThrow(
      expect.objectContaining({ name: 'CrmApiError', providerCode: 'MALFORMED_CSV' }),
    );
  });

  it('text after a closing quote is refused as soon as it arrives', () => {
    const reader = new BulkCsvReader();
    reader.append('"Id"x');
    expect(() => reader.rows(10)).toThrow(expect.objectContaining({ providerCode: 'MALFORMED_CSV' }));
  });
});
