import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import { recordAttributes } from '../rest/record-format.js';
import type { ObjectSchema } from '../store/schema.js';
import { standardTabs, tabIcon, tabObjects, themeColors } from './tabs.js';

/**
 * `GET /recent` (records the user viewed — SOQL `FOR VIEW` — newest first, `?limit=` ≤ 200),
 * `GET /tabs` and `GET /theme`, answered from the emulated objects.
 */
export function registerOrgUiRoutes(context: EmulatorModuleContext): void {
  const { router, store } = context;
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/recent',
    kind: 'api',
    handler: (request) => {
      const raw = request.query.get('limit');
      const limit = raw === null ? 200 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
        throw new EmulatorHttpError(
          400,
          'INVALID_QUERY_FILTER_OPERATOR',
          'limit must be an integer between 1 and 200',
        );
      }
      const viewed: Array<{ schema: ObjectSchema; id: string; name: unknown; at: string }> = [];
      for (const schema of store.schemas()) {
        if (!schema.field('LastViewedDate')) continue;
        for (const row of store.rows(schema.name)) {
          if (typeof row.LastViewedDate === 'string') {
            viewed.push({ schema, id: row.Id as string, name: row.Name ?? null, at: row.LastViewedDate });
          }
        }
      }
      viewed.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
      return {
        status: 200,
        body: viewed.slice(0, limit).map((v) => ({
          attributes: recordAttributes(v.schema.name, v.id, request.versionSegment),
          Id: v.id,
          Name: v.name,
        })),
      };
    },
  });

  router.add({
    method: 'GET',
    pattern: '/services/data/:version/tabs',
    kind: 'api',
    handler: (request) => ({ status: 200, body: standardTabs(store, request.baseUrl) }),
  });

  router.add({
    method: 'GET',
    pattern: '/services/data/:version/theme',
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: {
        themeItems: tabObjects(store).map((schema) => ({
          colors: themeColors(schema.name),
          icons: [
            tabIcon(request.baseUrl, schema.name, 0, 'svg'),
            tabIcon(request.baseUrl, schema.name, 120, 'png'),
          ],
          name: schema.name,
        })),
      },
    }),
  });
}
