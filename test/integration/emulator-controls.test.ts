import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectSalesforceEmulator,
  emulatorRealtime,
  failNextBulkJob,
  type SalesforceEmulator,
  setBulkQueryPageSize,
  startSalesforceEmulator,
} from '../../src/testing/index.js';

let sf: SalesforceEmulator;
const poll = { pollInterval: 20, pollTimeout: 20_000 };
const connection = () =>
  new jsforce.Connection({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken, version: '62.0' });

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

describe('emulator controls on the handle (sf.bulk, sf.realtime)', () => {
  it('work in process: no access token needed, no fault applies, no request counted', async () => {
    const own = await startSalesforceEmulator();
    try {
      own.oauth.expireAccessToken(); // every token of the org, the handle's own included
      const catchAll = own.faults.add({ status: 503, times: 100 });
      const before = own.stats.requests;

      await own.bulk.failNextJob({ errorMessage: 'InvalidBatch : steered without a token' });
      await own.realtime.setChangeEventEntities(['Contact']);

      expect(own.stats.requests).toBe(before);
      expect(catchAll.hits).toBe(0);
      own.faults.clear();
      const { accessToken } = own.oauth.issueTokens();
      const conn = new jsforce.Connection({ instanceUrl: own.instanceUrl, accessToken, version: '62.0' });
      await expect(
        conn.bulk2.loadAndWaitForResults({
          object: 'Contact',
          operation: 'insert',
          input: [{ LastName: 'Never' }],
          ...poll,
        }),
      ).rejects.toThrow('InvalidBatch : steered without a token');
      expect(own.records('Contact')).toEqual([]);
    } finally {
      await own.stop();
    }
  });

  it('refuse bad input the way the HTTP routes do, naming the route', async () => {
    await expect(sf.bulk.setProcessingDelay(-1)).rejects.toThrow(
      /POST \/__emulator\/bulk2 failed: HTTP 400 .*processingDelayMs must be a non-negative number/,
    );
    await expect(sf.bulk.failNextJobWhileRunning({ afterRecords: 1.5 })).rejects.toThrow(
      /bulk2\/faults failed: HTTP 400 .*afterRecords must be a non-negative integer/,
    );
    await expect(sf.realtime.removeOutboundMessage('04k000000000000AAA')).rejects.toThrow(/HTTP 404/);
  });

  it('hand back copies, as read over HTTP', async () => {
    await sf.realtime.publishChangeEvent({ entityName: 'Contact', changeType: 'GAP_CREATE' });
    const [first] = await sf.realtime.changeEvents();
    if (first) first.payload.tampered = true;
    const [again] = await sf.realtime.changeEvents();
    expect(again?.payload).not.toHaveProperty('tampered');
  });
});

describe('connectSalesforceEmulator (an emulator in another process)', () => {
  it('reaches the same controls over HTTP with a valid token', async () => {
    const remote = connectSalesforceEmulator({ instanceUrl: sf.instanceUrl, accessToken: sf.accessToken });
    await remote.bulk.failNextJob({ jobType: 'V2Query', errorMessage: 'remote failure' });
    await expect(connection().bulk2.query('SELECT Id FROM Contact', poll)).rejects.toThrow(
      'Query job failed to complete',
    );
    const { replayId } = await remote.realtime.publishChangeEvent({
      entityName: 'Contact',
      changeType: 'GAP_UPDATE',
    });
    expect((await sf.realtime.changeEvents()).map((e) => e.replayId)).toContain(replayId);
  });

  it('rejects with the HTTP status when the token is not valid', async () => {
    const remote = connectSalesforceEmulator({ instanceUrl: sf.instanceUrl, accessToken: 'not-a-token' });
    await expect(remote.bulk.setQueryPageSize(10)).rejects.toThrow(/HTTP 401/);
  });

  it('uses the injected fetch', async () => {
    const seen: string[] = [];
    const remote = connectSalesforceEmulator(
      { instanceUrl: sf.instanceUrl, accessToken: sf.accessToken },
      {
        fetch: (input, init) => {
          seen.push(`${init?.method} ${String(input)}`);
          return fetch(input, init);
        },
      },
    );
    await remote.realtime.forgetCometdClients();
    expect(seen).toEqual([`POST ${sf.instanceUrl}/__emulator/cometd/forget-clients`]);
  });
});

describe('deprecated free-function controls (kept for one release)', () => {
  it('still steer the emulator', async () => {
    await setBulkQueryPageSize(sf, 1);
    sf.store.insert('Contact', [{ LastName: 'A' }, { LastName: 'B' }]);
    await failNextBulkJob(sf, { errorMessage: 'old style' });
    await expect(
      connection().bulk2.loadAndWaitForResults({
        object: 'Contact',
        operation: 'insert',
        input: [{ LastName: 'C' }],
        ...poll,
      }),
    ).rejects.toThrow('old style');
    await emulatorRealtime(sf).publishChangeEvent({ entityName: 'Contact', changeType: 'GAP_DELETE' });
    const events = await sf.realtime.changeEvents();
    expect(events.at(-1)?.payload).toMatchObject({ ChangeEventHeader: { changeType: 'GAP_DELETE' } });
  });
});
