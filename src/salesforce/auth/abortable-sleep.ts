import { createAbortError } from '../../core/errors.js';

/** Sleep function injected where the auth code waits (device-flow polling, refresh hand-off). */
export type SleepFunction = (ms: number, signal?: AbortSignal) => Promise<void>;

/** `setTimeout` as a promise that rejects with an `AbortError` when `signal` fires. */
export const abortableSleep: SleepFunction = (ms, signal) =>
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
