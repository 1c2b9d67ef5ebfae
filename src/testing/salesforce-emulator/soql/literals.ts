import { parseDateTime } from '../dates.js';

/** A date range `[start, end)` in epoch ms, what a date literal such as `LAST_N_DAYS:7` means. */
export interface DateRange {
  start: number;
  end: number;
}

/** A WHERE value after parsing: a scalar, or a range for date literals. */
export type SoqlValue = string | number | boolean | null | DateRange;

/** Unescapes a quoted SOQL string literal (`'O\'Brien'` → `O'Brien`). */
export function parseStringLiteral(raw: string): string {
  const inner = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1) : raw;
  return inner.replace(/\\(.)/g, (_, ch: string) => {
    switch (ch) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      default:
        // `\%` and `\_` stay escaped: only LIKE gives them meaning.
        return ch === '%' || ch === '_' ? `\\${ch}` : ch;
    }
  });
}

type Unit = 'day' | 'week' | 'month' | 'quarter' | 'year';

function startOf(unit: Unit, at: Date): Date {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  switch (unit) {
    case 'day':
      return d;
    case 'week':
      // Weeks start on Sunday (en_US locale, the emulator user's locale).
      return new Date(d.getTime() - d.getUTCDay() * 86_400_000);
    case 'month':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    case 'quarter':
      return new Date(Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / 3) * 3, 1));
    case 'year':
      return new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  }
}

function add(date: Date, unit: Unit, n: number): Date {
  switch (unit) {
    case 'day':
      return new Date(date.getTime() + n * 86_400_000);
    case 'week':
      return new Date(date.getTime() + n * 7 * 86_400_000);
    case 'month':
      return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + n, date.getUTCDate()));
    case 'quarter':
      return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 3 * n, date.getUTCDate()));
    case 'year':
      return new Date(Date.UTC(date.getUTCFullYear() + n, date.getUTCMonth(), date.getUTCDate()));
  }
}

function range(start: Date, end: Date): DateRange {
  return { start: start.getTime(), end: end.getTime() };
}

const UNIT_WORDS: Record<string, Unit> = {
  DAY: 'day',
  DAYS: 'day',
  WEEK: 'week',
  WEEKS: 'week',
  MONTH: 'month',
  MONTHS: 'month',
  QUARTER: 'quarter',
  QUARTERS: 'quarter',
  FISCAL_QUARTER: 'quarter',
  FISCAL_QUARTERS: 'quarter',
  YEAR: 'year',
  YEARS: 'year',
  FISCAL_YEAR: 'year',
  FISCAL_YEARS: 'year',
};

/**
 * The range a date literal denotes, in UTC (the emulator user's time zone is GMT; fiscal
 * periods equal calendar periods). Follows "Date Formats and Date Literals" in the SOQL reference.
 *
 * @returns `undefined` for an unknown literal.
 */
export function dateLiteralRange(literal: string, now: Date): DateRange | undefined {
  const upper = literal.toUpperCase();
  const [name, nText] = upper.split(':') as [string, string | undefined];
  const n = nText === undefined ? undefined : Number(nText);
  const today = startOf('day', now);
  if (name === 'TODAY') return range(today, add(today, 'day', 1));
  if (name === 'YESTERDAY') return range(add(today, 'day', -1), today);
  if (name === 'TOMORROW') return range(add(today, 'day', 1), add(today, 'day', 2));
  if (name === 'LAST_90_DAYS') return range(add(today, 'day', -90), add(today, 'day', 1));
  if (name === 'NEXT_90_DAYS') return range(add(today, 'day', 1), add(today, 'day', 91));
  let match = /^(THIS|LAST|NEXT)_(.+)$/.exec(name);
  if (match && n === undefined) {
    const unit = UNIT_WORDS[match[2] as string];
    if (!unit) return undefined;
    const shift = match[1] === 'THIS' ? 0 : match[1] === 'LAST' ? -1 : 1;
    const start = add(startOf(unit, now), unit, shift);
    return range(start, add(start, unit, 1));
  }
  if (n === undefined || !Number.isInteger(n) || n < 0) return undefined;
  match = /^(LAST|NEXT)_N_(.+)$/.exec(name);
  if (match) {
    const unit = UNIT_WORDS[match[2] as string];
    if (!unit) return undefined;
    if (unit === 'day') {
      return match[1] === 'LAST'
        ? range(add(today, 'day', -n), add(today, 'day', 1))
        : range(add(today, 'day', 1), add(today, 'day', n + 1));
    }
    const current = startOf(unit, now);
    return match[1] === 'LAST'
      ? range(add(current, unit, -n), current)
      : range(add(current, unit, 1), add(current, unit, n + 1));
  }
  match = /^N_(.+)_AGO$/.exec(name);
  if (match) {
    const unit = UNIT_WORDS[match[1] as string];
    if (!unit) return undefined;
    const start = add(startOf(unit, now), unit, -n);
    return range(start, add(start, unit, 1));
  }
  return undefined;
}

/** Epoch ms of a DATE or DATETIME literal; `undefined` when malformed. */
export function parseDateLiteral(raw: string): number | undefined {
  return parseDateTime(raw)?.getTime();
}
