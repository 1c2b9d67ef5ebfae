import { describe, expect, it } from 'vitest';
import { SyncScheduler, type SyncTaskRun } from '../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('SyncScheduler', () => {
  it('runs on an interval and never overlaps a slow run', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const scheduler = new SyncScheduler({
      intervalMs: 5,
      tasks: [
        {
          name: 'slow',
          run: async () => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            runs += 1;
            await sleep(30);
            active -= 1;
          },
        },
      ],
    });
    scheduler.start();
    await waitFor(() => runs >= 2);
    // Extra triggers while a run is in flight join it rather than starting another.
    await Promise.all([scheduler.runNow(), scheduler.runNow()]);
    await scheduler.stop();
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
  });

  it('stop() waits for the run in flight and schedules nothing after it', async () => {
    const gate = deferred();
    const events: string[] = [];
    const scheduler = new SyncScheduler({
      intervalMs: 1,
      runOnStart: true,
      tasks: [
        {
          name: 'push',
          run: async () => {
            events.push('start');
            await gate.promise;
            events.push('end');
          },
        },
      ],
    });
    scheduler.start();
    await waitFor(() => events.length === 1);
    expect(scheduler.running).toBe(true);
    const stopped = scheduler.stop().then(() => events.push('stopped'));
    await sleep(5);
    expect(events).toEqual(['start']);
    gate.resolve();
    await stopped;
    expect(events).toEqual(['start', 'end', 'stopped']);
    await sleep(20);
    expect(events.filter((e) => e === 'start')).toHaveLength(1);
    expect(scheduler.running).toBe(false);
  });

  it('stop({ abort: true }) aborts the run in flight through its signal', async () => {
    let aborted = false;
    const scheduler = new SyncScheduler({
      intervalMs: 1_000,
      runOnStart: true,
      tasks: [
        {
          name: 'pull',
          run: ({ signal }) =>
            new Promise<void>((resolve) => {
              signal.addEventListener('abort', () => {
                aborted = true;
                resolve();
              });
            }),
        },
      ],
    });
    scheduler.start();
    await waitFor(() => scheduler.running);
    await scheduler.stop({ abort: true });
    expect(aborted).toBe(true);
  });

  it('reports failures to onError and the logger, and keeps the schedule going', async () => {
    const errors: unknown[] = [];
    const runs: SyncTaskRun[] = [];
    const logged: string[] = [];
    let calls = 0;
    const scheduler = new SyncScheduler({
      intervalMs: 2,
      runOnStart: true,
      tasks: [
        {
          name: 'flaky',
          run: async () => {
            calls += 1;
            if (calls === 1) throw new Error('CRM down');
            return { created: 1 };
          },
        },
        { name: 'second', run: async () => 'ok' },
      ],
      onError: (error) => errors.push(error),
      onRun: (run) => runs.push(run),
      logger: {
        debug() {},
        info() {},
        warn() {},
        error(message, data) {
          logged.push(`${message} ${String(data?.error)}`);
        },
      },
    });
    scheduler.start();
    await waitFor(() => runs.some((r) => r.tick > 1));
    await scheduler.stop();
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('CRM down');
    expect(logged[0]).toMatch(/scheduled sync task failed Error: CRM down/);
    // The failing task did not stop the second task of the same tick, nor later ticks.
    expect(runs[0]).toMatchObject({ task: 'flaky', tick: 1 });
    expect(runs[1]).toMatchObject({ task: 'second', tick: 1, result: 'ok' });
    expect(runs.some((r) => r.task === 'flaky' && r.tick > 1 && r.error === undefined)).toBe(true);
  });

  it('adds random jitter to each interval through the injected timers', async () => {
    const delays: number[] = [];
    const scheduler = new SyncScheduler({
      intervalMs: 1_000,
      jitterMs: 500,
      random: () => 0.5,
      tasks: [{ name: 't', run: async () => undefined }],
      timers: {
        setTimeout: (_fn, ms) => {
          delays.push(ms);
          return delays.length;
        },
        clearTimeout: () => {},
      },
    });
    scheduler.start();
    expect(delays).toEqual([1_250]);
    await scheduler.stop();
  });

  it('refuses invalid options', () => {
    expect(() => new SyncScheduler({ intervalMs: 0, tasks: [] })).toThrow(/intervalMs/);
    expect(() => new SyncScheduler({ intervalMs: 10, tasks: [{ name: 'x' } as never] })).toThrow(/tasks/);
    expect(() => new SyncScheduler({ intervalMs: 10, jitterMs: -1, tasks: [] })).toThrow(/jitterMs/);
  });
});
