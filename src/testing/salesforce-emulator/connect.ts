import { bulkControls } from './bulk/bulk-control-api.js';
import type { SalesforceEmulator } from './emulator.js';
import { type EmulatorControlTarget, httpControlCall } from './http/control-call.js';
import { realtimeControls } from './realtime/controls.js';

/** The test controls of an emulator in another process (see {@link connectSalesforceEmulator}). */
export type SalesforceEmulatorControls = Pick<SalesforceEmulator, 'bulk' | 'realtime'>;

/**
 * The `bulk` and `realtime` test controls of an emulator running elsewhere, e.g. a standalone
 * `markmail-crm-emulator`, over its `/__emulator/…` HTTP routes (authenticated with an access
 * token of that emulator). In the same process use the handle's own `emulator.bulk` and
 * `emulator.realtime`, which need no token.
 *
 * @param target the emulator's `instanceUrl` and a valid `accessToken` (the CLI prints both).
 * @param options `fetch` (default `globalThis.fetch`).
 * @example
 * ```ts
 * const emulator = connectSalesforceEmulator({ instanceUrl: 'http://127.0.0.1:8443', accessToken });
 * await emulator.bulk.failNextJob();
 * ```
 */
export function connectSalesforceEmulator(
  target: EmulatorControlTarget,
  options: { fetch?: typeof fetch } = {},
): SalesforceEmulatorControls {
  const call = httpControlCall(target, options.fetch);
  return { bulk: bulkControls(call), realtime: realtimeControls(call) };
}
