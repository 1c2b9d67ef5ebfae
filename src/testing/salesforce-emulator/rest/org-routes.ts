import type { EmulatorModuleContext } from '../module.js';
import { listVersions } from '../versions.js';

/**
 * Resources listed by `GET /services/data/vXX.X` before modules add theirs (`registerResource`).
 * Only what the emulator serves: a listed resource that answers 404 misleads discovery-driven
 * clients (jsforce, the sf CLI), so nothing is advertised without its routes.
 */
export const BASE_RESOURCES = ['sobjects', 'query', 'queryAll', 'composite', 'limits', 'identity'];

/**
 * Registers the versions list (public, not counted, no `Sforce-Limit-Info` — as documented), the
 * per-version resource list and `limits`.
 */
export function registerOrgRoutes(context: EmulatorModuleContext, resources: () => string[]): void {
  const { router } = context;
  router.add({
    method: 'GET',
    pattern: '/services/data',
    kind: 'public',
    handler: () => ({ status: 200, body: listVersions() }),
  });

  router.add({
    method: 'GET',
    pattern: '/services/data/:version',
    kind: 'api',
    handler: (request) => {
      const body: Record<string, string> = {};
      for (const name of resources()) {
        body[name] =
          name === 'identity'
            ? `${request.baseUrl}/id/${context.orgId}/${context.userId}`
            : `/services/data/${request.versionSegment}/${name}`;
      }
      return { status: 200, body };
    },
  });

  router.add({
    method: 'GET',
    pattern: '/services/data/:version/limits',
    kind: 'api',
    handler: () => {
      const usage = context.apiUsage();
      const limit = (max: number, remaining = max) => ({ Max: max, Remaining: remaining });
      return {
        status: 200,
        body: {
          ConcurrentAsyncGetReportInstances: limit(200),
          ConcurrentSyncReportRuns: limit(20),
          DailyApiRequests: limit(usage.max, Math.max(0, usage.max - usage.used)),
          DailyAsyncApexExecutions: limit(250000),
          DailyBulkApiBatches: limit(15000),
          DailyBulkV2QueryFileStorageMB: limit(976562),
          DailyBulkV2QueryJobs: limit(10000),
          DailyGenericStreamingApiEvents: limit(10000),
          DailyStreamingApiEvents: limit(10000),
          DailyWorkflowEmails: limit(390),
          DataStorageMB: limit(5),
          FileStorageMB: limit(20),
          HourlyPublishedPlatformEvents: limit(50000),
          MassEmail: limit(10),
          SingleEmail: limit(15),
        },
      };
    },
  });
}
