import { CrmContactSchema } from '../core/models.js';

type ContactKey = keyof typeof CrmContactSchema.shape;

/** Every top-level key of a contact except the two maps (`customFields`, `clearFields`). */
export const CONTACT_FIELDS: ReadonlySet<string> = new Set(
  (Object.keys(CrmContactSchema.shape) as ContactKey[]).filter(
    (key) => key !== 'customFields' && key !== 'clearFields',
  ),
);

const BOOKKEEPING: ReadonlySet<ContactKey> = new Set(['id', 'externalId', 'lastModifiedAt', 'lastSyncAt']);

/** The contact's data fields a CRM stores: email, names, company, phone, title, opt-out, tags. */
export const CONTACT_DATA_FIELDS: ReadonlySet<string> = new Set(
  [...CONTACT_FIELDS].filter((key) => !BOOKKEEPING.has(key as ContactKey)),
);

/** The standard text fields a sync may empty in the CRM (`clearFields`). */
export const CLEARABLE_CONTACT_FIELDS = CrmContactSchema.shape.clearFields.unwrap().element.options;
