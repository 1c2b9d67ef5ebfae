/**
 * Records of comma-separated CSV text (RFC 4180: `"` quotes, `""` escapes a quote, LF or CRLF
 * record separators, a leading BOM skipped). Bulk API 2.0 result sets run to hundreds of thousands
 * of rows and csv-parse spent most of a 100,000-row push reading them back (see the README's
 * performance section): a line without a quote is split as it is, and only quoted records are
 * walked field by field. Blank lines are skipped, as csv-parse does.
 */
export function* csvRecords(text: string): Generator<string[]> {
  const end = text.length;
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (at < end) {
    let lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) lineEnd = end;
    const quote = text.indexOf('"', at);
    if (quote < 0 || quote > lineEnd) {
      // No quote in this line: it is one whole record.
      const stop = lineEnd > at && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
      if (stop > at) yield text.slice(at, stop).split(',');
      at = lineEnd + 1;
      continue;
    }
    const cells: string[] = [];
    for (;;) {
      if (text.charCodeAt(at) === 34) {
        // Quoted: up to the quote not followed by another quote.
        let close = text.indexOf('"', at + 1);
        let escaped = false;
        while (close >= 0 && text.charCodeAt(close + 1) === 34) {
          escaped = true;
          close = text.indexOf('"', close + 2);
        }
        if (close < 0) close = end;
        const raw = text.slice(at + 1, close);
        cells.push(escaped ? raw.replaceAll('""', '"') : raw);
        at = close + 1;
        // Anything between the closing quote and the next separator is kept, as csv-parse's
        // relaxed mode would (Salesforce never writes it).
        const stopAt = nextSeparator(text, at, end);
        if (stopAt > at) cells[cells.length - 1] += text.slice(at, stopAt);
        at = stopAt;
      } else {
        const stopAt = nextSeparator(text, at, end);
        cells.push(text.slice(at, stopAt));
        at = stopAt;
      }
      if (at >= end) break;
      const separator = text.charCodeAt(at);
      if (separator === 44) {
        at += 1;
        continue;
      }
      // End of record: LF or CRLF.
      at += separator === 13 && text.charCodeAt(at + 1) === 10 ? 2 : 1;
      break;
    }
    // A cell that ran to a CR at the end of the text.
    const last = cells.length - 1;
    if (at >= end && cells[last]?.endsWith('\r')) cells[last] = (cells[last] as string).slice(0, -1);
    yield cells;
  }
}

/** Index of the next `,`, LF or CRLF at or after `from` (`end` when none). */
function nextSeparator(text: string, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 10 || (c === 13 && text.charCodeAt(i + 1) === 10)) return i;
  }
  return end;
}
