/**
 * Run `worker` over every item of `source` with at most `concurrency` in flight. All workers pull
 * from one iterator (an async generator queues concurrent `next()` calls), so input is read
 * lazily and memory stays bounded by `concurrency` items. The first error stops new work and is
 * rethrown after in-flight items settle.
 */
export async function runPool<T>(
  source: AsyncIterator<T> | Iterator<T>,
  concurrency: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let failed = false;
  let firstError: unknown;
  const loop = async () => {
    while (!failed) {
      try {
        const next = await source.next();
        if (next.done) return;
        await worker(next.value);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, loop));
  if (failed) throw firstError;
}

/** Run `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function mapLimit<T, R>(
  items: ReadonlyArray<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  await runPool(items.entries(), Math.min(limit, items.length), async ([index, item]) => {
    out[index] = await fn(item);
  });
  return out;
}
