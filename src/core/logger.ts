import { redactText, redactValue } from '../security/redact.js';

/** Structured logger the package writes to. Silent unless the host passes one (pino, console, …). */
export interface CrmLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default. */
export const silentLogger: CrmLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Wrap `logger` so every message and data object passes through redaction first. Every logger the
 * package receives is wrapped once, at construction, so no code path can log a raw token.
 */
export function createRedactingLogger(
  logger: CrmLogger = silentLogger,
  knownSecrets: () => Iterable<string> = () => [],
): CrmLogger {
  if (logger === silentLogger) return logger;
  const wrap =
    (level: keyof CrmLogger) =>
    (message: string, data?: Record<string, unknown>): void => {
      const secrets = [...knownSecrets()];
      const safeMessage = redactText(message, secrets);
      if (data === undefined) logger[level](safeMessage);
      else logger[level](safeMessage, redactValue(data, secrets) as Record<string, unknown>);
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
