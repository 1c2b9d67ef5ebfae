import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRouter } from '../http/router.js';
import { apexPublicDeclarations } from './completions-apex.js';
import { visualforceCompletions } from './completions-visualforce.js';

/**
 * The API version each completion type first appears in (Tooling API Developer Guide, REST
 * Resources): Apex symbols in 28.0, Visualforce markup in 38.0. Below it the resource does not exist.
 */
const FIRST_VERSION = { apex: 28, visualforce: 38 } as const;

type CompletionType = keyof typeof FIRST_VERSION;

/**
 * `GET /services/data/vXX.X/tooling/completions?type=apex|visualforce`: `{ publicDeclarations }`
 * for Apex, `{ completions }` for Visualforce, each a documented subset (see the data files).
 * A missing or other `type` → 400 `INVALID_TYPE` (Salesforce's answer is not documented).
 */
export function registerCompletionsRoute(router: EmulatorRouter): void {
  router.add({
    method: 'GET',
    pattern: '/services/data/:version/tooling/completions',
    kind: 'api',
    handler: (request) => {
      const type = request.query.get('type') ?? '';
      if (!isCompletionType(type))
        throw new EmulatorHttpError(
          400,
          'INVALID_TYPE',
          `Unsupported completion type: '${type}'. Valid types are apex and visualforce`,
        );
      if (request.apiVersion < FIRST_VERSION[type]) throw notFound();
      const body =
        type === 'apex'
          ? { publicDeclarations: apexPublicDeclarations() }
          : { completions: visualforceCompletions() };
      return { status: 200, body };
    },
  });
}

function isCompletionType(type: string): type is CompletionType {
  return Object.hasOwn(FIRST_VERSION, type);
}
