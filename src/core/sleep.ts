import { createAbortError } from './errors.js';

/**
 * Waits `ms` milliseconds, rejecting with an `AbortError` (cause = `signal.reason`) when `signal`
 * fires. Injected wherever the package waits (retry backoff, polling, lease waits) so tests can
 * replace time.
 */
export type CrmSleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default {@link CrmSleep}, on `setTimeout`; the timer is cleared on abort. */
export const sleep: CrmSleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(createAbortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(createAbortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
