/** Small helpers for work in flight at once; nothing here knows the app. */

/** Runs `work` over the items with at most `limit` in flight; results keep the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Yields the pages of `source`, reading up to `depth` pages ahead of the consumer. */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const fill = (): void => {
    while (queue.length < depth) {
      const next = iterator.next();
      next.catch(() => undefined); // awaited in turn below; this only keeps a failure from going unhandled meanwhile
      queue.push(next);
    }
  };
  try {
    for (;;) {
      fill();
      const step = await (queue.shift() as Promise<IteratorResult<T>>);
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * Starts `source` at once (its first step is asked for now, not when the caller first iterates): a reader that
 * reads ahead is already reading while the caller prepares.
 */
export function started<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  const first = source.next();
  first.catch(() => undefined); // awaited on the first iteration; this only keeps a failure from going unhandled
  return (async function* () {
    try {
      const step = await first;
      if (step.done) return;
      yield step.value;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await source.return(undefined);
    }
  })();
}
