import { defineConfig } from 'tsup';

// One entry per public subpath; each subpath must load without the others' drivers.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'salesforce/index': 'src/salesforce/index.ts',
    'hubspot/index': 'src/hubspot/index.ts',
    'testing/index': 'src/testing/index.ts',
    'bin/emulator': 'src/bin/emulator.ts',
    'storage/sqlite': 'src/storage/sqlite.ts',
    'storage/postgres': 'src/storage/postgres.ts',
    'jobs/pg-boss/index': 'src/jobs/pg-boss/index.ts',
    'jobs/bullmq/index': 'src/jobs/bullmq/index.ts',
    'http/index': 'src/http/index.ts',
  },
  format: ['esm', 'cjs'],
  // `import.meta.url` in the CommonJS build (optional peers are resolved from this package's location).
  shims: true,
  dts: true,
  target: 'node22',
  platform: 'node',
  // No source maps: they would name src/ files the tarball does not ship. The output is not
  // minified, so stack traces into dist/ read as they are.
  sourcemap: false,
  // Keep `node:` on built-ins: `node:sqlite` exists only under that name, and tsup's default
  // rewrote it to the npm package 'sqlite' in both builds.
  removeNodeProtocol: false,
  clean: true,
  splitting: true,
  treeshake: true,
  // Drivers and SDKs stay external: hosts install them (peer or regular dependencies).
  external: [
    'jsforce',
    'pg',
    'better-sqlite3',
    'node:sqlite',
    '@electric-sql/pglite',
    'vitest',
    'pg-boss',
    'bullmq',
    'ioredis',
  ],
});
