import type { EmulatorModule } from '../module.js';
import { registerLayoutRoutes } from './layouts.js';
import { registerListViewRoutes } from './list-views.js';
import { registerOrgUiRoutes } from './org-ui-routes.js';

/**
 * What the REST API offers for user interfaces: page/compact/approval layouts
 * (`sobjects/X/describe/…`), list views with results and query plans, `recent`, `tabs` and
 * `theme`. Installed before the REST module so `sobjects/X/describe/layouts` and
 * `sobjects/X/listviews` are not taken for record or external-id paths.
 */
export const uiModule: EmulatorModule = {
  name: 'ui',
  create(context) {
    registerLayoutRoutes(context);
    registerListViewRoutes(context);
    registerOrgUiRoutes(context);
    for (const resource of ['recent', 'tabs', 'theme']) context.registerResource(resource);
    return undefined;
  },
};
