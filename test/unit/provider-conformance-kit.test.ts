import * as vitest from 'vitest';
import { FakeCrmProvider, runProviderConformance } from '../../src/testing/index.js';

const { describe, expect, it } = vitest;

// The package's own fake must pass the kit it ships: it is what hosts and provider authors copy.
runProviderConformance(() => new FakeCrmProvider(), { runner: vitest, name: 'FakeCrmProvider conformance' });

/** Registers the kit on a recording runner, so its tests can be run by hand with a chosen context. */
function recordKit(makeProvider: () => FakeCrmProvider) {
  const tests: Array<{ name: string; fn: (context?: unknown) => Promise<void> }> = [];
  const before: Array<() => Promise<void>> = [];
  const path: string[] = [];
  runProviderConformance(makeProvider, {
    runner: {
      describe: (name, fn) => {
        path.push(name);
        fn();
        path.pop();
      },
      it: (name, fn) => tests.push({ name: [...path, name].join(' > '), fn }),
      beforeEach: (fn) => before.push(fn as () => Promise<void>),
      afterEach: () => undefined,
    },
  });
  return {
    tests,
    async run(test: { fn: (context?: unknown) => Promise<void> }, context?: unknown) {
      for (const hook of before) await hook();
      await test.fn(context);
    },
  };
}

describe('runProviderConformance reporting', () => {
  it('checks the refusal in the groups of unsupported features: the method must throw CrmUnsupportedFeatureError', async () => {
    const kit = recordKit(() => new FakeCrmProvider({ features: ['contact_sync'] }));
    const bulk = kit.tests.find((t) => t.name.includes('bulkSyncContacts returns one result per input'));
    if (!bulk) throw new Error('the kit has no bulkSyncContacts test');
    await kit.run(bulk);

    // A provider that denies bulk_operations yet quietly accepts the call breaks the rule.
    class QuietProvider extends FakeCrmProvider {
      override async bulkSyncContacts() {
        return { total: 0, success: 0, failed: 0, results: [], apiCalls: 0, mode: 'rest' as const };
      }
    }
    const quiet = recordKit(() => new QuietProvider({ features: ['contact_sync'] }));
    const quietBulk = quiet.tests.find((t) =>
      t.name.includes('bulkSyncContacts returns one result per input'),
    );
    if (!quietBulk) throw new Error('the kit has no bulkSyncContacts test');
    await expect(quiet.run(quietBulk)).rejects.toThrow(/'bulk_operations'.*CrmUnsupportedFeatureError/);
  });

  it('names the method and the rule when a provider breaks one (getContact on malformed input)', async () => {
    class LenientProvider extends FakeCrmProvider {
      override async getContact() {
        return null; // treats malformed input as "not found": the rule says it is bad input
      }
    }
    const kit = recordKit(() => new LenientProvider());
    const test = kit.tests.find((t) => t.name.includes('rejects invalid input'));
    const error = await kit.run(test as (typeof kit.tests)[number]).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(
      /getContact\('nope'\) to reject a malformed email with CrmDataConversionError \(rule: validate every argument/,
    );
  });

  it('names the abort rule when a provider throws signal.reason instead of an AbortError', async () => {
    class ReasonThrowingProvider extends FakeCrmProvider {
      override async syncContact(...args: Parameters<FakeCrmProvider['syncContact']>) {
        args[1]?.signal?.throwIfAborted(); // throws the custom reason, not an AbortError
        return super.syncContact(...args);
      }
    }
    const kit = recordKit(() => new ReasonThrowingProvider());
    const test = kit.tests.find((t) => t.name.includes('aborted signal'));
    const error = await kit.run(test as (typeof kit.tests)[number]).catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain("error whose name is 'AbortError'");
    expect(String((error as Error).message)).toContain('got Error: stop');
  });
});
