import { recordChange } from '../domain/audit';
import type { Controller } from './http';
import * as insights from './insights';
import {
  licensedUsersReportEndpoint,
  licenseHistoryEndpoint,
  listPricesEndpoint,
  type deleteLicensePriceEndpoint,
  type deletePlanPriceEndpoint,
  type putLicensePriceEndpoint,
  type putPlanPriceEndpoint,
  type wasteEndpoint,
} from './insightsEndpoints';
import { listController } from './lists';

/** Controllers of the insights routes: one use case each. */

export const licenseHistoryController = listController(
  licenseHistoryEndpoint,
  async function* ({ params, query }, services) {
    yield await insights.licenseHistory(services, params.id, query);
  },
);

export const licensedUsersReportController = listController(
  licensedUsersReportEndpoint,
  async function* ({ query }, services) {
    yield await insights.licensedUsersReport(services, query.month, query.portalId);
  },
);

export const listPricesController = listController(listPricesEndpoint, async function* (_input, services) {
  yield await insights.listPlanPrices(services);
});

const priceSummary = (price: { amount: string; currency: string; period: string }) =>
  `${price.amount} ${price.currency} per ${price.period}`;

export const putPlanPriceController: Controller<typeof putPlanPriceEndpoint> = async (
  { params, body, principal },
  services,
) => {
  const price = await insights.putPlanPrice(services, params.skuId, body);
  await recordChange(services, principal, {
    action: 'price.set',
    target: `prices/${params.skuId}`,
    summary: `Set the plan's price to ${priceSummary(price)}`,
  });
  return { status: 200, body: price };
};

export const deletePlanPriceController: Controller<typeof deletePlanPriceEndpoint> = async (
  { params, principal },
  services,
) => {
  await insights.deletePlanPrice(services, params.skuId);
  await recordChange(services, principal, {
    action: 'price.delete',
    target: `prices/${params.skuId}`,
    summary: "Removed the plan's price",
  });
  return { status: 204 };
};

export const putLicensePriceController: Controller<typeof putLicensePriceEndpoint> = async (
  { params, body, principal },
  services,
) => {
  const price = await insights.putLicensePrice(services, params.id, body);
  await recordChange(services, principal, {
    action: 'price.set',
    target: `licenses/${params.id}/price`,
    summary: `Set the license's own price to ${priceSummary(price)}`,
  });
  return { status: 200, body: price };
};

export const deleteLicensePriceController: Controller<typeof deleteLicensePriceEndpoint> = async (
  { params, principal },
  services,
) => {
  await insights.deleteLicensePrice(services, params.id);
  await recordChange(services, principal, {
    action: 'price.delete',
    target: `licenses/${params.id}/price`,
    summary: "Removed the license's own price",
  });
  return { status: 204 };
};

export const wasteController: Controller<typeof wasteEndpoint> = async ({ query }, services) => ({
  status: 200,
  body: await insights.waste(services, query.portalId),
});
