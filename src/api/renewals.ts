import type { RenewalFacts } from '../alerts/evaluate';
import { AppError } from '../domain/errors';
import type { RenewalSettings, Term } from '../domain/insights';
import { NotFoundError } from '../domain/ledger';
import type { Services } from '../domain/ports';
import { licenseIdOf, type LicenseRecord, type PortalRecord } from '../domain/records';
import { DEFAULT_RENEWAL_SETTINGS, renewals, type PlanForRenewal, type RenewalItem } from '../insights/renewals';
import { isDeleted } from '../insights/subscriptions';
import { priceBook, priceOf, showsActivity } from './insights';

/**
 * Right-size before renewal (PRODUCT.md): per subscription renewing soon, the seats the plan's active holders
 * need with the admin's buffer, the seats it could give back, and the money over its term. Read by the renewals
 * route and by the rightSize alert rule, so both say the same.
 */

const DAY_MS = 86_400_000;

export async function renewalSettings(services: Services): Promise<RenewalSettings> {
  return (await services.ledger.renewals.settings()) ?? DEFAULT_RENEWAL_SETTINGS;
}

export async function putRenewalSettings(services: Services, settings: RenewalSettings): Promise<RenewalSettings> {
  await services.ledger.renewals.putSettings(settings);
  return settings;
}

/** The license that carries a subscription (ids are Graph's GUIDs, kept in lower case). */
async function licenseOfSubscription(services: Services, subscriptionId: string): Promise<LicenseRecord> {
  const licenses = await services.ledger.licenses.list();
  const license = licenses.find((l) => l.subscriptions?.some((s) => s.id === subscriptionId));
  if (!license) throw new NotFoundError(`No license carries subscription ${subscriptionId}: sync its portal first.`);
  return license;
}

export async function setTerm(services: Services, subscriptionId: string, term: Term) {
  const license = await licenseOfSubscription(services, subscriptionId);
  await services.ledger.renewals.putTerm(subscriptionId, term);
  return { subscriptionId, licenseId: license.id, term };
}

export async function clearTerm(services: Services, subscriptionId: string): Promise<void> {
  if (!(await services.ledger.renewals.deleteTerm(subscriptionId)))
    throw new NotFoundError(`No term is set for subscription ${subscriptionId}: it is inferred already.`);
}

/** Whether a license has a live subscription renewing between now and the end of the window. */
function renewsWithin(license: LicenseRecord, now: Date, withinDays: number): boolean {
  const until = now.getTime() + withinDays * DAY_MS;
  return (license.subscriptions ?? []).some((s) => {
    const at = s.nextLifecycleAt ? Date.parse(s.nextLifecycleAt) : NaN;
    return !isDeleted(s) && at >= now.getTime() && at <= until;
  });
}

interface HolderCount {
  holders: number;
  activeHolders: number;
}

/** Holders per license of a portal: sync-owned consumers; active = neither disabled nor (read as) inactive. */
async function holderCounts(services: Services, portal: PortalRecord): Promise<Map<string, HolderCount>> {
  const activity = showsActivity(portal);
  const counts = new Map<string, HolderCount>();
  await services.ledger.holders.forEachHolder(portal.id, (holder) => {
    const key = licenseIdOf(portal.id, holder.skuId);
    const count = counts.get(key) ?? { holders: 0, activeHolders: 0 };
    count.holders += 1;
    if (holder.accountEnabled && !(activity && holder.inactive === true)) count.activeHolders += 1;
    counts.set(key, count);
  });
  return counts;
}

export interface RenewalOptions {
  portalId?: string;
  withinDays: number;
}

/**
 * The renewals within the window with the licenses they belong to. Holders are read only for the portals with a
 * license renewing in the window (a sync's evaluation of a portal with nothing renewing reads nothing more).
 */
async function renewalsWithLicenses(
  services: Services,
  options: RenewalOptions,
): Promise<{ items: RenewalItem[]; licenses: Map<string, LicenseRecord> }> {
  const now = services.now();
  const portals = options.portalId
    ? [await services.ledger.portals.get(options.portalId)].filter((p): p is PortalRecord => !!p)
    : await services.ledger.portals.list();
  if (options.portalId && portals.length === 0) throw new AppError('portal_not_found');
  const licenses = (await services.ledger.licenses.list(options.portalId)).filter(
    (l) => l.status === 'current' && renewsWithin(l, now, options.withinDays),
  );
  if (licenses.length === 0) return { items: [], licenses: new Map() };
  const [book, terms, settings] = await Promise.all([
    priceBook(services),
    services.ledger.renewals.terms(),
    renewalSettings(services),
  ]);
  const plans: PlanForRenewal[] = [];
  for (const portal of portals) {
    const own = licenses.filter((l) => l.portalId === portal.id);
    if (own.length === 0) continue;
    const counts = await holderCounts(services, portal);
    for (const license of own) {
      const count = counts.get(license.id) ?? { holders: 0, activeHolders: 0 };
      const price = priceOf(book, license);
      plans.push({
        portalId: license.portalId,
        licenseId: license.id,
        subscriptions: license.subscriptions ?? [],
        ...count,
        ...(price ? { price } : {}),
        terms,
      });
    }
  }
  return {
    items: renewals(plans, settings, now, options.withinDays),
    licenses: new Map(licenses.map((l) => [l.id, l])),
  };
}

export async function listRenewals(services: Services, options: RenewalOptions): Promise<RenewalItem[]> {
  return (await renewalsWithLicenses(services, options)).items;
}

/** What the rightSize rule reads of one portal's renewals, or of every portal's (the daily pass). */
export async function renewalFacts(services: Services, options: RenewalOptions): Promise<RenewalFacts[]> {
  const { items, licenses } = await renewalsWithLicenses(services, options);
  return items.flatMap((item) => {
    const license = licenses.get(item.licenseId);
    const subscription = license?.subscriptions?.find((s) => s.id === item.subscriptionId);
    if (!license || !subscription) return [];
    return [
      {
        portalId: item.portalId,
        licenseId: item.licenseId,
        skuId: license.skuId,
        licenseName: license.name,
        subscriptionId: item.subscriptionId,
        status: subscription.status,
        isTrial: subscription.isTrial,
        nextLifecycleAt: item.nextLifecycleAt,
        totalLicenses: item.totalLicenses,
        recommendedSeats: item.recommendedSeats,
        seatsToCut: item.seatsToCut,
        ...(item.savingsPerTerm !== undefined ? { savingsPerTerm: item.savingsPerTerm } : {}),
        ...(item.currency ? { currency: item.currency } : {}),
      },
    ];
  });
}
