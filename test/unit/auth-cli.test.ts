import { describe, expect, it } from 'vitest';
import { CrmAuthenticationError, CrmConfigurationError, CrmConnectionError } from '../../src/core/errors.js';
import { extractDeviceCode, SalesforceCliAuth } from '../../src/salesforce/auth/cli.js';
import {
  createSpawnCommandRunner,
  type SalesforceCommandRequest,
  type SalesforceCommandResult,
} from '../../src/salesforce/auth/command-runner.js';
import { recordingLogger } from './auth-helpers.js';

const ORG_ID = '00D5g000004SXyzEAG';
const TOKEN = `${ORG_ID}!AQ0AQFakeSessionTokenForCliTests.abcdefghijklmnopqrstuvwxyz0123456789`;
const REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view";

// Shapes recorded from @salesforce/cli 2.150.6 (values replaced).
const envelope = (result: unknown, warnings: string[] = []) =>
  `${JSON.stringify({ status: 0, result, warnings }, null, 2)}\n`;
const errorEnvelope = (name: string, message: string, exitCode = 1, commandName = 'OrgDisplayCommand') =>
  `${JSON.stringify(
    {
      name,
      message,
      exitCode,
      context: commandName,
      stack: `${name}: ${message}\n    at SfCommandError.from (file:///cli/sf-plugins-core/lib/SfCommandError.js:48:16)`,
      cause: 'undefined',
      warnings: [],
      code: name,
      status: exitCode,
      commandName,
    },
    null,
    2,
  )}\n`;

const displayResult = {
  id: ORG_ID,
  apiVersion: '66.0',
  accessToken: REDACTED,
  instanceUrl: 'https://acme.my.salesforce.com',
  username: 'admin@acme.com',
  clientId: 'PlatformCLI',
  connectedStatus: 'Connected',
  alias: 'acme',
};

type Step = (request: SalesforceCommandRequest) => Promise<SalesforceCommandResult> | SalesforceCommandResult;

/** A runner that replays recorded CLI output, one step per invocation, and records requests. */
function fakeRunner(...steps: Step[]) {
  const requests: SalesforceCommandRequest[] = [];
  const runner = async (request: SalesforceCommandRequest) => {
    requests.push(request);
    const step = steps.shift();
    if (!step) throw new Error(`unexpected command ${request.args.join(' ')}`);
    return step(request);
  };
  return { runner, requests };
}
const ok =
  (stdout: string): Step =>
  () => ({ exitCode: 0, stdout, stderr: '' });
const fail =
  (stdout: string, exitCode = 1): Step =>
  () => ({ exitCode, stdout, stderr: '' });

describe('SalesforceCliAuth.checkInstalled', () => {
  it('returns the CLI version and runs it without telemetry or update checks', async () => {
    const fake = fakeRunner(ok('@salesforce/cli/2.150.6 linux-x64 node-v22.23.3\n'));
    const cli = new SalesforceCliAuth({ runner: fake.runner, env: { SF_ORG_API_VERSION: '66.0' } });
    expect(await cli.checkInstalled()).toBe('2.150.6');
    const [request] = fake.requests;
    expect(request?.command).toBe('sf');
    expect(request?.args).toEqual(['--version']);
    expect(request?.env).toMatchObject({
      SF_DISABLE_TELEMETRY: 'true',
      SF_AUTOUPDATE_DISABLE: 'true',
      SF_ORG_API_VERSION: '66.0',
    });
  });

  it('rejects a missing, unrecognised or too old CLI with an install hint', async () => {
    const missing = new SalesforceCliAuth({
      runner: async () => {
        throw Object.assign(new Error('spawn sf ENOENT'), { code: 'ENOENT' });
      },
    });
    const error = (await missing.checkInstalled().catch((e: unknown) => e)) as CrmConfigurationError;
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(error.providerCode).toBe('CliNotFound');
    expect(error.message).toContain('npm install --global @salesforce/cli');

    const other = new SalesforceCliAuth({
      runner: fakeRunner(ok('sfdx-cli/7.209.6 linux-x64 node-v18\n')).runner,
    });
    await expect(other.checkInstalled()).rejects.toMatchObject({ providerCode: 'CliNotRecognised' });

    const old = new SalesforceCliAuth({
      minVersion: '2.100.0',
      runner: fakeRunner(ok('@salesforce/cli/2.99.12 darwin-arm64 node-v20.11.0\n')).runner,
    });
    await expect(old.checkInstalled()).rejects.toMatchObject({ providerCode: 'CliTooOld' });
    // Versions compare numerically, not as strings.
    const newer = new SalesforceCliAuth({
      minVersion: '2.99.0',
      runner: fakeRunner(ok('@salesforce/cli/2.100.0 linux-x64 node-v22.23.3\n')).runner,
    });
    expect(await newer.checkInstalled()).toBe('2.100.0');
  });
});

describe('SalesforceCliAuth.displayOrg', () => {
  it('reads the token with show-access-token first, then the redacted display', async () => {
    const fake = fakeRunner(
      ok(
        envelope({ accessToken: TOKEN }, [
          'The access token is a secret. Do not share it or commit it to source control.',
        ]),
      ),
      ok(envelope(displayResult, ["Secrets are now hidden from 'sf org display' command output."])),
    );
    const cli = new SalesforceCliAuth({ runner: fake.runner });
    await expect(cli.displayOrg('acme')).resolves.toEqual({
      accessToken: TOKEN,
      instanceUrl: 'https://acme.my.salesforce.com',
      orgId: ORG_ID,
      username: 'admin@acme.com',
      apiVersion: '66.0',
      alias: 'acme',
      clientId: 'PlatformCLI',
      connectedStatus: 'Connected',
    });
    expect(fake.requests.map((r) => r.args)).toEqual([
      ['org', 'auth', 'show-access-token', '--target-org', 'acme', '--json'],
      ['org', 'display', '--target-org', 'acme', '--json'],
    ]);
  });

  it('maps an unknown alias to CrmConfigurationError with the CLI error name', async () => {
    const fake = fakeRunner(
      fail(
        errorEnvelope(
          'NamedOrgNotFoundError',
          'Parsing --target-org \n\tNo authorization information found for nosuch.\nSee more help with --help',
          2,
          'OrgAuthShowAccessToken',
        ),
        2,
      ),
    );
    const error = (await new SalesforceCliAuth({ runner: fake.runner })
      .displayOrg('nosuch')
      .catch((e: unknown) => e)) as CrmConfigurationError;
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(error.providerCode).toBe('NamedOrgNotFoundError');
    expect(error.message).toContain('No authorization information found for nosuch');
    expect(error.message).not.toContain('\n');
  });

  it('maps auth failures to CrmAuthenticationError and redacts tokens the CLI echoes', async () => {
    const fake = fakeRunner(
      fail(
        errorEnvelope(
          'RefreshTokenAuthError',
          `Error authenticating with the refresh token due to: expired access/refresh token (session ${TOKEN})`,
        ),
      ),
    );
    const error = (await new SalesforceCliAuth({ runner: fake.runner })
      .displayOrg('acme')
      .catch((e: unknown) => e)) as CrmAuthenticationError;
    expect(error).toBeInstanceOf(CrmAuthenticationError);
    expect(error.providerCode).toBe('RefreshTokenAuthError');
    expect(JSON.stringify(error.toJSON())).not.toContain(TOKEN);
    expect(error.message).not.toContain(TOKEN);
  });

  it('falls back to an unredacted display on a CLI that predates show-access-token', async () => {
    const fake = fakeRunner(
      () => ({
        exitCode: 127,
        stdout: '',
        stderr: ' ›   Warning: org auth show-access-token is not a sf command.\n',
      }),
      ok(envelope({ ...displayResult, accessToken: TOKEN })),
    );
    await expect(new SalesforceCliAuth({ runner: fake.runner }).displayOrg('acme')).resolves.toMatchObject({
      accessToken: TOKEN,
    });
  });

  it('refuses to return a redacted token', async () => {
    const fake = fakeRunner(
      () => ({
        exitCode: 127,
        stdout: '',
        stderr: ' ›   Warning: org auth show-access-token is not a sf command.\n',
      }),
      ok(envelope(displayResult)),
    );
    await expect(new SalesforceCliAuth({ runner: fake.runner }).displayOrg('acme')).rejects.toMatchObject({
      name: 'CrmAuthenticationError',
      providerCode: 'NoAccessToken',
    });
  });
});

describe('SalesforceCliAuth.listOrgs', () => {
  it('merges the CLI groups, deduplicates by username and carries no tokens', async () => {
    const base = {
      accessToken: REDACTED,
      instanceApiVersion: '66.0',
      isDevHub: false,
      connectedStatus: 'Connected',
      lastUsed: '2026-11-25T10:00:00.000Z',
    };
    const fake = fakeRunner(
      ok(
        envelope({
          other: [
            {
              ...base,
              username: 'admin@acme.com',
              orgId: ORG_ID,
              instanceUrl: 'https://acme.my.salesforce.com',
              alias: 'acme',
              isDefaultUsername: true,
            },
          ],
          sandboxes: [
            {
              ...base,
              username: 'admin@acme.com.uat',
              orgId: '00D5g000009UATxEAG',
              instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com',
              isSandbox: true,
            },
          ],
          nonScratchOrgs: [
            {
              ...base,
              username: 'admin@acme.com',
              orgId: ORG_ID,
              instanceUrl: 'https://acme.my.salesforce.com',
              alias: 'acme',
            },
          ],
          devHubs: [],
          scratchOrgs: [],
        }),
      ),
    );
    const orgs = await new SalesforceCliAuth({ runner: fake.runner }).listOrgs();
    expect(orgs).toEqual([
      {
        username: 'admin@acme.com.uat',
        orgId: '00D5g000009UATxEAG',
        instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com',
        connectedStatus: 'Connected',
        isSandbox: true,
        isDevHub: false,
      },
      {
        username: 'admin@acme.com',
        orgId: ORG_ID,
        instanceUrl: 'https://acme.my.salesforce.com',
        alias: 'acme',
        connectedStatus: 'Connected',
        isDefaultUsername: true,
        isDevHub: false,
      },
    ]);
    expect(JSON.stringify(orgs)).not.toContain('REDACTED');
    expect(fake.requests[0]?.args).toEqual(['org', 'list', '--json']);
  });
});

describe('SalesforceCliAuth logins', () => {
  // The CLI reports instance URLs with a trailing slash (recorded with 2.150.6).
  const loginResult = {
    accessToken: REDACTED,
    instanceUrl: 'https://acme.my.salesforce.com/',
    loginUrl: 'https://login.salesforce.com',
    orgId: ORG_ID,
    username: 'admin@acme.com',
    clientId: 'PlatformCLI',
    isDevHub: false,
    instanceApiVersion: '66.0',
  };

  it('loginWeb passes alias and instance URL as argv and maps the result', async () => {
    const fake = fakeRunner(ok(envelope(loginResult)));
    const org = await new SalesforceCliAuth({ runner: fake.runner }).loginWeb({
      alias: 'acme',
      instanceUrl: 'https://acme.my.salesforce.com/',
    });
    expect(org).toEqual({
      username: 'admin@acme.com',
      orgId: ORG_ID,
      instanceUrl: 'https://acme.my.salesforce.com',
      alias: 'acme',
      isDevHub: false,
    });
    expect(fake.requests[0]?.args).toEqual([
      'org',
      'login',
      'web',
      '--alias',
      'acme',
      '--instance-url',
      'https://acme.my.salesforce.com',
      '--json',
    ]);
    expect(fake.requests[0]?.timeoutMs).toBe(600_000);
  });

  it('loginWeb maps a failed exchange to CrmAuthenticationError', async () => {
    const fake = fakeRunner(
      fail(
        errorEnvelope(
          'AuthCodeExchangeError',
          'Error authenticating with auth code due to: invalid_grant',
          1,
          'LoginWebCommand',
        ),
      ),
    );
    await expect(
      new SalesforceCliAuth({ runner: fake.runner }).loginWeb({ alias: 'acme' }),
    ).rejects.toMatchObject({
      name: 'CrmAuthenticationError',
      providerCode: 'AuthCodeExchangeError',
    });
  });

  it('loginAccessToken hands the token over in the environment, not the command line', async () => {
    const fake = fakeRunner(ok(envelope(loginResult)));
    await new SalesforceCliAuth({ runner: fake.runner }).loginAccessToken({
      alias: 'acme',
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: TOKEN,
    });
    const [request] = fake.requests;
    expect(request?.env.SF_ACCESS_TOKEN).toBe(TOKEN);
    expect(request?.args.join(' ')).not.toContain(TOKEN);
    expect(request?.args).toContain('--no-prompt');
  });

  it('loginDevice calls onCode as soon as the CLI prints the code, before the login finishes', async () => {
    const loginData = {
      device_code: 'M0RFOkRFVklDRS1DT0RF',
      interval: 5,
      user_code: 'WXYZ-1234',
      verification_uri: 'https://acme.my.salesforce.com/setup/connect',
    };
    const events: string[] = [];
    let announce: () => void = () => undefined;
    const announced = new Promise<void>((resolve) => {
      announce = resolve;
    });
    const printed = JSON.stringify(loginData, null, 2);
    const fake = fakeRunner(async (request) => {
      // The CLI prints the device data in pieces, then waits for approval.
      request.onStdout?.(printed.slice(0, 20));
      request.onStdout?.(`${printed.slice(20)}\n`);
      await announced;
      events.push('cli finished');
      const final = envelope({ ...loginResult, ...loginData });
      request.onStdout?.(final);
      return { exitCode: 0, stdout: `${printed}\n${final}`, stderr: '' };
    });
    const org = await new SalesforceCliAuth({ runner: fake.runner }).loginDevice({
      alias: 'acme',
      clientId: '3MVG9myOwnApp',
      onCode: (code) => {
        events.push(`code ${code.userCode} ${code.verificationUri}`);
        expect(code).not.toHaveProperty('deviceCode');
        announce();
      },
    });
    expect(events).toEqual(['code WXYZ-1234 https://acme.my.salesforce.com/setup/connect', 'cli finished']);
    expect(org.orgId).toBe(ORG_ID);
    expect(fake.requests[0]?.args).toEqual([
      'org',
      'login',
      'device',
      '--alias',
      'acme',
      '--client-id',
      '3MVG9myOwnApp',
      '--json',
    ]);
  });

  it('loginDevice explains what to use on a CLI without the command', async () => {
    const fake = fakeRunner(() => ({
      exitCode: 127,
      stdout: '',
      stderr:
        ' ›   Warning: org login device is not a sf command.\n ›   Error: Run sf help org for a list of available commands.\n',
    }));
    const error = (await new SalesforceCliAuth({ runner: fake.runner })
      .loginDevice({ alias: 'a', clientId: 'c', onCode: () => undefined })
      .catch((e: unknown) => e)) as CrmConfigurationError;
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(error.providerCode).toBe('CommandNotFound');
    expect(error.message).toContain('SalesforceOAuth.startDeviceFlow');
  });

  it('finds the device code in the human-readable output too', () => {
    expect(
      extractDeviceCode(
        '=== Action Required!\nEnter ABCD-EFGH user code in the verification URL https://login.salesforce.com/setup/connect\n',
      ),
    ).toEqual({ userCode: 'ABCD-EFGH', verificationUri: 'https://login.salesforce.com/setup/connect' });
    expect(extractDeviceCode('{"user_code": "X')).toBeNull();
  });

  it('maps runner timeouts to CrmConnectionError and passes aborts through', async () => {
    const timingOut = new SalesforceCliAuth({
      timeoutMs: 50,
      runner: async () => {
        throw Object.assign(new Error('Command timed out after 50 ms'), { name: 'TimeoutError' });
      },
    });
    await expect(timingOut.listOrgs()).rejects.toBeInstanceOf(CrmConnectionError);
    const controller = new AbortController();
    controller.abort();
    await expect(
      new SalesforceCliAuth({ runner: fakeRunner().runner }).listOrgs({ signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('logs commands without secrets', async () => {
    const logger = recordingLogger();
    const fake = fakeRunner(
      ok(envelope(loginResult)),
      ok(envelope({ accessToken: TOKEN })),
      ok(envelope(displayResult)),
    );
    const cli = new SalesforceCliAuth({ runner: fake.runner, logger });
    await cli.loginAccessToken({
      alias: 'acme',
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: TOKEN,
    });
    await cli.displayOrg('acme');
    expect(logger.lines.length).toBeGreaterThan(3);
    expect(logger.lines.join('\n')).not.toContain(TOKEN);
  });
});

describe('createSpawnCommandRunner (real child processes)', () => {
  const runner = createSpawnCommandRunner({ killGraceMs: 200 });
  const env = { PATH: process.env.PATH ?? '' };

  it('captures output and exit code, and passes arguments without a shell', async () => {
    const result = await runner({
      command: process.execPath,
      args: [
        '-e',
        'console.log(JSON.stringify(process.argv.slice(1))); process.exit(3)',
        '; echo injected',
        '$(id)',
      ],
      env,
    });
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual(['; echo injected', '$(id)']);
  });

  it('kills the child on timeout and on abort', async () => {
    const started = Date.now();
    await expect(
      runner({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], env, timeoutMs: 150 }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    const controller = new AbortController();
    const running = runner({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      env,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects with ENOENT for a missing command', async () => {
    await expect(runner({ command: 'sf-does-not-exist-here', args: [], env })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
