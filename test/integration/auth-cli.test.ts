/**
 * The real Salesforce CLI against the emulator. Runs only when SF_CLI_BIN points at an `sf`
 * binary, e.g.:
 *
 *   npm install --prefix /work/sfcli @salesforce/cli
 *   SF_CLI_BIN=/work/sfcli/node_modules/.bin/sf npx vitest run test/integration/auth-cli.test.ts
 *
 * The CLI gets a throw-away HOME, so the developer's own org logins are never read or changed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/core/errors.js';
import type { CrmLogger } from '../../src/core/logger.js';
import { SalesforceCliAuth } from '../../src/salesforce/auth/cli.js';
import {
  createSpawnCommandRunner,
  type SalesforceCommandRequest,
} from '../../src/salesforce/auth/command-runner.js';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

const cliBin = process.env.SF_CLI_BIN;

if (cliBin) {
  describe('SalesforceCliAuth with the real sf CLI against the emulator', () => {
    let sf: SalesforceEmulator;
    let home: string;
    let cli: SalesforceCliAuth;
    const requests: SalesforceCommandRequest[] = [];
    const lines: string[] = [];
    const logger: CrmLogger = {
      debug: (m, d) => lines.push(`${m} ${JSON.stringify(d ?? {})}`),
      info: (m, d) => lines.push(`${m} ${JSON.stringify(d ?? {})}`),
      warn: (m, d) => lines.push(`${m} ${JSON.stringify(d ?? {})}`),
      error: (m, d) => lines.push(`${m} ${JSON.stringify(d ?? {})}`),
    };

    beforeAll(async () => {
      sf = await startSalesforceEmulator();
      home = mkdtempSync(join(tmpdir(), 'markmail-sf-cli-'));
      const spawnRunner = createSpawnCommandRunner();
      cli = new SalesforceCliAuth({
        command: cliBin,
        env: { HOME: home, USERPROFILE: home, SF_USE_GENERIC_UNIX_KEYCHAIN: 'true' },
        logger,
        runner: (request) => {
          requests.push(request);
          return spawnRunner(request);
        },
      });
    });

    afterAll(async () => {
      await sf?.stop();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    it('checks the installed version', async () => {
      expect(await cli.checkInstalled()).toMatch(/^2\.\d+\.\d+$/);
    }, 60_000);

    it('stores the emulator session, then displays and lists the org', async () => {
      const org = await cli.loginAccessToken({
        alias: 'emu',
        instanceUrl: sf.instanceUrl,
        accessToken: sf.accessToken,
      });
      expect(org).toMatchObject({
        alias: 'emu',
        orgId: sf.orgId,
        username: sf.username,
        instanceUrl: sf.instanceUrl,
      });

      const display = await cli.displayOrg('emu');
      expect(display).toMatchObject({
        accessToken: sf.accessToken,
        instanceUrl: sf.instanceUrl,
        orgId: sf.orgId,
        username: sf.username,
        alias: 'emu',
      });
      expect(display.apiVersion).toMatch(/^\d+\.0$/);

      const orgs = await cli.listOrgs();
      expect(orgs).toContainEqual(
        expect.objectContaining({ alias: 'emu', orgId: sf.orgId, instanceUrl: sf.instanceUrl }),
      );
      expect(JSON.stringify(orgs)).not.toContain(sf.accessToken);
    }, 120_000);

    it('maps an unknown alias to CrmConfigurationError', async () => {
      const error = await cli.displayOrg('no-such-alias').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmConfigurationError);
      expect((error as CrmConfigurationError).providerCode).toBe('NamedOrgNotFoundError');
    }, 60_000);

    it('device login: explains the removal, or completes against the emulator on CLIs that still have it', async () => {
      const result = await cli
        .loginDevice({
          alias: 'emu-device',
          clientId: sf.clientId,
          instanceUrl: sf.instanceUrl,
          onCode: (code) => sf.oauth.approveDevice(code.userCode),
        })
        .catch((e: unknown) => e);
      if (result instanceof CrmConfigurationError) {
        expect(result.providerCode).toBe('CommandNotFound');
        expect(result.message).toContain('SalesforceOAuth.startDeviceFlow');
      } else {
        expect(result).toMatchObject({ orgId: sf.orgId });
      }
    }, 120_000);

    it('never put the token on a command line or in a log line', () => {
      expect(requests.length).toBeGreaterThan(4);
      for (const request of requests) expect(request.args.join(' ')).not.toContain(sf.accessToken);
      expect(lines.length).toBeGreaterThan(4);
      expect(lines.join('\n')).not.toContain(sf.accessToken);
    });
  });
} else {
  describe('SalesforceCliAuth without SF_CLI_BIN', () => {
    it('reports a CLI that cannot be started as CrmConfigurationError with an install hint (real spawn)', async () => {
      const cli = new SalesforceCliAuth({ command: join(tmpdir(), 'definitely-not-here', 'sf') });
      const error = await cli.checkInstalled().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmConfigurationError);
      expect((error as CrmConfigurationError).providerCode).toBe('CliNotFound');
      expect((error as CrmConfigurationError).message).toContain('@salesforce/cli');
    });
  });
}
