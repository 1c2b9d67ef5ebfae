import { describe, expect, it } from 'vitest';
import { CrmConfigurationError } from '../../src/index.js';
import { loadPeer } from '../../src/storage/internal/load-peer.js';

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
