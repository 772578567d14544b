import type { Services } from '../domain/ports';
import type { ErrorCode } from '../domain/errors';
import type { RunRecord } from '../domain/records';
import { gaveUpMessage, lastRunOf } from './lifecycle';
import { newQueuedRun } from '../domain/runs';
import { evaluateAfterRunSafely } from '../notify/evaluateAlerts';
import type { RunMessage } from '../domain/runMessage';
import { recordRunOutcome } from '../telemetry';

const FINISHED = new Set<RunRecord['status']>(['succeeded', 'failed', 'skipped']);

/**
 * A run message the host moved to the poison queue (every attempt failed or the worker died each time): the run
 * becomes `failed` with its last recorded error, so the failure shows in the portal's run history. A run that
 * already finished is left alone (its message only reached the poison queue after the fact).
 */
export async function failPoisonedRun(
  services: Services,
  message: RunMessage,
  maxDequeueCount: number,
): Promise<RunRecord | undefined> {
  const { ledger, logger } = services;
  const ids = { portalId: message.portalId, runId: message.runId };
  let run = await ledger.runs.get(message.portalId, message.runId);
  if (!run && message.queuedAt && (await ledger.portals.get(message.portalId))) {
    // A scheduled run is recorded by its worker: every attempt failed before that (storage unreachable...).
    run = newQueuedRun(message.portalId, message.trigger, new Date(message.queuedAt), message.runId);
    await ledger.runs.create(run);
  }
  if (!run) {
    logger.warn('A poisoned run message names a run that does not exist; dropped', ids);
    return undefined;
  }
  if (FINISHED.has(run.status)) {
    logger.info(`A poisoned run message names a run that already ${run.status}; left as it is`, ids);
    return run;
  }

  const attempts = Math.max(run.attempts, maxDequeueCount);
  const errorCode: ErrorCode = (run.errorCode as ErrorCode | undefined) ?? 'internal_error';
  const failed: RunRecord = {
    ...run,
    status: 'failed',
    endedAt: services.now().toISOString(),
    errorCode,
    errorMessage: gaveUpMessage(run, attempts),
  };
  await ledger.runs.update(failed);

  // The portal's last-run summary follows the run when it is this run (or older than this run). Only that field
  // changes, on the record as stored at the write: an admin's change made meanwhile stays.
  const lastRun = lastRunOf(failed);
  await ledger.portals.modify(message.portalId, (portal) =>
    !portal.lastRun || portal.lastRun.id === run.id || portal.lastRun.queuedAt <= run.queuedAt
      ? { ...portal, lastRun }
      : undefined,
  );
  logger.error('Marked a poisoned run failed', { ...ids, errorCode, attempts });
  await evaluateAfterRunSafely(services, message.portalId, 'failed');
  recordRunOutcome({ ...ids, trigger: run.trigger, attempt: attempts }, { status: 'failed', errorCode });
  return failed;
}
