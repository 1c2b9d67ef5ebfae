import type { z } from 'zod';
import { CrmContactSchema, type CrmFieldType } from '../core/models.js';

type ContactKey = keyof typeof CrmContactSchema.shape;

/** The two maps of a contact: not fields of their own. */
const MAPS: ReadonlySet<string> = new Set(['customFields', 'clearFields']);

/** Keys a CRM keeps for its own bookkeeping rather than as the person's data. */
const BOOKKEEPING: ReadonlySet<string> = new Set(['id', 'externalId', 'lastModifiedAt', 'lastSyncAt']);

/** Every top-level key of a contact except the two maps (`customFields`, `clearFields`). */
export const CONTACT_FIELDS: ReadonlySet<string> = new Set(
  (Object.keys(CrmContactSchema.shape) as ContactKey[]).filter((key) => !MAPS.has(key)),
);

/** The contact's data fields a CRM stores: email, names, company, phone, title, opt-out, tags. */
export const CONTACT_DATA_FIELDS: ReadonlySet<string> = new Set(
  [...CONTACT_FIELDS].filter((key) => !BOOKKEEPING.has(key)),
);

/** The standard text fields a sync may empty in the CRM (`clearFields`). */
export const CLEARABLE_CONTACT_FIELDS = CrmContactSchema.shape.clearFields.unwrap().element.options;

/** A standard contact field as the sync engine's default rules see it. */
export interface ContactFieldDescription {
  key: string;
  fieldType: CrmFieldType;
}

// The schema cannot tell an email or a phone number from other text: named here.
const TEXT_KINDS: Readonly<Record<string, CrmFieldType>> = { email: 'email', phone: 'phone' };

/**
 * Describes the data fields of a contact schema (`CrmContactSchema` or an extension of it) in
 * schema order: booleans are `boolean`, string arrays `multipicklist`, other values `text`
 * (`email` and `phone` by name). Exported for the test that an added schema field flows through.
 */
export function describeContactDataFields(schema: z.ZodObject = CrmContactSchema): ContactFieldDescription[] {
  return Object.entries(schema.shape)
    .filter(([key]) => !MAPS.has(key) && !BOOKKEEPING.has(key))
    .map(([key, field]) => ({ key, fieldType: TEXT_KINDS[key] ?? fieldTypeOf(field as z.ZodType) }));
}

function fieldTypeOf(field: z.ZodType): CrmFieldType {
  let inner = field;
  for (;;) {
    const def = inner.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) {
      inner = def.innerType;
      continue;
    }
    if (def.type === 'boolean') return 'boolean';
    if (def.type === 'array') return 'multipicklist';
    if (def.type === 'number') return 'number';
    return 'text';
  }
}
