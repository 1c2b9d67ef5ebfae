import jsforce from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';

let sf: SalesforceEmulator;
let conn: jsforce.Connection;

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  conn = new jsforce.Connection({
    instanceUrl: sf.instanceUrl,
    accessToken: sf.accessToken,
    version: '62.0',
  });
});
afterAll(async () => {
  await sf.stop();
});
beforeEach(() => {
  sf.reset();
});

// biome-ignore lint/suspicious/noExplicitAny: Connect API representations are read loosely
type Json = any;
const text = (t: string) => ({ body: { messageSegments: [{ type: 'Text', text: t }] } });
const post = async (t: string, subjectId = 'me'): Promise<Json> =>
  await conn.chatter
    .resource('/feed-elements')
    .create({ ...text(t), feedElementType: 'FeedItem', subjectId });
const batch = async (body: unknown): Promise<Json> =>
  await conn.request({
    method: 'POST',
    url: '/services/data/v62.0/connect/batch',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

describe('Chatter (Connect REST API)', () => {
  it('serves the directory, the current user and the feeds list', async () => {
    const root: Json = await conn.chatter.resource('/').retrieve();
    expect(root.feeds).toBe('/services/data/v62.0/chatter/feeds');
    const me: Json = await conn.chatter.resource('/users/me').retrieve();
    expect(me).toMatchObject({ id: sf.userId, username: sf.username, type: 'User' });
    const feeds: Json = await conn.chatter.resource('/feeds').retrieve();
    expect(feeds.feeds.map((f: Json) => f.feedType)).toEqual(['Company', 'News', 'UserProfile']);
  });

  it('posts, comments and likes; the post shows its comments and likes; deleting it removes them', async () => {
    const item = await post('Hello team');
    expect(item).toMatchObject({ type: 'TextPost', body: { text: 'Hello team' }, actor: { id: sf.userId } });
    expect(item.id.startsWith('0D5')).toBe(true);
    const comment: Json = await conn.chatter
      .resource(item.capabilities.comments.page.currentPageUrl)
      .create(text('First!'));
    const like: Json = await conn.chatter
      .resource(item.capabilities.chatterLikes.page.currentPageUrl)
      .create('');
    const again: Json = await conn.chatter
      .resource(item.capabilities.chatterLikes.page.currentPageUrl)
      .create('');
    expect(again.id).toBe(like.id);
    const commentLike: Json = await conn.chatter.resource(comment.likes.currentPageUrl).create('');
    expect(commentLike.likedItem).toMatchObject({ id: comment.id, type: 'Comment' });
    const read: Json = await conn.chatter.resource(item.url).retrieve();
    expect(read.capabilities.comments.page.total).toBe(1);
    expect(read.capabilities.chatterLikes).toMatchObject({ isLikedByCurrentUser: true, page: { total: 1 } });
    await conn.chatter.resource(like.url).delete();
    expect(
      ((await conn.chatter.resource(item.url).retrieve()) as Json).capabilities.chatterLikes.page.total,
    ).toBe(0);
    await conn.chatter.resource(item.url).delete();
    await expect(conn.chatter.resource(item.url).retrieve()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
    await expect(conn.chatter.resource(comment.url).retrieve()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
    await expect(conn.chatter.resource(commentLike.url).retrieve()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });

  it('puts posts on records in the company feed but not in my news feed; pages newest first', async () => {
    const accountId = sf.store.insert('Account', [{ Name: 'Acme' }])[0]?.id as string;
    const onRecord = await post('About Acme', accountId);
    expect(onRecord.parent).toMatchObject({ id: accountId, type: 'Account', name: 'Acme' });
    const mine = await post('About me');
    const company: Json = await conn.chatter.resource('/feeds/company/feed-elements').retrieve();
    expect(company.elements.map((e: Json) => e.id)).toEqual([mine.id, onRecord.id]);
    const news: Json = await conn.chatter
      .resource('/feeds/news/me/feed-elements', { pageSize: 1 })
      .retrieve();
    // Posted by me, so both are in my news feed; one per page.
    expect(news.elements).toHaveLength(1);
    expect(news.nextPageUrl).toMatch(/page=1/);
    await expect(
      conn.chatter.resource('/feeds/company/feed-elements', { pageSize: 101 }).retrieve(),
    ).rejects.toMatchObject({ errorCode: 'INVALID_API_INPUT' });
  });

  it('refuses empty bodies, unsupported segments and unknown subjects', async () => {
    await expect(post('   ')).rejects.toMatchObject({ errorCode: 'INVALID_API_INPUT' });
    await expect(
      conn.chatter.resource('/feed-elements').create({
        body: { messageSegments: [{ type: 'Mention', id: sf.userId }] },
        feedElementType: 'FeedItem',
        subjectId: 'me',
      }),
    ).rejects.toMatchObject({ errorCode: 'INVALID_API_INPUT' });
    await expect(post('x', '001000000000000AAA')).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('runs Connect batches, reporting each result and halting on error when asked', async () => {
    const ok = await conn.chatter.batch([
      conn.chatter
        .resource('/feed-elements')
        .create({ ...text('one'), feedElementType: 'FeedItem', subjectId: 'me' }),
      conn.chatter.resource('/users/me'),
    ]);
    expect(ok.results.map((r) => r.statusCode)).toEqual([201, 200]);
    const result = await batch({
      batchRequests: [
        { method: 'GET', url: '/services/data/v62.0/chatter/feed-elements/0D5000000000000AAA' },
        { method: 'GET', url: '/services/data/v62.0/chatter/users/me' },
      ],
    });
    expect(result.hasErrors).toBe(true);
    expect(result.results.map((r: Json) => r.statusCode)).toEqual([404, 200]);
    const halted = await batch({
      haltOnError: true,
      batchRequests: [
        { method: 'GET', url: '/v62.0/chatter/feed-elements/0D5000000000000AAA' },
        { method: 'GET', url: '/v62.0/chatter/users/me' },
      ],
    });
    expect(halted.results.map((r: Json) => r.statusCode)).toEqual([404, 412]);
  });

  it('forgets posts on reset', async () => {
    await post('gone');
    sf.reset();
    const company: Json = await conn.chatter.resource('/feeds/company/feed-elements').retrieve();
    expect(company.elements).toEqual([]);
  });
});
