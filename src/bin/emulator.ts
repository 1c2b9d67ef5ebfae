#!/usr/bin/env node
/**
 * `markmail-crm-emulator`: runs the Salesforce emulator standalone.
 *
 * Usage: `markmail-crm-emulator [--port 8080] [--host 127.0.0.1] [--daily-api-limit N] [--latency-ms N]
 * [--client-id ID] [--client-secret SECRET] [--json]`. Prints the instance URL, credentials and an
 * `sf org login access-token` hint, then serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startSalesforceEmulator } from '../testing/salesforce-emulator/emulator.js';
import type { SalesforceEmulatorOptions } from '../testing/salesforce-emulator/options.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
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
    process.stdout.write(
      'Usage: markmail-crm-emulator [--port 8080] [--host 127.0.0.1] [--daily-api-limit N] [--latency-ms N] [--client-id ID] [--client-secret S] [--json]\n',
    );
    return;
  }
  const options: SalesforceEmulatorOptions = { port: Number(values.port), host: values.host };
  if (values['daily-api-limit'] !== undefined) options.dailyApiLimit = Number(values['daily-api-limit']);
  if (values['latency-ms'] !== undefined) options.latencyMs = Number(values['latency-ms']);
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
        `  sf CLI: SF_ACCESS_TOKEN='${emulator.accessToken}' sf org login access-token --instance-url ${emulator.instanceUrl} --no-prompt`,
        '',
      ].join('\n'),
    );
  }
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`markmail-crm-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
