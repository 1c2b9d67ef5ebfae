import { FILTER_OPERATORS, meetsFilter } from '../filter-operators.js';
import { ComponentError } from '../metadata/component-error.js';
import { type MetadataComponent, recordsOf, textOf } from '../metadata/component-xml.js';
import type { ObjectSchema } from '../store/schema.js';

/** One `FilterItem` of a rule or approval entry criteria (`Account.Name startsWith JSforce`). */
export interface CriteriaItem {
  /** API name of the field on the rule's object (the `Object.` prefix removed). */
  field: string;
  operation: string;
  /** Comma-separated values: the item matches when any of them does. */
  values: string[];
}

/**
 * Reads `criteriaItems` of a workflow rule or approval process on `schema`. Items of another
 * object (cross-object criteria), unknown fields, `booleanFilter` and operations such as
 * `includes`/`within` are refused: the emulator would otherwise evaluate them wrongly.
 *
 * @throws {ComponentError}
 */
export function readCriteria(owner: MetadataComponent, schema: ObjectSchema, what: string): CriteriaItem[] {
  if (textOf(owner, 'booleanFilter'))
    throw new ComponentError(
      'FIELD_INTEGRITY_EXCEPTION',
      `${what}: booleanFilter is not evaluated by the emulator (criteria items are ANDed only)`,
    );
  return recordsOf(owner.criteriaItems).map((item) => {
    const qualified = textOf(item, 'field');
    const dot = qualified.indexOf('.');
    const objectName = qualified.slice(0, dot);
    const fieldName = qualified.slice(dot + 1);
    if (dot <= 0 || objectName.toLowerCase() !== schema.name.toLowerCase() || fieldName.includes('.'))
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${what}: criteria field ${qualified} is not a field of ${schema.name} (cross-object criteria are not emulated)`,
      );
    const field = schema.field(fieldName);
    if (!field) throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `${what}: no field ${qualified}`);
    const operation = textOf(item, 'operation');
    if (!FILTER_OPERATORS.has(operation))
      throw new ComponentError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${what}: operation ${operation || '(none)'} is not evaluated by the emulator`,
      );
    const value = textOf(item, 'value');
    return { field: field.name, operation, values: value.split(',').map((v) => v.trim()) };
  });
}

/**
 * Whether a record meets every item. Text compares case-insensitively; numbers and dates by
 * value; an empty criteria value means "blank".
 */
export function meetsCriteria(items: readonly CriteriaItem[], record: Record<string, unknown>): boolean {
  return items.every((item) => meetsItem(item, record[item.field]));
}

function meetsItem(item: CriteriaItem, raw: unknown): boolean {
  return meetsFilter(item.operation, raw, item.values);
}
