import { AppError, toAppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import type { RunMessage } from '../domain/runMessage';
import { newQueuedRun } from '../domain/runs';
import type { RunRecord } from '../domain/records';
import type { TenantReader } from '../domain/tenant';
import { gaveUpMessage, lastRunOf, recordOnPortal, RunRecorder, takeRunLease } from '../runs/lifecycle';
import { evaluateAfterRunSafely, evaluateAfterSuccessSafely } from '../notify/evaluateAlerts';
import { activityPass } from './activityPass';
import { reconcilePortal } from './reconcilePortal';
import { recordSnapshots } from './snapshots';
import { openTenant } from './tenantRead';

export interface DeliveryAttempt {
  dequeueCount: number;
  maxDequeueCount: number;
  /** How long the queue hides a failed message before it delivers it again (host.json visibilityTimeout). */
  retryDelayMs?: number;
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
  // A scheduled run has no record until here (the timer writes none): it is made from the message. Its first
  // delivery need not look for one (a record exists only once an attempt has begun, and every later delivery
  // counts higher).
  const firstScheduled = message.trigger === 'schedule' && attempt.dequeueCount <= 1;
  const stored = firstScheduled ? undefined : await ledger.runs.get(message.portalId, message.runId);
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

  const found = await ledger.portals.get(message.portalId);
  if (found?.deletingAt) {
    // A purge is removing the portal and its runs: nothing of this run may be written.
    logger.info('run dropped: the portal access is being deleted', log);
    return { ...run, status: 'skipped', skippedReason: 'The portal access is being deleted.' };
  }
  if (!found) {
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
  let portal = found;
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

  const taken = await takeRunLease(services, portal.id, run.id, attempt.dequeueCount, (error) =>
    logger.warn('lease renewal failed; the run stops before its next write', { ...log, error: error.message }),
  );
  if (!('lease' in taken)) {
    const { heldBy, heldByRun } = taken;
    if (heldBy !== undefined && heldByRun === undefined) {
      logger.info('run dropped: the portal access is being deleted', log);
      return { ...run, status: 'skipped', skippedReason: 'The portal access is being deleted.' };
    }
    if (heldByRun === run.id) {
      // Another delivery of this same message is still at work (it keeps renewing): this one writes nothing and
      // the queue delivers it again later.
      logger.warn('another attempt of this run holds the portal; retried later', log);
      throw new AppError('run_in_progress', { transient: true, detail: 'another attempt of this run is at work' });
    }
    logger.info('run skipped', { ...log, reason: 'overlap', runningRunId: heldByRun });
    // The portal's last run stays the one in progress (the next fan-out must see the portal busy).
    return recorder.skip(`Another run of this portal access was in progress${heldByRun ? ` (run ${heldByRun})` : ''}.`);
  }
  const { lease } = taken;
  if (taken.waited) {
    // An earlier attempt of this run held the portal: it may have finished the run meanwhile.
    const latest = await ledger.runs.get(message.portalId, message.runId).catch(() => undefined);
    if (latest && (latest.status === 'succeeded' || latest.status === 'failed' || latest.status === 'skipped')) {
      await lease.release();
      logger.info('run already finished by an earlier attempt; duplicate delivery ignored', log);
      return latest;
    }
  }
  // Read again under the lease: a purge may have started (or finished) since the first read.
  const current = await ledger.portals.get(portal.id).catch(async (error: unknown) => {
    await lease.release();
    throw toAppError(error);
  });
  if (!current || current.deletingAt) {
    await lease.release();
    logger.info('run dropped: the portal access is being deleted', log);
    return { ...run, status: 'skipped', skippedReason: 'The portal access is being deleted.' };
  }
  portal = current;
  // The run is recorded as running before it reads anything (a scheduled run's record is made by this first
  // write); should that fail, the lease goes too and the host retries.
  recorder.run = {
    ...run,
    status: 'running',
    startedAt: startedAt.toISOString(),
    attempts: attempt.dequeueCount,
    attempt: attempt.dequeueCount,
    maxAttempts: attempt.maxDequeueCount,
    nextAttemptAt: undefined,
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
    const outcome = await reconcilePortal(services, portal, reader, startedAt, {
      allowDelta: true,
      apply: true,
      fence: lease.fence,
    });
    // Delta runs read no activity: the day's first full read does.
    const activity = outcome.readMode === 'full' ? await activityPass(services, portal, reader, startedAt) : {};
    const history = await recordSnapshots(services, portal, outcome, startedAt);
    // What the alerts after a run look at changed (see evaluateAfterSuccessSafely).
    const changed = outcome.entitiesWritten > 0 || Object.keys(activity).length > 0;
    const stats = reader.stats();
    const fullRead = outcome.readMode === 'full';
    const done = await recorder.finish(
      {
        status: 'succeeded',
        attempt: undefined,
        maxAttempts: undefined,
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
        subscriptionsNotice: outcome.subscriptionsNotice,
        ...activity,
        ...history,
        ...(changed ? { alertsDigest: undefined } : {}),
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
    // On the data this run wrote (after its complete read).
    await evaluateAfterSuccessSafely(services, portal, outcome.readMode, changed);
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
    const last = attempt.dequeueCount >= attempt.maxDequeueCount;
    if (error.transient && !last) {
      // Nothing was removed (the plan is applied only after a complete read); the host retries the message.
      logger.warn('run attempt failed; will retry', {
        ...log,
        errorCode: error.code,
        attempt: attempt.dequeueCount,
        maxAttempts: attempt.maxDequeueCount,
      });
      recorder.run = {
        ...recorder.run,
        ...failure,
        status: 'retrying',
        attempt: attempt.dequeueCount + 1,
        nextAttemptAt: new Date(services.now().getTime() + (attempt.retryDelayMs ?? 0)).toISOString(),
      };
      await ledger.runs.update(recorder.run).catch(() => undefined);
      await recordOnPortal(services, portal.id, { lastRun: lastRunOf(recorder.run) }).catch(() => undefined);
      throw error;
    }
    if (error.transient) {
      // The last attempt: the run fails now (the message still goes to the poison queue, which leaves it so).
      logger.error('run failed after its last attempt', { ...log, errorCode: error.code });
      const message = gaveUpMessage(failure, attempt.dequeueCount);
      await recorder
        .finish({ status: 'failed', ...failure, errorMessage: message, attempt: undefined, maxAttempts: undefined })
        .catch(() => undefined);
      throw error;
    }
    logger.error('run failed', { ...log, errorCode: error.code });
    const failed = await recorder.finish({ status: 'failed', ...failure, attempt: undefined, maxAttempts: undefined });
    // A failed run counts toward runFailures; its partial read says nothing of the licenses.
    await evaluateAfterRunSafely(services, portal.id, 'failed');
    return failed;
  } finally {
    await lease.release();
  }
}
