import { describe, expect, it } from 'vitest';
import { CrmDataConversionError } from '../../src/core/errors.js';
import {
  assertSalesforceId,
  escapeSoqlLiteral,
  soqlString,
  soqlStringList,
} from '../../src/salesforce/soql.js';

describe('escapeSoqlLiteral', () => {
  it("escapes the single quote of o'brien@example.com", () => {
    expect(escapeSoqlLiteral("o'brien@example.com")).toBe("o\\'brien@example.com");
    expect(soqlString("o'brien@example.com")).toBe("'o\\'brien@example.com'");
  });

  it('escapes backslashes before quotes so an injected quote cannot close the literal', () => {
    expect(escapeSoqlLiteral("a\\' OR Name != '")).toBe("a\\\\\\' OR Name != \\'");
  });

  it('escapes double quotes, newlines, carriage returns, tabs, backspace and form feed', () => {
    expect(escapeSoqlLiteral('"\n\r\t\b\f')).toBe('\\"\\n\\r\\t\\b\\f');
  });

  it('passes unicode (CJK, accents, emoji) through unchanged', () => {
    expect(escapeSoqlLiteral('山田 Zoë 😀')).toBe('山田 Zoë 😀');
  });

  it('refuses other control characters and lone surrogates instead of altering them', () => {
    expect(() => escapeSoqlLiteral('a\u0000b', 'email')).toThrow(CrmDataConversionError);
    expect(() => escapeSoqlLiteral('a\uD800b')).toThrow(/surrogate/);
    let error: unknown;
    try {
      escapeSoqlLiteral('x\u0001', 'email');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CrmDataConversionError);
    expect((error as CrmDataConversionError).fields).toEqual(['email']);
    expect((error as Error).message).not.toContain('x');
  });

  it('builds IN lists of quoted literals', () => {
    expect(soqlStringList(['a', "b'c"])).toBe("('a', 'b\\'c')");
  });

  it('accepts 15 and 18 character ids only', () => {
    expect(assertSalesforceId('003000000000001', 'id')).toBe('003000000000001');
    expect(assertSalesforceId('003000000000001AAA', 'id')).toBe('003000000000001AAA');
    expect(() => assertSalesforceId("003' OR Id != '", 'id')).toThrow(CrmDataConversionError);
    expect(() => assertSalesforceId('../../limits', 'id')).toThrow(CrmDataConversionError);
  });
});
