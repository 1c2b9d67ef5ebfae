import { CrmApiError } from '../core/errors.js';
import { SALESFORCE_PROVIDER } from './errors.js';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/**
 * Reads the rows of a Bulk API 2.0 CSV document — a query results page, or an ingest job's
 * successful/failed/unprocessed result set — a batch at a time (RFC 4180, comma-separated).
 * Salesforce writes one dialect only — cells quoted, quotes doubled, LF (or CRLF) between
 * records, line breaks kept inside quoted cells — so this reader walks the text with `indexOf` and
 * slices, six to eighteen times faster than a general parser (csv-parse, which the tests use as the
 * reference) on result sets of 100,000 rows, where csv-parse was most of a push's results phase.
 * Unquoted cells (an empty cell written bare) are read too; blank lines are skipped, as csv-parse
 * does.
 * @throws {CrmApiError} `MALFORMED_CSV` on an unterminated quote or text after a closing quote.
 */
export class BulkCsvReader {
  readonly #text: string;
  #at: number;

  constructor(text: string) {
    this.#text = text;
    // A byte-order mark is not part of the first header cell.
    this.#at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  /** Whether rows are left. */
  get done(): boolean {
    return this.#at >= this.#text.length;
  }

  /** Up to `max` further rows (fewer at the end of the text). */
  rows(max: number): string[][] {
    const rows: string[][] = [];
    while (rows.length < max && !this.#skipBlankLines()) rows.push(this.#row());
    return rows;
  }

  /** Steps over blank lines; whether the text is over. */
  #skipBlankLines(): boolean {
    const text = this.#text;
    for (;;) {
      const c = text.charCodeAt(this.#at);
      if (c === LF) this.#at += 1;
      else if (c === CR && text.charCodeAt(this.#at + 1) === LF) this.#at += 2;
      else return this.done;
    }
  }

  #row(): string[] {
    const text = this.#text;
    const end = text.length;
    const cells: string[] = [];
    let at = this.#at;
    for (;;) {
      let cell: string;
      if (text.charCodeAt(at) === QUOTE) {
        let from = at + 1;
        cell = '';
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote < 0) throw malformed('a quoted cell is not closed');
          if (text.charCodeAt(quote + 1) === QUOTE) {
            cell += text.slice(from, quote + 1);
            from = quote + 2;
            continue;
          }
          cell += text.slice(from, quote);
          at = quote + 1;
          break;
        }
      } else {
        let stop = at;
        while (stop < end) {
          const c = text.charCodeAt(stop);
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE) throw malformed('a quote inside an unquoted cell');
          stop++;
        }
        cell = text.slice(at, stop);
        at = stop;
      }
      cells.push(cell);
      const next = text.charCodeAt(at);
      if (next === COMMA) {
        at += 1;
        continue;
      }
      if (next === CR && text.charCodeAt(at + 1) === LF) at += 2;
      else if (next === LF) at += 1;
      else if (at < end) throw malformed('text after a closing quote');
      this.#at = at;
      return cells;
    }
  }
}

function malformed(why: string): CrmApiError {
  return new CrmApiError(`Salesforce bulk query results are not valid CSV: ${why}`, {
    provider: SALESFORCE_PROVIDER,
    providerCode: 'MALFORMED_CSV',
  });
}
