import { parseReadyContact } from '../core/contact-fast-parse.js';
import { CrmConfigurationError, CrmDataConversionError } from '../core/errors.js';
import {
  type CrmContact,
  type CrmContactInput,
  CrmContactSchema,
  type CrmFieldMappingInput,
  CrmFieldMappingSchema,
  type CrmFieldType,
  type CrmSyncDirection,
  parseModel,
} from '../core/models.js';
import { describeContactDataFields } from '../internal/contact-fields.js';
import { contentHash } from './content-hash.js';

/**
 * A record from the host app. Read by field path (`first_name`, `profile.company`); a record shaped
 * like `CrmContactInput` (`externalId`, `email`, `firstName`, …, `customFields`) needs no mapping.
 */
export type SyncHostRecord = object;

/** One field the engine syncs, after defaults are applied. */
export interface SyncFieldRule {
  /** Dotted path in the host record. */
  hostField: string;
  /**
   * CRM-side name: a `CrmContact` key (`email`, `firstName`, …, `emailOptOut`, `tags`) or else a
   * custom field name, carried in `customFields`.
   */
  crmField: string;
  fieldType: CrmFieldType;
  direction: CrmSyncDirection;
  transform?: (value: unknown) => unknown;
}

/** CRM-side field values keyed by `crmField`, normalised for comparison. */
export type SyncFieldValues = Record<string, unknown>;

// The contact's data fields, derived from `CrmContactSchema` (a field added there syncs both ways
// by default). `company` and `tags` flow one way: not every CRM stores them on the contact itself
// (a Salesforce Contact's company is its Account), and a field the CRM never returns would look
// like a field the CRM cleared. Map them explicitly to pull them back.
const ONE_WAY: ReadonlySet<string> = new Set(['company', 'tags']);
export const STANDARD_FIELDS: ReadonlyArray<{
  key: string;
  fieldType: CrmFieldType;
  direction: CrmSyncDirection;
}> = describeContactDataFields().map(({ key, fieldType }) => ({
  key,
  fieldType,
  direction: ONE_WAY.has(key) ? 'to_crm' : 'bidirectional',
}));
const STANDARD_KEYS = new Set(STANDARD_FIELDS.map((f) => f.key));

/** Read a dotted path (`a.b.c`) from a record; `undefined` when any step is missing. */
export function readPath(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * Normalise a value for comparison and hashing, so cosmetic differences between the host's and
 * the CRM's representation (`''` vs `null`, `'5'` vs `5`, a `Date` vs its ISO string, picklist
 * order) never look like a change. Blank is always `null`.
 */
export function normalizeFieldValue(value: unknown, fieldType: CrmFieldType): unknown {
  if (value === undefined || value === null) return fieldType === 'boolean' ? false : null;
  switch (fieldType) {
    case 'boolean':
      if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
      return Boolean(value);
    case 'number': {
      if (typeof value === 'string' && value.trim() === '') return null;
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : String(value);
    }
    case 'date': {
      const iso = toIso(value);
      return iso === null ? blankToNull(value) : iso.slice(0, 10);
    }
    case 'datetime': {
      const iso = toIso(value);
      return iso === null ? blankToNull(value) : iso;
    }
    case 'multipicklist': {
      const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(';') : [value];
      const cleaned = [...new Set(items.map((i) => String(i).trim()).filter((i) => i !== ''))].sort();
      return cleaned.length === 0 ? null : cleaned;
    }
    case 'email':
      return typeof value === 'string' ? blankToNull(value.trim().toLowerCase()) : value;
    default:
      return blankToNull(value);
  }
}

function blankToNull(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function toIso(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const date = new Date(value.trim());
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  return null;
}

/** True for `null`, `undefined`, blank strings and empty arrays. */
export function isBlank(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  return Array.isArray(value) && value.length === 0;
}

/** What {@link ContactFieldMapper.toPush} produces for one host record. */
export interface SyncMappedContact {
  /** The host id. */
  externalId: string;
  /** Normalised values of the fields that flow to the CRM (`to_crm`, `bidirectional`). */
  fields: SyncFieldValues;
  /** The validated contact to send. */
  contact: CrmContactInput;
  /** Content hash of `externalId` + `fields`. */
  hash: string;
}

/** Options of {@link ContactFieldMapper}. */
export interface ContactFieldMapperOptions {
  /**
   * Path of the host id in a host record.
   * @default 'externalId'
   */
  hostIdField?: string;
}

/**
 * Turns host records into CRM contacts and back, following the integration's field mappings.
 *
 * Defaults: the standard contact fields map to the host field of the same name — `email`,
 * `firstName`, `lastName`, `phone`, `title` and `emailOptOut` both ways, `company` and `tags` one
 * way (`to_crm`, since not every CRM keeps them on the contact); keys of a host
 * record's `customFields` object go to the CRM custom field of the same name, one way (`to_crm`).
 * An explicit mapping for a `crmField` replaces its default. `transform` applies to values going
 * to the CRM.
 */
export class ContactFieldMapper {
  readonly #rules: SyncFieldRule[];
  readonly #byCrmField = new Map<string, SyncFieldRule>();
  readonly #hostIdField: string;

  /** @throws {CrmDataConversionError} when a mapping is invalid. */
  constructor(mappings: ReadonlyArray<CrmFieldMappingInput>, options: ContactFieldMapperOptions = {}) {
    this.#hostIdField = options.hostIdField ?? 'externalId';
    const explicit = mappings.map((m, i) => parseModel(CrmFieldMappingSchema, m, `fieldMappings[${i}]`));
    const seen = new Set<string>();
    for (const m of explicit) {
      if (seen.has(m.crmField)) {
        throw new CrmConfigurationError(`Field mapping lists CRM field '${m.crmField}' twice`, {
          details: { crmField: m.crmField },
        });
      }
      seen.add(m.crmField);
    }
    const rules: SyncFieldRule[] = STANDARD_FIELDS.filter((f) => !seen.has(f.key)).map((f) => ({
      hostField: f.key,
      crmField: f.key,
      fieldType: f.fieldType,
      direction: f.direction,
    }));
    for (const m of explicit) {
      const rule: SyncFieldRule = {
        hostField: m.hostField,
        crmField: m.crmField,
        fieldType: m.fieldType,
        direction: m.syncDirection,
      };
      if (m.transform) rule.transform = m.transform;
      rules.push(rule);
    }
    this.#rules = rules;
    for (const rule of rules) this.#byCrmField.set(rule.crmField, rule);
  }

  /** The resolved rules (defaults plus explicit mappings). */
  get rules(): ReadonlyArray<SyncFieldRule> {
    return this.#rules;
  }

  /** The rule for `crmField`, or a one-way (`to_crm`) text rule for an unmapped custom field. */
  ruleFor(crmField: string): SyncFieldRule {
    return (
      this.#byCrmField.get(crmField) ?? {
        hostField: `customFields.${crmField}`,
        crmField,
        fieldType: 'text',
        direction: 'to_crm',
      }
    );
  }

  /** The host id of `record`, or `null` when it has none. */
  hostId(record: SyncHostRecord): string | null {
    const id = readPath(record, this.#hostIdField);
    if (typeof id === 'number') return String(id);
    return typeof id === 'string' && id.trim() !== '' ? id.trim() : null;
  }

  /** Raw (transformed, not normalised) host values of every rule, plus pass-through custom fields. */
  #hostRaw(record: SyncHostRecord): Map<SyncFieldRule, unknown> {
    const out = new Map<SyncFieldRule, unknown>();
    for (const rule of this.#rules) {
      const raw = readPath(record, rule.hostField);
      out.set(rule, rule.transform ? rule.transform(raw) : raw);
    }
    const custom = readPath(record, 'customFields');
    if (custom && typeof custom === 'object' && !Array.isArray(custom)) {
      for (const [key, value] of Object.entries(custom)) {
        if (this.#byCrmField.has(key) || STANDARD_KEYS.has(key)) continue;
        out.set(this.ruleFor(key), value);
      }
    }
    return out;
  }

  /**
   * Normalised host values of every mapped field, whatever its direction: the host side of a
   * three-way merge.
   */
  hostValues(record: SyncHostRecord): SyncFieldValues {
    const out: SyncFieldValues = {};
    for (const [rule, raw] of this.#hostRaw(record))
      out[rule.crmField] = normalizeFieldValue(raw, rule.fieldType);
    return out;
  }

  /**
   * Map a host record to the contact to send, its normalised fields and content hash.
   * @throws {CrmDataConversionError} when the record has no id or the mapped contact is invalid.
   */
  toPush(record: SyncHostRecord): SyncMappedContact {
    const externalId = this.hostId(record);
    if (externalId === null) {
      throw new CrmDataConversionError(`Host contact has no id at '${this.#hostIdField}'`, {
        fields: [{ field: this.#hostIdField, message: 'is required', code: 'required' }],
      });
    }
    const fields: SyncFieldValues = {};
    const input: Record<string, unknown> = { externalId };
    const customFields: Record<string, unknown> = {};
    for (const [rule, raw] of this.#hostRaw(record)) {
      if (rule.direction === 'from_crm') continue;
      fields[rule.crmField] = normalizeFieldValue(raw, rule.fieldType);
      if (STANDARD_KEYS.has(rule.crmField)) {
        // Standard fields are optional strings/booleans in the model: blank means "not sent".
        if (!isBlank(raw)) input[rule.crmField] = rule.crmField === 'tags' ? toStringArray(raw) : raw;
      } else {
        customFields[rule.crmField] = raw instanceof Date ? raw.toISOString() : (raw ?? null);
      }
    }
    input.customFields = customFields;
    // Checked in place when it is valid as built (the common case); the schema explains the rest.
    const contact =
      parseReadyContact(input) ?? parseModel(CrmContactSchema, input, `contact '${externalId}'`);
    return { externalId, fields, contact: toInput(contact), hash: this.hash(externalId, fields) };
  }

  /** Content hash of the fields that flow to the CRM, as {@link toPush} computes it. */
  hash(externalId: string, fields: SyncFieldValues): string {
    const pushable: SyncFieldValues = {};
    for (const [key, value] of Object.entries(fields)) {
      // A blank field and an absent one are the same content (a base recorded by a pull has no
      // entry for one-way fields the host leaves empty).
      if (value !== null && this.ruleFor(key).direction !== 'from_crm') pushable[key] = value;
    }
    return contentHash({ externalId, fields: pushable });
  }

  /** Normalised and raw CRM values of the fields that flow from the CRM (`from_crm`, `bidirectional`). */
  fromCrm(contact: CrmContact): { normalized: SyncFieldValues; raw: SyncFieldValues } {
    const normalized: SyncFieldValues = {};
    const raw: SyncFieldValues = {};
    for (const rule of this.#rules) {
      if (rule.direction === 'to_crm') continue;
      const value = STANDARD_KEYS.has(rule.crmField)
        ? (contact as Record<string, unknown>)[rule.crmField]
        : contact.customFields[rule.crmField];
      raw[rule.crmField] = value ?? null;
      normalized[rule.crmField] = normalizeFieldValue(value, rule.fieldType);
    }
    return { normalized, raw };
  }
}

function toStringArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(';').map((s) => s.trim());
  return [String(value)];
}

function toInput(contact: CrmContact): CrmContactInput {
  return contact;
}
