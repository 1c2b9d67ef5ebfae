import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CrmConfigurationError, isCrmError } from '../core/errors.js';
import { type CrmContactInput, CrmCustomFieldSchema } from '../core/models.js';
import { type CrmFeature, CrmFeatures, type CrmProvider } from '../core/provider.js';
import {
  type ProviderPrivacyConformanceContext,
  registerProviderPrivacyConformance,
} from './provider-privacy-conformance.js';

/**
 * The test-runner functions the suite registers itself with (Vitest, Jest, Mocha and `node:test`
 * all have them). Assertions use `node:assert`, so any runner works.
 */
export interface ProviderConformanceRunner {
  describe(name: string, fn: () => void): unknown;
  /**
   * Registers a test. The tests of a feature group the provider does not support check instead that
   * the feature's method throws `CrmUnsupportedFeatureError`.
   */
  it(name: string, fn: (context?: unknown) => Promise<void>, timeout?: number): unknown;
  beforeEach(fn: () => Promise<void> | void): unknown;
  afterEach(fn: () => Promise<void> | void): unknown;
}

/** Options of {@link runProviderConformance}. */
export interface ProviderConformanceOptions {
  /**
   * `describe`/`it`/`beforeEach`/`afterEach` of your runner, e.g. `import * as vitest from 'vitest'`.
   * @default the runner's globals, when it installs them
   */
  runner?: ProviderConformanceRunner;
  /** Name of the top-level `describe`. @default 'CrmProvider conformance' */
  name?: string;
  /** Called after each test with the provider it used. */
  cleanup?: (provider: CrmProvider) => Promise<void> | void;
  /** Opt out of what the test CRM cannot do; the matching tests are not registered. */
  capabilities?: {
    /**
     * `convertLeadToContact` works against the test CRM (the Salesforce emulator, for one, has no
     * SOAP endpoint).
     * @default true
     */
    leadConversion?: boolean;
  };
  /**
   * Builds, from a test's unique contact, one the test CRM rejects with an error message that
   * echoes a record value (Salesforce: a value longer than the field's length). With it, the
   * privacy group proves that the echoed value never reaches storage while the field name does.
   * @default none (that test is not registered)
   */
  valueEchoingFailure?: ProviderPrivacyConformanceContext['valueEchoingFailure'];
  /** Contacts pushed by the batch test. @default 25 */
  batchSize?: number;
  /** Per-test timeout in milliseconds, passed to `it`. @default 30000 */
  timeoutMs?: number;
}

function resolveRunner(runner: ProviderConformanceRunner | undefined): ProviderConformanceRunner {
  if (runner) return runner;
  const g = globalThis as unknown as Partial<ProviderConformanceRunner>;
  if (g.describe && g.it && g.beforeEach && g.afterEach) {
    return { describe: g.describe, it: g.it, beforeEach: g.beforeEach, afterEach: g.afterEach };
  }
  throw new CrmConfigurationError(
    'runProviderConformance needs `runner` ({ describe, it, beforeEach, afterEach }) when the test runner has no globals',
  );
}

async function rejectsWith(promise: Promise<unknown>, check: (error: unknown) => boolean, what: string) {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${what}, but the call succeeded`);
  assert.ok(
    check(caught),
    `expected ${what}, got ${String((caught as Error)?.name)}: ${String((caught as Error)?.message)}`,
  );
}

const isCode = (code: string) => (error: unknown) => isCrmError(error) && error.code === code;
const isAbort = (error: unknown) => error instanceof Error && error.name === 'AbortError';

/**
 * Register the generic `CrmProvider` contract as tests: what every provider must do, whatever the
 * CRM. Each feature group runs only when `supportsFeature` says the provider has it; a provider
 * that does not support a feature must throw `CrmUnsupportedFeatureError` from its methods.
 *
 * Tests create their own uniquely named records, so one CRM (or emulator) can serve the whole
 * suite; reset it between tests in `makeProvider` if you prefer.
 *
 * @param makeProvider - builds a provider for one test, talking to a disposable test CRM.
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { runProviderConformance, startSalesforceEmulator } from '@markmail/crm/testing';
 * import { SalesforceProvider } from '@markmail/crm/salesforce';
 *
 * const sf = await startSalesforceEmulator();
 * runProviderConformance(
 *   () => new SalesforceProvider({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken }),
 *   { runner: vitest, capabilities: { leadConversion: false } },
 * );
 * ```
 */
export function runProviderConformance(
  makeProvider: () => CrmProvider | Promise<CrmProvider>,
  options: ProviderConformanceOptions = {},
): void {
  const { describe, it: registerIt, beforeEach, afterEach } = resolveRunner(options.runner);
  const timeout = options.timeoutMs ?? 30_000;
  const it = (name: string, fn: (context?: unknown) => Promise<void>) => registerIt(name, fn, timeout);
  const batchSize = options.batchSize ?? 25;
  const leadConversion = options.capabilities?.leadConversion ?? true;
  let provider: CrmProvider;
  let run = '';
  // Every record of a test carries the test's run id, so tests never see each other's data.
  const id = (name: string) => `${run}-${name}`;
  const email = (name: string) => `${name}.${run}@example.com`;
  const contact = (name: string, extra: Partial<CrmContactInput> = {}): CrmContactInput => ({
    externalId: id(name),
    email: email(name),
    firstName: 'Conformance',
    lastName: `Test ${name}`,
    ...extra,
  });
  const supports = (feature: CrmFeature) => provider.supportsFeature(feature);
  // A method of each feature, called the way a host would; used to check the refusal of a feature
  // the provider says it does not support.
  const featureCalls: Partial<Record<CrmFeature, () => Promise<unknown>>> = {
    contact_sync: () => provider.syncContact(contact('unsupported')),
    lead_sync: () => provider.createLead({ externalId: id('l'), email: email('l'), leadSource: 'Web' }),
    campaign_sync: () => provider.syncCampaign({ externalId: id('c'), name: 'C', status: 'draft' }),
    custom_fields: () => provider.getCustomFields(),
    bulk_operations: () => provider.bulkSyncContacts([]),
  };
  const refuses = async (feature: CrmFeature) => {
    const call = featureCalls[feature];
    if (!call) {
      // Optional methods (`listContactChanges`): leaving the method out is the refusal.
      if (feature === 'incremental_pull' && provider.listContactChanges) {
        await rejectsWith(
          provider.listContactChanges(null)[Symbol.asyncIterator]().next(),
          isCode('UNSUPPORTED_FEATURE'),
          `listContactChanges, which supportsFeature('incremental_pull') denies, to reject with CrmUnsupportedFeatureError`,
        );
      }
      return;
    }
    await rejectsWith(
      call(),
      isCode('UNSUPPORTED_FEATURE'),
      `a method of '${feature}', which supportsFeature denies, to reject with CrmUnsupportedFeatureError`,
    );
  };
  // A group the provider does not support checks the refusal instead: its feature's method must
  // throw CrmUnsupportedFeatureError. Never skipped, never passed having done nothing.
  const onlyIf = (feature: CrmFeature, fn: () => Promise<void>) => async () => {
    if (!supports(feature)) return refuses(feature);
    await fn();
  };

  describe(options.name ?? 'CrmProvider conformance', () => {
    beforeEach(async () => {
      run = randomUUID().slice(0, 8);
      provider = await makeProvider();
    });
    afterEach(async () => {
      if (provider && options.cleanup) await options.cleanup(provider);
    });

    describe('identity and capabilities', () => {
      it('has a lower-case name and answers supportsFeature with a boolean for every feature', async () => {
        assert.match(provider.name, /^[a-z][a-z0-9_-]*$/);
        for (const feature of CrmFeatures) assert.equal(typeof provider.supportsFeature(feature), 'boolean');
      });

      it('throws CrmUnsupportedFeatureError from the methods of unsupported features', async () => {
        for (const feature of CrmFeatures) if (!supports(feature)) await refuses(feature);
      });
    });

    registerProviderPrivacyConformance({
      describe,
      it,
      provider: () => provider,
      contact,
      ...(options.valueEchoingFailure ? { valueEchoingFailure: options.valueEchoingFailure } : {}),
    });

    describe('contacts', () => {
      it(
        'syncContact creates, then updates the same record, reporting created accordingly',
        onlyIf('contact_sync', async () => {
          const created = await provider.syncContact(contact('a'));
          assert.equal(created.success, true);
          assert.equal(created.entityType, 'contact');
          assert.equal(created.externalId, id('a'));
          assert.equal(created.created, true);
          assert.ok(created.crmId, 'a created contact has a CRM id');
          assert.ok(created.syncedAt instanceof Date);
          const updated = await provider.syncContact(contact('a', { title: 'Updated' }));
          assert.equal(updated.created, false);
          assert.equal(updated.crmId, created.crmId);
        }),
      );

      it(
        'getContact finds a contact by email (quotes included) and returns null for an unknown one',
        onlyIf('contact_sync', async () => {
          const tricky = `o'brien.${run}@example.com`;
          const synced = await provider.syncContact(contact('q', { email: tricky, lastName: "O'Brien" }));
          const found = await provider.getContact(tricky);
          assert.ok(found, 'contact found');
          assert.equal(found.id, synced.crmId);
          assert.equal(found.externalId, id('q'));
          assert.equal(found.email, tricky);
          assert.equal(found.lastName, "O'Brien");
          assert.equal(await provider.getContact(email('nobody')), null);
        }),
      );

      it(
        'readContacts (optional) reads contacts back by CRM id and by external id, null for unknown ones, in order',
        onlyIf('contact_sync', async () => {
          const read = provider.readContacts;
          if (typeof read !== 'function') return;
          const a = await provider.syncContact(contact('ra', { lastName: 'Read A' }));
          await provider.syncContact(contact('rb', { lastName: 'Read B' }));
          assert.ok(a.crmId);
          const found = await read.call(provider, [
            { externalId: id('rb'), email: email('rb') },
            { crmId: a.crmId, externalId: id('ra') },
            { externalId: id('nobody'), email: email('nobody') },
          ]);
          assert.equal(found.length, 3, 'one result per reference');
          assert.equal(found[0]?.lastName, 'Read B', 'read by external id (or email)');
          assert.equal(found[1]?.id, a.crmId, 'read by CRM id');
          assert.equal(found[1]?.lastName, 'Read A');
          assert.equal(found[2], null, 'an unknown contact reads as null');
        }),
      );

      it('abortOrphanedJobs (optional) resolves to the ids it aborted: none for an empty list', async () => {
        const abort = provider.abortOrphanedJobs;
        if (typeof abort !== 'function') return;
        assert.deepEqual(await abort.call(provider, []), []);
      });

      it(
        'rejects invalid input with CrmDataConversionError naming the field',
        onlyIf('contact_sync', async () => {
          await rejectsWith(
            provider.syncContact({ externalId: id('bad'), email: 'not an email' }),
            (error) => isCode('DATA_CONVERSION')(error) && JSON.stringify(error).includes('email'),
            'syncContact to reject an invalid email with CrmDataConversionError naming the field `email` (rule: validate input before any network call)',
          );
          await rejectsWith(
            provider.getContact('nope'),
            isCode('DATA_CONVERSION'),
            "getContact('nope') to reject a malformed email with CrmDataConversionError (rule: validate every argument with the model schemas before any network call; 'not found' is only for well-formed input)",
          );
        }),
      );

      it(
        'updateContact changes a contact by id; deleteContact removes it',
        onlyIf('contact_sync', async () => {
          const { crmId } = await provider.syncContact(contact('u'));
          assert.ok(crmId);
          const result = await provider.updateContact({ ...contact('u'), id: crmId, title: 'Chief' });
          assert.equal(result.success, true);
          assert.equal((await provider.getContact(email('u')))?.title, 'Chief');
          await provider.deleteContact(crmId);
          assert.equal(await provider.getContact(email('u')), null);
        }),
      );

      it(
        'an aborted signal stops the call with an AbortError',
        onlyIf('contact_sync', async () => {
          const controller = new AbortController();
          controller.abort(new Error('stop'));
          await rejectsWith(
            provider.syncContact(contact('x'), { signal: controller.signal }),
            isAbort,
            "syncContact with an already-aborted signal to reject with an error whose name is 'AbortError', whatever signal.reason is (rule: throw createAbortError(signal) / throwIfAborted(signal) from @markmail/crm; the built-in signal.throwIfAborted() throws the reason itself, which may be any error)",
          );
        }),
      );
    });

    describe('batches', () => {
      it(
        'bulkSyncContacts returns one result per input, in order, and one bad record never fails the batch',
        onlyIf('bulk_operations', async () => {
          const input = Array.from({ length: batchSize }, (_, i) => contact(`b${i}`));
          input[3] = { externalId: id('b3'), email: 'broken' };
          const progress: number[] = [];
          const result = await provider.bulkSyncContacts(input, { onProgress: (p) => progress.push(p.done) });
          assert.equal(result.total, batchSize);
          assert.equal(result.results.length, batchSize);
          assert.deepEqual(
            result.results.map((r) => r.externalId),
            input.map((c) => c.externalId),
            'bulkSyncContacts: results[i] must answer input[i] (rule: results come back in input order, whatever order the CRM answered in)',
          );
          assert.equal(
            result.failed,
            1,
            'bulkSyncContacts: one invalid record is one failed result (rule: a bad record never fails the batch)',
          );
          assert.equal(result.success, batchSize - 1);
          assert.equal(result.results[3]?.success, false);
          assert.ok(result.results[3]?.error?.code, 'a failure carries an error code');
          assert.ok(result.apiCalls >= 1);
          assert.ok(['rest', 'bulk'].includes(result.mode));
          assert.equal(progress.at(-1), batchSize);

          const again = await provider.bulkSyncContacts(
            (async function* () {
              yield* input.filter((_, i) => i !== 3);
            })(),
          );
          assert.equal(again.success, batchSize - 1);
          assert.ok(again.results.every((r) => r.created === false));
        }),
      );
    });

    describe('incremental pull', () => {
      it(
        'listContactChanges yields synced contacts, resumes from its cursor, and reports deletions',
        onlyIf('incremental_pull', async () => {
          const a = await provider.syncContact(contact('p1'));
          const b = await provider.syncContact(contact('p2'));
          let cursor: string | null = null;
          const seen = new Set<string>();
          for await (const batch of provider.listContactChanges(null)) {
            assert.equal(typeof batch.cursor, 'string');
            for (const c of batch.upserted) seen.add(c.externalId);
            cursor = batch.cursor;
          }
          assert.ok(seen.has(id('p1')) && seen.has(id('p2')), 'both contacts pulled');
          await provider.syncContact(contact('p1', { title: 'Moved' }));
          if (supports('contact_sync') && b.crmId) await provider.deleteContact(b.crmId);
          const upserted: string[] = [];
          const deleted: string[] = [];
          for await (const batch of provider.listContactChanges(cursor)) {
            upserted.push(...batch.upserted.map((c) => c.externalId));
            deleted.push(...batch.deleted);
          }
          assert.ok(upserted.includes(id('p1')), 'the updated contact is pulled again');
          assert.ok(!upserted.includes(id('p2')), 'an unchanged contact is not pulled again');
          assert.ok(b.crmId && deleted.includes(b.crmId), 'the deletion is reported by CRM id');
          assert.ok(a.crmId);
        }),
      );
    });

    describe('leads', () => {
      it(
        'createLead then getLead by email',
        onlyIf('lead_sync', async () => {
          const created = await provider.createLead({
            externalId: id('lead'),
            email: email('lead'),
            leadSource: 'Web',
          });
          assert.equal(created.success, true);
          assert.equal(created.entityType, 'lead');
          const lead = await provider.getLead(email('lead'));
          assert.ok(lead);
          assert.equal(lead.id, created.crmId);
          assert.equal(await provider.getLead(email('no-lead')), null);
        }),
      );

      if (leadConversion) {
        it(
          'convertLeadToContact returns the new contact id',
          onlyIf('lead_sync', async () => {
            const created = await provider.createLead({
              externalId: id('conv'),
              email: email('conv'),
              lastName: 'Convert',
              company: 'Acme',
              leadSource: 'Web',
            });
            assert.ok(created.crmId);
            const conversion = await provider.convertLeadToContact(created.crmId);
            assert.equal(conversion.leadId, created.crmId);
            assert.ok(conversion.contactId);
          }),
        );
      }
    });

    describe('campaigns, activity and lists', () => {
      it(
        'syncCampaign creates then updates by external id',
        onlyIf('campaign_sync', async () => {
          const created = await provider.syncCampaign({
            externalId: id('c'),
            name: 'Conformance',
            status: 'draft',
          });
          const updated = await provider.syncCampaign({
            externalId: id('c'),
            name: 'Conformance',
            status: 'sent',
          });
          assert.equal(created.created, true);
          assert.equal(updated.created, false);
          assert.equal(updated.crmId, created.crmId);
        }),
      );

      it(
        'logEmailActivity is idempotent on the activity externalId',
        onlyIf('campaign_sync', async () => {
          await provider.syncContact(contact('act'));
          const activity = {
            externalId: id('activity'),
            contactExternalId: id('act'),
            activityType: 'opened' as const,
            occurredAt: new Date('2026-01-02T03:04:05Z'),
          };
          const first = await provider.logEmailActivity(activity);
          const second = await provider.logEmailActivity(activity);
          assert.equal(first.success, true);
          assert.equal(second.success, true);
          assert.equal(second.created, false);
          assert.equal(second.crmId, first.crmId);
        }),
      );

      it(
        'syncListMembership adds missing members and removes absent ones',
        onlyIf('campaign_sync', async () => {
          for (const name of ['m1', 'm2', 'm3']) await provider.syncContact(contact(name));
          const list = { externalId: id('list'), name: 'Conformance list' };
          const first = await provider.syncListMembership({ ...list, memberIds: [id('m1'), id('m2')] });
          assert.equal(first.added, 2);
          assert.equal(first.removed, 0);
          const second = await provider.syncListMembership({ ...list, memberIds: [id('m2'), id('m3')] });
          assert.equal(second.listId, first.listId);
          assert.equal(second.added, 1);
          assert.equal(second.removed, 1);
          assert.equal(second.unchanged, 1);
        }),
      );
    });

    describe('custom fields', () => {
      it(
        'getCustomFields returns valid field descriptions; mapCustomFields refuses unknown fields',
        onlyIf('custom_fields', async () => {
          const fields = await provider.getCustomFields();
          assert.ok(fields.length > 0);
          for (const field of fields)
            assert.ok(CrmCustomFieldSchema.safeParse(field).success, `valid field ${field.name}`);
          await rejectsWith(
            provider.mapCustomFields([
              { hostField: 'x', crmField: `Definitely_Not_A_Field_${run}`, fieldType: 'text' },
            ]),
            isCode('DATA_CONVERSION'),
            'mapCustomFields to reject a mapping to a field the CRM does not have with CrmDataConversionError (rule: a bad mapping is bad input, not an API failure)',
          );
        }),
      );
    });
  });
}
