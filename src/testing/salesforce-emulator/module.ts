import type { EmulatorRouter } from './http/router.js';
import type { EmulatorSession } from './http/types.js';
import type { IdGenerator } from './ids.js';
import type { EmulatorQueryResult } from './soql/execute.js';
import type { EmulatorClock, OrgStore } from './store/org-store.js';

/** What a module (REST, OAuth, Bulk 2.0, SOAP, …) gets to wire itself into the emulator. */
export interface EmulatorModuleContext {
  /** Register routes here (see docs/emulator-rules.md). */
  router: EmulatorRouter;
  /** The org's records and schemas; writes return Salesforce-shaped per-record results. */
  store: OrgStore;
  /** Runs SOQL against the store (`includeDeleted` for queryAll semantics). */
  query(soql: string, options?: { includeDeleted?: boolean; apiVersion?: number }): EmulatorQueryResult;
  clock: EmulatorClock;
  ids: IdGenerator;
  /** 18-character org id. */
  orgId: string;
  /** 18-character id of the API user (`CreatedById`, `createdById` of jobs). */
  userId: string;
  /** Adds an entry to the `GET /services/data/vXX.X` resource list, e.g. `('jobs/ingest')`. */
  registerResource(name: string): void;
  /**
   * Lets a module answer `GET /query?explain=<id>` for ids it owns (list views, reports): the
   * resolver returns the SOQL behind the id, or `undefined` when the id is not its own.
   */
  registerExplainSource(resolve: (id: string) => string | undefined): void;
  /** The SOQL behind a list view or report id (see {@link registerExplainSource}). */
  resolveExplainSource(id: string): string | undefined;
  /** Daily API usage (what `Sforce-Limit-Info` and `/limits` report). */
  apiUsage(): { used: number; max: number };
  /** When the org was created (earliest date `sobjects/X/deleted` can cover). */
  createdAt: Date;
  /**
   * Resolves an access token a route reads itself (e.g. a SOAP `SessionHeader`, on a `public`
   * route) to its session; `undefined` when it is unknown, revoked or expired.
   */
  authenticate(token: string): EmulatorSession | undefined;
  /**
   * Counts one API call for a route that authenticates itself (SOAP); `false` when the daily
   * limit is spent (the caller then answers `REQUEST_LIMIT_EXCEEDED`).
   */
  consumeApiCall(): boolean;
}

/** What {@link EmulatorModule.create} returns: per-emulator hooks (state lives in its closure). */
export interface EmulatorModuleInstance {
  /** Drops module state on `emulator.reset()`. */
  reset?(): void;
  /** Releases timers or other resources on `emulator.stop()`. */
  stop?(): void | Promise<void>;
}

/** A pluggable part of the emulator; `create` runs once per emulator instance. */
export interface EmulatorModule {
  /** Short name, for diagnostics. */
  name: string;
  /** Registers routes; keep state inside the closure, never at module level. */
  create(context: EmulatorModuleContext): EmulatorModuleInstance | undefined;
}
