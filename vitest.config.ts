import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The package's public import names resolve to src/, as tsconfig `paths` do for tsx, so the
    // spec in examples/ is written exactly as a host app would write it.
    alias: [
      { find: /^@markmail\/crm$/, replacement: src('index.ts') },
      { find: /^@markmail\/crm\/salesforce$/, replacement: src('salesforce/index.ts') },
      { find: /^@markmail\/crm\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@markmail\/crm\/storage\/sqlite$/, replacement: src('storage/sqlite.ts') },
      { find: /^@markmail\/crm\/storage\/postgres$/, replacement: src('storage/postgres.ts') },
      { find: /^@markmail\/crm\/http$/, replacement: src('http/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/index.ts', 'src/testing/**/conformance/*.ts'],
      reporter: ['text-summary', 'lcov'],
      // Just under what the suite measured (2026-11-26: lines 92%, functions 92%, branches 79%,
      // statements 90%); raise them as coverage grows, never lower them silently.
      thresholds: { lines: 90, functions: 90, branches: 76, statements: 88 },
    },
  },
});
