import type { Services } from '../app/services';
import type { PortalRecord, RunRecord } from '../domain/records';
import { mapConcurrent } from '../ledger/tables';
import { newQueuedRun } from '../sync/runSync';
import { hostSettings } from './hostSettings';
import type { RunMessage } from './message';

/** What the timer does at a scheduled run: one message per portal to sync, and the skips it recorded. */
export interface FanoutResult {
  messages: RunMessage[];
  queued: RunRecord[];
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

function isWaiting(run: RunRecord): boolean {
  return run.status === 'queued' || run.status === 'running';
}

/** Why this portal's scheduled run is skipped, or undefined when it is due. */
async function skipReason(services: Services, portal: PortalRecord, staleAfterMs: number): Promise<string | undefined> {
  const { ledger } = services;
  const holder = await ledger.leases.holder(portal.id);
  if (holder) return `The previous run ${holder} is still running.`;
  // The newest real run (not a dry run, not an earlier skip) says whether one is still waiting for a worker.
  const recent = await ledger.runs.list(portal.id, 20);
  const previous = recent.find((run) => run.trigger !== 'dryRun' && run.status !== 'skipped');
  if (!previous || !isWaiting(previous)) return undefined;
  const since = Date.parse(previous.startedAt ?? previous.queuedAt);
  if (services.now().getTime() - since >= staleAfterMs) return undefined;
  return `The previous run ${previous.id} is still ${previous.status}.`;
}

/**
 * The timer's use case: every active portal with automatic sync gets a queued run and a message, unless its
 * previous run is still running or waiting; that portal gets a `skipped` run saying why, so the skip shows in
 * its run history. The caller sends the messages (the timer's queue output binding).
 */
export async function fanOutScheduledRuns(services: Services, options: FanoutOptions = {}): Promise<FanoutResult> {
  const staleAfterMs = options.staleAfterMs ?? defaultStaleAfterMs();
  const due = (await services.ledger.portals.list()).filter((portal) => portal.active && portal.autoSync);
  const now = services.now();
  const decisions = await mapConcurrent(due, 8, async (portal) => ({ portal, reason: await skipReason(services, portal, staleAfterMs) }));

  const queued: RunRecord[] = [];
  const skipped: RunRecord[] = [];
  for (const { portal, reason } of decisions) {
    if (reason) {
      skipped.push({ ...newQueuedRun(portal.id, 'schedule', now), status: 'skipped', endedAt: now.toISOString(), skippedReason: reason });
    } else {
      queued.push(newQueuedRun(portal.id, 'schedule', now));
    }
  }
  // Runs are recorded before any message exists, so a worker always finds the run its message names.
  if (queued.length + skipped.length > 0) await services.ledger.runs.createMany([...queued, ...skipped]);
  for (const run of skipped) {
    services.logger.warn('Skipped the scheduled run of a portal', { portalId: run.portalId, runId: run.id, reason: run.skippedReason });
  }
  for (const run of queued) services.logger.info('Queued a scheduled run', { portalId: run.portalId, runId: run.id });
  const messages = queued.map((run): RunMessage => ({ portalId: run.portalId, runId: run.id, trigger: 'schedule' }));
  return { messages, queued, skipped };
}
