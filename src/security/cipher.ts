import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CrmConfigurationError } from '../core/errors.js';
import { assertKnownOptions } from '../internal/options.js';

/** A 32-byte AES-256 key: raw bytes, or their standard or URL-safe base64 encoding. */
export type CrmCipherKey = Uint8Array | string;

/** Options of {@link CredentialCipher}. */
export interface CredentialCipherOptions {
  /**
   * Every key that may decrypt, by key id. Key ids are written into each ciphertext, so keep old
   * keys listed until every stored credential was rotated. Ids use `A-Z a-z 0-9 _ -` (1–64 chars).
   */
  keys: Readonly<Record<string, CrmCipherKey>>;
  /**
   * The key id that encrypts. Required when more than one key is listed, because "newest" cannot be
   * told from an object's key order.
   * @default the only key, when exactly one is listed
   */
  currentKeyId?: string;
}

/** Options of a single encrypt / decrypt / rotate call. */
export interface CredentialCipherCallOptions {
  /**
   * Associated data the ciphertext is bound to (for example the integration id), so a ciphertext
   * copied onto another record fails to decrypt. Pass the same value to `decrypt` and `rotate`.
   * @default none
   */
  context?: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
// Standard or URL-safe alphabet, padding optional: Node's base64 decoder reads both.
const BASE64_KEY = /^[A-Za-z0-9+/_-]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Encrypts credentials (OAuth token sets, API keys) before they reach storage, with AES-256-GCM,
 * a random 96-bit IV per message and the key id inside the ciphertext. The current key encrypts;
 * any listed key decrypts, so keys rotate without downtime: add the new key, make it current, call
 * {@link rotate} on stored ciphertexts, then drop the old key.
 *
 * Ciphertext format (ASCII, safe in JSON, URLs and `TEXT` columns):
 * `v1.<keyId>.<iv>.<tag>.<data>`, each binary part base64url. The version and key id are
 * authenticated as associated data, so neither can be altered unnoticed.
 *
 * Keys never appear in `toJSON()`, `util.inspect` or error messages.
 *
 * @example
 * ```ts
 * const cipher = new CredentialCipher({ keys: { '2026-01': process.env.CRM_KEY! } });
 * const stored = cipher.encrypt(JSON.stringify(tokens));
 * const tokensAgain = JSON.parse(cipher.decrypt(stored));
 * ```
 *
 * @throws CrmConfigurationError when no key is given, a key id is invalid, a key is not 32 bytes,
 *   or `currentKeyId` is missing (several keys) or not listed.
 */
export class CredentialCipher {
  readonly #keys: Map<string, Buffer>;
  readonly #currentKeyId: string;

  constructor(options: CredentialCipherOptions) {
    if (
      typeof options !== 'object' ||
      options === null ||
      typeof options.keys !== 'object' ||
      !options.keys
    ) {
      throw new CrmConfigurationError('CredentialCipher: `keys` is required', {
        details: { reason: 'missing_keys' },
      });
    }
    assertKnownOptions('CredentialCipher', options, ['keys', 'currentKeyId']);
    this.#keys = new Map();
    for (const [keyId, key] of Object.entries(options.keys)) {
      if (!KEY_ID.test(keyId)) {
        throw new CrmConfigurationError(
          `CredentialCipher: key id '${keyId.slice(0, 64)}' is invalid (use 1-64 of A-Z a-z 0-9 _ -)`,
          { details: { reason: 'invalid_key_id' } },
        );
      }
      this.#keys.set(keyId, decodeKey(keyId, key));
    }
    if (this.#keys.size === 0) {
      throw new CrmConfigurationError('CredentialCipher: at least one key is required', {
        details: { reason: 'missing_keys' },
      });
    }
    const current = options.currentKeyId ?? (this.#keys.size === 1 ? [...this.#keys.keys()][0] : undefined);
    if (current === undefined) {
      throw new CrmConfigurationError(
        'CredentialCipher: `currentKeyId` is required when more than one key is listed',
        { details: { reason: 'missing_current_key' } },
      );
    }
    if (!this.#keys.has(current)) {
      throw new CrmConfigurationError(`CredentialCipher: currentKeyId '${current}' is not among the keys`, {
        details: { reason: 'unknown_current_key' },
      });
    }
    this.#currentKeyId = current;
  }

  /** The id of the key that encrypts. */
  get currentKeyId(): string {
    return this.#currentKeyId;
  }

  /** Ids of every key that can decrypt. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Encrypt `plaintext` (UTF-8) under the current key with a fresh random IV.
   * @returns `v1.<keyId>.<iv>.<tag>.<data>`
   */
  encrypt(plaintext: string, options: CredentialCipherCallOptions = {}): string {
    if (typeof plaintext !== 'string') {
      throw new CrmConfigurationError('CredentialCipher.encrypt: plaintext must be a string', {
        details: { reason: 'invalid_plaintext' },
      });
    }
    const keyId = this.#currentKeyId;
    const key = this.#keys.get(keyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(keyId, options.context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      keyId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      data.toString('base64url'),
    ].join('.');
  }

  /**
   * Decrypt a ciphertext made by {@link encrypt} with any listed key.
   * @throws CrmConfigurationError (`details.reason`: `malformed`, `unknown_key` or
   *   `authentication_failed`) when the ciphertext was altered, made with another key or context,
   *   or is not a ciphertext at all. Never returns garbage.
   */
  decrypt(ciphertext: string, options: CredentialCipherCallOptions = {}): string {
    const parsed = parse(ciphertext);
    const key = this.#keys.get(parsed.keyId);
    if (!key) {
      throw new CrmConfigurationError(
        `CredentialCipher.decrypt: key '${parsed.keyId}' is not configured; list it in \`keys\` to decrypt`,
        { details: { reason: 'unknown_key', keyId: parsed.keyId } },
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(parsed.keyId, options.context));
      decipher.setAuthTag(parsed.tag);
      return Buffer.concat([decipher.update(parsed.data), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new CrmConfigurationError(
        'CredentialCipher.decrypt: authentication failed (ciphertext altered, wrong key or wrong context)',
        { cause, details: { reason: 'authentication_failed', keyId: parsed.keyId } },
      );
    }
  }

  /**
   * Re-encrypt `ciphertext` under the current key (with a fresh IV). Run it over stored credentials
   * after changing `currentKeyId`.
   * @throws CrmConfigurationError as {@link decrypt}.
   */
  rotate(ciphertext: string, options: CredentialCipherCallOptions = {}): string {
    return this.encrypt(this.decrypt(ciphertext, options), options);
  }

  /** True when `ciphertext` was not made with the current key, i.e. {@link rotate} would change it. */
  needsRotation(ciphertext: string): boolean {
    return parse(ciphertext).keyId !== this.#currentKeyId;
  }

  /** The key id written in `ciphertext`. @throws CrmConfigurationError when it is malformed. */
  static keyIdOf(ciphertext: string): string {
    return parse(ciphertext).keyId;
  }

  /** Key ids only; key material is never serialised. */
  toJSON(): { currentKeyId: string; keyIds: string[] } {
    return { currentKeyId: this.#currentKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `CredentialCipher ${inspect(this.toJSON())}`;
  }
}

function decodeKey(keyId: string, key: CrmCipherKey): Buffer {
  let bytes: Buffer;
  if (typeof key === 'string') {
    const text = key.trim();
    if (BASE64_KEY.test(text)) bytes = Buffer.from(text, 'base64');
    else {
      throw new CrmConfigurationError(`CredentialCipher: key '${keyId}' is not valid base64`, {
        details: { reason: 'invalid_key', keyId },
      });
    }
  } else if (key instanceof Uint8Array) {
    // Copy, so later changes to the caller's buffer cannot change (or reveal) our key.
    bytes = Buffer.from(key);
  } else {
    throw new CrmConfigurationError(
      `CredentialCipher: key '${keyId}' must be a Uint8Array or base64 string`,
      {
        details: { reason: 'invalid_key', keyId },
      },
    );
  }
  if (bytes.length !== KEY_BYTES) {
    throw new CrmConfigurationError(
      `CredentialCipher: key '${keyId}' is ${bytes.length} bytes; AES-256-GCM needs exactly ${KEY_BYTES}`,
      { details: { reason: 'invalid_key_length', keyId, length: bytes.length } },
    );
  }
  return bytes;
}

function associatedData(keyId: string, context: string | undefined): Buffer {
  // Length-prefixing the context keeps `a` + `.b` and `a.` + `b` distinct.
  const ctx = context ?? '';
  return Buffer.from(`${VERSION}.${keyId}.${ctx.length}:${ctx}`, 'utf8');
}

interface ParsedCiphertext {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
}

function parse(ciphertext: string): ParsedCiphertext {
  const malformed = (why: string): CrmConfigurationError =>
    new CrmConfigurationError(`CredentialCipher: ciphertext is malformed (${why})`, {
      details: { reason: 'malformed' },
    });
  if (typeof ciphertext !== 'string') throw malformed('not a string');
  const parts = ciphertext.split('.');
  if (parts.length !== 5) throw malformed('expected 5 dot-separated parts');
  const [version, keyId, iv, tag, data] = parts as [string, string, string, string, string];
  if (version !== VERSION) throw malformed('unknown version');
  if (!KEY_ID.test(keyId)) throw malformed('invalid key id');
  for (const part of [iv, tag, data]) if (!BASE64URL.test(part)) throw malformed('invalid base64url');
  const parsed = {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    data: Buffer.from(data, 'base64url'),
  };
  if (parsed.iv.length !== IV_BYTES) throw malformed('invalid IV length');
  if (parsed.tag.length !== TAG_BYTES) throw malformed('invalid tag length');
  return parsed;
}
