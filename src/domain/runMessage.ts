import { z } from 'zod';
import { runTriggerSchema } from './records';

/** One queue message per portal run: ids only, never data or secrets. */
export const runMessageSchema = z
  .object({
    portalId: z.string().min(1).max(64),
    runId: z.string().min(1).max(64),
    trigger: runTriggerSchema.exclude(['dryRun']),
    /**
     * When the run was queued. The timer writes no run record for a scheduled run (the worker creates it when it
     * picks the message up), so the message carries the time; older messages without it stay valid.
     */
    queuedAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export type RunMessage = z.infer<typeof runMessageSchema>;

/**
 * The rest of a portal's purge (DELETE ?purge=true) when a run held the portal at the time: the worker finishes it
 * once that run has stopped. Same queue as the runs, so it is retried like them.
 */
export const purgeMessageSchema = z.object({ purge: z.literal(true), portalId: z.string().min(1).max(64) }).strict();
export type PurgeMessage = z.infer<typeof purgeMessageSchema>;

/** What the run queue carries. */
export const queueMessageSchema = z.union([runMessageSchema, purgeMessageSchema]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;

export function isPurgeMessage(message: QueueMessage): message is PurgeMessage {
  return 'purge' in message;
}

/** Sends messages to the run queue (the timer uses its output binding instead). */
export interface RunQueue {
  send(message: QueueMessage): Promise<void>;
}
