import { AppError } from '../domain/errors';
import type { HolderFacts, LicenseSnapshot, StoredPrice } from '../domain/insights';
import { NotFoundError } from '../domain/ledger';
import type { Services } from '../domain/ports';
import { licenseIdOf, type LicenseRecord, type PortalRecord } from '../domain/records';
import { defaultHistoryRange, licensedUsersOfMonth } from '../insights/history';
import { cents, monthlyUnitPrice, type Price } from '../insights/money';
import { countHolders, wasteReport, type Holder, type WasteReport } from '../insights/waste';
import { ApiError } from './http';
import { getLicense, listLicenses } from './ledger';
import type { Page, PageRequest } from '../domain/paging';
import type { LicenseView } from './schemas';

/**
 * The insights use cases of the HTTP API: a license's history, the licensed-users figure a provider bills by,
 * prices, and waste. Prices are the admin's own figures, kept in the ledger and never sent to Microsoft.
 */

/** The prices that apply to licenses: a license's own, else its plan's. */
export interface PriceBook {
  plans: Map<string, StoredPrice>;
  licenses: Map<string, StoredPrice>;
}

export async function priceBook(services: Services): Promise<PriceBook> {
  const [plans, licenses] = await Promise.all([
    services.ledger.prices.planPrices(),
    services.ledger.prices.licensePrices(),
  ]);
  return { plans, licenses };
}

export function priceOf(
  book: PriceBook,
  license: LicenseRecord,
): (StoredPrice & { source: 'license' | 'plan' }) | undefined {
  const own = book.licenses.get(license.id);
  if (own) return { ...own, source: 'license' };
  const plan = book.plans.get(license.skuId);
  return plan && { ...plan, source: 'plan' };
}

function withPrice(license: LicenseRecord, book: PriceBook): LicenseView {
  const price = priceOf(book, license);
  if (!price) return license;
  const unit = monthlyUnitPrice(price);
  return {
    ...license,
    price,
    monthlyUnitPrice: cents(unit),
    currency: price.currency,
    monthlyCost: cents(unit.times(license.available)),
  };
}

/** A page of the licenses (by name), each with the price that applies to it. */
export async function listPricedLicenses(
  services: Services,
  portalId: string | undefined,
  request: PageRequest,
): Promise<Page<LicenseView>> {
  const [page, book] = await Promise.all([listLicenses(services, portalId, request), priceBook(services)]);
  return { ...page, items: page.items.map((license) => withPrice(license, book)) };
}

export async function getPricedLicense(services: Services, licenseId: string): Promise<LicenseView> {
  const [license, book] = await Promise.all([getLicense(services, licenseId), priceBook(services)]);
  return withPrice(license, book);
}

/** Whether a portal's holders show their activity: it is on and a pass has succeeded since. */
export function showsActivity(portal: PortalRecord | undefined): boolean {
  return !!portal?.activity && !!portal.activityReadAt;
}

// ---- history -------------------------------------------------------------------------------------------------

export async function licenseHistory(
  services: Services,
  licenseId: string,
  range: { from?: string; to?: string },
): Promise<LicenseSnapshot[]> {
  const license = await getLicense(services, licenseId);
  const fallback = defaultHistoryRange(services.now());
  const from = range.from ?? fallback.from;
  const to = range.to ?? fallback.to;
  if (from > to)
    throw new ApiError(400, 'bad_request', 'The request is invalid: see the failing fields.', [
      { in: 'query', path: 'from', message: 'must not be after to' },
    ]);
  return services.ledger.history.licenseHistory(license.portalId, license.skuId, from, to);
}

export async function licensedUsersReport(services: Services, month: string, portalId?: string) {
  let portals: PortalRecord[];
  if (portalId) {
    const portal = await services.ledger.portals.get(portalId);
    if (!portal) throw new AppError('portal_not_found');
    portals = [portal];
  } else {
    portals = (await services.ledger.portals.list()).sort((a, b) => a.name.localeCompare(b.name));
  }
  const items = [];
  for (const portal of portals) {
    const days = await services.ledger.history.portalHistory(portal.id, `${month}-01`, `${month}-31`);
    const figure = licensedUsersOfMonth(days, month);
    if (figure) items.push({ portalId: portal.id, portalName: portal.name, ...figure });
  }
  return items;
}

// ---- prices --------------------------------------------------------------------------------------------------

export async function listPlanPrices(services: Services) {
  const prices = await services.ledger.prices.planPrices();
  return [...prices].map(([skuId, price]) => ({ skuId, ...price })).sort((a, b) => a.skuId.localeCompare(b.skuId));
}

export async function putPlanPrice(services: Services, skuId: string, price: Price) {
  await services.ledger.prices.putPlanPrice(skuId, price);
  return { skuId, ...price };
}

export async function deletePlanPrice(services: Services, skuId: string): Promise<void> {
  if (!(await services.ledger.prices.deletePlanPrice(skuId)))
    throw new NotFoundError(`No price is set for plan ${skuId}.`);
}

export async function putLicensePrice(services: Services, licenseId: string, price: Price) {
  await getLicense(services, licenseId);
  await services.ledger.prices.putLicensePrice(licenseId, price);
  return { licenseId, ...price };
}

export async function deleteLicensePrice(services: Services, licenseId: string): Promise<void> {
  await getLicense(services, licenseId);
  if (!(await services.ledger.prices.deleteLicensePrice(licenseId)))
    throw new NotFoundError(`License ${licenseId} has no price of its own.`);
}

// ---- waste ---------------------------------------------------------------------------------------------------

/** Waste across portals (or one): holders are read a portal at a time, a few fields each. */
export async function waste(services: Services, portalId?: string): Promise<WasteReport> {
  const portals = portalId
    ? [await services.ledger.portals.get(portalId)].filter((p): p is PortalRecord => !!p)
    : await services.ledger.portals.list();
  if (portalId && portals.length === 0) throw new AppError('portal_not_found');
  const [licenses, book] = await Promise.all([services.ledger.licenses.list(portalId), priceBook(services)]);
  const holders = new Map<string, Holder[]>();
  for (const portal of portals) {
    const activity = showsActivity(portal);
    await services.ledger.holders.forEachHolder(portal.id, (holder: HolderFacts) => {
      const key = licenseIdOf(portal.id, holder.skuId);
      const list = holders.get(key) ?? [];
      list.push({
        accountEnabled: holder.accountEnabled,
        userType: holder.userType,
        ...(activity && holder.inactive !== undefined ? { inactive: holder.inactive } : {}),
      });
      holders.set(key, list);
    });
  }
  // Licenses of deleted portals (kept unless purged) have no holders to read: they count their seats only.
  return wasteReport(
    licenses.map((license) => ({
      licenseId: license.id,
      licenseName: license.name,
      portalId: license.portalId,
      available: license.available,
      consumedUnits: license.consumedUnits,
      price: priceOf(book, license),
    })),
    (licenseId) => countHolders(holders.get(licenseId) ?? []),
  );
}
