/** Bulk API 2.0 `columnDelimiter` values and the characters they stand for. */
export const COLUMN_DELIMITERS = {
  BACKQUOTE: '`',
  CARET: '^',
  COMMA: ',',
  PIPE: '|',
  SEMICOLON: ';',
  TAB: '\t',
} as const;

/** A Bulk API 2.0 `columnDelimiter` name. */
export type ColumnDelimiter = keyof typeof COLUMN_DELIMITERS;

/** A Bulk API 2.0 `lineEnding` name. */
export type LineEnding = 'LF' | 'CRLF';

/** The CSV dialect of one job. */
export interface CsvDialect {
  columnDelimiter: ColumnDelimiter;
  lineEnding: LineEnding;
}

/** Whether `value` names a documented column delimiter. */
export function isColumnDelimiter(value: unknown): value is ColumnDelimiter {
  return typeof value === 'string' && Object.hasOwn(COLUMN_DELIMITERS, value);
}

/** The record separator of a dialect. */
export function newline(dialect: CsvDialect): string {
  return dialect.lineEnding === 'CRLF' ? '\r\n' : '\n';
}

/**
 * One CSV cell per RFC 4180: quoted (with doubled quotes) when it holds the delimiter, a quote,
 * CR or LF, or when `always` is set (Salesforce quotes every cell of query results).
 */
export function csvCell(value: string, delimiter: string, always = false): string {
  if (
    always ||
    value.includes('"') ||
    value.includes(delimiter) ||
    value.includes('\n') ||
    value.includes('\r')
  ) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** One CSV line (with its record separator). */
export function csvLine(cells: readonly string[], dialect: CsvDialect, always = false): string {
  const delimiter = COLUMN_DELIMITERS[dialect.columnDelimiter];
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) line += delimiter;
    line += csvCell(cells[i] ?? '', delimiter, always);
  }
  return line + newline(dialect);
}
