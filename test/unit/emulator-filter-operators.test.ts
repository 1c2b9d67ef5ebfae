import { describe, expect, it } from 'vitest';
import { meetsFilter } from '../../src/testing/salesforce-emulator/filter-operators.js';

describe('meetsFilter (report filters and workflow criteria alike)', () => {
  it('compares numbers by value, not as text', () => {
    expect(meetsFilter('greaterThan', 10, ['9'])).toBe(true);
    expect(meetsFilter('lessThan', '10', ['9'])).toBe(false);
    expect(meetsFilter('equals', '5.0', ['5'])).toBe(true);
  });

  it('compares text case-insensitively; any listed value may match', () => {
    expect(meetsFilter('equals', 'Acme', ['globex', 'ACME'])).toBe(true);
    expect(meetsFilter('startsWith', 'JSforce Test', ['jsf'])).toBe(true);
    expect(meetsFilter('contains', 'Acme', ['zz', 'cm'])).toBe(true);
  });

  it('negative operators hold only when no listed value matches', () => {
    expect(meetsFilter('notEqual', 'a', ['a', 'b'])).toBe(false);
    expect(meetsFilter('notEqual', 'c', ['a', 'b'])).toBe(true);
    expect(meetsFilter('notContain', 'abc', ['x', 'b'])).toBe(false);
  });

  it('a blank field is never less or greater than anything, and equals only a blank value', () => {
    expect(meetsFilter('lessThan', null, ['5'])).toBe(false);
    expect(meetsFilter('greaterOrEqual', undefined, [''])).toBe(false);
    expect(meetsFilter('equals', null, [''])).toBe(true);
  });

  it('an unknown operator matches nothing', () => {
    expect(meetsFilter('within', 'x', ['x'])).toBe(false);
  });
});
