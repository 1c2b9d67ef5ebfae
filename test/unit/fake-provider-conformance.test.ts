import { randomUUID } from 'node:crypto';
import * as vitest from 'vitest';
import type { CrmContactInput } from '../../src/index.js';
import { FakeCrmProvider } from '../../src/testing/index.js';
import { registerProviderPrivacyConformance } from '../../src/testing/provider-privacy-conformance.js';

// The fake provider is what host apps test privacy flows against, so it must meet the privacy
// group of the provider contract; its injectable record failures give the group a CRM error that
// echoes a record value.
let provider: FakeCrmProvider;
let run = '';
vitest.beforeEach(() => {
  provider = new FakeCrmProvider();
  run = randomUUID().slice(0, 8);
});
const contact = (name: string, extra: Partial<CrmContactInput> = {}): CrmContactInput => ({
  externalId: `${run}-${name}`,
  email: `${name}.${run}@example.com`,
  firstName: 'Conformance',
  lastName: `Test ${name}`,
  ...extra,
});

vitest.describe('FakeCrmProvider privacy conformance', () => {
  registerProviderPrivacyConformance({
    describe: vitest.describe,
    it: vitest.it,
    provider: () => provider,
    contact,
    valueEchoingFailure: (person) => {
      const value = `Too-Long-Title-${person.externalId}`;
      provider.failRecord({
        externalId: person.externalId,
        code: 'STRING_TOO_LONG',
        message: `Title: data value too large: ${value} (max length=10)`,
        fields: ['Title'],
      });
      return { contact: { ...person, title: value }, value, field: 'Title' };
    },
  });
});

vitest.describe('FakeCrmProvider without the privacy feature', () => {
  vitest.it('throws CrmUnsupportedFeatureError from forgetContact and exportContactData', async () => {
    const crm = new FakeCrmProvider({ features: ['contact_sync'] });
    await vitest.expect(crm.forgetContact({ email: 'a@example.com' })).rejects.toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
    });
    await vitest.expect(crm.exportContactData({ email: 'a@example.com' })).rejects.toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
    });
  });
});
