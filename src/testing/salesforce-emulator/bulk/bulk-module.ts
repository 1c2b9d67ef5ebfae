import type { EmulatorModule } from '../module.js';
import { BulkControls, registerBulkControlRoute } from './bulk-controls.js';
import { registerBulkFaultRoute } from './bulk-faults.js';
import type { IngestJob } from './ingest-job.js';
import { registerIngestRoutes } from './ingest-routes.js';
import { JobSpool } from './job-spool.js';
import { type QueryJob, registerQueryJobRoutes } from './query-routes.js';

/** Records per query-results page when the client sends no `maxRecords`. */
export const DEFAULT_QUERY_PAGE_SIZE = 50_000;

/**
 * Bulk API 2.0: ingest jobs (`/jobs/ingest`: insert, update, upsert, delete, hardDelete with
 * streamed CSV uploads and results) and query jobs (`/jobs/query` with `Sforce-Locator` paging),
 * plus the `POST /__emulator/bulk2` test control (see `emulator.bulk`).
 */
export const bulkModule: EmulatorModule = {
  name: 'bulk2',
  create(context) {
    const spool = new JobSpool();
    const controls = new BulkControls(DEFAULT_QUERY_PAGE_SIZE);
    const ingest = { jobs: new Map<string, IngestJob>(), running: new Set<Promise<void>>(), spool, controls };
    const query = { jobs: new Map<string, QueryJob>(), controls, timers: new Set<NodeJS.Timeout>() };
    context.registerResource('jobs/ingest');
    context.registerResource('jobs/query');
    registerBulkControlRoute(context, controls);
    registerBulkFaultRoute(context, controls.faults);
    registerIngestRoutes(context, ingest);
    registerQueryJobRoutes(context, query);
    const dropQueryJobs = (): void => {
      for (const timer of query.timers) clearTimeout(timer);
      query.timers.clear();
      query.jobs.clear();
    };
    return {
      reset() {
        // Running jobs finish against their own (now unlisted) state; their files go with the spool.
        for (const job of ingest.jobs.values()) if (job.state === 'InProgress') job.state = 'Aborted';
        ingest.jobs.clear();
        dropQueryJobs();
        controls.reset();
        spool.dispose();
      },
      async stop() {
        for (const job of ingest.jobs.values()) if (job.state === 'InProgress') job.state = 'Aborted';
        await Promise.allSettled([...ingest.running]);
        ingest.jobs.clear();
        dropQueryJobs();
        spool.dispose();
      },
    };
  },
};
