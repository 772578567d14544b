import { createHash } from 'node:crypto';
import type { Services } from '../domain/ports';
import type { LicenseRecord, PortalRecord } from '../domain/records';
import { oldestKeptDay, utcDay } from '../insights/history';

/**
 * After a successful run: the day's snapshot of every license of the portal (as the run left them) and of the portal's licensed users
 * (the day's last run wins). A run that would write what the day holds already writes nothing: the portal keeps a
 * digest of what it wrote last. The first write of a day also drops the portal's snapshots older than 25 months.
 * Answers the portal fields to record with the run.
 */
export async function recordSnapshots(
  services: Services,
  portal: PortalRecord,
  outcome: { licenses: LicenseRecord[]; licensedUsers?: number },
  now: Date,
): Promise<Partial<PortalRecord>> {
  const date = utcDay(now);
  const { licenses, licensedUsers } = outcome;
  const users = licensedUsers ?? portal.licensedUsers ?? 0;
  const snapshots = licenses
    .map((license) => ({
      skuId: license.skuId,
      date,
      available: license.available,
      consumedUnits: license.consumedUnits,
      assigned: license.assigned,
      warning: license.warning,
      suspended: license.suspended,
    }))
    .sort((a, b) => a.skuId.localeCompare(b.skuId));
  const hash = createHash('sha256')
    .update(JSON.stringify([users, snapshots]))
    .digest('base64url')
    .slice(0, 22);
  const historyDigest = `${date}:${hash}`;
  const fields: Partial<PortalRecord> = licensedUsers === undefined ? {} : { licensedUsers };
  if (portal.historyDigest === historyDigest) return fields;
  await services.ledger.history.putDay(portal.id, snapshots, { date, licensedUsers: users });
  if (!portal.historyDigest?.startsWith(`${date}:`)) {
    const removed = await services.ledger.history.deleteBefore(portal.id, oldestKeptDay(now));
    if (removed > 0) services.logger.info('old snapshots removed', { portalId: portal.id, removed });
  }
  return { ...fields, historyDigest };
}
