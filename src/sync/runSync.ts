import { AppError, toAppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import type { RunMessage } from '../domain/runMessage';
import { newQueuedRun } from '../domain/runs';
import type { RunRecord } from '../domain/records';
import type { TenantReader } from '../domain/tenant';
import { lastRunOf, recordOnPortal, RunRecorder, takeLease } from '../runs/lifecycle';
import { reconcilePortal } from './reconcilePortal';
import { openTenant } from './tenantRead';

export interface DeliveryAttempt {
  dequeueCount: number;
  maxDequeueCount: number;
}

/**
 * One reconciliation of one portal (the queue worker's use case). Takes the portal's lease so runs of one
 * portal never overlap. A permanent failure marks the run failed and returns; a transient one records the error
 * on the run and throws, so the host delivers the message again (and finally to the poison queue).
 */
export async function runSync(services: Services, message: RunMessage, attempt: DeliveryAttempt): Promise<RunRecord> {
  const { ledger, logger } = services;
  const log = { portalId: message.portalId, runId: message.runId, trigger: message.trigger };
  const startedAt = services.now();
  // Both at once (one round trip): the portal read is wasted only on a duplicate delivery of a finished run.
  const portalRead = ledger.portals.get(message.portalId);
  portalRead.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const stored = await ledger.runs.get(message.portalId, message.runId);
  // A scheduled run has no record until here (the timer writes none): it is made from the message.
  const queuedAt = message.queuedAt ? new Date(message.queuedAt) : startedAt;
  const recorder = new RunRecorder(
    services,
    stored ?? newQueuedRun(message.portalId, message.trigger, queuedAt, message.runId),
    stored !== undefined,
  );
  const { run } = recorder;
  if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'skipped') {
    logger.info('run already finished; duplicate delivery ignored', { ...log, status: run.status });
    return run;
  }

  const portal = await portalRead;
  if (!portal) {
    const failed = new AppError('portal_not_found');
    logger.warn('run failed', { ...log, errorCode: failed.code });
    const gone: RunRecord = {
      ...run,
      status: 'failed',
      errorCode: failed.code,
      errorMessage: failed.message,
      endedAt: services.now().toISOString(),
    };
    await ledger.runs.update(gone).catch(() => undefined);
    return gone;
  }
  if (!portal.active) {
    logger.info('run skipped', { ...log, reason: 'deactivated' });
    return recorder.finish({ status: 'skipped', skippedReason: 'The portal access is deactivated.' });
  }
  // A backlog of scheduled messages of one portal syncs it once: a run that started after this one was queued
  // and has finished already read everything this one would.
  const last = portal.lastRun;
  if (
    message.trigger === 'schedule' &&
    message.queuedAt &&
    last &&
    last.id !== run.id &&
    last.startedAt &&
    (last.status === 'succeeded' || last.status === 'failed') &&
    Date.parse(last.startedAt) >= Date.parse(message.queuedAt)
  ) {
    logger.info('run skipped', { ...log, reason: 'synced since queued', syncedByRunId: last.id });
    return recorder.skip('A run that started after this one was queued has already synced this portal access.');
  }

  const lease = await takeLease(services, portal.id, message.runId, (error) =>
    logger.warn('lease renewal failed', { ...log, error: error.message }),
  );
  if (!lease) {
    const other = await ledger.leases.holder(portal.id);
    logger.info('run skipped', { ...log, reason: 'overlap', runningRunId: other });
    // The portal's last run stays the one in progress (the next fan-out must see the portal busy).
    return recorder.skip(`Another run of this portal access was in progress${other ? ` (run ${other})` : ''}.`);
  }
  // The run is recorded as running before it reads anything (a scheduled run's record is made by this first
  // write); should that fail, the lease goes too and the host retries.
  recorder.run = {
    ...run,
    status: 'running',
    startedAt: startedAt.toISOString(),
    attempts: attempt.dequeueCount,
    errorCode: undefined,
    errorMessage: undefined,
  };
  try {
    await recorder.save();
  } catch (error) {
    await lease.release();
    throw toAppError(error);
  }

  let reader: TenantReader | undefined;
  try {
    await recordOnPortal(services, portal.id, { lastRun: lastRunOf(recorder.run) });
    logger.info('run started', { ...log, attempt: attempt.dequeueCount });

    reader = await openTenant(services, portal);
    const outcome = await reconcilePortal(services, portal, reader, startedAt, { allowDelta: true, apply: true });
    const stats = reader.stats();
    const fullRead = outcome.readMode === 'full';
    const done = await recorder.finish(
      {
        status: 'succeeded',
        counts: outcome.counts,
        conflicts: outcome.conflicts,
        graphRequests: stats.graphRequests,
        throttledRetries: stats.throttledRetries,
        readMode: outcome.readMode,
      },
      {
        lastSuccessAt: services.now().toISOString(),
        // A full read wrote every user link: from now on a delta round can read just the changed users' state.
        ...(fullRead
          ? { lastFullReadAt: startedAt.toISOString(), userLinksAt: portal.userLinksAt ?? startedAt.toISOString() }
          : {}),
        ...(outcome.deltaLink ? { deltaLink: outcome.deltaLink } : outcome.linkExpired ? { deltaLink: undefined } : {}),
      },
      portal,
    );
    logger.info('run succeeded', {
      ...log,
      ...outcome.counts,
      graphRequests: stats.graphRequests,
      throttledRetries: stats.throttledRetries,
      entitiesWritten: outcome.entitiesWritten,
      readMode: outcome.readMode,
    });
    return done;
  } catch (caught) {
    const error = toAppError(caught);
    const stats = reader?.stats() ?? { graphRequests: 0, throttledRetries: 0 };
    const failure = {
      errorCode: error.code,
      errorMessage: error.message,
      graphRequests: stats.graphRequests,
      throttledRetries: stats.throttledRetries,
    };
    if (error.transient) {
      // Nothing was removed (the plan is applied only after a complete read); the host retries the message.
      logger.warn('run attempt failed; will retry', {
        ...log,
        errorCode: error.code,
        attempt: attempt.dequeueCount,
        maxAttempts: attempt.maxDequeueCount,
      });
      recorder.run = { ...recorder.run, ...failure };
      await ledger.runs.update(recorder.run).catch(() => undefined);
      await recordOnPortal(services, portal.id, { lastRun: lastRunOf(recorder.run) }).catch(() => undefined);
      throw error;
    }
    logger.error('run failed', { ...log, errorCode: error.code });
    return recorder.finish({ status: 'failed', ...failure });
  } finally {
    await lease.release();
  }
}
