/**
 * Vitest config for the spec in examples/ (the repository's own vitest.config.ts collects only
 * test/**). It resolves the package's import names to src/, as tsconfig `paths` do for tsx.
 *
 *   npx vitest run --config examples/vitest.config.ts
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@markmail\/crm$/, replacement: src('index.ts') },
      { find: /^@markmail\/crm\/salesforce$/, replacement: src('salesforce/index.ts') },
      { find: /^@markmail\/crm\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@markmail\/crm\/storage\/sqlite$/, replacement: src('storage/sqlite.ts') },
      { find: /^@markmail\/crm\/storage\/postgres$/, replacement: src('storage/postgres.ts') },
    ],
  },
  test: {
    include: ['examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
