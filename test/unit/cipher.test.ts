import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CredentialCipher, CrmConfigurationError } from '../../src/index.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CrmConfigurationError);
    return (error as CrmConfigurationError).details?.reason;
  }
  throw new Error('expected a CrmConfigurationError');
}

/** Flip one bit of the base64url part at `index` of a ciphertext. */
function flip(ciphertext: string, index: number): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('CredentialCipher', () => {
  it('round-trips UTF-8 text, including empty and long strings', () => {
    const cipher = new CredentialCipher({ keys: { k1: keyA } });
    for (const text of ['', 'token-ü-日本-🙂', 'x'.repeat(100_000), JSON.stringify({ a: 1 })]) {
      expect(cipher.decrypt(cipher.encrypt(text))).toBe(text);
    }
  });

  it('writes the versioned format with the key id and a fresh IV each time', () => {
    const cipher = new CredentialCipher({ keys: { k1: keyA } });
    const one = cipher.encrypt('same');
    const two = cipher.encrypt('same');
    expect(one).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(one).not.toBe(two);
    expect(one.split('.')[2]).not.toBe(two.split('.')[2]);
    expect(one).not.toContain('same');
    expect(CredentialCipher.keyIdOf(one)).toBe('k1');
  });

  it('accepts keys as standard base64, URL-safe base64 and unpadded base64', () => {
    const text = 'secret';
    const fromBytes = new CredentialCipher({ keys: { k: keyA } });
    const ciphertext = fromBytes.encrypt(text);
    for (const encoded of [
      keyA.toString('base64'),
      keyA.toString('base64url'),
      keyA.toString('base64').replace(/=+$/, ''),
    ]) {
      expect(new CredentialCipher({ keys: { k: encoded } }).decrypt(ciphertext)).toBe(text);
    }
  });

  it('rejects keys that are not 32 bytes, not base64, or have bad ids', () => {
    expect(reasonOf(() => new CredentialCipher({ keys: { k: randomBytes(16) } }))).toBe('invalid_key_length');
    expect(reasonOf(() => new CredentialCipher({ keys: { k: randomBytes(33) } }))).toBe('invalid_key_length');
    expect(reasonOf(() => new CredentialCipher({ keys: { k: randomBytes(24).toString('base64') } }))).toBe(
      'invalid_key_length',
    );
    expect(reasonOf(() => new CredentialCipher({ keys: { k: 'not base64 !!' } }))).toBe('invalid_key');
    expect(reasonOf(() => new CredentialCipher({ keys: { 'a.b': keyA } }))).toBe('invalid_key_id');
    expect(reasonOf(() => new CredentialCipher({ keys: {} }))).toBe('missing_keys');
  });

  it('requires currentKeyId with several keys and checks it is listed', () => {
    expect(reasonOf(() => new CredentialCipher({ keys: { a: keyA, b: keyB } }))).toBe('missing_current_key');
    expect(reasonOf(() => new CredentialCipher({ keys: { a: keyA }, currentKeyId: 'b' }))).toBe(
      'unknown_current_key',
    );
    expect(
      reasonOf(() => new CredentialCipher({ keys: { a: keyA }, extra: true } as unknown as { keys: {} })),
    ).toBe('unknown_option');
  });

  it('copies byte keys so later changes to the caller buffer do not matter', () => {
    const bytes = Buffer.from(keyA);
    const cipher = new CredentialCipher({ keys: { k: bytes } });
    const ciphertext = cipher.encrypt('hello');
    bytes.fill(0);
    expect(cipher.decrypt(ciphertext)).toBe('hello');
  });

  it('rejects tampering with any part as authentication_failed or malformed, never garbage', () => {
    const cipher = new CredentialCipher({ keys: { k1: keyA } });
    const ciphertext = cipher.encrypt('refresh-token-value');
    expect(reasonOf(() => cipher.decrypt(flip(ciphertext, 2)))).toBe('authentication_failed');
    expect(reasonOf(() => cipher.decrypt(flip(ciphertext, 3)))).toBe('authentication_failed');
    expect(reasonOf(() => cipher.decrypt(flip(ciphertext, 4)))).toBe('authentication_failed');
    // Truncated data, truncated tag, wrong version, wrong shape, non-strings.
    const parts = ciphertext.split('.');
    expect(reasonOf(() => cipher.decrypt([...parts.slice(0, 4), parts[4]!.slice(0, -2)].join('.')))).toBe(
      'authentication_failed',
    );
    expect(reasonOf(() => cipher.decrypt([...parts.slice(0, 3), 'AAAA', parts[4]].join('.')))).toBe(
      'malformed',
    );
    expect(reasonOf(() => cipher.decrypt(ciphertext.replace(/^v1/, 'v2')))).toBe('malformed');
    expect(reasonOf(() => cipher.decrypt('plaintext-token'))).toBe('malformed');
    expect(reasonOf(() => cipher.decrypt(`${ciphertext}.extra`))).toBe('malformed');
    expect(reasonOf(() => cipher.decrypt(undefined as unknown as string))).toBe('malformed');
  });

  it('rejects a ciphertext whose key id was swapped to another listed key', () => {
    const cipher = new CredentialCipher({ keys: { a: keyA, b: keyB }, currentKeyId: 'a' });
    const swapped = cipher.encrypt('x').replace(/^v1\.a\./, 'v1.b.');
    expect(reasonOf(() => cipher.decrypt(swapped))).toBe('authentication_failed');
  });

  it('refuses ciphertext from an unknown key id or from a different key with the same id', () => {
    const old = new CredentialCipher({ keys: { old: keyA } });
    const ciphertext = old.encrypt('x');
    expect(reasonOf(() => new CredentialCipher({ keys: { other: keyB } }).decrypt(ciphertext))).toBe(
      'unknown_key',
    );
    expect(reasonOf(() => new CredentialCipher({ keys: { old: keyB } }).decrypt(ciphertext))).toBe(
      'authentication_failed',
    );
  });

  it('binds the ciphertext to an optional context', () => {
    const cipher = new CredentialCipher({ keys: { k: keyA } });
    const ciphertext = cipher.encrypt('tokens', { context: 'integration-1' });
    expect(cipher.decrypt(ciphertext, { context: 'integration-1' })).toBe('tokens');
    expect(reasonOf(() => cipher.decrypt(ciphertext, { context: 'integration-2' }))).toBe(
      'authentication_failed',
    );
    expect(reasonOf(() => cipher.decrypt(ciphertext))).toBe('authentication_failed');
  });

  it('rotates old ciphertexts to the current key; old keys still decrypt', () => {
    const before = new CredentialCipher({ keys: { '2025': keyA } });
    const stored = before.encrypt('tokens');
    const after = new CredentialCipher({ keys: { '2025': keyA, '2026': keyB }, currentKeyId: '2026' });
    expect(after.decrypt(stored)).toBe('tokens');
    expect(after.needsRotation(stored)).toBe(true);
    const rotated = after.rotate(stored);
    expect(CredentialCipher.keyIdOf(rotated)).toBe('2026');
    expect(after.needsRotation(rotated)).toBe(false);
    expect(new CredentialCipher({ keys: { '2026': keyB } }).decrypt(rotated)).toBe('tokens');
    // Rotating a current ciphertext still re-encrypts with a fresh IV.
    expect(after.rotate(rotated)).not.toBe(rotated);
  });

  it('never shows key material in toJSON, inspect or String()', () => {
    const cipher = new CredentialCipher({ keys: { a: keyA, b: keyB.toString('base64') }, currentKeyId: 'b' });
    const views = [JSON.stringify(cipher), inspect(cipher, { depth: 10, showHidden: true }), String(cipher)];
    for (const view of views) {
      for (const secret of [keyA, keyB]) {
        expect(view).not.toContain(secret.toString('base64'));
        expect(view).not.toContain(secret.toString('hex'));
        expect(view).not.toContain(secret.toString('base64url'));
      }
    }
    expect(cipher.toJSON()).toEqual({ currentKeyId: 'b', keyIds: ['a', 'b'] });
    expect(Object.keys(cipher)).toEqual([]);
  });
});
