import type { EmulatorModule } from '../module.js';
import { registerCollectionRoutes } from './collection-routes.js';
import { registerCompositeRoutes } from './composite-routes.js';
import { QueryCursors, registerQueryRoutes } from './query-routes.js';
import { registerSearchRoutes } from './search-routes.js';
import { registerSObjectRoutes } from './sobject-routes.js';

/** The REST API: versions, resources, limits, describe, records, collections, query and search. */
export const restModule: EmulatorModule = {
  name: 'rest',
  create(context) {
    const cursors = new QueryCursors();
    registerQueryRoutes(context, cursors, (id) => context.resolveExplainSource(id));
    registerCollectionRoutes(context);
    registerCompositeRoutes(context);
    registerSObjectRoutes(context);
    registerSearchRoutes(context);
    return { reset: () => cursors.clear() };
  },
};
