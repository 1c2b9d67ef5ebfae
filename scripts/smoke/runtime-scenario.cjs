// What a host does with the installed tarball, run once as ESM (`import`) and once as CommonJS
// (`require`) by check-package.sh: load every subpath named in package.json `exports` (and the
// public names listed in public-names.json), then push contacts to the emulator through the sync
// engine on every storage adapter: memory, SQLite (better-sqlite3 and node:sqlite) and
// PostgreSQL (PGlite), and start the emulator bin. Any failure exits non-zero.
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** @param {{ kind: 'esm' | 'cjs', projectDir: string, load: (specifier: string) => Promise<Record<string, unknown>> }} options */
exports.run = async function run({ kind, projectDir, load }) {
  const log = (line) => console.log(`${kind}: ${line}`);
  const pkg = JSON.parse(readFileSync(join(projectDir, 'node_modules/@markmail/crm/package.json'), 'utf8'));
  const expected = JSON.parse(readFileSync(join(__dirname, 'public-names.json'), 'utf8'));

  const modules = {};
  for (const key of Object.keys(pkg.exports)) {
    if (key === './package.json') continue;
    const specifier = key === '.' ? '@markmail/crm' : `@markmail/crm/${key.slice(2)}`;
    const mod = await load(specifier);
    const names = Object.keys(mod).filter((name) => name !== 'default' && name !== 'module.exports');
    assert.ok(names.length > 0, `${specifier} exports nothing`);
    const missing = (expected[specifier] ?? []).filter((name) => mod[name] === undefined);
    assert.deepEqual(missing, [], `${specifier} is missing public names`);
    modules[specifier] = mod;
    log(`${specifier} loads (${names.length} exports)`);
  }
  for (const specifier of Object.keys(expected)) {
    assert.ok(modules[specifier], `public-names.json lists ${specifier}, which package.json does not export`);
  }

  const { MemoryStorage, SyncEngine } = modules['@markmail/crm'];
  const { SalesforceProvider } = modules['@markmail/crm/salesforce'];
  const { startSalesforceEmulator } = modules['@markmail/crm/testing'];
  const { SqliteStorage } = modules['@markmail/crm/storage/sqlite'];
  const { PostgresStorage } = modules['@markmail/crm/storage/postgres'];
  const { PGlite } = await load('@electric-sql/pglite');

  const emulator = await startSalesforceEmulator();
  const pglite = await PGlite.create();
  const storages = {
    memory: () => new MemoryStorage(),
    'sqlite (better-sqlite3)': () => new SqliteStorage({ filename: ':memory:', driver: 'better-sqlite3' }),
    'sqlite (node:sqlite)': () => new SqliteStorage({ filename: ':memory:', driver: 'node:sqlite' }),
    'postgres (PGlite)': () => new PostgresStorage({ pool: pglite, schema: `smoke_${kind}` }),
  };
  try {
    const provider = new SalesforceProvider({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
    });
    for (const [label, makeStorage] of Object.entries(storages)) {
      emulator.reset();
      const storage = makeStorage();
      if (typeof storage.migrate === 'function') await storage.migrate();
      const integration = await storage.integrations.create({
        userId: 'smoke',
        provider: 'salesforce',
        orgId: emulator.orgId,
        instanceUrl: emulator.instanceUrl,
        credentials: 'ciphertext',
      });
      const engine = new SyncEngine({
        provider,
        storage,
        integrationId: integration.id,
        conflictPolicy: 'crm_wins',
      });
      const contacts = [
        { externalId: 'smoke-1', email: 'ada@example.com', lastName: 'Lovelace' },
        { externalId: 'smoke-2', email: 'grace@example.com', lastName: 'Hopper' },
        { externalId: 'smoke-3', email: 'not an email', lastName: 'Broken' },
      ];
      const report = await engine.pushContacts(contacts);
      assert.equal(report.created, 2, `${label}: created`);
      assert.equal(report.failed, 1, `${label}: failed`);
      assert.equal(emulator.records('Contact').length, 2, `${label}: contacts in the emulator`);
      const again = await engine.pushContacts(contacts.slice(0, 2));
      assert.equal(again.unchanged, 2, `${label}: second push unchanged`);
      assert.equal(again.apiCalls, 0, `${label}: second push API calls`);
      const logs = await storage.syncLogs.list(integration.id);
      assert.equal(logs.length, 2, `${label}: sync logs`);
      await storage.close();
      log(
        `engine push to the emulator on ${label} storage: created 2, failed 1, then 2 unchanged with 0 API calls`,
      );
    }
  } finally {
    await emulator.stop();
    await pglite.close();
  }

  await checkBin(join(projectDir, 'node_modules/.bin/markmail-crm-emulator'), log);
};

async function checkBin(bin, log) {
  const child = spawn(bin, ['--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    while (!output.includes('\n')) {
      const [chunk] = await Promise.race([
        once(child.stdout, 'data'),
        once(child, 'exit').then(([code]) => Promise.reject(new Error(`bin exited with ${code}`))),
      ]);
      output += chunk;
    }
    const info = JSON.parse(output);
    assert.match(info.instanceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${info.instanceUrl}/services/data/v62.0/limits`, {
      headers: { Authorization: `Bearer ${info.accessToken}` },
    });
    assert.equal(response.status, 200, 'bin: GET /limits');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, 'bin: exit code after SIGTERM');
  log('markmail-crm-emulator bin serves on a free port and stops on SIGTERM');
}
