import type { Controller } from './http';
import * as insights from './insights';
import type {
  deleteLicensePriceEndpoint,
  deletePlanPriceEndpoint,
  licensedUsersReportEndpoint,
  licenseHistoryEndpoint,
  listPricesEndpoint,
  putLicensePriceEndpoint,
  putPlanPriceEndpoint,
  wasteEndpoint,
} from './insightsEndpoints';

/** Controllers of the insights routes: one use case each. */

export const licenseHistoryController: Controller<typeof licenseHistoryEndpoint> = async (
  { params, query },
  services,
) => ({ status: 200, body: { items: await insights.licenseHistory(services, params.id, query) } });

export const licensedUsersReportController: Controller<typeof licensedUsersReportEndpoint> = async (
  { query },
  services,
) => ({ status: 200, body: { items: await insights.licensedUsersReport(services, query.month, query.portalId) } });

export const listPricesController: Controller<typeof listPricesEndpoint> = async (_input, services) => ({
  status: 200,
  body: { items: await insights.listPlanPrices(services) },
});

export const putPlanPriceController: Controller<typeof putPlanPriceEndpoint> = async ({ params, body }, services) => ({
  status: 200,
  body: await insights.putPlanPrice(services, params.skuId, body),
});

export const deletePlanPriceController: Controller<typeof deletePlanPriceEndpoint> = async ({ params }, services) => {
  await insights.deletePlanPrice(services, params.skuId);
  return { status: 204 };
};

export const putLicensePriceController: Controller<typeof putLicensePriceEndpoint> = async (
  { params, body },
  services,
) => ({ status: 200, body: await insights.putLicensePrice(services, params.id, body) });

export const deleteLicensePriceController: Controller<typeof deleteLicensePriceEndpoint> = async (
  { params },
  services,
) => {
  await insights.deleteLicensePrice(services, params.id);
  return { status: 204 };
};

export const wasteController: Controller<typeof wasteEndpoint> = async ({ query }, services) => ({
  status: 200,
  body: await insights.waste(services, query.portalId),
});
