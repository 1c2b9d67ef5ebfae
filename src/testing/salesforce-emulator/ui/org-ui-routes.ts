import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorModuleContext } from '../module.js';
import { recordAttributes } from '../rest/record-format.js';
import type { ObjectSchema } from '../store/schema.js';

/** Objects with a tab in a new org's standard apps, in tab order. */
const TAB_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Campaign', 'Task', 'User', 'Individual'];
/** Lightning (theme4) colours of the standard object icons. */
const COLORS: Readonly<Record<string, string>> = {
  Account: '7F8DE1',
  Contact: 'A094ED',
  Lead: 'F88962',
  Opportunity: 'FCB95B',
  Campaign: 'F49756',
  Task: '4BC076',
  User: '65CAE4',
  Individual: '62B7ED',
};

/**
 * `GET /recent` (records the user viewed — SOQL `FOR VIEW` — newest first, `?limit=` ≤ 200),
 * `GET /tabs` and `GET /theme`, answered from the emulated objects.
 */
export function registerOrgUiRoutes(context: EmulatorModuleContext): void {
  const { router, store } = context;
  const tabSchemas = (): ObjectSchema[] =>
    TAB_OBJECTS.map((name) => store.schema(name)).filter((s): s is ObjectSchema => s !== undefined);
  const icon = (request: { baseUrl: string }, name: string, size: number, type: 'svg' | 'png') => ({
    contentType: type === 'svg' ? 'image/svg+xml' : 'image/png',
    height: type === 'svg' ? 0 : size,
    theme: 'theme4',
    url: `${request.baseUrl}/img/icon/t4v35/standard/${name.toLowerCase()}${type === 'svg' ? '.svg' : `_${size}.png`}`,
    width: type === 'svg' ? 0 : size,
  });
  const colors = (name: string) => [{ color: COLORS[name] ?? '9602C7', context: 'primary', theme: 'theme4' }];

  router.add({
    method: 'GET',
    pattern: '/services/data/:version/recent',
    kind: 'api',
    handler: (request) => {
      const raw = request.query.get('limit');
      const limit = raw === null ? 200 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
        throw new EmulatorHttpError(400, 'INVALID_QUERY_FILTER_OPERATOR', 'limit must be an integer between 1 and 200');
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
    handler: (request) => ({
      status: 200,
      body: tabSchemas().map((schema) => ({
        colors: colors(schema.name),
        custom: false,
        iconUrl: icon(request, schema.name, 32, 'png').url,
        icons: [icon(request, schema.name, 0, 'svg'), icon(request, schema.name, 60, 'png')],
        label: schema.labelPlural,
        miniIconUrl: icon(request, schema.name, 16, 'png').url,
        name: `standard-${schema.name}`,
        sobjectName: schema.name,
        url: `${request.baseUrl}/${schema.keyPrefix}/o`,
      })),
    }),
  });

  router.add({
    method: 'GET',
    pattern: '/services/data/:version/theme',
    kind: 'api',
    handler: (request) => ({
      status: 200,
      body: {
        themeItems: tabSchemas().map((schema) => ({
          colors: colors(schema.name),
          icons: [icon(request, schema.name, 0, 'svg'), icon(request, schema.name, 120, 'png')],
          name: schema.name,
        })),
      },
    }),
  });
}
