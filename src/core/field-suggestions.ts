import { z } from 'zod';
import { type CrmFieldType, CrmFieldTypeSchema, parseModel } from './models.js';

/** A host-side field offered for mapping. */
export interface CrmSuggestionHostField {
  /** Path of the field in host records (`first_name`, `profile.company`). */
  name: string;
  /** What the host shows for it (may be Japanese: `名`, `会社名`). */
  label?: string;
  fieldType?: CrmFieldType;
  /** A few example values; only their shape is used (never copied into a reason). */
  samples?: ReadonlyArray<unknown>;
}

/** A CRM-side field offered for mapping (a `CrmCustomField` from `getCustomFields()` fits). */
export interface CrmSuggestionCrmField {
  name: string;
  label?: string;
  fieldType?: CrmFieldType;
  /** Read-only CRM fields are never suggested. @default true */
  updateable?: boolean;
}

/** Input of {@link suggestFieldMappings}. */
export interface SuggestFieldMappingsInput {
  hostFields: ReadonlyArray<CrmSuggestionHostField>;
  crmFields: ReadonlyArray<CrmSuggestionCrmField>;
  /** Extra sample values per host field name, merged with each field's own `samples`. */
  samples?: Readonly<Record<string, ReadonlyArray<unknown>>>;
  /** Suggestions below this confidence are left out. @default 0.5 */
  minConfidence?: number;
}

/** One suggested host → CRM pair. */
export interface CrmFieldSuggestion {
  hostField: string;
  crmField: string;
  /** 0–1: how sure the rule that matched is (measured on the labelled set in the tests). */
  confidence: number;
  /** Why, in words a person can check (`same name`, `synonym of "last name" (姓)`, …). */
  reason: string;
  /** The CRM field's type, for a mapping built from the suggestion. */
  fieldType: CrmFieldType;
}

const FieldSchema = z.object({
  name: z.string().trim().min(1),
  label: z.string().optional(),
  fieldType: CrmFieldTypeSchema.optional(),
  samples: z.array(z.unknown()).optional(),
  updateable: z.boolean().optional(),
});
const InputSchema = z.object({
  hostFields: z.array(FieldSchema).max(2_000),
  crmFields: z.array(FieldSchema).max(5_000),
  samples: z.record(z.string(), z.array(z.unknown())).optional(),
  minConfidence: z.number().min(0).max(1).optional(),
});

// Concepts a contact field can stand for, with the names hosts and CRMs give them (English,
// Japanese as the original MarkMail product used, and common abbreviations). Normalised form:
// lower case, no separators, NFKC.
const CONCEPTS: ReadonlyArray<{ concept: string; names: ReadonlyArray<string> }> = [
  {
    concept: 'email',
    names: [
      'email',
      'emailaddress',
      'mail',
      'mailaddress',
      'メール',
      'メールアドレス',
      'eメール',
      'eメールアドレス',
      '電子メール',
    ],
  },
  {
    concept: 'first name',
    names: ['firstname', 'givenname', 'forename', 'fname', 'first', '名', '名前', '下の名前', 'めい'],
  },
  {
    concept: 'last name',
    names: ['lastname', 'surname', 'familyname', 'lname', 'last', '姓', '苗字', '名字', 'せい'],
  },
  { concept: 'full name', names: ['name', 'fullname', 'displayname', '氏名', 'お名前', '名前フル'] },
  {
    concept: 'company',
    names: [
      'company',
      'companyname',
      'organization',
      'organisation',
      'org',
      'employer',
      'business',
      'account',
      'accountname',
      '会社',
      '会社名',
      '企業',
      '企業名',
      '勤務先',
      '所属',
    ],
  },
  {
    concept: 'title',
    names: ['title', 'jobtitle', 'position', 'role', 'designation', '役職', '職位', '肩書', '肩書き'],
  },
  {
    concept: 'phone',
    names: [
      'phone',
      'phonenumber',
      'telephone',
      'tel',
      'workphone',
      'businessphone',
      '電話',
      '電話番号',
      '会社電話',
    ],
  },
  {
    concept: 'mobile',
    names: ['mobile', 'mobilephone', 'cell', 'cellphone', 'mobilenumber', '携帯', '携帯電話', '携帯番号'],
  },
  { concept: 'department', names: ['department', 'dept', 'division', '部署', '部門', '所属部署'] },
  { concept: 'birthdate', names: ['birthdate', 'birthday', 'dateofbirth', 'dob', '誕生日', '生年月日'] },
  {
    concept: 'email opt-out',
    names: [
      'hasoptedoutofemail',
      'emailoptout',
      'optout',
      'unsubscribed',
      'unsubscribe',
      'donotemail',
      '配信停止',
      'メール配信停止',
      '配信拒否',
    ],
  },
  { concept: 'salutation', names: ['salutation', 'honorific', 'prefix', '敬称'] },
  {
    concept: 'description',
    names: ['description', 'notes', 'note', 'memo', 'comments', 'メモ', '備考', '説明'],
  },
  {
    concept: 'lead source',
    names: [
      'leadsource',
      'source',
      'signupsource',
      'acquisitionchannel',
      '流入元',
      'リードソース',
      '獲得経路',
    ],
  },
  {
    concept: 'website',
    names: ['website', 'url', 'homepage', 'web', 'site', 'ウェブサイト', 'ホームページ', 'url'],
  },
  { concept: 'city', names: ['city', 'town', 'mailingcity', '市区町村', '市'] },
  {
    concept: 'postal code',
    names: ['postalcode', 'zip', 'zipcode', 'postcode', 'mailingpostalcode', '郵便番号'],
  },
  { concept: 'country', names: ['country', 'mailingcountry', '国', '国名'] },
  { concept: 'state', names: ['state', 'province', 'prefecture', 'mailingstate', '都道府県'] },
  { concept: 'street', names: ['street', 'address', 'streetaddress', 'mailingstreet', '住所', '番地'] },
  { concept: 'do not call', names: ['donotcall', 'nocalls', '電話不可'] },
  { concept: 'industry', names: ['industry', 'sector', '業種', '業界'] },
  { concept: 'external id', names: ['externalid', 'markmailid', 'subscriberid', 'hostid', '購読者id'] },
];

const CONCEPT_BY_NAME = new Map<string, string>();
for (const { concept, names } of CONCEPTS) {
  for (const name of names) CONCEPT_BY_NAME.set(normalise(name), concept);
}

// Which host types may feed which CRM types (a host `text` column fits nearly anything).
const COMPATIBLE: Record<CrmFieldType, ReadonlySet<CrmFieldType>> = {
  text: new Set(['text', 'email', 'phone', 'url', 'picklist', 'multipicklist']),
  email: new Set(['email', 'text']),
  phone: new Set(['phone', 'text']),
  url: new Set(['url', 'text']),
  number: new Set(['number', 'text']),
  date: new Set(['date', 'datetime', 'text']),
  datetime: new Set(['datetime', 'date', 'text']),
  boolean: new Set(['boolean']),
  picklist: new Set(['picklist', 'text', 'multipicklist']),
  multipicklist: new Set(['multipicklist', 'text']),
  reference: new Set(['reference']),
};

/** Whether values of a host field of type `host` can be written to a CRM field of type `crm`. */
export function isCompatibleFieldType(host: CrmFieldType, crm: CrmFieldType): boolean {
  return COMPATIBLE[host].has(crm);
}

type ValueShape = 'email' | 'phone' | 'url' | 'date' | 'number' | 'boolean';
const SHAPE_TYPE: Record<ValueShape, CrmFieldType> = {
  email: 'email',
  phone: 'phone',
  url: 'url',
  date: 'date',
  number: 'number',
  boolean: 'boolean',
};

/**
 * Suggest which host field feeds which CRM field — deterministic, no network, no model. Each
 * host field gets at most one CRM field and each CRM field at most one host field, strongest
 * evidence first. Evidence, strongest first: the same normalised name or label (`first_name` ≙
 * `FirstName`, `__c` suffix ignored); a known synonym in English or Japanese (`surname`, `姓` →
 * last name); sampled values of a distinctive shape (an email-shaped column → the CRM's email
 * field); shared name words. Types must be compatible (a boolean never maps to a text field);
 * read-only CRM fields are skipped. Ties break by field name, so the same input always gives the
 * same output.
 *
 * @throws {CrmDataConversionError} naming the field when the input is malformed.
 * @example
 * const suggestions = suggestFieldMappings({
 *   hostFields: [{ name: 'sei', label: '姓' }, { name: 'contact', samples: ['a@example.com'] }],
 *   crmFields: await provider.getCustomFields(),
 * });
 * // → [{ hostField: 'contact', crmField: 'Email', confidence: 0.8, reason: 'sampled values look like email addresses', … }, …]
 */
export function suggestFieldMappings(input: SuggestFieldMappingsInput): CrmFieldSuggestion[] {
  const parsed = parseModel(InputSchema, input, 'suggestFieldMappings');
  const minConfidence = parsed.minConfidence ?? 0.5;
  const crmFields = parsed.crmFields.filter((field) => field.updateable !== false);
  const candidates: CrmFieldSuggestion[] = [];
  for (const host of parsed.hostFields) {
    const samples = [...(host.samples ?? []), ...(parsed.samples?.[host.name] ?? [])];
    const shape = sampleShape(samples);
    const hostType = host.fieldType ?? (shape ? SHAPE_TYPE[shape] : undefined);
    for (const crm of crmFields) {
      if (hostType && crm.fieldType && !isCompatibleFieldType(hostType, crm.fieldType)) continue;
      const match = scorePair(host, crm, shape);
      if (match && match.confidence >= minConfidence) {
        candidates.push({
          hostField: host.name,
          crmField: crm.name,
          confidence: match.confidence,
          reason: match.reason,
          fieldType: crm.fieldType ?? hostType ?? 'text',
        });
      }
    }
  }
  candidates.sort(
    (a, b) =>
      b.confidence - a.confidence ||
      compareText(a.hostField, b.hostField) ||
      compareText(a.crmField, b.crmField),
  );
  const usedHost = new Set<string>();
  const usedCrm = new Set<string>();
  const chosen: CrmFieldSuggestion[] = [];
  for (const candidate of candidates) {
    if (usedHost.has(candidate.hostField) || usedCrm.has(candidate.crmField)) continue;
    usedHost.add(candidate.hostField);
    usedCrm.add(candidate.crmField);
    chosen.push(candidate);
  }
  return chosen;
}

interface Match {
  confidence: number;
  reason: string;
}

function scorePair(
  host: { name: string; label?: string | undefined; fieldType?: CrmFieldType | undefined },
  crm: { name: string; label?: string | undefined; fieldType?: CrmFieldType | undefined },
  shape: ValueShape | undefined,
): Match | null {
  const hostNames = namesOf(host);
  const crmNames = namesOf(crm);
  const typeBonus = host.fieldType && crm.fieldType && host.fieldType === crm.fieldType ? 0.03 : 0;
  let best: Match | null = null;
  const consider = (confidence: number, reason: string) => {
    const value = Math.min(0.99, Math.round((confidence + typeBonus) * 100) / 100);
    if (!best || value > best.confidence) best = { confidence: value, reason };
  };
  for (const h of hostNames) {
    for (const c of crmNames) {
      if (h.length > 0 && h === c) consider(0.95, 'same name');
    }
  }
  const hostConcepts = conceptsOf(hostNames);
  const crmConcepts = conceptsOf(crmNames);
  for (const [concept, via] of hostConcepts) {
    if (crmConcepts.has(concept)) consider(via.exact ? 0.9 : 0.7, `synonym of "${concept}" (${via.name})`);
  }
  // Value shape only speaks for a CRM field of exactly that type, and only when the names don't
  // point at a different concept (a phone-shaped "fax" column is not the Phone field).
  if (shape && crm.fieldType === SHAPE_TYPE[shape] && isDistinctive(shape)) {
    const conflicting = hostConcepts.size > 0 && ![...hostConcepts.keys()].some((k) => crmConcepts.has(k));
    if (!conflicting)
      consider(shape === 'email' ? 0.8 : 0.6, `sampled values look like ${SHAPE_WORDS[shape]}`);
  }
  const overlap = wordOverlap(host, crm);
  if (overlap >= 0.7) consider(0.4 + overlap * 0.3, 'names share words');
  return best;
}

const SHAPE_WORDS: Record<ValueShape, string> = {
  email: 'email addresses',
  phone: 'phone numbers',
  url: 'web addresses',
  date: 'dates',
  number: 'numbers',
  boolean: 'yes/no values',
};

function isDistinctive(shape: ValueShape): boolean {
  return shape === 'email' || shape === 'phone' || shape === 'url';
}

function namesOf(field: { name: string; label?: string | undefined }): string[] {
  const names = [normalise(field.name)];
  if (field.label) names.push(normalise(field.label));
  return names.filter((name, i) => name.length > 0 && names.indexOf(name) === i);
}

/** Concepts named by any of `names`: exact synonym, or a multi-character synonym contained in it. */
function conceptsOf(names: ReadonlyArray<string>): Map<string, { name: string; exact: boolean }> {
  const found = new Map<string, { name: string; exact: boolean }>();
  for (const name of names) {
    const exact = CONCEPT_BY_NAME.get(name);
    if (exact) {
      found.set(exact, { name, exact: true });
      continue;
    }
    // Containment only for Japanese synonyms of 2+ characters ("メールアドレス（会社）" ⊃ "メールアドレス"),
    // never single kanji (名 is inside 会社名 and 氏名) nor Latin ones ("mail" is inside "mailing").
    let longest = '';
    for (const [synonym, concept] of CONCEPT_BY_NAME) {
      if (
        synonym.length >= 2 &&
        !/^[ -~]+$/.test(synonym) &&
        synonym.length > longest.length &&
        name.includes(synonym)
      ) {
        longest = synonym;
        if (!found.get(concept)?.exact) found.set(concept, { name: synonym, exact: false });
      }
    }
  }
  return found;
}

function wordOverlap(
  host: { name: string; label?: string | undefined },
  crm: { name: string; label?: string | undefined },
): number {
  const a = new Set(words(`${host.name} ${host.label ?? ''}`));
  const b = new Set(words(`${crm.name} ${crm.label ?? ''}`));
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return (2 * shared) / (a.size + b.size);
}

function words(text: string): string[] {
  return text
    .normalize('NFKC')
    .replace(/__c\b/gi, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && !GENERIC_WORDS.has(word));
}

// Words too common in field names to say two fields mean the same thing.
const GENERIC_WORDS = new Set([
  'name',
  'id',
  'date',
  'number',
  'code',
  'field',
  'the',
  'of',
  'mailing',
  'contact',
]);

/** Lower case, NFKC, without separators and a trailing Salesforce `__c`. */
function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/__c$/i, '')
    .toLowerCase()
    .replace(/[\s_.\-/()（）・:]+/g, '');
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{7,20}$/;
const URL_SHAPE = /^(https?:\/\/|www\.)\S+$/i;
const DATE = /^\d{4}[-/]\d{1,2}[-/]\d{1,2}/;

/** The shape most (≥ 80 %) of the non-empty samples share, if any. */
function sampleShape(samples: ReadonlyArray<unknown>): ValueShape | undefined {
  const values = samples.filter((v) => v !== null && v !== undefined && v !== '');
  if (values.length === 0) return undefined;
  const counts = new Map<ValueShape, number>();
  for (const value of values) {
    const shape = shapeOf(value);
    if (shape) counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  for (const [shape, count] of counts) if (count / values.length >= 0.8) return shape;
  return undefined;
}

function shapeOf(value: unknown): ValueShape | undefined {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (value instanceof Date) return 'date';
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (EMAIL.test(text)) return 'email';
  if (URL_SHAPE.test(text)) return 'url';
  if (DATE.test(text)) return 'date';
  if (PHONE.test(text) && (text.match(/\d/g)?.length ?? 0) >= 7) return 'phone';
  if (/^-?\d+(\.\d+)?$/.test(text)) return 'number';
  if (/^(true|false|yes|no)$/i.test(text)) return 'boolean';
  return undefined;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
