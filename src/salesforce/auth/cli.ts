import {
  CrmAuthenticationError,
  CrmConfigurationError,
  CrmConnectionError,
  createAbortError,
  throwIfAborted,
} from '../../core/errors.js';
import { type CrmLogger, createRedactingLogger } from '../../core/logger.js';
import { assertKnownOptions } from '../../internal/options.js';
import { redactText } from '../../security/redact.js';
import {
  createSpawnCommandRunner,
  type SalesforceCommandResult,
  type SalesforceCommandRunner,
} from './command-runner.js';
import { normaliseSalesforceUrl } from './login-urls.js';

/** Options of {@link SalesforceCliAuth}. */
export interface SalesforceCliAuthOptions {
  /** The CLI executable (name on `PATH` or absolute path). @default 'sf' */
  command?: string;
  /**
   * Environment for the CLI, merged over `process.env` (a value of `undefined` removes a variable).
   * Telemetry, auto-update and colours are switched off unless set here.
   */
  env?: Record<string, string | undefined>;
  /** Runs the CLI. @default spawn without a shell ({@link createSpawnCommandRunner}) */
  runner?: SalesforceCommandRunner;
  /** Timeout of non-interactive commands in milliseconds. @default 120000 */
  timeoutMs?: number;
  /** Timeout of interactive logins (web, device) in milliseconds. @default 600000 */
  loginTimeoutMs?: number;
  /** Oldest accepted `@salesforce/cli` version. @default '2.0.0' */
  minVersion?: string;
  /** Structured logger; lines are redacted. @default silent */
  logger?: CrmLogger;
}

const OPTION_KEYS = [
  'command',
  'env',
  'runner',
  'timeoutMs',
  'loginTimeoutMs',
  'minVersion',
  'logger',
] as const;

/** An org the CLI knows, as reported by `sf org list` or a login (no tokens). */
export interface SalesforceCliOrg {
  username: string;
  orgId: string;
  instanceUrl: string;
  alias?: string;
  /** `Connected`, `RefreshTokenAuthError`, `Unknown`, … as the CLI reports it. */
  connectedStatus?: string;
  isDefaultUsername?: boolean;
  isDefaultDevHubUsername?: boolean;
  isSandbox?: boolean;
  isScratch?: boolean;
  isDevHub?: boolean;
}

/** What {@link SalesforceCliAuth.displayOrg} resolves to. */
export interface SalesforceCliOrgDisplay {
  /** Session id, read with `sf org auth show-access-token` (the display output is redacted). Secret. */
  accessToken: string;
  instanceUrl: string;
  orgId: string;
  username: string;
  apiVersion: string;
  alias?: string;
  clientId?: string;
  connectedStatus?: string;
}

/** The device code as the CLI printed it; show both values to the user. */
export interface SalesforceCliDeviceCode {
  userCode: string;
  verificationUri: string;
  /** Seconds between the CLI's polls, when printed. */
  interval?: number;
}

/** Options shared by every CLI call. */
export interface SalesforceCliCallOptions {
  /** Kills the CLI process when it fires. */
  signal?: AbortSignal;
}

const INSTALL_HINT =
  'Install the Salesforce CLI with `npm install --global @salesforce/cli` (https://developer.salesforce.com/tools/salesforcecli) or pass `command` with its path.';
const DEVICE_HINT =
  'Device login through the CLI is deprecated and needs your own connected app; use SalesforceOAuth.startDeviceFlow()/pollDeviceFlow() instead.';

/** CLI error names that mean "set up differently", not "credentials refused". */
const CONFIGURATION_ERROR_NAMES = new Set([
  'NamedOrgNotFoundError',
  'NamedOrgNotFound',
  'NoOrgFound',
  'NoDefaultEnvError',
  'NoUsernameFoundError',
  'NoTargetOrgError',
  'NoAuthInfoFound',
  'InvalidProjectWorkspaceError',
  'NonExistentFlagsError',
  'FlagInvalidOptionError',
  'RequiredFlagError',
  'CommandNotFound',
  'InvalidInstanceUrl',
  'InvalidUrlError',
  'AliasNotFoundError',
]);

const REDACTED_TOKEN = /^\[REDACTED\]|REDACTED/;

/**
 * Authentication through the official Salesforce CLI (`sf`, v2): the CLI stores the credentials
 * (in its keychain-encrypted auth files) and this class reads what a host needs from it.
 *
 * - Every command runs with `--json`; CLI errors map to `CrmAuthenticationError` (credentials
 *   refused, expired, revoked) or `CrmConfigurationError` (unknown alias, CLI missing or too old),
 *   with the CLI's error name as `providerCode`.
 * - Since the 2026 CLI security update `sf org display --json` redacts the access token, so
 *   {@link displayOrg} reads it with `sf org auth show-access-token --json`.
 * - Commands run without a shell through an injectable runner; timeouts and `signal` kill the
 *   child process.
 *
 * @example
 * const cli = new SalesforceCliAuth();
 * await cli.checkInstalled();
 * await cli.loginWeb({ alias: 'acme', instanceUrl: 'https://acme.my.salesforce.com' });
 * const { accessToken, instanceUrl, apiVersion } = await cli.displayOrg('acme');
 */
export class SalesforceCliAuth {
  readonly #command: string;
  readonly #env: Record<string, string | undefined>;
  readonly #runner: SalesforceCommandRunner;
  readonly #timeoutMs: number;
  readonly #loginTimeoutMs: number;
  readonly #minVersion: string;
  readonly #logger: CrmLogger;

  /** @throws CrmConfigurationError for unknown options. */
  constructor(options: SalesforceCliAuthOptions = {}) {
    assertKnownOptions('SalesforceCliAuth', options, OPTION_KEYS, { provider: 'salesforce' });
    this.#command = options.command ?? 'sf';
    this.#env = options.env ?? {};
    this.#runner = options.runner ?? createSpawnCommandRunner();
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#loginTimeoutMs = options.loginTimeoutMs ?? 600_000;
    this.#minVersion = options.minVersion ?? '2.0.0';
    this.#logger = createRedactingLogger(options.logger);
  }

  /**
   * Check that the CLI runs and is recent enough.
   *
   * @returns the version, e.g. `2.150.6`.
   * @throws CrmConfigurationError with an install hint when the CLI is missing, unrecognised or
   *   older than `minVersion`.
   */
  async checkInstalled(options: SalesforceCliCallOptions = {}): Promise<string> {
    const result = await this.#run(['--version'], { ...options, timeoutMs: this.#timeoutMs });
    const match = /@salesforce\/cli\/(\d+\.\d+\.\d+)/.exec(result.stdout);
    if (result.exitCode !== 0 || !match?.[1]) {
      throw new CrmConfigurationError(
        `\`${this.#command} --version\` did not report a Salesforce CLI. ${INSTALL_HINT}`,
        {
          provider: 'salesforce',
          providerCode: 'CliNotRecognised',
          details: { exitCode: result.exitCode },
        },
      );
    }
    const version = match[1];
    if (compareVersions(version, this.#minVersion) < 0) {
      throw new CrmConfigurationError(
        `Salesforce CLI ${version} is older than the required ${this.#minVersion}. Update it with \`sf update\` or \`npm install --global @salesforce/cli@latest\`.`,
        {
          provider: 'salesforce',
          providerCode: 'CliTooOld',
          details: { version, minVersion: this.#minVersion },
        },
      );
    }
    return version;
  }

  /**
   * `sf org login web`: opens a browser for the user to log in; the CLI listens on
   * `localhost:1717` for the callback, so this only works on the user's own machine.
   *
   * @throws CrmAuthenticationError when the login fails or is denied.
   */
  async loginWeb(
    options: {
      alias: string;
      instanceUrl?: string;
      clientId?: string;
      setDefault?: boolean;
      browser?: 'chrome' | 'edge' | 'firefox';
    } & SalesforceCliCallOptions,
  ): Promise<SalesforceCliOrg> {
    const args = ['org', 'login', 'web', '--alias', options.alias];
    if (options.instanceUrl)
      args.push('--instance-url', normaliseSalesforceUrl(options.instanceUrl, 'instanceUrl'));
    if (options.clientId) args.push('--client-id', options.clientId);
    if (options.browser) args.push('--browser', options.browser);
    if (options.setDefault) args.push('--set-default');
    const result = await this.#json(args, { ...options, timeoutMs: this.#loginTimeoutMs });
    return toOrg(result, options.alias);
  }

  /**
   * `sf org login device` (deprecated and hidden in the CLI, removed from current releases, and
   * refused for the CLI's default connected app since 2025-08-28): needs your own connected app
   * with device flow enabled (`clientId`). `onCode` is called as soon as the CLI prints the user
   * code and verification URL. Prefer `SalesforceOAuth.startDeviceFlow()`, which needs no CLI.
   *
   * @throws CrmConfigurationError when the installed CLI no longer has the command.
   * @throws CrmAuthenticationError when the user denies or the code expires.
   */
  async loginDevice(
    options: {
      alias: string;
      clientId: string;
      instanceUrl?: string;
      setDefault?: boolean;
      onCode: (code: SalesforceCliDeviceCode) => void | Promise<void>;
    } & SalesforceCliCallOptions,
  ): Promise<SalesforceCliOrg> {
    if (!options.clientId) {
      throw new CrmConfigurationError(`loginDevice needs clientId (your own connected app). ${DEVICE_HINT}`, {
        provider: 'salesforce',
        fields: ['clientId'],
      });
    }
    const args = ['org', 'login', 'device', '--alias', options.alias, '--client-id', options.clientId];
    if (options.instanceUrl)
      args.push('--instance-url', normaliseSalesforceUrl(options.instanceUrl, 'instanceUrl'));
    if (options.setDefault) args.push('--set-default');
    // Our own controller so a failing onCode also stops the CLI.
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    let buffer = '';
    let announced = false;
    let callbackError: unknown;
    const onStdout = (chunk: string): void => {
      if (announced) return;
      buffer += chunk;
      const code = extractDeviceCode(buffer);
      if (!code) return;
      announced = true;
      buffer = '';
      Promise.resolve()
        .then(() => options.onCode(code))
        .catch((error: unknown) => {
          callbackError = error;
          controller.abort(error);
        });
    };
    try {
      const result = await this.#json(
        args,
        { signal, timeoutMs: this.#loginTimeoutMs, onStdout },
        DEVICE_HINT,
      );
      return toOrg(result, options.alias);
    } catch (error) {
      if (callbackError !== undefined) throw callbackError;
      throw error;
    }
  }

  /**
   * `sf org login access-token`: store an existing session with the CLI (non-interactive). The
   * token goes through the `SF_ACCESS_TOKEN` environment variable, never the command line.
   */
  async loginAccessToken(
    options: {
      alias: string;
      instanceUrl: string;
      accessToken: string;
      setDefault?: boolean;
    } & SalesforceCliCallOptions,
  ): Promise<SalesforceCliOrg> {
    const args = [
      'org',
      'login',
      'access-token',
      '--instance-url',
      normaliseSalesforceUrl(options.instanceUrl, 'instanceUrl'),
      '--alias',
      options.alias,
      '--no-prompt',
    ];
    if (options.setDefault) args.push('--set-default');
    const result = await this.#json(args, {
      ...options,
      timeoutMs: this.#timeoutMs,
      env: { SF_ACCESS_TOKEN: options.accessToken },
      secrets: [options.accessToken],
    });
    return toOrg(result, options.alias);
  }

  /**
   * Session details of an org the CLI knows. Runs `sf org auth show-access-token` first (it
   * refreshes the session if needed), then `sf org display`; sequentially, so the CLI never
   * refreshes one refresh token twice in parallel.
   *
   * @throws CrmConfigurationError for an unknown alias/username; CrmAuthenticationError when the
   *   CLI cannot produce a valid session.
   */
  async displayOrg(alias: string, options: SalesforceCliCallOptions = {}): Promise<SalesforceCliOrgDisplay> {
    let accessToken: string | undefined;
    let tokenError: unknown;
    try {
      const token = await this.#json(['org', 'auth', 'show-access-token', '--target-org', alias], {
        ...options,
        timeoutMs: this.#timeoutMs,
      });
      accessToken = typeof token.accessToken === 'string' ? token.accessToken : undefined;
    } catch (error) {
      // CLIs older than the May 2026 update lack the command but do not redact `org display`.
      if (!(error instanceof CrmConfigurationError && error.providerCode === 'CommandNotFound')) throw error;
      tokenError = error;
    }
    const display = await this.#json(['org', 'display', '--target-org', alias], {
      ...options,
      timeoutMs: this.#timeoutMs,
    });
    if (
      !accessToken &&
      typeof display.accessToken === 'string' &&
      !REDACTED_TOKEN.test(display.accessToken)
    ) {
      accessToken = display.accessToken;
    }
    const orgId = str(display.id) ?? str(display.orgId);
    const instanceUrl = str(display.instanceUrl);
    const username = str(display.username);
    if (!accessToken || !orgId || !instanceUrl || !username) {
      throw new CrmAuthenticationError(`The Salesforce CLI returned no usable session for ${alias}`, {
        provider: 'salesforce',
        providerCode: accessToken ? 'IncompleteOrgDisplay' : 'NoAccessToken',
        cause: tokenError,
      });
    }
    const out: SalesforceCliOrgDisplay = {
      accessToken,
      instanceUrl: instanceUrl.replace(/\/+$/, ''),
      orgId,
      username,
      apiVersion: str(display.apiVersion) ?? '',
    };
    const displayAlias = str(display.alias);
    if (displayAlias) out.alias = displayAlias;
    const clientId = str(display.clientId);
    if (clientId) out.clientId = clientId;
    const connectedStatus = str(display.connectedStatus);
    if (connectedStatus) out.connectedStatus = connectedStatus;
    return out;
  }

  /** Every org the CLI has credentials for (`sf org list`), deduplicated by username, without tokens. */
  async listOrgs(options: SalesforceCliCallOptions = {}): Promise<SalesforceCliOrg[]> {
    const result = await this.#json(['org', 'list'], { ...options, timeoutMs: this.#timeoutMs });
    const groups: Array<[string, Partial<SalesforceCliOrg>]> = [
      ['devHubs', { isDevHub: true }],
      ['sandboxes', { isSandbox: true }],
      ['scratchOrgs', { isScratch: true }],
      ['regularOrgs', {}],
      ['nonScratchOrgs', {}],
      ['other', {}],
    ];
    const byUsername = new Map<string, SalesforceCliOrg>();
    for (const [key, flags] of groups) {
      const entries = result[key];
      if (!Array.isArray(entries)) continue;
      for (const entry of entries) {
        if (!entry || typeof entry !== 'object') continue;
        const org = toListedOrg(entry as Record<string, unknown>);
        if (!org) continue;
        const previous = byUsername.get(org.username);
        byUsername.set(org.username, { ...org, ...previous, ...flags });
      }
    }
    return [...byUsername.values()];
  }

  async #json(
    args: string[],
    options: {
      signal?: AbortSignal | undefined;
      timeoutMs: number;
      onStdout?: (chunk: string) => void;
      env?: Record<string, string>;
      secrets?: string[];
    },
    notFoundHint?: string,
  ): Promise<Record<string, unknown>> {
    const result = await this.#run([...args, '--json'], options);
    const secrets = options.secrets ?? [];
    const envelope = lastJsonObject(result.stdout) ?? lastJsonObject(result.stderr);
    const subcommand = args.slice(0, 3).join(' ');
    if (!envelope) {
      if (result.exitCode === 127 || /is not a sf command|command .* not found/i.test(result.stderr)) {
        throw new CrmConfigurationError(
          `\`sf ${subcommand}\` is not available in the installed Salesforce CLI. ${notFoundHint ?? INSTALL_HINT}`,
          { provider: 'salesforce', providerCode: 'CommandNotFound', details: { exitCode: result.exitCode } },
        );
      }
      throw new CrmConfigurationError(`\`sf ${subcommand}\` printed no JSON (exit code ${result.exitCode})`, {
        provider: 'salesforce',
        providerCode: 'InvalidCliOutput',
        details: { exitCode: result.exitCode, stderr: redactText(result.stderr.slice(0, 500), secrets) },
      });
    }
    const status = typeof envelope.status === 'number' ? envelope.status : result.exitCode;
    if (status === 0 && result.exitCode === 0 && envelope.result && typeof envelope.result === 'object') {
      this.#logWarnings(subcommand, envelope.warnings, secrets);
      return envelope.result as Record<string, unknown>;
    }
    throw toCliError(subcommand, envelope, result.exitCode, secrets);
  }

  #logWarnings(subcommand: string, warnings: unknown, secrets: string[]): void {
    if (!Array.isArray(warnings)) return;
    for (const warning of warnings) {
      if (typeof warning === 'string') {
        this.#logger.debug('Salesforce CLI warning', {
          command: subcommand,
          warning: redactText(warning, secrets),
        });
      }
    }
  }

  async #run(
    args: string[],
    options: {
      signal?: AbortSignal | undefined;
      timeoutMs: number;
      onStdout?: (chunk: string) => void;
      env?: Record<string, string>;
    },
  ): Promise<SalesforceCommandResult> {
    throwIfAborted(options.signal);
    const env: Record<string, string | undefined> = {
      ...process.env,
      SF_DISABLE_TELEMETRY: 'true',
      SF_AUTOUPDATE_DISABLE: 'true',
      SF_SKIP_NEW_VERSION_CHECK: 'true',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      ...this.#env,
      ...options.env,
    };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    this.#logger.debug('Running Salesforce CLI', { command: this.#command, args });
    const started = Date.now();
    try {
      const request = {
        command: this.#command,
        args,
        env,
        timeoutMs: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onStdout ? { onStdout: options.onStdout } : {}),
      };
      const result = await this.#runner(request);
      this.#logger.debug('Salesforce CLI finished', {
        args: args.slice(0, 3),
        exitCode: result.exitCode,
        durationMs: Date.now() - started,
      });
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw createAbortError(options.signal);
      const err = error as { code?: unknown; name?: unknown };
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        throw new CrmConfigurationError(
          `Salesforce CLI \`${this.#command}\` could not be started. ${INSTALL_HINT}`,
          {
            provider: 'salesforce',
            providerCode: err.code === 'ENOENT' ? 'CliNotFound' : 'CliNotExecutable',
            cause: error,
          },
        );
      }
      if (err.name === 'TimeoutError') {
        throw new CrmConnectionError(
          `Salesforce CLI \`${args.slice(0, 3).join(' ')}\` timed out after ${options.timeoutMs} ms`,
          {
            provider: 'salesforce',
            providerCode: 'CliTimeout',
            cause: error,
          },
        );
      }
      if (err.name === 'AbortError') throw error;
      throw new CrmConfigurationError(`Salesforce CLI \`${this.#command}\` failed to run`, {
        provider: 'salesforce',
        cause: error,
      });
    }
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toOrg(result: Record<string, unknown>, alias: string): SalesforceCliOrg {
  const org = toListedOrg(result);
  if (!org) {
    throw new CrmAuthenticationError('The Salesforce CLI login returned no org details', {
      provider: 'salesforce',
      providerCode: 'IncompleteLoginResult',
    });
  }
  org.alias ??= alias;
  return org;
}

function toListedOrg(entry: Record<string, unknown>): SalesforceCliOrg | null {
  const username = str(entry.username);
  const orgId = str(entry.orgId) ?? str(entry.id);
  const instanceUrl = str(entry.instanceUrl) ?? str(entry.loginUrl);
  if (!username || !orgId || !instanceUrl) return null;
  const org: SalesforceCliOrg = { username, orgId, instanceUrl: instanceUrl.replace(/\/+$/, '') };
  const alias = str(entry.alias);
  if (alias) org.alias = alias;
  const connectedStatus = str(entry.connectedStatus);
  if (connectedStatus) org.connectedStatus = connectedStatus;
  if (typeof entry.isDefaultUsername === 'boolean') org.isDefaultUsername = entry.isDefaultUsername;
  if (typeof entry.isDefaultDevHubUsername === 'boolean')
    org.isDefaultDevHubUsername = entry.isDefaultDevHubUsername;
  if (typeof entry.isSandbox === 'boolean') org.isSandbox = entry.isSandbox;
  if (typeof entry.isScratch === 'boolean') org.isScratch = entry.isScratch;
  if (typeof entry.isDevHub === 'boolean') org.isDevHub = entry.isDevHub;
  return org;
}

function toCliError(
  subcommand: string,
  envelope: Record<string, unknown>,
  exitCode: number | null,
  secrets: string[],
): CrmAuthenticationError | CrmConfigurationError {
  const name = str(envelope.name) ?? str(envelope.code) ?? 'UnknownCliError';
  // The CLI's messages are multi-line ("Parsing --target-org \n\t…"); keep them on one line.
  const message = redactText(str(envelope.message) ?? 'no message', secrets)
    .replace(/\s+/g, ' ')
    .trim();
  const options = {
    provider: 'salesforce',
    providerCode: name,
    details: { exitCode, commandName: str(envelope.commandName) },
  };
  const text = `\`sf ${subcommand}\` failed: ${name}: ${message}`;
  return CONFIGURATION_ERROR_NAMES.has(name)
    ? new CrmConfigurationError(text, options)
    : new CrmAuthenticationError(text, options);
}

/** The device code from the CLI's output: the pretty JSON it prints under `--json`, or the text line. */
export function extractDeviceCode(output: string): SalesforceCliDeviceCode | null {
  for (const value of jsonObjects(output)) {
    const userCode = str(value.user_code);
    const verificationUri = str(value.verification_uri);
    if (userCode && verificationUri) {
      const code: SalesforceCliDeviceCode = { userCode, verificationUri };
      if (typeof value.interval === 'number') code.interval = value.interval;
      return code;
    }
  }
  const text = /Enter (\S+) user code in the verification URL (\S+)/.exec(output);
  return text?.[1] && text[2] ? { userCode: text[1], verificationUri: text[2] } : null;
}

/** The last complete top-level JSON object in `text` (the CLI may print more than one). */
function lastJsonObject(text: string): Record<string, unknown> | null {
  const all = jsonObjects(text);
  return all.length > 0 ? (all[all.length - 1] as Record<string, unknown>) : null;
}

/** Every complete top-level `{…}` JSON object in `text`, scanning braces outside strings. */
function jsonObjects(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"' && depth > 0) inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        try {
          const value: unknown = JSON.parse(text.slice(start, i + 1));
          if (value && typeof value === 'object' && !Array.isArray(value))
            out.push(value as Record<string, unknown>);
        } catch {
          // Not JSON after all (a brace in prose); keep scanning.
        }
      }
    }
  }
  return out;
}

/** Compare dotted numeric versions: negative when a < b. */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
