import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The parts of host.json the queue worker depends on. The Functions host reads them in Azure; the queue function
 * needs maxDequeueCount to know its last attempt, and the local host applies all of them itself.
 */
export interface HostQueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  /** Delay before a failed message is visible again (the retry delay). */
  visibilityTimeoutMs: number;
  maxPollingIntervalMs: number;
  messageEncoding: 'base64' | 'none';
}

export interface HostSettings {
  queues: HostQueueSettings;
  /** functionTimeout; undefined means unbounded. */
  functionTimeoutMs?: number;
}

/** "hh:mm:ss" or "d.hh:mm:ss" (a .NET TimeSpan, as host.json writes durations), in milliseconds. */
export function parseTimeSpan(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a duration of the form hh:mm:ss`);
  const [, days, hours, minutes, seconds, fraction] = match;
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + ms;
}

const timeSpan = z.string().transform((value, ctx) => {
  try {
    return parseTimeSpan(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

// Defaults are the Functions host's own (Storage queues extension 5.x).
const hostJsonSchema = z.object({
  functionTimeout: z.union([timeSpan, z.null()]).optional(),
  extensions: z
    .object({
      queues: z
        .object({
          batchSize: z.number().int().min(1).max(32).default(16),
          newBatchThreshold: z.number().int().min(0).optional(),
          maxDequeueCount: z.number().int().min(1).default(5),
          visibilityTimeout: timeSpan.default(0),
          // The host accepts a TimeSpan or (older hosts) milliseconds.
          maxPollingInterval: z.union([timeSpan, z.number().int().positive()]).default(60_000),
          messageEncoding: z.enum(['base64', 'none']).default('base64'),
        })
        .default({
          batchSize: 16,
          maxDequeueCount: 5,
          visibilityTimeout: 0,
          maxPollingInterval: 60_000,
          messageEncoding: 'base64',
        }),
    })
    .default({
      queues: {
        batchSize: 16,
        maxDequeueCount: 5,
        visibilityTimeout: 0,
        maxPollingInterval: 60_000,
        messageEncoding: 'base64',
      },
    }),
});

export function parseHostJson(json: unknown): HostSettings {
  const parsed = hostJsonSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`host.json is invalid: ${problems}`);
  }
  const { queues } = parsed.data.extensions;
  return {
    queues: {
      batchSize: queues.batchSize,
      newBatchThreshold: queues.newBatchThreshold ?? Math.ceil(queues.batchSize / 2),
      maxDequeueCount: queues.maxDequeueCount,
      visibilityTimeoutMs: queues.visibilityTimeout,
      maxPollingIntervalMs: queues.maxPollingInterval,
      messageEncoding: queues.messageEncoding,
    },
    functionTimeoutMs: parsed.data.functionTimeout ?? undefined,
  };
}

/** host.json sits at the app root: the working directory of the Functions host, or above the compiled code. */
export function findHostJson(start: string = __dirname): string | undefined {
  const candidates = [path.join(process.cwd(), 'host.json')];
  for (let dir = start; ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'host.json'));
    if (path.dirname(dir) === dir) break;
  }
  return candidates.find((candidate) => existsSync(candidate));
}

let cached: HostSettings | undefined;

/** The app's host.json settings (read once per process); the Functions defaults when there is none. */
export function hostSettings(): HostSettings {
  if (!cached) {
    const file = findHostJson();
    cached = parseHostJson(file ? JSON.parse(readFileSync(file, 'utf8')) : {});
  }
  return cached;
}
