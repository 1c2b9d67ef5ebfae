import { describe, expect, it } from 'vitest';
import { parseReadyContact, safeParseContact } from '../../src/core/contact-fast-parse.js';
import { CrmContactSchema } from '../../src/core/models.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base = () => ({
  id: '0038d0000000003AAA',
  externalId: 'h-1',
  email: 'ann@example.com',
  firstName: 'Ann',
  lastName: 'Lee',
  emailOptOut: false,
  tags: [] as unknown[],
  customFields: {} as Record<string, unknown>,
  lastModifiedAt: new Date('2026-04-01T09:00:00.000Z'),
});

// Each patch may leave the contact valid, make it invalid, or need the schema's transforms
// (`DELETE` removes the key).
const DELETE = Symbol('delete');
const PATCHES: Array<Record<string, unknown>> = [
  { firstName: ' Ann ' },
  { lastName: 'x'.repeat(80) },
  { lastName: 'x'.repeat(81) },
  { title: '' },
  { phone: 42 },
  { email: 'not-an-email' },
  { email: ' ann@example.com' },
  { email: `${'a'.repeat(70)}@example.com` },
  { email: DELETE },
  { tags: DELETE },
  { customFields: DELETE },
  { tags: ['news', ' offers'] },
  { tags: ['news', 'offers'] },
  { customFields: { Score__c: 3, '': 1 } },
  { customFields: { Score__c: null } },
  { lastModifiedAt: '2026-04-01T09:00:00.000Z' },
  { lastModifiedAt: new Date('nope') },
  { externalId: '' },
  { id: 'x'.repeat(65) },
  { emailOptOut: 'true' },
  { unknownKey: 1 },
  { company: undefined },
  { firstName: 'Zoë, "Z"' },
  { firstName: 'Ｚ' },
];

function patch(contact: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(changes)) {
    if (value === DELETE) delete contact[key];
    else contact[key] = value;
  }
}

describe('safeParseContact agrees with CrmContactSchema.safeParse', () => {
  it('on random mutations of a contact: the same success and the same data', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      const contact: Record<string, unknown> = base();
      const count = Math.floor(next() * 4);
      for (let i = 0; i < count; i++) patch(contact, PATCHES[Math.floor(next() * PATCHES.length)] ?? {});
      const before = structuredClone(contact);
      const expected = CrmContactSchema.safeParse({ ...contact });
      const actual = safeParseContact(contact);
      expect(contact).toStrictEqual(before);
      expect({ seed, success: actual.success }).toEqual({ seed, success: expected.success });
      if (actual.success && expected.success) expect(actual.data).toEqual(expected.data);
    }
  });

  it('returns a contact already in output form as it is, and parses anything else', () => {
    const ready = base();
    expect(safeParseContact(ready)).toEqual({ success: true, data: ready });
    expect((safeParseContact(ready) as { data: unknown }).data).toBe(ready);
    const untrimmed = { ...base(), firstName: ' Ann ' };
    const parsed = safeParseContact(untrimmed) as { success: true; data: { firstName?: string } };
    expect(parsed.data).not.toBe(untrimmed);
    expect(parsed.data.firstName).toBe('Ann');
    expect(safeParseContact({ ...base(), email: 'nope' })).toEqual({ success: false });
  });
});

describe('parseReadyContact (the push side: host input, defaults usually omitted)', () => {
  it('takes input that lacks only the defaults, adding them to a copy', () => {
    const input = { externalId: 'h-1', email: 'ann@example.com', firstName: 'Ann' };
    const ready = parseReadyContact(input);
    expect(ready).toEqual(CrmContactSchema.parse(input));
    expect(ready).not.toBe(input);
    expect(input).not.toHaveProperty('tags');
  });

  it('leaves anything the schema must transform or refuse to the schema', () => {
    for (const value of [
      null,
      'h-1',
      [],
      { externalId: 'h-1', email: ' ann@example.com' },
      { externalId: 'h-1', email: 'nope' },
      { externalId: 'h-1' },
      { email: 'ann@example.com' },
      { externalId: 'h-1', email: 'ann@example.com', lastSyncAt: new Date() },
    ]) {
      expect(parseReadyContact(value), JSON.stringify(value)).toBeUndefined();
    }
  });
});
