import type { Services } from '../domain/ports';
import { AppError } from '../domain/errors';
import type { RunRecord } from '../domain/records';
import { newQueuedRun } from '../domain/runs';
import type { RunMessage } from '../domain/runMessage';

/**
 * "Sync now" (and the local demo's first run): records a queued run of the portal and sends its message.
 * Throws AppError portal_not_found (HTTP 404) or portal_inactive; a deactivated portal is never synced.
 */
export async function queueRun(
  services: Services,
  portalId: string,
  trigger: RunMessage['trigger'] = 'manual',
): Promise<RunRecord> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  if (portal.deletingAt) throw new AppError('portal_deleting');
  if (!portal.active) throw new AppError('portal_inactive');

  const run = newQueuedRun(portalId, trigger, services.now());
  // The run exists before its message, so the worker always finds it.
  await services.ledger.runs.create(run);
  try {
    await services.runQueue.send({ portalId, runId: run.id, trigger });
  } catch (error) {
    const failed: RunRecord = {
      ...run,
      status: 'failed',
      endedAt: services.now().toISOString(),
      errorCode: 'storage_error',
      errorMessage: 'The run could not be queued because the queue storage could not be reached. Try again.',
    };
    await services.ledger.runs.update(failed).catch(() => undefined);
    throw new AppError('storage_error', { transient: true, cause: error });
  }
  services.logger.info('Queued a run', { portalId, runId: run.id, trigger });
  return run;
}
