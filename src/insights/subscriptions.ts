import type { CompanySubscriptionFacts, LicenseSubscription, LicenseSubscriptions } from '../domain/insights';

/**
 * A license's subscriptions, joined from Graph's /directory/subscriptions (companySubscription) on the plan's
 * skuId. A plan can have several: monthly and yearly terms, trials, add-ons.
 */

export const SUBSCRIPTION_STATUSES = ['Enabled', 'Warning', 'Suspended', 'LockedOut', 'Deleted', 'Expired'] as const;

export { licenseSubscriptionSchema, type LicenseSubscription, type LicenseSubscriptions } from '../domain/insights';

/** The fields of Graph's companySubscription that the ledger keeps. */
export type CompanySubscription = CompanySubscriptionFacts;

export function isDeleted(subscription: { status: string }): boolean {
  return subscription.status === 'Deleted';
}

/**
 * Whether a subscription renews at its nextLifecycleAt: only an Enabled, paid one does. A trial ends (its seats
 * cost nothing and go unless bought); Warning is expired and in its grace period, Suspended and LockedOut are past
 * it: their seats go at that date whatever is cut.
 */
export function willRenew(subscription: { status: string; isTrial?: boolean }): boolean {
  return subscription.status === 'Enabled' && subscription.isTrial !== true;
}

function toLicenseSubscription(subscription: CompanySubscription): LicenseSubscription {
  return {
    id: (subscription.id ?? '').toLowerCase(),
    ...(subscription.commerceSubscriptionId ? { commerceSubscriptionId: subscription.commerceSubscriptionId } : {}),
    status: subscription.status ?? 'Enabled',
    totalLicenses: subscription.totalLicenses ?? 0,
    isTrial: subscription.isTrial ?? false,
    ...(subscription.createdDateTime ? { createdAt: subscription.createdDateTime } : {}),
    ...(subscription.nextLifecycleDateTime ? { nextLifecycleAt: subscription.nextLifecycleDateTime } : {}),
  };
}

/** Orders subscriptions soonest renewal first; those without a date last; then by id so the order is stable. */
function bySoonest(a: LicenseSubscription, b: LicenseSubscription): number {
  const at = (s: LicenseSubscription) => (s.nextLifecycleAt ? Date.parse(s.nextLifecycleAt) : Number.POSITIVE_INFINITY);
  return at(a) - at(b) || a.id.localeCompare(b.id);
}

/** Groups a tenant's subscriptions by plan (skuId, lower case). */
export function subscriptionsBySku(subscriptions: CompanySubscription[]): Map<string, LicenseSubscriptions> {
  const grouped = new Map<string, LicenseSubscription[]>();
  for (const subscription of subscriptions) {
    if (!subscription.skuId || !subscription.id) continue;
    const skuId = subscription.skuId.toLowerCase();
    const list = grouped.get(skuId) ?? [];
    list.push(toLicenseSubscription(subscription));
    grouped.set(skuId, list);
  }
  const result = new Map<string, LicenseSubscriptions>();
  for (const [skuId, list] of grouped) result.set(skuId, summarizeSubscriptions(list));
  return result;
}

export function summarizeSubscriptions(list: LicenseSubscription[]): LicenseSubscriptions {
  const subscriptions = [...list].sort(bySoonest);
  const live = subscriptions.filter((s) => !isDeleted(s));
  const next = live.find((s) => s.nextLifecycleAt)?.nextLifecycleAt;
  return {
    subscriptions,
    ...(next ? { nextLifecycleAt: next } : {}),
    trial: live.some((s) => s.isTrial),
  };
}
