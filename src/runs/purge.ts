import { randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import { PURGE_HOLDER } from './lifecycle';

/** A purge holds the portal's lease this long at most (renewal is not needed: a purge is a few queries). */
const PURGE_LEASE_TTL_MS = 10 * 60_000;

export type PurgeOutcome = 'purged' | 'waiting';

/**
 * Removes a portal that is marked deleting (portal.deletingAt) with all its ledger data, idempotently: takes the
 * portal's lease (asking a running run to stop first, see LeaseRepository.revoke), deletes its licenses,
 * consumers, user links and runs, and the record last, so a purge that fails midway is finished by the next try.
 * `waiting`: a run still holds the portal; it stops before its next write, and the purge must be tried again.
 */
export async function continuePurge(services: Services, portalId: string): Promise<PurgeOutcome> {
  const { ledger, logger } = services;
  const holder = `${PURGE_HOLDER}${randomBytes(6).toString('hex')}`;
  if (!(await ledger.leases.acquire(portalId, holder, PURGE_LEASE_TTL_MS))) {
    const running = await ledger.leases.revoke(portalId);
    logger.info('purge waits for the run holding the portal access to stop', { portalId, holder: running });
    return 'waiting';
  }
  try {
    const portal = await ledger.portals.get(portalId);
    if (!portal) return 'purged';
    if (!portal.deletingAt) throw new Error(`Portal access ${portalId} is not being deleted.`);
    await ledger.purge.purgePortal(portalId);
    await ledger.runs.deleteAll(portalId);
    await ledger.portals.delete(portalId);
  } finally {
    await ledger.leases.release(portalId, holder).catch(() => undefined);
  }
  logger.info('portal access purged', { portalId });
  return 'purged';
}

/** The queue worker's purge: a portal still held by a run is retried by the queue (a transient error). */
export async function purgeFromQueue(services: Services, portalId: string): Promise<void> {
  if ((await continuePurge(services, portalId)) === 'waiting') {
    throw new AppError('run_in_progress', { transient: true, detail: 'the purge waits for the run to stop' });
  }
}
