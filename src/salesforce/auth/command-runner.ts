import { spawn } from 'node:child_process';
import { createAbortError } from '../../core/errors.js';

/** One command for a {@link SalesforceCommandRunner} to run. */
export interface SalesforceCommandRequest {
  /** Executable, e.g. `sf` or an absolute path. Never run through a shell. */
  command: string;
  /** Arguments, passed as an argv array (no shell quoting involved). */
  args: string[];
  /** Complete environment for the child. */
  env: Record<string, string | undefined>;
  /** Kill the child when it fires; the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Kill the child after this many milliseconds; the promise rejects with a `TimeoutError`. */
  timeoutMs?: number;
  /** Called with each decoded stdout chunk as it arrives (streaming interactive output). */
  onStdout?: (chunk: string) => void;
  /** Called with each decoded stderr chunk as it arrives. */
  onStderr?: (chunk: string) => void;
}

/** Outcome of a finished command. A non-zero exit is a result, not a rejection. */
export interface SalesforceCommandResult {
  /** Exit code, or `null` when the process was killed by a signal. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command and resolves when it exits. Rejects only when the command could not be started
 * (an error with `code: 'ENOENT'` when it does not exist), was aborted (`name: 'AbortError'`) or
 * timed out (`name: 'TimeoutError'`). Inject a fake in tests to replay recorded CLI output.
 */
export type SalesforceCommandRunner = (request: SalesforceCommandRequest) => Promise<SalesforceCommandResult>;

/** Options of {@link createSpawnCommandRunner}. */
export interface SpawnCommandRunnerOptions {
  /** Grace period between SIGTERM and SIGKILL when killing. @default 2000 */
  killGraceMs?: number;
  /** Cap on captured output per stream, in characters; more is dropped. @default 10485760 */
  maxOutputChars?: number;
}

/**
 * The default runner: `node:child_process.spawn` without a shell (arguments cannot be
 * interpreted), stdin closed (the CLI cannot hang on a prompt), output captured as UTF-8.
 * Abort and timeout send SIGTERM, then SIGKILL after a grace period.
 *
 * On Windows the CLI is `sf.cmd`, which Node refuses to spawn without a shell; pass the path of
 * the CLI's `bin/run.js` and `process.execPath` instead (see `SalesforceCliAuth` docs).
 */
export function createSpawnCommandRunner(options: SpawnCommandRunnerOptions = {}): SalesforceCommandRunner {
  const killGraceMs = options.killGraceMs ?? 2000;
  const maxOutputChars = options.maxOutputChars ?? 10 * 1024 * 1024;
  return (request) =>
    new Promise<SalesforceCommandResult>((resolve, reject) => {
      if (request.signal?.aborted) {
        reject(createAbortError(request.signal));
        return;
      }
      const child = spawn(request.command, request.args, {
        env: request.env,
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      let stdout = '';
      let stderr = '';
      let failure: Error | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        if (stdout.length < maxOutputChars) stdout += chunk;
        request.onStdout?.(chunk);
      });
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < maxOutputChars) stderr += chunk;
        request.onStderr?.(chunk);
      });

      const kill = (reason: Error): void => {
        if (failure) return;
        failure = reason;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
        killTimer.unref();
      };
      const onAbort = (): void => kill(createAbortError(request.signal));
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const timeout =
        request.timeoutMs !== undefined
          ? setTimeout(() => {
              const error = new Error(`Command timed out after ${request.timeoutMs} ms`);
              error.name = 'TimeoutError';
              kill(error);
            }, request.timeoutMs)
          : undefined;

      const cleanup = (): void => {
        request.signal?.removeEventListener('abort', onAbort);
        if (timeout) clearTimeout(timeout);
        if (killTimer) clearTimeout(killTimer);
      };
      child.once('error', (error) => {
        cleanup();
        reject(failure ?? error);
      });
      child.once('close', (exitCode) => {
        cleanup();
        if (failure) reject(failure);
        else resolve({ exitCode, stdout, stderr });
      });
    });
}
