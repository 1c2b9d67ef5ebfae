import { defineConfig } from 'tsup';

// One entry per public subpath; each subpath must load without the others' drivers.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'salesforce/index': 'src/salesforce/index.ts',
    'testing/index': 'src/testing/index.ts',
    'bin/emulator': 'src/bin/emulator.ts',
    'storage/sqlite': 'src/storage/sqlite.ts',
    'storage/postgres': 'src/storage/postgres.ts',
    'http/index': 'src/http/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  // Drivers and SDKs stay external: hosts install them (peer or regular dependencies).
  external: ['jsforce', 'pg', 'better-sqlite3', 'node:sqlite', '@electric-sql/pglite', 'vitest'],
});
