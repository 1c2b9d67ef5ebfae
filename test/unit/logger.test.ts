import { describe, expect, it } from 'vitest';
import {
  CrmAuthenticationError,
  type CrmLogger,
  createRedactingLogger,
  REDACTED,
  silentLogger,
} from '../../src/index.js';

const ACCESS_TOKEN =
  '00D5g000004SXyzEAG!AQ0AQH7fQ2xYz9_kLm3NpQrStUvWx.Yz0123456789abcdef_QRSTuvwxyz.ABcdEF-gh';
const REFRESH_TOKEN = '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJvfCR9tSJZw7ZQm9ZzDTUpnE.f8SiVv.m9lQ6bgHh4fBkkEQ';
const CLIENT_SECRET = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';

type Level = keyof CrmLogger;
type Line = { level: Level; args: unknown[] };

/** A logger that records what reaches it (as a host's pino or console would receive it). */
function recordingLogger(): CrmLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: Level) =>
    (...args: unknown[]) => {
      lines.push({ level, args });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('silentLogger', () => {
  it('accepts every level and returns nothing', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      expect(silentLogger[level]('message', { accessToken: ACCESS_TOKEN })).toBeUndefined();
    }
  });
});

describe('createRedactingLogger', () => {
  it('returns the silent logger unchanged (no wrapping cost by default)', () => {
    expect(createRedactingLogger()).toBe(silentLogger);
    expect(createRedactingLogger(silentLogger)).toBe(silentLogger);
  });

  it.each(['debug', 'info', 'warn', 'error'] as const)('forwards %s to the same level', (level) => {
    const target = recordingLogger();
    createRedactingLogger(target)[level]('Synced 3 contacts', { integrationId: 'int_1', count: 3 });
    expect(target.lines).toEqual([
      { level, args: ['Synced 3 contacts', { integrationId: 'int_1', count: 3 }] },
    ]);
  });

  it('passes a message without data as a single argument', () => {
    const target = recordingLogger();
    createRedactingLogger(target).info('started');
    expect(target.lines).toEqual([{ level: 'info', args: ['started'] }]);
  });

  it('redacts token shapes in the message', () => {
    const target = recordingLogger();
    const logger = createRedactingLogger(target);
    logger.warn(`Retrying with Authorization: Bearer ${ACCESS_TOKEN}`);
    logger.error(`refresh failed: refresh_token=${REFRESH_TOKEN}&client_secret=${CLIENT_SECRET}`);
    expect(target.lines.map((l) => l.args[0])).toEqual([
      `Retrying with Authorization: Bearer ${REDACTED}`,
      `refresh failed: refresh_token=${REDACTED}&client_secret=${REDACTED}`,
    ]);
  });

  it('redacts secret keys and secret-shaped strings in data, at any depth', () => {
    const target = recordingLogger();
    createRedactingLogger(target).debug('request', {
      method: 'POST',
      url: '/services/oauth2/token',
      headers: {
        Authorization: `Bearer ${ACCESS_TOKEN}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: `grant_type=refresh_token&refresh_token=${REFRESH_TOKEN}`,
      response: { access_token: ACCESS_TOKEN, instance_url: 'https://acme.my.salesforce.com' },
      error: new CrmAuthenticationError(`expired session ${ACCESS_TOKEN}`, { status: 401 }),
      soap: `<sessionId>${ACCESS_TOKEN}</sessionId>`,
    });
    const logged = JSON.stringify(target.lines);
    expect(logged).not.toContain(ACCESS_TOKEN.slice(18));
    expect(logged).not.toContain(REFRESH_TOKEN.slice(4));
    expect(target.lines[0]?.args[1]).toEqual({
      method: 'POST',
      url: '/services/oauth2/token',
      headers: { Authorization: REDACTED, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${REDACTED}`,
      response: { access_token: REDACTED, instance_url: 'https://acme.my.salesforce.com' },
      error: {
        name: 'CrmAuthenticationError',
        code: 'AUTHENTICATION',
        message: `expired session ${REDACTED}`,
        retryable: false,
        status: 401,
      },
      soap: `<sessionId>${REDACTED}</sessionId>`,
    });
  });

  it('removes known secrets of any shape, read afresh on every call so rotated values are covered', () => {
    const target = recordingLogger();
    let secrets = ['first-client-secret-value'];
    const logger = createRedactingLogger(target, () => secrets);
    logger.info('using first-client-secret-value', { note: 'first-client-secret-value' });
    secrets = ['second-client-secret-value'];
    logger.info('using second-client-secret-value', { note: 'x second-client-secret-value' });
    expect(target.lines.map((l) => l.args)).toEqual([
      [`using ${REDACTED}`, { note: REDACTED }],
      [`using ${REDACTED}`, { note: `x ${REDACTED}` }],
    ]);
  });

  it('leaves ordinary log lines untouched', () => {
    const target = recordingLogger();
    const data = { recordId: '0035g00000AbCdEAAZ', errorCode: 'INVALID_FIELD', fields: ['Email'] };
    createRedactingLogger(target).warn('Record 0035g00000AbCdEAAZ failed: error code INVALID_FIELD', data);
    expect(target.lines).toEqual([
      { level: 'warn', args: ['Record 0035g00000AbCdEAAZ failed: error code INVALID_FIELD', data] },
    ]);
  });

  it('does not mutate the data object the caller passed', () => {
    const target = recordingLogger();
    const data = { accessToken: ACCESS_TOKEN };
    createRedactingLogger(target).info('x', data);
    expect(data.accessToken).toBe(ACCESS_TOKEN);
  });

  it('calls the host logger as a method, so class-based loggers keep their `this`', () => {
    class HostLogger implements CrmLogger {
      readonly lines: string[] = [];
      debug(message: string) {
        this.lines.push(message);
      }
      info(message: string) {
        this.lines.push(message);
      }
      warn(message: string) {
        this.lines.push(message);
      }
      error(message: string) {
        this.lines.push(message);
      }
    }
    const host = new HostLogger();
    createRedactingLogger(host).info('hello');
    expect(host.lines).toEqual(['hello']);
  });
});
