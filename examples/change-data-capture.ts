/**
 * Change Data Capture: follow Contact changes in Salesforce over CometD (jsforce's streaming
 * client), store the replay id after each handled event, stop, make more changes, restart and
 * catch up from the stored position.
 *
 *   npx tsx examples/change-data-capture.ts
 *
 * Runs against the embedded Salesforce emulator. With a real org, enable Change Data Capture for
 * Contact in Setup and pass a real jsforce Connection.
 */
import { MemoryStorage } from '@markmail/crm';
import {
  REPLAY_ALL_RETAINED,
  type SalesforceChangeEvent,
  subscribeToChangeEvents,
} from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';
import jsforce from 'jsforce';

const sf = await startSalesforceEmulator();
const conn = new jsforce.Connection({
  instanceUrl: sf.instanceUrl,
  accessToken: sf.accessToken,
  version: '62.0',
});
const storage = new MemoryStorage();
const hostContacts = new Map<string, Record<string, unknown>>();
let handled = 0;

function apply(event: SalesforceChangeEvent): void {
  const { changeType, recordIds } = event.header;
  handled += 1;
  for (const id of recordIds) {
    if (changeType === 'DELETE') hostContacts.delete(id);
    else hostContacts.set(id, { ...hostContacts.get(id), ...event.fields });
  }
  console.log(
    `  #${event.replayId} ${changeType} ${recordIds.join(',')} ${Object.keys(event.fields).join(' ')}`,
  );
}

function run(label: string): { stop: () => Promise<void> } {
  const controller = new AbortController();
  console.log(`${label}: subscribing`);
  const done = subscribeToChangeEvents({
    connection: conn,
    channel: '/data/ContactChangeEvent',
    storage,
    integrationId: 'integration-1',
    onEvent: apply,
    // Called for gap/overflow events and when the stored replay id is past retention: re-read
    // from Salesforce (e.g. SyncEngine.pullContacts) so nothing is missed.
    onGap: (gap) => console.log(`  gap (${gap.reason}): resync ${gap.entityName ?? 'all'}`),
    // With nothing stored yet, start from everything Salesforce still retains (3 days), so the
    // changes made while the subscription was still connecting are not missed.
    initialReplayId: REPLAY_ALL_RETAINED,
    signal: controller.signal,
  });
  return {
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** Waits until `count` events have been handled in total (CometD delivers asynchronously). */
async function handledEvents(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (handled < count) {
    if (Date.now() > deadline) throw new Error(`only ${handled} of ${count} change events arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const first = run('run 1');
const created = await conn.sobject('Contact').create({ LastName: 'Lovelace', Email: 'ada@example.com' });
if (!created.success) throw new Error('create failed');
await conn.sobject('Contact').update({ Id: created.id, FirstName: 'Ada' });
await handledEvents(2);
await first.stop();

console.log('subscriber stopped; changes keep happening in Salesforce');
await conn.sobject('Contact').update({ Id: created.id, Title: 'Analyst' });
await conn.sobject('Contact').create({ LastName: 'Hopper', Email: 'grace@example.com' });

const second = run('run 2 (resumes from the stored replay id)');
await handledEvents(4);
await second.stop();

console.log(
  'host contacts:',
  [...hostContacts.values()].map((c) => `${c.FirstName ?? ''} ${c.LastName} (${c.Title ?? '-'})`),
);
await sf.stop();
