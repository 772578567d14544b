import { readAhead, started } from './async';

async function* counted(log: string[], n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i += 1) {
    log.push(`read ${i}`);
    yield i;
  }
  log.push('end');
}

describe('started', () => {
  test('reads ahead before the caller iterates, then yields every item in order', async () => {
    const log: string[] = [];
    const items = started(readAhead(counted(log, 4), 2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Two items were read while nobody iterated yet.
    expect(log).toEqual(['read 0', 'read 1']);
    const seen: number[] = [];
    for await (const item of items) seen.push(item);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(log).toContain('end');
  });

  test('a failure of the source surfaces on iteration, not before', async () => {
    async function* failing(): AsyncGenerator<number> {
      await Promise.resolve();
      throw new Error('page failed');
      yield 0; // never reached: the generator's type
    }
    const items = started(failing());
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(items.next()).rejects.toThrow('page failed');
  });
});
