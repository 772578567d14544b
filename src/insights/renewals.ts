import Decimal from 'decimal.js';
import type { RenewalSettings, Term } from '../domain/insights';
import { cents, monthlyUnitPrice, type Price } from './money';
import { isDeleted, willRenew, type LicenseSubscription } from './subscriptions';

/**
 * Right-size before renewal: Microsoft's commitments can usually only shrink at renewal, so for each subscription
 * renewing soon, how many seats the plan's active holders need, how many the subscription could give back, and
 * what that saves over its term.
 */

export { TERMS, termSchema, renewalSettingsSchema, type Term, type RenewalSettings } from '../domain/insights';
const MONTHS_IN: Record<Term, number> = { month: 1, year: 12, threeYears: 36 };

export const DEFAULT_RENEWAL_SETTINGS: RenewalSettings = { bufferPercent: 5, bufferMin: 1 };
export const DEFAULT_WITHIN_DAYS = 90;

/**
 * The term of a subscription from its dates: whole years between its creation and its next renewal make a
 * yearly term, anything else a monthly one. A three-year term looks like three yearly renewals from the dates
 * alone, so only the admin can set it.
 */
export function inferTerm(subscription: Pick<LicenseSubscription, 'createdAt' | 'nextLifecycleAt'>): Term {
  if (!subscription.createdAt || !subscription.nextLifecycleAt) return 'month';
  const created = new Date(subscription.createdAt);
  const next = new Date(subscription.nextLifecycleAt);
  const months = (next.getUTCFullYear() - created.getUTCFullYear()) * 12 + (next.getUTCMonth() - created.getUTCMonth());
  const sameDay = Math.abs(next.getUTCDate() - created.getUTCDate()) <= 1;
  return months >= 12 && months % 12 === 0 && sameDay ? 'year' : 'month';
}

/** The seats the plan's active holders need, with the admin's buffer: max(percent of them, the minimum). */
export function recommendedPlanSeats(activeHolders: number, settings: RenewalSettings): number {
  const buffer = Math.max(Math.ceil((activeHolders * settings.bufferPercent) / 100), settings.bufferMin);
  return activeHolders + buffer;
}

export interface PlanForRenewal {
  portalId: string;
  licenseId: string;
  subscriptions: LicenseSubscription[];
  holders: number;
  activeHolders: number;
  price?: Price;
  /** Terms the admin set, by subscription id. */
  terms: ReadonlyMap<string, Term>;
}

export interface RenewalItem {
  portalId: string;
  licenseId: string;
  subscriptionId: string;
  nextLifecycleAt: string;
  term: Term;
  termInferred?: true;
  totalLicenses: number;
  holders: number;
  activeHolders: number;
  recommendedSeats: number;
  seatsToCut: number;
  monthlyUnitPrice?: number;
  currency?: string;
  savingsPerTerm?: number;
}

/**
 * Splits a plan's recommended seats across the subscriptions that will renew, soonest-renewing last: the ones
 * renewing later keep their seats (nothing can be cut there now), and the soonest gives back only what the others
 * do not already cover, never leaving the active holders without seats.
 *
 * A subscription that will not renew (a trial, or Warning, Suspended, LockedOut) counts for no capacity, even
 * where its seats still work today (a trial, Warning's grace period): they lapse at its date, so counting them
 * would tell the admin to cut paid seats the active holders need once they have gone. It is recommended 0 seats,
 * so by the formula all its seats are "to cut" (they go anyway; the view labels such rows and the rightSize alert
 * leaves them out).
 */
export function splitRecommendation(subscriptions: LicenseSubscription[], planSeats: number): Map<string, number> {
  const latestFirst = subscriptions
    .filter((s) => willRenew(s))
    .sort((a, b) => {
      const at = (s: LicenseSubscription) => (s.nextLifecycleAt ? Date.parse(s.nextLifecycleAt) : Infinity);
      return at(b) - at(a) || a.id.localeCompare(b.id);
    });
  const split = new Map<string, number>();
  let remaining = planSeats;
  for (const subscription of latestFirst) {
    const seats = Math.min(subscription.totalLicenses, remaining);
    split.set(subscription.id, seats);
    remaining -= seats;
  }
  return split;
}

/** The renewals of one plan within [now, now + withinDays], soonest first. */
export function planRenewals(
  plan: PlanForRenewal,
  settings: RenewalSettings,
  now: Date,
  withinDays: number,
): RenewalItem[] {
  const until = now.getTime() + withinDays * 86_400_000;
  const split = splitRecommendation(plan.subscriptions, recommendedPlanSeats(plan.activeHolders, settings));
  const unit = plan.price ? monthlyUnitPrice(plan.price) : undefined;
  const items: RenewalItem[] = [];
  for (const subscription of plan.subscriptions) {
    if (isDeleted(subscription) || !subscription.nextLifecycleAt) continue;
    const at = Date.parse(subscription.nextLifecycleAt);
    if (Number.isNaN(at) || at < now.getTime() || at > until) continue;
    const set = plan.terms.get(subscription.id);
    const term = set ?? inferTerm(subscription);
    const recommendedSeats = split.get(subscription.id) ?? 0;
    const seatsToCut = Math.max(0, subscription.totalLicenses - recommendedSeats);
    items.push({
      portalId: plan.portalId,
      licenseId: plan.licenseId,
      subscriptionId: subscription.id,
      nextLifecycleAt: subscription.nextLifecycleAt,
      term,
      ...(set ? {} : { termInferred: true as const }),
      totalLicenses: subscription.totalLicenses,
      holders: plan.holders,
      activeHolders: plan.activeHolders,
      recommendedSeats,
      seatsToCut,
      ...(unit && plan.price
        ? {
            monthlyUnitPrice: cents(unit),
            currency: plan.price.currency,
            savingsPerTerm: cents(unit.times(seatsToCut).times(new Decimal(MONTHS_IN[term]))),
          }
        : {}),
    });
  }
  return items;
}

/** Every plan's renewals in the window, soonest first. */
export function renewals(
  plans: PlanForRenewal[],
  settings: RenewalSettings,
  now: Date,
  withinDays = DEFAULT_WITHIN_DAYS,
): RenewalItem[] {
  return plans
    .flatMap((plan) => planRenewals(plan, settings, now, withinDays))
    .sort(
      (a, b) =>
        Date.parse(a.nextLifecycleAt) - Date.parse(b.nextLifecycleAt) ||
        a.subscriptionId.localeCompare(b.subscriptionId),
    );
}
