import { CrmErrorReasons, CrmStorageError, throwIfAborted } from '../core/errors.js';
import type { CrmLogger } from '../core/logger.js';
import type { CrmSleep } from '../core/sleep.js';
import type { CrmLease, CrmStorage } from '../storage/types.js';

/** Options of {@link holdLease}. */
export interface HoldLeaseOptions {
  storage: CrmStorage;
  key: string;
  ttlMs: number;
  /** How long to wait for a held lease; 0 fails at once. */
  waitMs: number;
  logger: CrmLogger;
  sleep: CrmSleep;
  signal?: AbortSignal | undefined;
  /** Called once if a renewal fails: another worker may now hold the lease. */
  onLost: (error: CrmStorageError) => void;
}

/** A held, self-renewing lease. */
export interface HeldLease {
  readonly lease: CrmLease;
  /** Stop renewing and release. Never throws (a failed release only delays the next run until expiry). */
  release(): Promise<void>;
}

/** True when `error` says another run holds the integration's sync lease. */
export function isSyncLeaseHeldError(error: unknown): error is CrmStorageError {
  // Brand check, not `instanceof`: the error may come from another installed copy of the package.
  return CrmStorageError.isInstance(error) && error.details?.reason === CrmErrorReasons.LEASE_HELD;
}

/**
 * Acquire `key`, waiting up to `waitMs`, and renew it every third of its TTL until released.
 * @throws {CrmStorageError} `details.reason === 'lease_held'` (retryable) when another run holds it.
 */
export async function holdLease(options: HoldLeaseOptions): Promise<HeldLease> {
  const { storage, key, ttlMs, waitMs, logger, sleep, signal } = options;
  const started = Date.now();
  let lease = await storage.leases.acquire(key, ttlMs);
  while (lease === null) {
    const waited = Date.now() - started;
    if (waited >= waitMs) {
      throw new CrmStorageError(
        `Another sync run holds the lease '${key}'; it was not released within ${waitMs} ms. Try again later, or pass waitForLeaseMs to wait for it.`,
        { retryable: true, details: { reason: 'lease_held', leaseKey: key, waitedMs: waited } },
      );
    }
    await sleep(Math.min(Math.max(25, Math.floor(ttlMs / 20)), 250, waitMs - waited), signal);
    throwIfAborted(signal);
    lease = await storage.leases.acquire(key, ttlMs);
  }
  let current = lease;
  let lost = false;
  let renewing: Promise<void> | null = null;
  const timer = setInterval(
    () => {
      if (renewing || lost) return;
      renewing = storage.leases
        .renew(current, ttlMs)
        .then((ok) => {
          if (ok) {
            current = { ...current, expiresAt: new Date(Date.now() + ttlMs) };
            return;
          }
          throw new Error('renew returned false');
        })
        .catch((cause: unknown) => {
          lost = true;
          logger.error('sync lease lost', { leaseKey: key });
          options.onLost(
            new CrmStorageError(`The sync lease '${key}' was lost while the run was in progress`, {
              cause,
              retryable: true,
              details: { reason: 'lease_lost', leaseKey: key },
            }),
          );
        })
        .finally(() => {
          renewing = null;
        });
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref?.();
  return {
    lease,
    async release() {
      clearInterval(timer);
      if (renewing) await renewing;
      if (lost) return;
      try {
        await storage.leases.release(current);
      } catch (error) {
        logger.warn('sync lease release failed; it will expire', { leaseKey: key, error: String(error) });
      }
    },
  };
}
