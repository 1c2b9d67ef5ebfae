import { describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/index.js';
import { loadPeer } from '../../src/internal/load-peer.js';
import { requireOptionalPeer } from '../../src/internal/optional-peer.js';
import { loadJsforce } from '../../src/salesforce/jsforce.js';
import { loadSoqlParser } from '../../src/testing/salesforce-emulator/soql/parser.js';

describe('loadPeer (optional database drivers)', () => {
  it('names the package to install when the driver is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'pg'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const error = await loadPeer('pg', 'PostgresStorage', () => Promise.reject(missing)).catch((e) => e);
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(error.message).toContain('npm install pg');
    expect(error.details).toEqual({ reason: 'missing_driver', package: 'pg' });
    expect(error.cause).toBe(missing);
  });

  it('keeps other load failures distinct from a missing package', async () => {
    const broken = new Error('invalid ELF header');
    const error = await loadPeer('better-sqlite3', 'SqliteStorage', () => Promise.reject(broken)).catch(
      (e) => e,
    );
    expect(error.details.reason).toBe('driver_load_failed');
    expect(error.message).not.toContain('npm install');
  });

  it('returns the module when it loads', async () => {
    await expect(loadPeer('x', 'X', async () => ({ ok: true }))).resolves.toEqual({ ok: true });
  });
});

describe('requireOptionalPeer (jsforce, the emulator SOQL parser: loaded on first use)', () => {
  it('names the package to install when it is not installed', () => {
    const error = (() => {
      try {
        requireOptionalPeer('@markmail/no-such-package', 'SalesforceProvider');
      } catch (e) {
        return e as CrmConfigurationError;
      }
    })();
    expect(error).toBeInstanceOf(CrmConfigurationError);
    expect(error?.message).toBe(
      "SalesforceProvider needs the optional peer dependency '@markmail/no-such-package': run `npm install @markmail/no-such-package`",
    );
    expect(error?.details).toEqual({ reason: 'missing_driver', package: '@markmail/no-such-package' });
  });

  it('returns the installed package', () => {
    expect(typeof loadJsforce().Connection).toBe('function');
    expect(typeof loadSoqlParser().parseQuery).toBe('function');
  });
});
