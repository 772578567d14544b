import type Decimal from 'decimal.js';
import { cents, CurrencyTotals, monthlyUnitPrice, type Price } from './money';

/**
 * Waste: seats paid for and not used. Per license, the unassigned seats and the holders who do not use theirs
 * (disabled accounts, inactive ones), with their monthly price where the admin set one.
 */

/** One sync-owned consumer of a license, as far as waste is concerned. */
export interface Holder {
  accountEnabled: boolean;
  // Member or Guest, as Graph reports it.
  userType: string;
  /** Absent while the portal does not read activity. */
  inactive?: boolean;
}

export interface WasteLicense {
  licenseId: string;
  licenseName: string;
  portalId: string;
  available: number;
  consumedUnits: number;
  /** The license's own price, else its plan's. */
  price?: Price;
}

export interface HolderCounts {
  disabledHolders: number;
  inactiveHolders: number;
  guestHolders: number;
}

export interface WasteItem extends HolderCounts {
  licenseId: string;
  licenseName: string;
  portalId: string;
  unassigned: number;
  monthlyUnitPrice?: number;
  currency?: string;
  monthlyCost?: number;
  reclaimableMonthly?: number;
}

export interface WasteReport {
  items: WasteItem[];
  totals: Record<string, { monthlyCost: number; reclaimableMonthly: number }>;
}

/** Counts a license's holders; one both disabled and inactive counts once, as disabled. */
export function countHolders(holders: Iterable<Holder>): HolderCounts {
  const counts: HolderCounts = { disabledHolders: 0, inactiveHolders: 0, guestHolders: 0 };
  for (const holder of holders) {
    if (!holder.accountEnabled) counts.disabledHolders += 1;
    else if (holder.inactive === true) counts.inactiveHolders += 1;
    if (holder.userType === 'Guest') counts.guestHolders += 1;
  }
  return counts;
}

/** The seats a license could give back: unassigned, held by disabled accounts, or held by inactive people. */
export function reclaimableSeats(item: Pick<WasteItem, 'unassigned' | 'disabledHolders' | 'inactiveHolders'>): number {
  return item.unassigned + item.disabledHolders + item.inactiveHolders;
}

/**
 * The waste of each license, most reclaimable money first (per currency amounts are not compared across
 * currencies: priced items before unpriced, then by amount, then by reclaimable seats).
 */
export function wasteReport(licenses: WasteLicense[], holdersOf: (licenseId: string) => HolderCounts): WasteReport {
  const totals = new CurrencyTotals(['monthlyCost', 'reclaimableMonthly'] as const);
  const ranked: { item: WasteItem; money?: Decimal }[] = [];
  for (const license of licenses) {
    const holders = holdersOf(license.licenseId);
    const item: WasteItem = {
      licenseId: license.licenseId,
      licenseName: license.licenseName,
      portalId: license.portalId,
      unassigned: Math.max(0, license.available - license.consumedUnits),
      ...holders,
    };
    let money: Decimal | undefined;
    if (license.price) {
      const unit = monthlyUnitPrice(license.price);
      const monthlyCost = unit.times(license.available);
      money = unit.times(reclaimableSeats(item));
      Object.assign(item, {
        monthlyUnitPrice: cents(unit),
        currency: license.price.currency,
        monthlyCost: cents(monthlyCost),
        reclaimableMonthly: cents(money),
      });
      totals.add(license.price.currency, { monthlyCost, reclaimableMonthly: money });
    }
    ranked.push({ item, money });
  }
  ranked.sort((a, b) => {
    if (a.money && b.money) {
      const byMoney = b.money.comparedTo(a.money);
      if (byMoney !== 0) return byMoney;
    } else if (a.money || b.money) return a.money ? -1 : 1;
    return reclaimableSeats(b.item) - reclaimableSeats(a.item) || a.item.licenseName.localeCompare(b.item.licenseName);
  });
  return { items: ranked.map((r) => r.item), totals: totals.shown() };
}
