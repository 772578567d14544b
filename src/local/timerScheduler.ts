import { CronExpressionParser } from 'cron-parser';

/**
 * NCRONTAB as Azure Functions reads it: six fields, `{second} {minute} {hour} {day} {month} {day-of-week}`,
 * evaluated in UTC (Azure's default when WEBSITE_TIME_ZONE is not set).
 */
export function nextOccurrence(schedule: string, after: Date = new Date()): Date {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(
      `Schedule "${schedule}" is not an NCRONTAB expression with six fields ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. "0 0 * * * *" for hourly.`,
    );
  }
  try {
    return CronExpressionParser.parse(fields.join(' '), { currentDate: after, tz: 'UTC', strict: false })
      .next()
      .toDate();
  } catch (error) {
    throw new Error(`Schedule "${schedule}" is not a valid NCRONTAB expression: ${(error as Error).message}`);
  }
}

export interface TimerTick {
  /** When this tick was due. */
  due: Date;
  /** The tick came more than a second late (the process was busy or asleep). */
  isPastDue: boolean;
  last?: Date;
  next: Date;
}

// setTimeout's limit (~24.8 days); longer waits are chained.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Fires `onTick` on every occurrence of the schedule. Like the Functions host's singleton timer, a tick that
 * comes while the previous one is still running is skipped, never run concurrently.
 */
export class TimerScheduler {
  private handle: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private last: Date | undefined;
  next: Date;

  constructor(
    private readonly schedule: string,
    private readonly onTick: (tick: TimerTick) => Promise<void>,
    private readonly onSkip: (due: Date) => void = () => undefined,
  ) {
    this.next = nextOccurrence(schedule);
  }

  start(): void {
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    const delay = Math.min(Math.max(this.next.getTime() - Date.now(), 0), MAX_DELAY_MS);
    this.handle = setTimeout(() => {
      if (Date.now() < this.next.getTime()) return this.arm();
      this.fire();
    }, delay);
  }

  private fire(): void {
    const due = this.next;
    const late = Date.now() - due.getTime() > 1000;
    // The next occurrence is after now, so ticks missed while busy are not replayed one by one.
    this.next = nextOccurrence(this.schedule, new Date(Math.max(Date.now(), due.getTime())));
    if (this.running) {
      this.onSkip(due);
    } else {
      const tick: TimerTick = { due, isPastDue: late, last: this.last, next: this.next };
      this.last = due;
      // onTick reports its own failures; the schedule goes on either way.
      this.running = this.onTick(tick)
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }
    this.arm();
  }

  /** Stops scheduling and waits for a running tick to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    await this.running?.catch(() => undefined);
  }
}
