import { largeReadSlots, Slots } from './memoryBudget';

describe('large-read slots', () => {
  it('let at most `capacity` holders in, the others in the order they came', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const hold = async (name: string, ms: number) => {
      const release = await slots.acquire();
      order.push(`in ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`out ${name}`);
      release();
      release(); // a second release gives back nothing
    };
    await Promise.all([hold('a', 30), hold('b', 10), hold('c', 5), hold('d', 5)]);
    expect(slots.peak).toBe(2);
    expect(slots.taken).toBe(4);
    expect(order.indexOf('in c')).toBeGreaterThan(order.indexOf('out b'));
    expect(order.indexOf('in d')).toBeGreaterThan(order.indexOf('out c'));
    // All given back: two can go in at once again.
    const [r1, r2] = await Promise.all([slots.acquire(), slots.acquire()]);
    r1();
    r2();
  });

  it('number as many as the heap limit holds, at least one', () => {
    expect(largeReadSlots().capacity).toBeGreaterThanOrEqual(1);
  });
});
