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

/** Sends run messages to the run queue (the timer uses its output binding instead). */
export interface RunQueue {
  send(message: RunMessage): Promise<void>;
}
