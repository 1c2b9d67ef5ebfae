// Mutation testing of the core algorithms (`npm run mutation`): a habit, not a CI gate. Each
// mutant (a flipped comparison, a dropped sort, an emptied branch…) must make a unit test fail.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'src/sync/content-hash.ts',
    'src/sync/conflict.ts',
    'src/sync/contact-merge.ts',
    'src/salesforce/resources/contact-changes.ts',
    'src/security/redact.ts',
    'src/salesforce/retry.ts',
  ],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 20_000,
  tempDirName: '.tmp/stryker',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: '.tmp/mutation/mutation.json' },
  thresholds: { high: 90, low: 75, break: null },
};
