import { getHeapStatistics } from 'node:v8';

/**
 * How many full reads of large tenants one worker process runs at once. One such run holds a compact digest of
 * the portal's ledger and a batch of 10,000 users (`npm run bench`: a 100,000-user tenant's runs fit a 320 MB
 * heap); several at once would outgrow the heap the instance allows (NODE_OPTIONS in infra/main.bicep), so the
 * others wait for a slot. Small tenants and delta runs never wait.
 */
export const LARGE_TENANT_USERS = 20_000;
// (A first sync knows its size only from the plans: the licenses in use, summed over the plans, count too.)
/** The heap one large full read is given. */
export const LARGE_READ_HEAP_BYTES = 256 * 1024 * 1024;

/** A counting semaphore, first come first served. */
export class Slots {
  private inUse = 0;
  /** The most holders at once so far. */
  peak = 0;
  /** Slots handed out so far. */
  taken = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** Waits for a slot; the returned function gives it back (once). */
  async acquire(): Promise<() => void> {
    if (this.inUse >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inUse += 1;
    this.peak = Math.max(this.peak, this.inUse);
    this.taken += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next waiter
      else this.inUse -= 1;
    };
  }
}

let slots: Slots | undefined;

/** The process's slots for large full reads: as many as the heap limit holds, at least one. */
export function largeReadSlots(): Slots {
  slots ??= new Slots(Math.max(1, Math.floor(getHeapStatistics().heap_size_limit / LARGE_READ_HEAP_BYTES)));
  return slots;
}

/** Tests: replace the process's slots. */
export function setLargeReadSlots(next: Slots): void {
  slots = next;
}
