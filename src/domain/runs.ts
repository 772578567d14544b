import { randomBytes } from 'node:crypto';
import { emptyCounts, type RunRecord, type RunTrigger } from './records';

const MAX_TICKS = 9_999_999_999_999;

/**
 * A run id that sorts newest first as a RowKey (Table Storage returns a partition in RowKey order): the
 * inverted millisecond timestamp, then a random suffix so runs queued in the same millisecond stay apart.
 */
export function newRunId(now: Date | number = Date.now()): string {
  const ms = typeof now === 'number' ? now : now.getTime();
  return `${String(MAX_TICKS - ms).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
}

/** A queued run at `now`; `id` is given when the run's message already named it (a scheduled run). */
export function newQueuedRun(portalId: string, trigger: RunTrigger, now: Date, id: string = newRunId(now)): RunRecord {
  return {
    id,
    portalId,
    trigger,
    status: 'queued',
    queuedAt: now.toISOString(),
    counts: emptyCounts(),
    graphRequests: 0,
    throttledRetries: 0,
    conflicts: [],
    attempts: 0,
  };
}
