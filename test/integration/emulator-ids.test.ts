import { describe, expect, it } from 'vitest';
import { startSalesforceEmulator } from '../../src/testing/index.js';
import {
  checksumSuffix,
  SALESFORCE_KEY_PREFIXES,
  toId15,
  toId18,
} from '../../src/testing/salesforce-emulator/ids.js';

describe('emulator ids', () => {
  it('computes the documented case-safe suffix', () => {
    // Worked examples published with the CASESAFEID algorithm.
    expect(checksumSuffix('0019000000B98de')).toBe('AAB');
    expect(checksumSuffix('0019000000oC4Hk')).toBe('AAK');
    expect(toId18('0019000000oC4Hk')).toBe('0019000000oC4HkAAK');
    expect(toId18('0019000000oC4HkAAK')).toBe('0019000000oC4HkAAK');
    expect(toId15('0019000000oC4HkAAK')).toBe('0019000000oC4Hk');
    expect(toId18('not an id')).toBeUndefined();
  });

  it('issues 18-character ids with the right key prefix and a valid suffix', async () => {
    const sf = await startSalesforceEmulator();
    try {
      expect(sf.orgId.startsWith(SALESFORCE_KEY_PREFIXES.Organization)).toBe(true);
      expect(sf.userId.startsWith(SALESFORCE_KEY_PREFIXES.User)).toBe(true);
      const objects = ['Account', 'Contact', 'Lead', 'Campaign', 'Task'] as const;
      const values: Record<(typeof objects)[number], Record<string, unknown>> = {
        Account: { Name: 'A' },
        Contact: { LastName: 'C' },
        Lead: { LastName: 'L', Company: 'Co' },
        Campaign: { Name: 'Camp' },
        Task: { Subject: 'Call' },
      };
      for (const object of objects) {
        const [result] = sf.store.insert(object, [values[object]]);
        const id = result?.id as string;
        expect(id).toHaveLength(18);
        expect(id.slice(0, 3)).toBe(SALESFORCE_KEY_PREFIXES[object]);
        expect(toId18(id.slice(0, 15))).toBe(id);
      }
    } finally {
      await sf.stop();
    }
  });
});
