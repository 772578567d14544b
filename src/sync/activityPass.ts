import { isAppError, toAppError } from '../domain/errors';
import type { HolderActivity } from '../domain/ledger';
import type { Services } from '../domain/ports';
import { DEFAULT_INACTIVE_DAYS, type PortalRecord } from '../domain/records';
import type { TenantReader } from '../domain/tenant';
import { isInactive, lastSignInAt } from '../insights/activity';
import { utcDay } from '../insights/history';

/** Graph's answers that leave a notice instead of failing the run. */
const NOTICE_CODES = new Set([
  'activity_permission_missing',
  'activity_premium_missing',
  'consent_missing',
  'graph_error',
  'graph_unreachable',
  'throttled',
]);

interface HolderRow {
  skuId: string;
  contactId: string;
  lastSignInAt?: string;
  inactive?: boolean;
}

/**
 * The activity pass of a portal with `activity` on: after a successful full read, at most once per UTC day, reads
 * the licensed users' sign-in activity (120 a page) and writes `lastSignInAt` and `inactive` onto their
 * sync-owned consumers where they changed. A tenant that refuses it keeps syncing: the pass answers a notice (and
 * leaves every holder as it was). Answers the portal fields to record with the run.
 */
export async function activityPass(
  services: Services,
  portal: PortalRecord,
  reader: TenantReader,
  now: Date,
): Promise<Partial<PortalRecord>> {
  const day = utcDay(now);
  if (!portal.activity || portal.activityTriedOn === day) return {};
  const inactiveDays = portal.inactiveDays ?? DEFAULT_INACTIVE_DAYS;
  // The holders' keys and stored facts by user (a few strings each), so only changed consumers are written.
  const byUser = new Map<string, HolderRow[]>();
  await services.ledger.holders.forEachHolder(portal.id, (holder) => {
    const rows = byUser.get(holder.objectId) ?? [];
    rows.push({
      skuId: holder.skuId,
      contactId: holder.contactId,
      lastSignInAt: holder.lastSignInAt,
      inactive: holder.inactive,
    });
    byUser.set(holder.objectId, rows);
  });
  let written = 0;
  try {
    for await (const page of reader.readSignInActivity()) {
      const updates: HolderActivity[] = [];
      for (const user of page) {
        const rows = byUser.get(user.objectId);
        if (!rows) continue;
        const last = lastSignInAt(user.signInActivity);
        const inactive = isInactive({ lastSignInAt: last, createdAt: user.createdAt }, inactiveDays, now);
        for (const row of rows) {
          // A sign-in never goes away: a missing one keeps the stored value.
          const lastSeen = last ?? row.lastSignInAt;
          if (row.inactive === inactive && row.lastSignInAt === lastSeen) continue;
          updates.push({ skuId: row.skuId, contactId: row.contactId, inactive, lastSignInAt: lastSeen });
        }
      }
      if (updates.length > 0) written += await services.ledger.holders.writeActivity(portal.id, updates);
    }
  } catch (caught) {
    const error = toAppError(caught);
    if (!isAppError(caught) || !NOTICE_CODES.has(error.code)) throw error;
    services.logger.warn('activity pass refused', { portalId: portal.id, errorCode: error.code });
    const notice = { activityNotice: { code: error.code, message: error.message, at: now.toISOString() } };
    // A passing failure (throttling, network) is tried again by the next run; a refusal the next day.
    return error.transient ? notice : { ...notice, activityTriedOn: day };
  }
  services.logger.info('activity pass done', { portalId: portal.id, consumersUpdated: written });
  return { activityTriedOn: day, activityReadAt: now.toISOString(), activityNotice: undefined };
}
