import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every example must run on a fresh clone against the embedded emulator: run each one the way a
// reader does (`tsx examples/<name>.ts`), as a child process, and check what it prints.
const root = fileURLToPath(new URL('../../', import.meta.url));
// Generous: on a loaded 2-core machine tsx start-up and PGlite initialisation take tens of seconds.
const TIMEOUT_MS = 240_000;

// Without these the examples switch to a real org or a real database.
const REAL_TARGET_VARS = [
  'SF_INSTANCE_URL',
  'SF_ACCESS_TOKEN',
  'SF_CLIENT_ID',
  'SF_CLIENT_SECRET',
  'SF_LOGIN_URL',
  'SF_USERNAME',
  'SF_PRIVATE_KEY_FILE',
  'PG_URL',
  'DATABASE_URL',
  'CRM_KEY',
  'HUBSPOT_ACCESS_TOKEN',
];

// A Salesforce-shaped access token (`00D…!…`) or an emulator refresh token must never be printed.
const TOKEN_PATTERN = /00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{20,}/;

interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runExample(name: string, args: string[] = []): Promise<ExampleRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of REAL_TARGET_VARS) delete env[key];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `examples/${name}`, ...args],
      { cwd: root, env, timeout: TIMEOUT_MS, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectSuccess(run: ExampleRun): void {
  // On failure, show what the example printed: that is the bug report.
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-3000) }).toEqual({
    code: 0,
    stderr: '',
  });
  expect(run.stdout).not.toMatch(TOKEN_PATTERN);
  expect(run.stderr).not.toMatch(TOKEN_PATTERN);
}

/** The cell of a `console.table` row, e.g. `tableValue(out, 'created')`. */
function tableValue(output: string, label: string): string | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`│ ${escaped}\\s*│ ([^│]+?)\\s*│`).exec(output)?.[1];
}

// The examples spend most of their time starting tsx and the emulator: run them side by side.
describe.concurrent('examples run against the embedded emulator', { timeout: TIMEOUT_MS + 10_000 }, () => {
  it('quickstart.ts pushes, skips unchanged contacts and pulls a change back', async () => {
    const run = await runExample('quickstart.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('Started the Salesforce emulator at http://127.0.0.1:');
    expect(run.stdout).toMatch(/sub-4: DATA_CONVERSION \(email\)/);
    expect(run.stdout).toContain('Second push of the same contacts');
    expect(run.stdout).toContain('← sub-1: {"title":"Head of Research"}');
    expect(run.stdout).toMatch(/3 sync runs recorded/);
  });

  it('hubspot-quickstart.ts pushes in batches of 100, skips unchanged contacts, pulls and takes a webhook', async () => {
    const run = await runExample('hubspot-quickstart.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('Started the HubSpot emulator at http://127.0.0.1:');
    expect(tableValue(run.stdout, 'created')).toBe('250');
    expect(tableValue(run.stdout, 'apiCalls')).toBe('3');
    expect(run.stdout).toMatch(/sub-broken: DATA_CONVERSION \(email\)/);
    expect(run.stdout).toContain('← sub-7: {"title":"Head of Research"}');
    expect(run.stdout).toContain('Webhook delivery answered 200 for 1 event(s); host now has firstName=Ada');
  });

  it('auth-web-server-flow.ts connects an org headlessly and stores only ciphertext', async () => {
    const run = await runExample('auth-web-server-flow.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('code_challenge_method=S256');
    expect(run.stdout).toContain('Callback answered 302 → /settings/crm');
    expect(run.stdout).toContain('Replaying the same callback URL answers 400');
    expect(tableValue(run.stdout, 'credentials')).toMatch(
      /^'v1\.k1\.… \(\d+ chars of AES-256-GCM ciphertext\)'$/,
    );
    expect(run.stdout).toMatch(
      /Upserted contact 003\w{15} \(created: true\) after the session expired; refreshes: 1/,
    );
    expect(run.stdout).toContain('Stored ciphertext replaced after the refresh: true');
  });

  it('auth-device-and-jwt.ts logs in with the device flow and with a JWT', async () => {
    const run = await runExample('auth-device-and-jwt.ts');
    expectSuccess(run);
    expect(run.stdout).toMatch(/enter the code [A-Z0-9]{8}/);
    expect(run.stdout).toContain('[user] opened the verification page and approved: HTTP 200');
    expect(run.stdout).toContain('refresh token issued: true');
    expect(run.stdout).toMatch(/API call with the device-flow session: \d+ Contact fields described/);
    expect(run.stdout).toContain('refresh token issued: false');
    expect(run.stdout).toMatch(/Upserted contact 003\w{15} \(created: true\); new JWT logins: 1/);
  });

  it('token-manager.ts shares one refresh, adopts rotated tokens and revokes', async () => {
    const run = await runExample('token-manager.ts');
    expectSuccess(run);
    expect(tableValue(run.stdout, 'network refreshes')).toBe('1');
    expect(tableValue(run.stdout, 'token endpoint requests')).toBe('1');
    expect(tableValue(run.stdout, 'worker B network refreshes')).toBe('0');
    expect(tableValue(run.stdout, 'B now uses A’s new token')).toBe('true');
    expect(run.stdout).toContain('Key rotation: k2025 → k2026');
    expect(tableValue(run.stdout, 'reauthorization')).toBe("'revoked'");
    expect(run.stdout).toContain('A new worker fails fast: CrmAuthenticationError (providerCode revoked)');
  });

  it('storage-adapters.ts runs the same sync on memory, SQLite and PostgreSQL (PGlite)', async () => {
    const run = await runExample('storage-adapters.ts');
    expectSuccess(run);
    expect(run.stdout).toMatch(/SQLite file .*crm\.db: \d+ bytes, 1 integration\(s\) after reopening/);
    for (const adapter of ['memory', 'sqlite (file)', 'postgres (PGlite)']) {
      // adapter │ created │ unchanged 2nd push │ status rows │ sync logs │ cursor │ 2nd lease
      expect(run.stdout).toMatch(
        new RegExp(
          `'${adapter.replace(/[()]/g, '\\$&')}'\\s*│ 3\\s*│ 3\\s*│ 3\\s*│ 2\\s*│ 'cursor-42' │ 'refused'`,
        ),
      );
    }
  });

  it('bulk-sync.ts loads 5,000 contacts through Bulk API 2.0 with progress, then syncs incrementally', async () => {
    const run = await runExample('bulk-sync.ts');
    expectSuccess(run);
    expect(run.stdout).toMatch(/push \[#{30}\] 5000\/5000 processed, 5 failed/);
    expect(run.stdout).toMatch(/│ created\s+│ 4995\s+│/);
    expect(run.stdout).toContain('5 × REQUIRED_FIELD_MISSING');
    expect(run.stdout).toContain('Emulator: 5 ingest jobs, 4995 contacts stored');
    expect(tableValue(run.stdout, 'updated')).toBe('0'); // first table: the full load creates only
    expect(run.stdout).toMatch(/│ updated\s+│ 25\s+│/);
    expect(run.stdout).toMatch(/│ unchanged\s+│ 4970\s+│/);
    expect(run.stdout).toContain('5 records rejected last time were not re-sent');
  });

  it('initial-pull.ts pulls 15,000 contacts through a Bulk query job, then a small change set through REST', async () => {
    const run = await runExample('initial-pull.ts');
    expectSuccess(run);
    expect(run.stdout).toMatch(
      /Initial pull: 15000 created, 0 updated, 0 re-read and skipped; Bulk API 2\.0 query \(1 job\), [4-9] API calls/,
    );
    expect(run.stdout).toMatch(
      /Next pull: 0 created, 3 updated, \d+ re-read and skipped; REST query, \d API calls/,
    );
    expect(run.stdout).toContain(
      'Host table: 15000 contacts; host-0 is now {"email":"reader0@example.com","lastName":"Reader 0","title":"Editor"}',
    );
  });

  it('emulator-deploy-and-workflow.ts deploys a package, its workflow rule and approval process act, and it retrieves it back', async () => {
    const run = await runExample('emulator-deploy-and-workflow.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('Deploy Succeeded: 3 of 3 components');
    expect(run.stdout).toContain('Widgets: Sprocket (W-1)');
    // Only the "Acme…" account meets the rule's criteria.
    expect(run.stdout).toContain(
      'Follow-up tasks from the workflow rule: "Call the new account" on Acme Corp\n',
    );
    expect(run.stdout).toContain('After approval: Approved; Description is "approved"');
    expect(run.stdout).toContain(
      'Retrieved: objects/Widget__c.object, package.xml, workflows/Account.workflow',
    );
    expect(run.stdout).toContain('Widget__c has an external id field: true');
  });

  it('abort-and-verify.ts cancels an in-flight push, leaves its records uncertain, and verifies them on the next run', async () => {
    const run = await runExample('abort-and-verify.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('First push: 3 created');
    expect(run.stdout).toContain('Aborted run: stopReason=aborted, uncertain=3');
    expect(run.stdout).toContain('the request was cancelled, not abandoned');
    expect(run.stdout).toContain('Status rows now uncertain: 3 (not synced, not failed)');
    expect(run.stdout).toContain('Next run: verified=3, updated=0, uncertain=0');
    expect(run.stdout).toContain('Status rows synced: 3');
  });

  it('outbound-messages.ts delivers emulator outbound messages through node:http and Hono', async () => {
    const run = await runExample('outbound-messages.ts');
    expectSuccess(run);
    expect(run.stdout).toMatch(/host stored Contact 003\w{15}: ada@example\.com/);
    expect(run.stdout).toMatch(/host stored Lead 00Q\w{15}: grace@example\.com/);
    expect(run.stdout).toContain('Delivered: 2/2 notifications acknowledged');
  });

  it('change-data-capture.ts resumes from the stored replay id without missing or repeating events', async () => {
    const run = await runExample('change-data-capture.ts');
    expectSuccess(run);
    const events = [...run.stdout.matchAll(/^\s+#(\d+) /gm)].map((m) => Number(m[1]));
    expect(events).toEqual([1, 2, 3, 4]);
    expect(run.stdout).toContain('run 2 (resumes from the stored replay id)');
    expect(run.stdout).toContain("'Ada Lovelace (Analyst)'");
  });

  it('privacy.ts exports, forgets (CRM and SQLite file), suppresses a later push and prunes', async () => {
    const run = await runExample('privacy.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('Export from Salesforce → Contact: 1, Lead: 0, Task: 1, CampaignMember: 1');
    expect(run.stdout).toContain(
      'Forgotten in Salesforce: {"Task":1,"CampaignMember":1,"Contact":1,"Lead":0}',
    );
    expect(run.stdout).toMatch(/Audit entry: forget [0-9a-f]{12}… reason gdpr_erasure_request/);
    expect(run.stdout).toContain('Email in the SQLite file after erasure: false');
    expect(run.stdout).toContain('Push after erasure: 1 suppressed, 0 created');
    expect(run.stdout).toContain('Contacts in Salesforce: grace.privacy@example.com');
    expect(run.stdout).not.toContain('ada.privacy@example.com');
  });

  it('workers.ts runs schedules and coalesced webhook requests on two pg-boss workers (PGlite), one run per org at a time', async () => {
    const run = await runExample('workers.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('Using an embedded PostgreSQL (PGlite)');
    expect(run.stdout).toContain('max runs at once in one org: 1');
    expect(run.stdout).toContain('dead letters: 0');
    expect(run.stdout).toMatch(/'scheduled'/);
    // 30 webhook requests for 6 integrations coalesce: far fewer runs than requests.
    const runs = Number(/runs: (\d+)/.exec(run.stdout)?.[1]);
    expect(runs).toBeGreaterThanOrEqual(7);
    expect(runs).toBeLessThan(30);
  });

  it('host-server.ts serves the HTTP API and dashboard: connect, map, sync and grouped errors (--once)', async () => {
    const run = await runExample('host-server.ts', ['--once']);
    expectSuccess(run);
    expect(run.stdout).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/api\/crm\/ui/);
    expect(run.stdout).toContain('GET /ui → 200 text/html');
    expect(run.stdout).toContain('OAuth callback → 302 /api/crm/ui');
    expect(run.stdout).toContain('suggestion lastName → LastName');
    expect(run.stdout).toContain('PUT field-mappings → 200 (5 saved)');
    expect(run.stdout).toContain('POST /sync/contacts → 202 (running)');
    expect(run.stdout).toContain('Sync succeeded: 250 processed, 249 created, 1 failed');
    expect(run.stdout).toContain('REQUIRED_FIELD_MISSING: 1 record(s), e.g. sub-7');
  });

  it('http-hono.ts mounts the handler in Hono and syncs over HTTP', async () => {
    const run = await runExample('http-hono.ts');
    expectSuccess(run);
    expect(run.stdout).toContain('POST /integrations → 201, credentials in the answer: false');
    expect(run.stdout).toContain('GET /integrations without a user → 401');
    expect(run.stdout).toContain('POST /sync/campaigns → 202; then succeeded: 1 created');
    expect(run.stdout).toContain('POST /sync/contacts → 202; then succeeded: 2 created');
    expect(run.stdout).toContain('2 sync runs logged');
  });
});
