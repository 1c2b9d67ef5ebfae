import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/index.ts', 'src/testing/**/conformance/*.ts'],
      reporter: ['text-summary', 'lcov'],
      // Kept just under what the suite measures; raise them as coverage grows, never lower silently.
      thresholds: { lines: 80, functions: 80, branches: 70, statements: 80 },
    },
  },
});
