import { appServices } from '../src/app/compose';
import {
  deleteLicensePriceController,
  deletePlanPriceController,
  licensedUsersReportController,
  licenseHistoryController,
  listPricesController,
  putLicensePriceController,
  putPlanPriceController,
  wasteController,
} from '../src/api/insightsControllers';
import {
  deleteLicensePriceEndpoint,
  deletePlanPriceEndpoint,
  licensedUsersReportEndpoint,
  licenseHistoryEndpoint,
  listPricesEndpoint,
  putLicensePriceEndpoint,
  putPlanPriceEndpoint,
  wasteEndpoint,
} from '../src/api/insightsEndpoints';
import { defineApiRoute } from '../src/api/http';

/** History, the licensed-users report, prices and waste. */
export const licensesHistory = defineApiRoute(licenseHistoryEndpoint, licenseHistoryController, appServices);
export const reportsLicensedUsers = defineApiRoute(
  licensedUsersReportEndpoint,
  licensedUsersReportController,
  appServices,
);
export const pricesList = defineApiRoute(listPricesEndpoint, listPricesController, appServices);
export const pricesPut = defineApiRoute(putPlanPriceEndpoint, putPlanPriceController, appServices);
export const pricesDelete = defineApiRoute(deletePlanPriceEndpoint, deletePlanPriceController, appServices);
export const licensesPricePut = defineApiRoute(putLicensePriceEndpoint, putLicensePriceController, appServices);
export const licensesPriceDelete = defineApiRoute(
  deleteLicensePriceEndpoint,
  deleteLicensePriceController,
  appServices,
);
export const insightsWaste = defineApiRoute(wasteEndpoint, wasteController, appServices);
