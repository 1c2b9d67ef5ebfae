import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startHubSpotEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

/** GETs `url` through `agent`; the status, the Keep-Alive header and whether a pooled socket was reused. */
function get(agent: Agent, url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; keepAlive: string | undefined; reused: boolean }>(
    (resolve, reject) => {
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            keepAlive: res.headers['keep-alive']?.toString(),
            reused: req.reusedSocket,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('emulator keep-alive connections', () => {
  it('stay open past 5 s idle (a client reusing one never finds it closed), and stop() still ends at once', async () => {
    const sf = await startSalesforceEmulator();
    const hubspot = await startHubSpotEmulator();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const targets = [
        { url: `${sf.instanceUrl}/services/data`, headers: {} },
        {
          url: `${hubspot.baseUrl}/crm/v3/objects/contacts?limit=1`,
          headers: { Authorization: `Bearer ${hubspot.accessToken}` },
        },
      ];
      const first = await Promise.all(targets.map((t) => get(agent, t.url, t.headers)));
      expect(first.map((r) => [r.status, r.keepAlive])).toEqual([
        [200, 'timeout=30'],
        [200, 'timeout=30'],
      ]);
      // Longer than Node's 5 s default, after which the emulator used to close the idle socket.
      await sleep(6_000);
      const second = await Promise.all(targets.map((t) => get(agent, t.url, t.headers)));
      expect(second.map((r) => [r.status, r.reused])).toEqual([
        [200, true],
        [200, true],
      ]);
    } finally {
      // With an idle kept-alive socket still open: stop() closes it rather than waiting 30 s
      // (the test's timeout would fail otherwise).
      await Promise.all([sf.stop(), hubspot.stop()]);
      agent.destroy();
    }
  }, 20_000);
});
