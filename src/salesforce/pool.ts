/**
 * Run `worker` over every item of `source` with at most `concurrency` in flight. All workers pull
 * from one iterator (an async generator queues concurrent `next()` calls), so input is read
 * lazily and memory stays bounded by `concurrency` items. The first error stops new work and is
 * rethrown after in-flight items settle.
 */
export async function runPool<T>(
  source: AsyncIterator<T>,
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

/** Group items of `source` into arrays of at most `size`. */
export async function* chunks<T>(source: AsyncIterable<T> | Iterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
