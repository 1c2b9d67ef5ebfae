import { ComponentError } from '../metadata/component-error.js';
import type { ObjectSchema } from '../store/schema.js';

/** One operand of a text formula: a literal or a field of the record. */
type Operand = { literal: string } | { field: string };

/**
 * The one kind of formula the emulator evaluates in field updates: text joined with `&` (or `+`)
 * from string literals (`'…'` or `"…"`, backslash escapes) and fields of the object, e.g.
 * `'(Approved)' & Name`. Anything else (functions, numbers, cross-object paths) is refused when
 * the component is deployed, so no formula is ever evaluated wrongly.
 */
export class TextFormula {
  private constructor(private readonly operands: readonly Operand[]) {}

  /** @throws {ComponentError} `FIELD_INTEGRITY_EXCEPTION` for a formula outside that subset. */
  static parse(source: string, schema: ObjectSchema, what: string): TextFormula {
    const refuse = (): ComponentError =>
      new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${what}: the emulator evaluates only text formulas of literals and ${schema.name} fields joined with &, not: ${source}`,
      );
    const operands: Operand[] = [];
    let i = 0;
    let expectOperand = true;
    while (i < source.length) {
      const ch = source[i] as string;
      if (/\s/.test(ch)) {
        i++;
        continue;
      }
      if (expectOperand && (ch === "'" || ch === '"')) {
        let text = '';
        i++;
        while (i < source.length && source[i] !== ch) {
          if (source[i] === '\\' && i + 1 < source.length) i++;
          text += source[i];
          i++;
        }
        if (i >= source.length) throw refuse();
        i++;
        operands.push({ literal: text });
        expectOperand = false;
        continue;
      }
      if (expectOperand) {
        const match = /^[A-Za-z][A-Za-z0-9_]*/.exec(source.slice(i));
        if (!match) throw refuse();
        i += match[0].length;
        const field = schema.field(match[0]);
        if (!field || source.slice(i).trimStart().startsWith('(') || source[i] === '.') throw refuse();
        operands.push({ field: field.name });
        expectOperand = false;
        continue;
      }
      if (ch === '&' || ch === '+') {
        i++;
        expectOperand = true;
        continue;
      }
      throw refuse();
    }
    if (expectOperand) throw refuse();
    return new TextFormula(operands);
  }

  /** The formula's value for a record (a blank field is an empty string). */
  evaluate(record: Record<string, unknown>): string {
    return this.operands
      .map((operand) => {
        if ('literal' in operand) return operand.literal;
        const value = record[operand.field];
        return value === null || value === undefined ? '' : String(value);
      })
      .join('');
  }
}
