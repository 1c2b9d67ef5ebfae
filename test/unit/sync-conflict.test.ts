import { describe, expect, it } from 'vitest';
import type { CrmConflictPolicy } from '../../src/index.js';
import { type FieldMergeInput, mergeField } from '../../src/sync/conflict.js';

const OLD = new Date('2026-01-01T10:00:00Z');
const NEW = new Date('2026-01-01T11:00:00Z');

type Row = [
  description: string,
  input: Partial<FieldMergeInput> & Pick<FieldMergeInput, 'base' | 'host' | 'crm'>,
  expected: {
    value: unknown;
    conflict: boolean;
    resolved?: boolean;
    base?: unknown;
    source?: 'host' | 'crm';
  },
];

const policies: CrmConflictPolicy[] = ['crm_wins', 'host_wins', 'newest_wins', 'prefer_crm_unless_blank'];

describe('mergeField: only a field changed on both sides is a conflict', () => {
  for (const policy of policies) {
    const rows: Row[] = [
      [
        'nothing changed',
        { base: 'a', host: 'a', crm: 'a' },
        { value: 'a', conflict: false, base: 'a', source: 'host' },
      ],
      [
        'only the CRM changed',
        { base: 'a', host: 'a', crm: 'b' },
        { value: 'b', conflict: false, base: 'b', source: 'crm' },
      ],
      [
        'only the host changed',
        { base: 'a', host: 'h', crm: 'a' },
        { value: 'h', conflict: false, base: 'a', source: 'host' },
      ],
      [
        'both changed to the same value',
        { base: 'a', host: 'x', crm: 'x' },
        { value: 'x', conflict: false, base: 'x', source: 'crm' },
      ],
    ];
    for (const [description, input, expected] of rows) {
      it(`${policy}: ${description}`, () => {
        const result = mergeField({ direction: 'bidirectional', policy, ...input });
        expect(result).toMatchObject({ ...expected, resolved: true });
      });
    }
  }
});

describe('mergeField: each policy decides a two-sided conflict', () => {
  const rows: Array<[CrmConflictPolicy, Partial<FieldMergeInput>, unknown, boolean]> = [
    ['crm_wins', {}, 'crm', true],
    ['host_wins', {}, 'host', true],
    ['prefer_crm_unless_blank', {}, 'crm', true],
    ['prefer_crm_unless_blank', { crm: null }, 'host', true],
    ['newest_wins', { crmModifiedAt: NEW, hostModifiedAt: OLD }, 'crm', true],
    ['newest_wins', { crmModifiedAt: OLD, hostModifiedAt: NEW }, 'host', true],
    ['newest_wins', { crmModifiedAt: NEW, hostModifiedAt: NEW }, 'host', false],
    ['newest_wins', { crmModifiedAt: NEW }, 'host', false],
    ['newest_wins', { hostModifiedAt: NEW }, 'host', false],
    ['newest_wins', { crmModifiedAt: new Date('not a date'), hostModifiedAt: OLD }, 'host', false],
    ['newest_wins', { crmModifiedAt: NEW, hostModifiedAt: new Date('not a date') }, 'host', false],
  ];
  for (const [policy, extra, winner, resolved] of rows) {
    it(`${policy} ${JSON.stringify(extra)} → ${winner}${resolved ? '' : ' (unresolved)'}`, () => {
      const input: FieldMergeInput = {
        base: 'base',
        host: 'host',
        crm: 'crm',
        direction: 'bidirectional',
        policy,
        ...extra,
      };
      const result = mergeField(input);
      expect(result.conflict).toBe(true);
      expect(result.resolved).toBe(resolved);
      expect(result.value).toBe(winner === 'crm' ? input.crm : 'host');
      // The engine hands the host the raw CRM value when the CRM side won: `source` must say so.
      expect(result.source).toBe(winner);
      // The base only moves when both sides now agree on the CRM value.
      expect(result.base).toBe(winner === 'crm' ? input.crm : 'base');
    });
  }

  it('prefer_crm_unless_blank keeps the host value when the CRM alone cleared the field', () => {
    expect(
      mergeField({
        base: 'a',
        host: 'a',
        crm: null,
        direction: 'bidirectional',
        policy: 'prefer_crm_unless_blank',
      }),
    ).toMatchObject({ value: 'a', conflict: false, source: 'host' });
    expect(
      mergeField({ base: 'a', host: 'a', crm: null, direction: 'bidirectional', policy: 'crm_wins' }),
    ).toMatchObject({ value: null, conflict: false, source: 'crm' });
    // Both sides cleared the field, differently: the CRM's blank never wins this policy.
    expect(
      mergeField({
        base: 'a',
        host: '',
        crm: null,
        direction: 'bidirectional',
        policy: 'prefer_crm_unless_blank',
      }),
    ).toMatchObject({ conflict: true, source: 'host' });
  });
});

describe('mergeField: per-field direction wins over the policy', () => {
  for (const policy of policies) {
    it(`${policy}: to_crm ignores CRM edits, from_crm always takes them`, () => {
      expect(mergeField({ base: 'a', host: 'h', crm: 'c', direction: 'to_crm', policy })).toMatchObject({
        value: 'h',
        source: 'host',
        conflict: false,
        resolved: true,
        base: 'a',
      });
      expect(mergeField({ base: 'a', host: 'h', crm: 'c', direction: 'from_crm', policy })).toMatchObject({
        value: 'c',
        source: 'crm',
        conflict: false,
        resolved: true,
        base: 'c',
      });
    });
  }
});

describe('mergeField: email opt-out is sticky', () => {
  const sticky = { direction: 'bidirectional' as const, stickyOptOut: true };
  const rows: Array<
    [
      string,
      Pick<FieldMergeInput, 'base' | 'host' | 'crm'>,
      CrmConflictPolicy,
      boolean | null,
      'host' | 'crm',
    ]
  > = [
    ['a CRM opt-out reaches the host', { base: false, host: false, crm: true }, 'host_wins', true, 'crm'],
    [
      'a CRM opt-in does not undo a host opt-out',
      { base: true, host: true, crm: false },
      'crm_wins',
      true,
      'host',
    ],
    [
      'an opt-out on either side wins a conflict (host)',
      { base: null, host: true, crm: false },
      'crm_wins',
      true,
      'host',
    ],
    [
      'an opt-out on either side wins a conflict (CRM)',
      { base: null, host: false, crm: true },
      'host_wins',
      true,
      'crm',
    ],
    ["the host's own re-opt-in is kept", { base: true, host: false, crm: true }, 'crm_wins', false, 'host'],
    ['a CRM clear is no opt-out', { base: false, host: false, crm: null }, 'crm_wins', null, 'crm'],
  ];
  for (const [description, values, policy, expected, source] of rows) {
    it(description, () => {
      const merged = mergeField({ ...sticky, ...values, policy });
      expect(merged.value).toBe(expected);
      expect(merged.source).toBe(source);
      expect(merged.resolved).toBe(true);
    });
  }

  it('an opt-out settles even a conflict the policy leaves open (newest_wins, same time)', () => {
    const merged = mergeField({
      ...sticky,
      base: null,
      host: true,
      crm: false,
      policy: 'newest_wins',
      hostModifiedAt: NEW,
      crmModifiedAt: NEW,
    });
    expect(merged).toMatchObject({ value: true, source: 'host', conflict: true, resolved: true });
  });

  it('a CRM opt-out that overrides the policy becomes the base: both sides now hold it', () => {
    expect(mergeField({ ...sticky, base: null, host: false, crm: true, policy: 'host_wins' })).toMatchObject({
      value: true,
      source: 'crm',
      conflict: true,
      base: true,
    });
    expect(
      mergeField({ ...sticky, base: false, host: 'x', crm: true, direction: 'to_crm', policy: 'crm_wins' }),
    ).toMatchObject({ value: true, source: 'crm', base: true });
  });

  it('a conflict won by the host keeps the old base, so the next push sends the host value', () => {
    expect(mergeField({ ...sticky, base: null, host: true, crm: false, policy: 'host_wins' })).toMatchObject({
      value: true,
      base: null,
    });
    expect(mergeField({ ...sticky, base: null, host: false, crm: 'x', policy: 'host_wins' })).toMatchObject({
      value: false,
      source: 'host',
      base: null,
    });
  });

  it('without stickiness the policy decides', () => {
    expect(
      mergeField({ base: null, host: true, crm: false, direction: 'bidirectional', policy: 'crm_wins' })
        .value,
    ).toBe(false);
  });

  it('a CRM re-opt-in against a host opt-out becomes the base, so the next push restores the opt-out in the CRM', () => {
    const merged = mergeField({ ...sticky, base: true, host: true, crm: false, policy: 'crm_wins' });
    expect(merged).toMatchObject({ value: true, source: 'host', base: false });
  });
});
