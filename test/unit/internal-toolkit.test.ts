import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CrmConfigurationError } from '../../src/core/errors.js';
import { CrmContactSchema } from '../../src/core/models.js';
import { raceWithSignal } from '../../src/internal/abort.js';
import { chunkArray, chunked } from '../../src/internal/chunks.js';
import {
  CLEARABLE_CONTACT_FIELDS,
  CONTACT_DATA_FIELDS,
  CONTACT_FIELDS,
  describeContactDataFields,
} from '../../src/internal/contact-fields.js';
import { assertKnownOptions } from '../../src/internal/options.js';
import { mapLimit, runPool } from '../../src/internal/pool.js';
import { ContactFieldMapper, STANDARD_FIELDS } from '../../src/sync/mapping.js';

describe('assertKnownOptions', () => {
  it('names one unknown key, never its value, as a CrmConfigurationError with reason unknown_option', () => {
    let thrown: unknown;
    try {
      assertKnownOptions('Thing', { a: 1, secretish: 'hunter2' }, ['a']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CrmConfigurationError);
    const error = thrown as CrmConfigurationError;
    expect(error.message).toBe("Thing: unknown option 'secretish'");
    expect(error.message).not.toContain('hunter2');
    expect(error.details).toEqual({ reason: 'unknown_option', options: ['secretish'] });
  });

  it('lists several unknown keys and accepts known ones from any iterable', () => {
    expect(() => assertKnownOptions('Thing', { x: 1, y: 2 }, new Set(['z']))).toThrow(
      "Thing: unknown options 'x', 'y'",
    );
    expect(() => assertKnownOptions('Thing', { z: 1 }, new Set(['z']))).not.toThrow();
  });

  it('carries the provider when given', () => {
    expect(() => assertKnownOptions('Thing', { x: 1 }, [], { provider: 'salesforce' })).toThrow(
      expect.objectContaining({ provider: 'salesforce' }),
    );
  });
});

describe('chunked / chunkArray', () => {
  it('groups lazily, the last chunk short', async () => {
    let read = 0;
    function* source() {
      for (let i = 0; i < 5; i++) {
        read++;
        yield i;
      }
    }
    const iterator = chunked(source(), 2);
    expect((await iterator.next()).value).toEqual([0, 1]);
    expect(read).toBe(2);
    const rest: number[][] = [];
    for await (const chunk of iterator) rest.push(chunk);
    expect(rest).toEqual([[2, 3], [4]]);
    expect(chunkArray([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
    expect(chunkArray([], 2)).toEqual([]);
  });
});

describe('runPool / mapLimit', () => {
  it('keeps at most `concurrency` workers in flight and every item is handled once', async () => {
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    await runPool([1, 2, 3, 4, 5, 6, 7][Symbol.iterator](), 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(n);
      active--;
    });
    expect(peak).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rethrows the first error after in-flight work settled, and starts no new work', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = runPool([1, 2, 3, 4, 5][Symbol.iterator](), 2, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 1 ? 0 : 5));
      settled++;
      if (n === 1) throw new Error('boom 1');
    });
    await expect(run).rejects.toThrow('boom 1');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });

  it('mapLimit keeps input order whatever order the work finishes in', async () => {
    const out = await mapLimit([30, 10, 20], 3, async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms / 10));
      return ms * 2;
    });
    expect(out).toEqual([60, 20, 40]);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('raceWithSignal', () => {
  it('rejects with an AbortError whose cause is the reason when the signal fires first', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const raced = raceWithSignal(never, controller.signal);
    controller.abort('stop');
    await expect(raced).rejects.toMatchObject({ name: 'AbortError', cause: 'stop' });
    const already = AbortSignal.abort('early');
    await expect(raceWithSignal(Promise.resolve(1), already)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('settles like the promise otherwise, without a signal or before the signal fires', async () => {
    expect(await raceWithSignal(Promise.resolve(1), undefined)).toBe(1);
    const controller = new AbortController();
    expect(await raceWithSignal(Promise.resolve(2), controller.signal)).toBe(2);
    await expect(raceWithSignal(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow('no');
  });
});

describe('contact field lists derived from CrmContactSchema', () => {
  it('match the schema', () => {
    expect([...CONTACT_DATA_FIELDS].sort()).toEqual(
      ['company', 'email', 'emailOptOut', 'firstName', 'lastName', 'phone', 'tags', 'title'].sort(),
    );
    expect(CONTACT_FIELDS.has('lastSyncAt')).toBe(true);
    expect(CONTACT_FIELDS.has('customFields')).toBe(false);
    expect([...CLEARABLE_CONTACT_FIELDS]).toEqual(['firstName', 'lastName', 'company', 'phone', 'title']);
  });

  it('describes each data field with the field type the schema implies, in schema order', () => {
    expect(describeContactDataFields()).toEqual([
      { key: 'email', fieldType: 'email' },
      { key: 'firstName', fieldType: 'text' },
      { key: 'lastName', fieldType: 'text' },
      { key: 'company', fieldType: 'text' },
      { key: 'phone', fieldType: 'phone' },
      { key: 'title', fieldType: 'text' },
      { key: 'emailOptOut', fieldType: 'boolean' },
      { key: 'tags', fieldType: 'multipicklist' },
    ]);
  });

  it('picks up a field added to the schema, with its type', () => {
    const extended = CrmContactSchema.extend({
      nickname: z.string().optional(),
      doNotCall: z.boolean().optional(),
      score: z.number().default(0),
    });
    const described = describeContactDataFields(extended);
    expect(described.slice(-3)).toEqual([
      { key: 'nickname', fieldType: 'text' },
      { key: 'doNotCall', fieldType: 'boolean' },
      { key: 'score', fieldType: 'number' },
    ]);
    expect(described.map((f) => f.key)).not.toContain('lastSyncAt');
    expect(described.map((f) => f.key)).not.toContain('customFields');
  });

  it('give the sync engine its default rules: every data field, company and tags one way', () => {
    expect(STANDARD_FIELDS.map((f) => f.key)).toEqual([...CONTACT_DATA_FIELDS]);
    const rules = new ContactFieldMapper([]).rules;
    expect(rules.map((r) => [r.crmField, r.direction])).toEqual([
      ['email', 'bidirectional'],
      ['firstName', 'bidirectional'],
      ['lastName', 'bidirectional'],
      ['company', 'to_crm'],
      ['phone', 'bidirectional'],
      ['title', 'bidirectional'],
      ['emailOptOut', 'bidirectional'],
      ['tags', 'to_crm'],
    ]);
  });
});
