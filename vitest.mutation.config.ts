import base from './vitest.config.js';

// The unit tests that guard the mutated algorithms (see stryker.config.mjs): fast, no emulator or
// database, so each of the hundreds of mutant runs takes seconds. Spread, not `mergeConfig`, which
// would append these to the base `include` instead of replacing it.
export default {
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/content-hash.test.ts',
      'test/unit/sync-conflict.test.ts',
      'test/unit/sync-change-event.test.ts',
      'test/unit/sync-pull.test.ts',
      'test/unit/salesforce-operations.test.ts',
      'test/unit/redact.test.ts',
      'test/unit/salesforce-errors.test.ts',
      'test/unit/salesforce-provider.test.ts',
    ],
    coverage: { enabled: false },
  },
};
