import { largeReadSlots, Slots } from './memoryBudget';

describe('large-read slots', () => {
  it('let at most `capacity` holders in, the others in the order they came', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    // Each holder leaves when the test says so: no timers, so the order does not depend on the machine's load.
    const leave = new Map<string, () => void>();
    const hold = async (name: string) => {
      const release = await slots.acquire();
      order.push(`in ${name}`);
      await new Promise<void>((resolve) => leave.set(name, resolve));
      order.push(`out ${name}`);
      release();
      release(); // a second release gives back nothing
    };
    const settle = () => new Promise((r) => setImmediate(r));
    const all = Promise.all(['a', 'b', 'c', 'd'].map(hold));
    await settle();
    expect(order).toEqual(['in a', 'in b']);
    leave.get('b')!();
    await settle();
    expect(order).toEqual(['in a', 'in b', 'out b', 'in c']);
    leave.get('c')!();
    await settle();
    expect(order.slice(4)).toEqual(['out c', 'in d']);
    leave.get('a')!();
    leave.get('d')!();
    await all;
    expect(slots.peak).toBe(2);
    expect(slots.taken).toBe(4);
    // All given back: two can go in at once again.
    const [r1, r2] = await Promise.all([slots.acquire(), slots.acquire()]);
    r1();
    r2();
  });

  it('number as many as the heap limit holds, at least one', () => {
    expect(largeReadSlots().capacity).toBeGreaterThanOrEqual(1);
  });
});
