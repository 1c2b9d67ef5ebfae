#!/usr/bin/env node
/**
 * `markmail-crm-emulator`: runs the Salesforce emulator standalone. `--help` lists the options.
 * Prints the instance URL, credentials and an `sf org login access-token` hint, then serves until
 * SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { assertSupportedNode } from '../internal/node-floor.js';
import { startSalesforceEmulator } from '../testing/salesforce-emulator/emulator.js';
import type { SalesforceEmulatorOptions } from '../testing/salesforce-emulator/options.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../testing/salesforce-emulator/versions.js';

const HELP = `Usage: markmail-crm-emulator [options]

Runs a local Salesforce emulator (REST, OAuth 2.0, Bulk API 2.0, SOAP login) for development and
tests. It holds its org in memory: everything is lost when it stops.

Options:
  --port N               TCP port to listen on (default: 0 = a free port, printed at start)
  --host HOST            interface to bind (default: 127.0.0.1; the emulator has no real security)
  --daily-api-limit N    DailyApiRequests allowance; spent → 403 REQUEST_LIMIT_EXCEEDED (default: 100000)
  --latency-ms N         delay added to every request, in milliseconds (default: 0)
  --client-id ID         connected-app consumer key (default: 3MVG9emulator.markmail.crm)
  --client-secret S      connected-app consumer secret (default: random)
  --json                 print the connection details as one JSON line instead of text
  -h, --help             show this help

API versions: v${MIN_API_VERSION}.0 to v${MAX_API_VERSION}.0 (GET /services/data lists them).

Example:
  markmail-crm-emulator --port 8080
  curl -H "Authorization: Bearer <access token printed at start>" \\
    "http://127.0.0.1:8080/services/data/v62.0/query?q=SELECT+Id,Email+FROM+Contact"

Stops on Ctrl-C (SIGINT) or SIGTERM; a second signal exits at once.
`;

/** How long a stop may wait for open requests before the process exits anyway. */
const STOP_GRACE_MS = 2_000;

function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new Error(`--${name} must be a whole number ≥ 0, got '${value}'`);
  return number;
}

async function main(): Promise<void> {
  assertSupportedNode();
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'daily-api-limit': { type: 'string' },
      'latency-ms': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const options: SalesforceEmulatorOptions = {
    port: integerOption('port', values.port) ?? 0,
    host: values.host,
  };
  const dailyApiLimit = integerOption('daily-api-limit', values['daily-api-limit']);
  const latencyMs = integerOption('latency-ms', values['latency-ms']);
  if (dailyApiLimit !== undefined) options.dailyApiLimit = dailyApiLimit;
  if (latencyMs !== undefined) options.latencyMs = latencyMs;
  if (values['client-id'] !== undefined) options.clientId = values['client-id'];
  if (values['client-secret'] !== undefined) options.clientSecret = values['client-secret'];
  const emulator = await startSalesforceEmulator(options);
  const info = {
    instanceUrl: emulator.instanceUrl,
    loginUrl: emulator.loginUrl,
    accessToken: emulator.accessToken,
    refreshToken: emulator.refreshToken,
    orgId: emulator.orgId,
    userId: emulator.userId,
    username: emulator.username,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    // Printing credentials is the point of this local dev tool: they only open the emulator itself.
    process.stdout.write(
      [
        `Salesforce emulator listening on ${emulator.instanceUrl}`,
        `  access token : ${emulator.accessToken}`,
        `  client id    : ${emulator.clientId}`,
        `  client secret: ${emulator.clientSecret}`,
        `  username     : ${emulator.username}`,
        '',
        `  curl -H "Authorization: Bearer ${emulator.accessToken}" ${emulator.instanceUrl}/services/data/v62.0/limits`,
        `  sf CLI: SF_ACCESS_TOKEN='${emulator.accessToken}' sf org login access-token --instance-url ${emulator.instanceUrl} --no-prompt`,
        '',
        'Ctrl-C stops it.',
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const shutdown = () => {
    // A second signal, or a stop stuck on an open request, must not leave the terminal hanging.
    if (stopping) process.exit(130);
    stopping = true;
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    void emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`markmail-crm-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
