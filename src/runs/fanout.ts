import type { Services } from '../domain/ports';
import type { LastRun, RunRecord } from '../domain/records';
import { newQueuedRun, newRunId } from '../domain/runs';
import { hostSettings } from './hostSettings';
import type { RunMessage } from '../domain/runMessage';

/**
 * What the timer does at a scheduled run: one message per portal to sync (the caller sends them), and the skips
 * it recorded. A queued scheduled run has no run record yet: the worker creates it from its message.
 */
export interface FanoutResult {
  messages: RunMessage[];
  skipped: RunRecord[];
}

export interface FanoutOptions {
  /**
   * A queued or running run older than this no longer holds its portal back: its message was lost, or its
   * worker died and the message is still waiting out its invisibility. Default: one attempt's worth under
   * host.json (functionTimeout + the retry delay + the host's 10-minute message lease).
   */
  staleAfterMs?: number;
}

const AZURE_DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60_000;
// The Functions host hides a message it is working on for 10 minutes, renewed; a crashed worker's message
// reappears after that.
const HOST_MESSAGE_LEASE_MS = 10 * 60_000;

export function defaultStaleAfterMs(): number {
  const { queues, functionTimeoutMs } = hostSettings();
  return (functionTimeoutMs ?? AZURE_DEFAULT_FUNCTION_TIMEOUT_MS) + queues.visibilityTimeoutMs + HOST_MESSAGE_LEASE_MS;
}

/**
 * Why this portal's scheduled run is skipped, or undefined when it is due. Decided from the portal record alone
 * (the worker writes the run's start and end there), so a fan-out over any number of portals reads one query.
 */
function skipReason(lastRun: LastRun | undefined, now: Date, staleAfterMs: number): string | undefined {
  if (!lastRun || !['queued', 'running', 'retrying'].includes(lastRun.status)) return undefined;
  const since = Date.parse(lastRun.startedAt ?? lastRun.queuedAt);
  if (now.getTime() - since >= staleAfterMs) return undefined;
  return `The previous run ${lastRun.id} is still ${lastRun.status}.`;
}

/**
 * The timer's use case: every active portal with automatic sync gets a message with a fresh run id, unless its
 * last run is still running or waiting (and not stale); that portal gets a `skipped` run saying why, so the skip
 * shows in its run history. Storage calls: the portal list, plus one write per portal skipped (rare). No run record
 * is written for a queued run: the worker creates it, with the message's queuedAt, when it picks the message up.
 * The caller sends the messages (the timer's queue output binding).
 */
export async function fanOutScheduledRuns(services: Services, options: FanoutOptions = {}): Promise<FanoutResult> {
  const staleAfterMs = options.staleAfterMs ?? defaultStaleAfterMs();
  const due = (await services.ledger.portals.list()).filter(
    (portal) => portal.active && portal.autoSync && !portal.deletingAt,
  );
  const now = services.now();
  const queuedAt = now.toISOString();

  const messages: RunMessage[] = [];
  const skipped: RunRecord[] = [];
  for (const portal of due) {
    const reason = skipReason(portal.lastRun, now, staleAfterMs);
    if (reason) {
      skipped.push({
        ...newQueuedRun(portal.id, 'schedule', now),
        status: 'skipped',
        endedAt: queuedAt,
        skippedReason: reason,
      });
    } else {
      messages.push({ portalId: portal.id, runId: newRunId(now), trigger: 'schedule', queuedAt });
    }
  }
  if (skipped.length > 0) await services.ledger.runs.createMany(skipped);
  for (const run of skipped) {
    services.logger.warn('Skipped the scheduled run of a portal', {
      portalId: run.portalId,
      runId: run.id,
      reason: run.skippedReason,
    });
  }
  for (const message of messages)
    services.logger.info('Queued a scheduled run', { portalId: message.portalId, runId: message.runId });
  return { messages, skipped };
}
