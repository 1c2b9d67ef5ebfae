import { randomBytes } from 'node:crypto';
import { type CrmClock, systemClock } from '../../core/clock.js';
import { CrmConfigurationError } from '../../core/errors.js';

import type { CredentialCipherLike } from './credentials.js';

// Binds sealed states to this use: a stored credential ciphertext cannot pass as a state.
const SEALED_STATE_CONTEXT = 'salesforce-oauth-state';

/**
 * What is remembered between sending the user to Salesforce and the callback. It holds the PKCE
 * verifier, a secret: stores keep it server-side or encrypted, never in plain sight.
 */
export interface SalesforcePendingAuthorization {
  /** PKCE verifier for the code exchange. Secret. */
  codeVerifier: string;
  /** Redirect URI used in the authorize URL (the exchange must repeat it). */
  redirectUri: string;
  /** Host user (or workspace) the integration will belong to, when known at start. */
  userId?: string;
  /** Relative path to send the browser to afterwards. */
  returnTo?: string;
  /** Anything else the host wants back in the callback (JSON-safe). */
  metadata?: Record<string, unknown>;
  /** When the authorisation was started (ms since epoch). */
  createdAt: number;
}

/**
 * Keeps pending authorisations keyed by the OAuth `state`. `save` returns the state value to put
 * in the authorize URL; `take` returns the pending data at most once (single use) and `null` for
 * an unknown, used or expired state. Implement it on Redis or a database table for several
 * processes; {@link MemoryOAuthStateStore} and {@link SealedOAuthStateStore} ship here.
 */
export interface OAuthStateStore {
  /** Remember `pending` for `ttlMs`; resolve to the `state` string. */
  save(pending: SalesforcePendingAuthorization, ttlMs: number): Promise<string>;
  /** Return and forget the pending data for `state`; `null` when unknown, used or expired. */
  take(state: string): Promise<SalesforcePendingAuthorization | null>;
  /**
   * Return the pending data for `state` without consuming it; `null` when unknown, used or
   * expired. Optional: with it, a callback refused for its user (someone else signed in, or
   * nobody) leaves the rightful user's state usable, so an attacker who learns a victim's state
   * cannot burn it. Stores without it consume the state on every callback.
   */
  peek?(state: string): Promise<SalesforcePendingAuthorization | null>;
}

/**
 * In-process {@link OAuthStateStore}: random 256-bit states in a `Map`, single use, expiring.
 * Fine for one process (or sticky sessions); use a shared store or {@link SealedOAuthStateStore}
 * behind a load balancer.
 */
export class MemoryOAuthStateStore implements OAuthStateStore {
  readonly #entries = new Map<string, { pending: SalesforcePendingAuthorization; expiresAt: number }>();
  readonly #clock: CrmClock;
  readonly #maxEntries: number;

  /**
   * @param options.clock time source. @default system clock
   * @param options.maxEntries cap on pending states, oldest evicted first. @default 10000
   */
  constructor(options: { clock?: CrmClock; maxEntries?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Number of pending (possibly expired, not yet collected) states. */
  get size(): number {
    return this.#entries.size;
  }

  async save(pending: SalesforcePendingAuthorization, ttlMs: number): Promise<string> {
    const now = this.#clock.now().getTime();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    const state = randomBytes(32).toString('base64url');
    this.#entries.set(state, { pending: { ...pending }, expiresAt: now + ttlMs });
    return state;
  }

  async peek(state: string): Promise<SalesforcePendingAuthorization | null> {
    const entry = this.#entries.get(state);
    return entry && entry.expiresAt > this.#clock.now().getTime() ? { ...entry.pending } : null;
  }

  async take(state: string): Promise<SalesforcePendingAuthorization | null> {
    const entry = this.#entries.get(state);
    if (!entry) return null;
    this.#entries.delete(state);
    return entry.expiresAt > this.#clock.now().getTime() ? entry.pending : null;
  }
}

/**
 * Stateless {@link OAuthStateStore}: the pending data (with its expiry) is encrypted with the
 * `CredentialCipher` into the `state` itself, so any process holding the key can finish the flow.
 * Authenticated encryption keeps the verifier secret and the state unforgeable. It cannot enforce
 * single use by itself (Salesforce's codes are single use, so a replayed state fails at the
 * exchange); pass `seen` (e.g. a short-TTL Redis set) to reject replays outright.
 */
export class SealedOAuthStateStore implements OAuthStateStore {
  readonly #cipher: CredentialCipherLike;
  readonly #clock: CrmClock;
  readonly #seen: ((nonce: string, expiresAt: Date) => Promise<boolean>) | undefined;

  /**
   * @param options.cipher the `CredentialCipher` (or compatible).
   * @param options.clock time source. @default system clock
   * @param options.seen records a nonce and resolves `true` if it was new, `false` if already used.
   */
  constructor(options: {
    cipher: CredentialCipherLike;
    clock?: CrmClock;
    seen?: (nonce: string, expiresAt: Date) => Promise<boolean>;
  }) {
    if (!options?.cipher) {
      throw new CrmConfigurationError('SealedOAuthStateStore needs a cipher', {
        provider: 'salesforce',
        fields: ['cipher'],
      });
    }
    this.#cipher = options.cipher;
    this.#clock = options.clock ?? systemClock;
    this.#seen = options.seen;
  }

  async save(pending: SalesforcePendingAuthorization, ttlMs: number): Promise<string> {
    const sealed = {
      p: pending,
      e: this.#clock.now().getTime() + ttlMs,
      n: randomBytes(16).toString('base64url'),
    };
    const ciphertext = await this.#cipher.encrypt(JSON.stringify(sealed), { context: SEALED_STATE_CONTEXT });
    return Buffer.from(ciphertext, 'utf8').toString('base64url');
  }

  async peek(state: string): Promise<SalesforcePendingAuthorization | null> {
    const sealed = await this.#open(state);
    return sealed ? sealed.p : null;
  }

  async take(state: string): Promise<SalesforcePendingAuthorization | null> {
    const sealed = await this.#open(state);
    if (!sealed) return null;
    if (this.#seen && !(await this.#seen(sealed.n, new Date(sealed.e)))) return null;
    return sealed.p;
  }

  /** Decrypt and check a state's shape and expiry; `null` when it does not pass. */
  async #open(state: string): Promise<{ p: SalesforcePendingAuthorization; e: number; n: string } | null> {
    let sealed: { p?: SalesforcePendingAuthorization; e?: number; n?: string };
    try {
      const ciphertext = Buffer.from(state, 'base64url').toString('utf8');
      sealed = JSON.parse(await this.#cipher.decrypt(ciphertext, { context: SEALED_STATE_CONTEXT }));
    } catch {
      // Tampered, truncated or from an unknown key: the same answer as an unknown state.
      return null;
    }
    if (!sealed.p || typeof sealed.e !== 'number' || typeof sealed.n !== 'string') return null;
    if (sealed.e <= this.#clock.now().getTime()) return null;
    return { p: sealed.p, e: sealed.e, n: sealed.n };
  }
}
