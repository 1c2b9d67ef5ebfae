/**
 * The filter operators Salesforce shares between report filters (Reports REST API
 * `reportFilters[].operator`) and workflow/approval criteria (Metadata API `FilterItem.operation`),
 * and how the emulator evaluates them. One place, so a report and a rule given the same filter
 * agree.
 */
export const FILTER_OPERATORS: ReadonlySet<string> = new Set([
  'equals',
  'notEqual',
  'lessThan',
  'greaterThan',
  'lessOrEqual',
  'greaterOrEqual',
  'contains',
  'notContain',
  'startsWith',
]);

/**
 * Whether `raw` meets `operator` against `values` (a filter's comma-separated values, trimmed):
 * any value may match, except for the negative operators, where none may ("not equal to a, b" is
 * equal to neither). Text compares case-insensitively, numbers by value; a blank field is never
 * less or greater than anything.
 */
export function meetsFilter(operator: string, raw: unknown, values: readonly string[]): boolean {
  const actual = raw === null || raw === undefined ? '' : String(raw);
  if (operator === 'notEqual' || operator === 'notContain')
    return values.every((value) => meetsValue(operator, actual, value));
  return values.some((value) => meetsValue(operator, actual, value));
}

function meetsValue(operator: string, actual: string, expected: string): boolean {
  const a = actual.toLowerCase();
  const e = expected.toLowerCase();
  const numeric =
    actual !== '' && expected !== '' && Number.isFinite(Number(actual)) && Number.isFinite(Number(expected));
  const compare = numeric ? Number(actual) - Number(expected) : a < e ? -1 : a > e ? 1 : 0;
  switch (operator) {
    case 'equals':
      return numeric ? compare === 0 : a === e;
    case 'notEqual':
      return numeric ? compare !== 0 : a !== e;
    case 'contains':
      return a.includes(e);
    case 'notContain':
      return !a.includes(e);
    case 'startsWith':
      return a.startsWith(e);
    case 'lessThan':
      return actual !== '' && compare < 0;
    case 'greaterThan':
      return actual !== '' && compare > 0;
    case 'lessOrEqual':
      return actual !== '' && compare <= 0;
    case 'greaterOrEqual':
      return actual !== '' && compare >= 0;
    default:
      return false;
  }
}
