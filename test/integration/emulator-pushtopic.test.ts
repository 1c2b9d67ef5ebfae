import jsforce from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

// jsforce's streaming client (Faye long polling) against the emulator's `/topic/<Name>` channels.

interface TopicMessage {
  event: { type: string; createdDate: string; replayId: number };
  sobject: Record<string, unknown>;
}

let sf: SalesforceEmulator;
let conn: jsforce.Connection;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  sf = await startSalesforceEmulator();
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function createTopic(fields: Record<string, unknown>): Promise<string> {
  const result = await conn.sobject('PushTopic').create({ ApiVersion: '62.0', ...fields });
  if (!result.success) throw new Error(JSON.stringify(result));
  return result.id;
}

/** Subscribes and resolves once the subscription is acknowledged; collects every message. */
async function listen(topic: string, replayId?: number): Promise<TopicMessage[]> {
  const received: TopicMessage[] = [];
  const channel = `/topic/${topic}`;
  // A minimal Faye extension sending the Salesforce replay id with the subscribe.
  const replay = {
    outgoing(message: { channel: string; ext?: object }, callback: (message: object) => void) {
      if (message.channel === '/meta/subscribe')
        message.ext = { ...message.ext, replay: { [channel]: replayId } };
      callback(message);
    },
  };
  const subscription =
    replayId === undefined
      ? conn.streaming.topic(topic).subscribe((m) => received.push(m as unknown as TopicMessage))
      : conn.streaming
          .createClient([replay])
          .subscribe(channel, (m: object) => received.push(m as unknown as TopicMessage));
  cleanups.push(() => subscription.cancel());
  await subscription;
  return received;
}

async function until<T>(read: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('timed out waiting for a PushTopic message');
}

/** Writes a sentinel account matching `topic` so "nothing else arrived" can be asserted in order. */
async function sentinel(received: TopicMessage[], name: string): Promise<TopicMessage[]> {
  await conn.sobject('Account').create({ Name: name });
  await until(() => (received.some((m) => m.sobject.Name === name) ? true : undefined));
  return received.filter((m) => m.sobject.Name !== name);
}

describe('PushTopic streaming (Streaming API "PushTopic Streaming")', () => {
  it('is an sObject with the documented defaults and a unique Name', async () => {
    const id = await createTopic({ Name: 'Accounts', Query: 'SELECT Id, Name FROM Account' });
    const row = await conn.sobject('PushTopic').retrieve(id);
    expect(row).toMatchObject({
      Name: 'Accounts',
      IsActive: true,
      NotifyForFields: 'Referenced',
      NotifyForOperationCreate: true,
      NotifyForOperationUpdate: true,
      NotifyForOperationDelete: true,
      NotifyForOperationUndelete: true,
    });
    await expect(createTopic({ Name: 'Accounts', Query: 'SELECT Id FROM Account' })).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
    });
  });

  it('publishes created/updated/deleted/undeleted with the SELECT fields of matching records only', async () => {
    await createTopic({
      Name: 'BigAccounts',
      Query: "SELECT Id, Name FROM Account WHERE Industry = 'Banking'",
    });
    const received = await listen('BigAccounts');
    const { id } = (await conn.sobject('Account').create({ Name: 'Acme', Industry: 'Banking' })) as {
      id: string;
    };
    await conn.sobject('Account').create({ Name: 'Other', Industry: 'Retail' });
    await conn.sobject('Account').update({ Id: id, Name: 'Acme 2' });
    await conn.sobject('Account').destroy(id);
    sf.store.undelete([id]);
    const types = await until(() => (received.length >= 4 ? received : undefined));
    expect(types.map((m) => m.event.type)).toEqual(['created', 'updated', 'deleted', 'undeleted']);
    expect(received[0]?.sobject).toEqual({ Id: id, Name: 'Acme' });
    expect(received[1]?.sobject).toEqual({ Id: id, Name: 'Acme 2' });
    const replayIds = received.map((m) => m.event.replayId);
    expect([...replayIds].sort((a, b) => a - b)).toEqual(replayIds);
    expect(new Set(replayIds).size).toBe(4);
    expect(Number.isNaN(Date.parse(received[0]?.event.createdDate ?? ''))).toBe(false);
  });

  it('honours NotifyForOperation* flags and NotifyForFields on updates', async () => {
    await createTopic({
      Name: 'SelectOnly',
      Query: "SELECT Id, Name FROM Account WHERE Industry = 'Banking'",
      NotifyForFields: 'Select',
      NotifyForOperationCreate: false,
      NotifyForOperationDelete: false,
    });
    const received = await listen('SelectOnly');
    const { id } = (await conn.sobject('Account').create({ Name: 'Acme', Industry: 'Banking' })) as {
      id: string;
    };
    // A field the SELECT does not list: no notification under `Select`.
    await conn.sobject('Account').update({ Id: id, Phone: '555' });
    await conn.sobject('Account').update({ Id: id, Name: 'Renamed' });
    // No longer matching the WHERE clause: no notification.
    await conn.sobject('Account').update({ Id: id, Name: 'Gone', Industry: 'Retail' });
    await conn.sobject('Account').destroy(id);
    await conn.sobject('Account').create({ Name: 'Sentinel', Industry: 'Banking' });
    await conn.sobject('Account').update({
      Id: (await conn.sobject('Account').findOne({ Name: 'Sentinel' }, 'Id'))?.Id as string,
      Name: 'Sentinel 2',
    });
    const all = await until(() =>
      received.some((m) => m.sobject.Name === 'Sentinel 2') ? received : undefined,
    );
    expect(all.map((m) => [m.event.type, m.sobject.Name])).toEqual([
      ['updated', 'Renamed'],
      ['updated', 'Sentinel 2'],
    ]);
  });

  it('stops publishing for an inactive topic, and refuses to subscribe to an unknown one', async () => {
    const topicId = await createTopic({ Name: 'Paused', Query: 'SELECT Id, Name FROM Account' });
    const received = await listen('Paused');
    await conn.sobject('PushTopic').update({ Id: topicId, IsActive: false });
    await conn.sobject('Account').create({ Name: 'While paused' });
    await conn.sobject('PushTopic').update({ Id: topicId, IsActive: true });
    expect(await sentinel(received, 'After resume')).toEqual([]);
    await expect(listen('NoSuchTopic')).rejects.toThrow(/Unknown channel/);
  });

  it('replays retained events after a replayId, and all of them with -2', async () => {
    await createTopic({ Name: 'Replayed', Query: 'SELECT Id, Name FROM Account' });
    for (const name of ['one', 'two', 'three']) await conn.sobject('Account').create({ Name: name });
    const all = await listen('Replayed', -2);
    await until(() => (all.length >= 3 ? all : undefined));
    expect(all.map((m) => m.sobject.Name)).toEqual(['one', 'two', 'three']);
    const after = await listen('Replayed', all[0]?.event.replayId);
    await until(() => (after.length >= 2 ? after : undefined));
    expect(after.map((m) => m.sobject.Name)).toEqual(['two', 'three']);
  });
});

describe('PushTopic queries refused on save (Streaming API "Unsupported PushTopic Queries")', () => {
  const refusal = async (query: string) => {
    const result = await conn
      .sobject('PushTopic')
      .create({ Name: 'Refused', Query: query, ApiVersion: '62.0' })
      .catch((error: { errorCode: string; message: string }) => error);
    return result as unknown as { errorCode: string; message: string };
  };

  it.each([
    [
      'SELECT Id, Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)',
      'semi/anti join sub-selects are not supported',
    ],
    ['SELECT Id, AVG(AnnualRevenue) FROM Account', 'Aggregate queries are not supported'],
    ['SELECT Id, AccountId FROM Contact GROUP BY AccountId', 'Aggregate queries are not supported'],
    ['SELECT Id, Name FROM Contact LIMIT 10', "'LIMIT' is not allowed"],
    ['SELECT Id, Account.Name FROM Contact', 'relationships are not supported'],
    ['SELECT Id, Name FROM Account ORDER BY Name', "'ORDER BY' clause is not allowed"],
    ["SELECT Id FROM Account WHERE NOT Name = 'Salesforce.com'", "'NOT' is not supported"],
  ])('refuses %s with INVALID_FIELD', async (query, message) => {
    expect(await refusal(query)).toMatchObject({ errorCode: 'INVALID_FIELD', message });
    expect(sf.records('PushTopic')).toEqual([]);
  });

  it('refuses a query without Id, on an unknown object or field, or that does not parse', async () => {
    expect(await refusal('SELECT Name FROM Account')).toMatchObject({ errorCode: 'INVALID_FIELD' });
    expect(await refusal('SELECT Id FROM NoSuchThing__c')).toMatchObject({ errorCode: 'INVALID_TYPE' });
    expect(await refusal('SELECT Id, NoSuchField__c FROM Account')).toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    expect(await refusal('SELECT Id FROM')).toMatchObject({ errorCode: 'MALFORMED_QUERY' });
  });

  it('accepts NOT IN, and checks the query again when it is updated', async () => {
    const id = await createTopic({
      Name: 'Allowed',
      Query: "SELECT Id FROM Account WHERE Name NOT IN ('x')",
    });
    const updated = await conn
      .sobject('PushTopic')
      .update({ Id: id, Query: 'SELECT Id FROM Account LIMIT 1' })
      .catch((error: { errorCode: string }) => error);
    expect(updated).toMatchObject({ errorCode: 'INVALID_FIELD' });
  });
});

describe('Generic streaming (StreamingChannel, Streaming Channel Push REST API)', () => {
  it('delivers a pushed payload to /u/ subscribers and reports the fan-out', async () => {
    const { id } = (await conn.sobject('StreamingChannel').create({ Name: '/u/Alerts' })) as { id: string };
    const url = `/services/data/v62.0/sobjects/StreamingChannel/${id}/push`;
    const push = (body: object) => conn.request({ method: 'POST', url, body: JSON.stringify(body) });
    // Nobody listening yet: fanoutCount 0.
    expect(await push({ pushEvents: [{ payload: 'early', userIds: [] }] })).toEqual([
      { fanoutCount: 0, userOnlineStatus: {} },
    ]);
    const received: Array<{ payload: string; event: { replayId: number } }> = [];
    const subscription = conn.streaming
      .channel('/u/Alerts')
      .subscribe((m: object) => received.push(m as never));
    cleanups.push(() => subscription.cancel());
    await subscription;
    expect(await conn.request({ method: 'GET', url })).toEqual({
      OnlineUserIds: [sf.userId],
      ChannelName: '/u/Alerts',
    });
    const result = await conn.streaming.channel('/u/Alerts').push({ payload: 'hello', userIds: [] });
    expect(result).toEqual({ fanoutCount: -1, userOnlineStatus: {} });
    // Addressed to another user only: not delivered to the API user.
    const other = '005000000000099AAA';
    expect(await push({ pushEvents: [{ payload: 'not for me', userIds: [other] }] })).toEqual([
      { fanoutCount: 0, userOnlineStatus: { [other]: false } },
    ]);
    expect(await push({ pushEvents: [{ payload: 'for me', userIds: [sf.userId] }] })).toEqual([
      { fanoutCount: 1, userOnlineStatus: { [sf.userId]: true } },
    ]);
    await until(() => (received.length >= 2 ? received : undefined));
    expect(received.map((m) => m.payload)).toEqual(['hello', 'for me']);
    await expect(push({ pushEvents: [{ payload: 'x'.repeat(3001), userIds: [] }] })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(listenChannel('/u/Unknown')).rejects.toThrow(/Unknown channel/);
  });

  it('a write made while the subscribe is still in flight is delivered (jsforce streaming test pattern)', async () => {
    await createTopic({ Name: 'Racy', Query: 'SELECT Id, Name FROM Account' });
    const arrived = new Promise<TopicMessage>((resolve) => {
      const subscription = conn.streaming
        .topic('Racy')
        .subscribe((m) => resolve(m as unknown as TopicMessage));
      cleanups.push(() => subscription.cancel());
    });
    await conn.sobject('Account').create({ Name: 'Concurrent' });
    expect((await arrived).sobject.Name).toBe('Concurrent');
  });
});

async function listenChannel(channel: string): Promise<void> {
  const subscription = conn.streaming.channel(channel).subscribe(() => {});
  cleanups.push(() => subscription.cancel());
  await subscription;
}
