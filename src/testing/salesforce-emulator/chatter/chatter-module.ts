import { formatDateTime } from '../dates.js';
import { EmulatorHttpError } from '../http/errors.js';
import { dispatchInternal } from '../http/internal-dispatch.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import { toId18 } from '../ids.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';

const CHATTER = '/services/data/:version/chatter';
/** Connect REST API page sizes: default 25, at most 100 (`pageSize` parameter). */
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** A Connect batch carries at most 25 subrequests. */
const MAX_BATCH = 25;

interface FeedItem {
  id: string;
  parentId: string;
  actorId: string;
  text: string;
  createdDate: string;
  comments: string[];
  likes: string[];
}
interface FeedComment {
  id: string;
  feedItemId: string;
  actorId: string;
  text: string;
  createdDate: string;
  likes: string[];
}
interface FeedLike {
  id: string;
  userId: string;
  /** A feed item (`0D5…`) or comment (`0D7…`). */
  likedId: string;
}

/** The feeds of the `feeds` directory the emulator serves (each with a `feed-elements` page). */
const FEEDS = [
  { feedType: 'Company', label: 'Company', path: 'company' },
  { feedType: 'News', label: 'What I Follow', path: 'news/me' },
  { feedType: 'UserProfile', label: 'My Profile', path: 'user-profile/me' },
] as const;

/**
 * Chatter in Connect REST API form (`/services/data/vXX.X/chatter/…`, `/connect/batch`): the
 * resource directory, users, groups (none), the feeds directory and the Company, News and
 * UserProfile feeds, text posts (`POST /feed-elements`, `subjectId` `me` or a record), comments,
 * likes on posts and comments, deletes, and batches. Feed items live in the module (not as
 * `FeedItem` sObjects) and are cleared by `reset()`.
 */
export const chatterModule: EmulatorModule = {
  name: 'chatter',
  create(context) {
    const state = new ChatterState(context);
    context.registerResource('chatter');
    registerRoutes(context, state);
    return { reset: () => state.clear() };
  },
};

class ChatterState {
  readonly items = new Map<string, FeedItem>();
  readonly comments = new Map<string, FeedComment>();
  readonly likes = new Map<string, FeedLike>();

  constructor(private readonly context: EmulatorModuleContext) {}

  clear(): void {
    this.items.clear();
    this.comments.clear();
    this.likes.clear();
  }

  now(): string {
    return formatDateTime(this.context.clock.now());
  }

  item(id: string | undefined): FeedItem {
    const item = this.items.get(toId18(id ?? '') ?? '');
    if (!item) throw notFound();
    return item;
  }

  comment(id: string | undefined): FeedComment {
    const comment = this.comments.get(toId18(id ?? '') ?? '');
    if (!comment) throw notFound();
    return comment;
  }

  deleteItem(item: FeedItem): void {
    for (const commentId of item.comments) {
      for (const likeId of this.comments.get(commentId)?.likes ?? []) this.likes.delete(likeId);
      this.comments.delete(commentId);
    }
    for (const likeId of item.likes) this.likes.delete(likeId);
    this.items.delete(item.id);
  }

  like(likedId: string, likes: string[], userId: string): FeedLike {
    const existing = likes.map((id) => this.likes.get(id)).find((l) => l?.userId === userId);
    if (existing) return existing;
    const like: FeedLike = { id: this.context.ids.next('0I0'), userId, likedId };
    this.likes.set(like.id, like);
    likes.push(like.id);
    return like;
  }
}

function notFound(): EmulatorHttpError {
  return new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
}

function invalidInput(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, 'INVALID_API_INPUT', message);
}

function registerRoutes(context: EmulatorModuleContext, state: ChatterState): void {
  const { router, store } = context;
  const base = (request: EmulatorRequestContext): string =>
    `/services/data/${request.versionSegment}/chatter`;
  const me = (request: EmulatorRequestContext): string => request.session?.userId ?? context.userId;

  const user = (request: EmulatorRequestContext, id: string): Record<string, unknown> => {
    const row = store.get(id);
    if (!row || !id.startsWith('005')) throw notFound();
    const photo = `${request.baseUrl}/profilephoto/005`;
    return {
      companyName: null,
      displayName: row.Name ?? null,
      email: row.Email ?? null,
      firstName: row.FirstName ?? null,
      id: row.Id,
      isActive: row.IsActive ?? true,
      lastName: row.LastName ?? null,
      name: row.Name ?? null,
      photo: {
        fullEmailPhotoUrl: `${photo}/F`,
        largePhotoUrl: `${photo}/F`,
        photoVersionId: null,
        smallPhotoUrl: `${photo}/T`,
        standardEmailPhotoUrl: `${photo}/T`,
        url: `${base(request)}/users/${row.Id}/photo`,
      },
      title: row.Title ?? null,
      type: 'User',
      url: `${base(request)}/users/${row.Id}`,
      userType: 'Internal',
      username: row.Username ?? null,
    };
  };

  const page = (url: string, items: unknown[], total = items.length) => ({
    currentPageToken: null,
    currentPageUrl: url,
    items,
    nextPageToken: null,
    nextPageUrl: null,
    previousPageToken: null,
    previousPageUrl: null,
    total,
  });

  const body = (text: string) => ({
    isRichText: false,
    messageSegments: [{ text, type: 'Text' }],
    text,
  });

  const likeView = (request: EmulatorRequestContext, like: FeedLike) => {
    const onComment = like.likedId.startsWith('0D7');
    return {
      id: like.id,
      likedItem: {
        id: like.likedId,
        type: onComment ? 'Comment' : 'FeedItem',
        url: `${base(request)}/${onComment ? 'comments' : 'feed-elements'}/${like.likedId}`,
      },
      url: `${base(request)}/likes/${like.id}`,
      user: user(request, like.userId),
    };
  };

  const commentView = (request: EmulatorRequestContext, comment: FeedComment) => {
    const myLike = comment.likes.map((id) => state.likes.get(id)).find((l) => l?.userId === me(request));
    const url = `${base(request)}/comments/${comment.id}`;
    return {
      attachment: null,
      body: body(comment.text),
      createdDate: comment.createdDate,
      feedElement: { id: comment.feedItemId, url: `${base(request)}/feed-elements/${comment.feedItemId}` },
      id: comment.id,
      isDeletable: true,
      likes: page(
        `${url}/likes`,
        comment.likes.map((id) => likeView(request, state.likes.get(id) as FeedLike)),
      ),
      myLike: myLike ? { id: myLike.id, url: `${base(request)}/likes/${myLike.id}` } : null,
      parent: { id: comment.feedItemId, url: `${base(request)}/feed-elements/${comment.feedItemId}` },
      type: 'TextComment',
      url,
      user: user(request, comment.actorId),
    };
  };

  const parentView = (request: EmulatorRequestContext, id: string) => {
    if (id.startsWith('005')) return user(request, id);
    const row = store.get(id);
    const schema = row ? store.schemaForId(id) : undefined;
    return {
      id,
      name: row?.Name ?? null,
      type: schema?.name ?? null,
      url: `/services/data/${request.versionSegment}/chatter/records/${id}`,
    };
  };

  const itemView = (request: EmulatorRequestContext, item: FeedItem) => {
    const url = `${base(request)}/feed-elements/${item.id}`;
    const myLike = item.likes.map((id) => state.likes.get(id)).find((l) => l?.userId === me(request));
    return {
      actor: user(request, item.actorId),
      body: body(item.text),
      capabilities: {
        chatterLikes: {
          isLikedByCurrentUser: myLike !== undefined,
          likesMessage: null,
          myLike: myLike ? { id: myLike.id, url: `${base(request)}/likes/${myLike.id}` } : null,
          page: page(
            `${url}/capabilities/chatter-likes/items`,
            item.likes.map((id) => likeView(request, state.likes.get(id) as FeedLike)),
          ),
        },
        comments: {
          page: page(
            `${url}/capabilities/comments/items`,
            item.comments.map((id) => commentView(request, state.comments.get(id) as FeedComment)),
          ),
        },
      },
      createdDate: item.createdDate,
      feedElementType: 'FeedItem',
      id: item.id,
      isDeleteRestricted: false,
      modifiedDate: item.createdDate,
      parent: parentView(request, item.parentId),
      type: 'TextPost',
      url,
    };
  };

  /** Text of a `body.messageSegments` input: Text segments only. */
  const textOf = (input: unknown): string => {
    const segments = (input as { body?: { messageSegments?: unknown } } | null)?.body?.messageSegments;
    if (!Array.isArray(segments) || segments.length === 0)
      throw invalidInput('The body of the feed element is required: body.messageSegments');
    let text = '';
    for (const segment of segments as Array<{ type?: unknown; text?: unknown }>) {
      if (segment?.type !== 'Text' || typeof segment.text !== 'string')
        throw invalidInput(`Unsupported message segment type: ${String(segment?.type)}`);
      text += segment.text;
    }
    if (text.trim() === '')
      throw invalidInput('The body of the feed element is required: body.messageSegments');
    if (text.length > 10_000)
      throw invalidInput('The body of the feed element is too long (max 10000 characters)');
    return text;
  };

  const get = (pattern: string, handler: (request: EmulatorRequestContext) => unknown) =>
    router.add({
      method: 'GET',
      pattern,
      kind: 'api',
      handler: (request) => ({ status: 200, body: handler(request) }),
    });

  get(CHATTER, (request) =>
    Object.fromEntries(
      ['feed-elements', 'feeds', 'groups', 'users'].map((name) => [name, `${base(request)}/${name}`]),
    ),
  );
  get(`${CHATTER}/users`, (request) => ({
    currentPageToken: 0,
    currentPageUrl: `${base(request)}/users`,
    nextPageToken: null,
    nextPageUrl: null,
    previousPageToken: null,
    previousPageUrl: null,
    users: [...store.rows('User')].map((row) => user(request, row.Id as string)),
  }));
  get(`${CHATTER}/users/:userId`, (request) => {
    const raw = request.params.userId ?? '';
    return user(request, raw === 'me' ? me(request) : (toId18(raw) ?? ''));
  });
  get(`${CHATTER}/groups`, (request) => ({
    currentPageUrl: `${base(request)}/groups`,
    groups: [],
    nextPageUrl: null,
    previousPageUrl: null,
  }));
  get(`${CHATTER}/feeds`, (request) => ({
    favorites: [],
    feeds: FEEDS.map((feed) => ({
      feedElementPostUrl: `${base(request)}/feed-elements`,
      feedElementsUrl: `${base(request)}/feeds/${feed.path}/feed-elements`,
      feedType: feed.feedType,
      feedUrl: `${base(request)}/feeds/${feed.path}`,
      label: feed.label,
    })),
  }));
  for (const feed of FEEDS) {
    get(`${CHATTER}/feeds/${feed.path}/feed-elements`, (request) => {
      const userId = me(request);
      const items = [...state.items.values()].filter(
        (item) => feed.feedType === 'Company' || item.actorId === userId || item.parentId === userId,
      );
      return elementPage(request, `${base(request)}/feeds/${feed.path}/feed-elements`, items, itemView);
    });
  }

  router.add({
    method: 'POST',
    pattern: `${CHATTER}/feed-elements`,
    kind: 'api',
    handler: async (request) => {
      const input = (await request.json()) as { feedElementType?: unknown; subjectId?: unknown } | null;
      if (input?.feedElementType !== 'FeedItem') throw invalidInput('feedElementType must be FeedItem');
      const subject = String(input.subjectId ?? '');
      const parentId = subject === 'me' ? me(request) : toId18(subject);
      if (!parentId || !store.get(parentId)) throw notFound();
      const item: FeedItem = {
        id: context.ids.next('0D5'),
        parentId,
        actorId: me(request),
        text: textOf(input),
        createdDate: state.now(),
        comments: [],
        likes: [],
      };
      state.items.set(item.id, item);
      return { status: 201, body: itemView(request, item) };
    },
  });
  get(`${CHATTER}/feed-elements/:id`, (request) => itemView(request, state.item(request.params.id)));
  router.add({
    method: 'DELETE',
    pattern: `${CHATTER}/feed-elements/:id`,
    kind: 'api',
    handler: (request) => {
      state.deleteItem(state.item(request.params.id));
      return { status: 204 };
    },
  });

  get(`${CHATTER}/feed-elements/:id/capabilities/comments/items`, (request) => {
    const item = state.item(request.params.id);
    const url = `${base(request)}/feed-elements/${item.id}/capabilities/comments/items`;
    return page(
      url,
      item.comments.map((id) => commentView(request, state.comments.get(id) as FeedComment)),
    );
  });
  router.add({
    method: 'POST',
    pattern: `${CHATTER}/feed-elements/:id/capabilities/comments/items`,
    kind: 'api',
    handler: async (request) => {
      const item = state.item(request.params.id);
      const comment: FeedComment = {
        id: context.ids.next('0D7'),
        feedItemId: item.id,
        actorId: me(request),
        text: textOf(await request.json()),
        createdDate: state.now(),
        likes: [],
      };
      state.comments.set(comment.id, comment);
      item.comments.push(comment.id);
      return { status: 201, body: commentView(request, comment) };
    },
  });
  get(`${CHATTER}/comments/:id`, (request) => commentView(request, state.comment(request.params.id)));
  router.add({
    method: 'DELETE',
    pattern: `${CHATTER}/comments/:id`,
    kind: 'api',
    handler: (request) => {
      const comment = state.comment(request.params.id);
      const item = state.items.get(comment.feedItemId);
      if (item) item.comments = item.comments.filter((id) => id !== comment.id);
      for (const likeId of comment.likes) state.likes.delete(likeId);
      state.comments.delete(comment.id);
      return { status: 204 };
    },
  });

  const likeRoute = (
    pattern: string,
    target: (request: EmulatorRequestContext) => { id: string; likes: string[] },
  ) => {
    get(pattern, (request) => {
      const liked = target(request);
      return page(
        `${base(request)}${request.path.slice(base(request).length)}`,
        liked.likes.map((id) => likeView(request, state.likes.get(id) as FeedLike)),
      );
    });
    router.add({
      method: 'POST',
      pattern,
      kind: 'api',
      handler: (request): EmulatorResponse => {
        const liked = target(request);
        return { status: 201, body: likeView(request, state.like(liked.id, liked.likes, me(request))) };
      },
    });
  };
  likeRoute(`${CHATTER}/feed-elements/:id/capabilities/chatter-likes/items`, (request) =>
    state.item(request.params.id),
  );
  likeRoute(`${CHATTER}/comments/:id/likes`, (request) => state.comment(request.params.id));
  const likeOf = (request: EmulatorRequestContext): FeedLike => {
    const like = state.likes.get(toId18(request.params.id ?? '') ?? '');
    if (!like) throw notFound();
    return like;
  };
  get(`${CHATTER}/likes/:id`, (request) => likeView(request, likeOf(request)));
  router.add({
    method: 'DELETE',
    pattern: `${CHATTER}/likes/:id`,
    kind: 'api',
    handler: (request) => {
      const like = likeOf(request);
      if (like.userId !== me(request))
        throw new EmulatorHttpError(403, 'INSUFFICIENT_ACCESS', 'You can only unlike your own likes');
      const holder = like.likedId.startsWith('0D7')
        ? state.comments.get(like.likedId)
        : state.items.get(like.likedId);
      if (holder) holder.likes = holder.likes.filter((id) => id !== like.id);
      state.likes.delete(like.id);
      return { status: 204 };
    },
  });

  router.add({
    method: 'POST',
    pattern: '/services/data/:version/connect/batch',
    kind: 'api',
    handler: async (request) => {
      const input = (await request.json()) as { batchRequests?: unknown; haltOnError?: unknown } | null;
      const requests = input?.batchRequests;
      if (!Array.isArray(requests) || requests.length === 0) throw invalidInput('batchRequests is required');
      if (requests.length > MAX_BATCH)
        throw invalidInput(`A batch can contain at most ${MAX_BATCH} requests`);
      const results: Array<{ result: unknown; statusCode: number }> = [];
      let halted = false;
      for (const raw of requests as Array<{ method?: unknown; url?: unknown; richInput?: unknown }>) {
        if (halted) {
          results.push({
            result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted' }],
            statusCode: 412,
          });
          continue;
        }
        const url = String(raw.url ?? '');
        const response = await dispatchInternal(context.router, request, {
          method: String(raw.method ?? 'GET'),
          url: url.startsWith('/services/')
            ? url
            : `/services/data/${request.versionSegment}${url.startsWith('/') ? '' : '/'}${url}`,
          body: raw.richInput === '' ? undefined : raw.richInput,
        });
        results.push({ result: response.status === 204 ? null : response.body, statusCode: response.status });
        if (response.status >= 400 && input?.haltOnError === true) halted = true;
      }
      return { status: 200, body: { hasErrors: results.some((r) => r.statusCode >= 400), results } };
    },
  });
}

/** A feed element page, newest first (`sort` CreatedDateDesc, the default), `pageSize` ≤ 100. */
function elementPage(
  request: EmulatorRequestContext,
  url: string,
  items: FeedItem[],
  view: (request: EmulatorRequestContext, item: FeedItem) => unknown,
) {
  const rawSize = request.query.get('pageSize');
  const pageSize = rawSize === null ? DEFAULT_PAGE_SIZE : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
    throw invalidInput(`pageSize must be between 1 and ${MAX_PAGE_SIZE}`);
  const sort = request.query.get('sort') ?? 'CreatedDateDesc';
  if (sort !== 'CreatedDateDesc' && sort !== 'LastModifiedDateDesc' && sort !== 'MostRecentActivity')
    throw invalidInput(`Invalid sort: ${sort}`);
  const offset = Number(request.query.get('page') ?? 0) || 0;
  // Newest first; ids grow with creation, which breaks ties within one millisecond.
  const sorted = [...items].sort((a, b) =>
    a.createdDate === b.createdDate ? (a.id < b.id ? 1 : -1) : a.createdDate < b.createdDate ? 1 : -1,
  );
  const slice = sorted.slice(offset, offset + pageSize);
  const next =
    offset + pageSize < sorted.length ? `${url}?page=${offset + pageSize}&pageSize=${pageSize}` : null;
  return {
    currentPageToken: String(offset),
    currentPageUrl: url,
    elements: slice.map((item) => view(request, item)),
    isModifiedToken: null,
    isModifiedUrl: null,
    nextPageToken: next ? String(offset + pageSize) : null,
    nextPageUrl: next,
    updatesToken: null,
    updatesUrl: null,
  };
}
