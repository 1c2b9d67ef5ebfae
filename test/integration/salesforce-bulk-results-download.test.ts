import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactInput, CrmSyncResult } from '../../src/core/models.js';
import { SalesforceProvider } from '../../src/salesforce/provider.js';
import {
  type EmulatorFault,
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../src/testing/index.js';

/**
 * A Bulk ingest job's result sets are read as they download (a job of 150,000 rows answers with
 * tens of MB of CSV, which must not become one string): rows are handed to `onResult` while the
 * set is still arriving. These tests stand between the client and the emulator with a `fetch`
 * that serves a result set in 8 KB pieces and can hold it part-way, cut it (the socket dropped
 * mid-body) or replace it — what a real network does to a long download.
 */

let sf: SalesforceEmulator;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

const PIECE = 8 * 1024;
const SUCCESSFUL = /\/jobs\/ingest\/[^/]+\/successfulResults$/;

/** What the interposed fetch does to the n-th download of a result set (1-based); absent: pass it on. */
type Download = (
  piece: number,
  control: { hold: () => Promise<void>; cut: () => never; signal: AbortSignal | undefined },
) => Promise<void> | void;

interface Interposer {
  fetch: typeof globalThis.fetch;
  /** Downloads of a successfulResults set started so far. */
  downloads: number;
  /** Request signals of those downloads (the client's socket control). */
  signals: AbortSignal[];
}

function interpose(plan: Record<number, Download>): Interposer {
  const state: Interposer = {
    downloads: 0,
    signals: [],
    fetch: async (input, init) => {
      const response = await globalThis.fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!SUCCESSFUL.test(new URL(url).pathname) || !response.ok) return response;
      state.downloads += 1;
      const signal = init?.signal ?? undefined;
      if (signal) state.signals.push(signal);
      const step = plan[state.downloads];
      const bytes = new Uint8Array(await response.arrayBuffer());
      let at = 0;
      let piece = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (at >= bytes.length) {
            controller.close();
            return;
          }
          piece += 1;
          try {
            await step?.(piece, {
              hold: () =>
                new Promise<void>((resolve, reject) => {
                  const timer = setTimeout(resolve, 2_000);
                  signal?.addEventListener('abort', () => {
                    clearTimeout(timer);
                    reject(signal.reason);
                  });
                }),
              cut: () => {
                // What undici reports when the socket closes before the body's end.
                throw new TypeError('terminated');
              },
              signal,
            });
          } catch (error) {
            controller.error(error);
            return;
          }
          controller.enqueue(bytes.subarray(at, at + PIECE));
          at += PIECE;
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    },
  };
  return state;
}

/** Wait until `condition` holds, at most 2 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

function provider(fetch: typeof globalThis.fetch) {
  return new SalesforceProvider({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    fetch,
    retry: { initialDelayMs: 5 },
    bulk: { pollIntervalMs: 20 },
  });
}

function* contacts(total: number): Generator<CrmContactInput> {
  for (let i = 0; i < total; i++) {
    yield { externalId: `d-${i}`, email: `d${i}@example.com`, firstName: 'Zoë, "Z"', lastName: `Last ${i}` };
  }
}

describe('Bulk ingest results are read as they download', () => {
  it('hands rows to onResult while the result set is still arriving', async () => {
    let seen = 0;
    let seenWhenHeld = -1;
    const net = interpose({
      1: async (piece) => {
        // Half way through, wait (up to 2 s) for the rows received so far to be handed on.
        if (piece === 10) {
          await until(() => seen > 0);
          seenWhenHeld = seen;
        }
      },
    });
    const result = await provider(net.fetch).bulkSyncContacts(contacts(3_000), {
      mode: 'bulk',
      keepResults: 'failures',
      onResult: () => {
        seen += 1;
      },
    });
    expect(result).toMatchObject({ total: 3_000, success: 3_000, failed: 0 });
    expect(net.downloads).toBe(1);
    // Read whole before parsing, no row would be handed on before the last piece arrived.
    expect(seenWhenHeld).toBeGreaterThan(0);
    expect(seenWhenHeld).toBeLessThan(3_000);
  });

  it('a socket dropped mid-body, then a 503, are retried from the start: every record once, none lost', async () => {
    const byIndex = new Map<number, CrmSyncResult[]>();
    let handedOnBeforeCut = 0;
    let refused: EmulatorFault | undefined;
    const net = interpose({
      1: async (piece, { cut }) => {
        if (piece === 12) {
          await until(() => byIndex.size > 0);
          handedOnBeforeCut = byIndex.size;
          // The next attempt is refused by the server once before the set is read whole.
          refused = sf.faults.add({ method: 'GET', path: /\/successfulResults$/, status: 503 });
          cut();
        }
      },
    });
    const result = await provider(net.fetch).bulkSyncContacts(contacts(3_000), {
      mode: 'bulk',
      keepResults: 'failures',
      onResult: (r, index) => {
        byIndex.set(index, [...(byIndex.get(index) ?? []), r]);
      },
    });
    expect(result).toMatchObject({ total: 3_000, success: 3_000, failed: 0 });
    // Rows of the cut attempt were handed on before the cut: the re-read must skip them.
    expect(handedOnBeforeCut).toBeGreaterThan(0);
    expect(byIndex.size).toBe(3_000);
    for (const [index, results] of byIndex) {
      expect(results, `record ${index}`).toHaveLength(1);
      expect(results[0]).toMatchObject({ externalId: `d-${index}`, success: true, created: true });
      expect(results[0]?.crmId).toMatch(/^003/);
    }
    // The cut download, the 503, the download read whole.
    expect(refused?.hits).toBe(1);
    expect(sf.stats.byRoute['GET /services/data/:version/jobs/ingest/:jobId/successfulResults']).toBe(2);
    expect(net.downloads).toBe(2);
  });

  it('an abort mid-download cuts the socket and hands no row on after it', async () => {
    const controller = new AbortController();
    let afterAbort = 0;
    const net = interpose({
      1: async (piece, { hold }) => {
        if (piece === 5) await hold();
      },
    });
    const run = provider(net.fetch).bulkSyncContacts(contacts(3_000), {
      mode: 'bulk',
      keepResults: 'failures',
      signal: controller.signal,
      onResult: () => {
        if (controller.signal.aborted) afterAbort += 1;
        else controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(afterAbort).toBe(0);
    expect(net.signals[0]?.aborted).toBe(true);
  });

  it('a result set that is not valid CSV fails with MALFORMED_CSV, not retried', async () => {
    const net = interpose({});
    const broken: typeof globalThis.fetch = async (input, init) => {
      const response = await net.fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!SUCCESSFUL.test(new URL(url).pathname)) return response;
      const text = await response.text();
      // An unterminated quote in the last row.
      return new Response(`${text}"003000000000001,true,d-x\n`, { status: 200, headers: response.headers });
    };
    await expect(
      provider(broken).bulkSyncContacts(contacts(50), { mode: 'bulk', keepResults: 'failures' }),
    ).rejects.toMatchObject({ name: 'CrmApiError', providerCode: 'MALFORMED_CSV' });
    expect(net.downloads).toBe(1);
  });
});
