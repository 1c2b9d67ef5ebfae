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
      // Kept just under what the suite measures; raise them as coverage grows, never lower silently.
      thresholds: { lines: 80, functions: 80, branches: 70, statements: 80 },
    },
  },
});
