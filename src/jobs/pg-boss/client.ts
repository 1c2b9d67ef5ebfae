/**
 * The parts of a pg-boss 12 `PgBoss` instance the runner uses, structurally typed so our published
 * types do not require `pg-boss` to be installed.
 */
export interface PgBossClient {
  start(): Promise<unknown>;
  stop(options?: { graceful?: boolean; timeout?: number; close?: boolean }): Promise<void>;
  createQueue(name: string, options?: Record<string, unknown>): Promise<void>;
  getQueue(name: string): Promise<unknown | null>;
  send(name: string, data?: object | null, options?: Record<string, unknown>): Promise<string | null>;
  insert(name: string, jobs: Record<string, unknown>[], options?: Record<string, unknown>): Promise<unknown>;
  fetch<T>(name: string, options?: Record<string, unknown>): Promise<PgBossFetchedJob<T>[]>;
  complete(
    name: string,
    id: PgBossAttempt | PgBossAttempt[],
    data?: object | null,
  ): Promise<PgBossCommandResponse>;
  fail(
    name: string,
    id: PgBossAttempt | PgBossAttempt[],
    data?: object | null,
  ): Promise<PgBossCommandResponse>;
  touch(name: string, id: PgBossAttempt | PgBossAttempt[]): Promise<PgBossCommandResponse>;
  findJobs<T>(name: string, options?: Record<string, unknown>): Promise<PgBossFetchedJob<T>[]>;
  redrive(name: string, options?: Record<string, unknown>): Promise<number>;
  getDb(): { executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A job as `fetch({ includeMetadata: true })` / `findJobs` return it. */
export interface PgBossFetchedJob<T> {
  id: string;
  data: T;
  retryCount: number;
  retryLimit?: number;
  output?: unknown;
  completedOn?: Date | null;
  createdOn?: Date;
  /** Dead-lettered jobs: the source job's output (our `{ error }`) and retries used. */
  sourceOutput?: unknown;
  sourceRetryCount?: number | null;
}

/** A job attempt: settling by attempt leaves a job alone once it was claimed again elsewhere. */
export interface PgBossAttempt {
  id: string;
  retryCount: number;
}

/** What complete/fail/touch report. */
export interface PgBossCommandResponse {
  affected?: number;
  jobs?: string[];
}
