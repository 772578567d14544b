import { z } from 'zod';
import { defineEndpoint, type Endpoint } from './endpoint';
import {
  historyQuery,
  licensedUsersMonthSchema,
  licenseSnapshotItemSchema,
  priceListQuery,
  historySchema,
  licensedUsersQuery,
  licensedUsersReportSchema,
  licensePriceSchema,
  planPriceListSchema,
  planPriceSchema,
  priceBodySchema,
  priceLicenseParams,
  skuParams,
  wasteQuery,
  wasteReportSchema,
} from './insightsSchemas';
import { defineListEndpoint } from './lists';
import { bad, notFound } from './responses';
import { emptyQuery, licenseParams } from './schemas';

/** The insights routes (PRODUCT.md, "History and the billing figure", "Activity, prices and waste"). */

const noParams = z.strictObject({});

export const licenseHistoryEndpoint = defineListEndpoint({
  name: 'licensesHistory',
  method: 'GET',
  route: 'api/licenses/{id}/history',
  tag: 'insights',
  role: 'Reader',
  summary: "A license's daily snapshots",
  description:
    'One per UTC day (the last run of the day), oldest first; both bounds inclusive, default the last 12 months.',
  params: licenseParams,
  query: historyQuery,
  body: undefined,
  list: { file: 'license-history', item: licenseSnapshotItemSchema },
  responses: {
    200: { description: 'The snapshots, oldest first.', schema: historySchema },
    400: bad(),
    404: notFound('The license'),
  },
});

export const licensedUsersReportEndpoint = defineListEndpoint({
  name: 'reportsLicensedUsers',
  method: 'GET',
  route: 'api/reports/licensed-users',
  tag: 'insights',
  role: 'Reader',
  summary: 'Licensed users per portal in a month (the billing figure)',
  description:
    'Each person counted once across plans; guests and disabled accounts holding a plan count. Peak: the highest daily count; last: the latest.',
  params: noParams,
  query: licensedUsersQuery,
  body: undefined,
  list: { file: 'licensed-users', item: licensedUsersMonthSchema },
  responses: {
    200: { description: 'One item per portal with data in the month.', schema: licensedUsersReportSchema },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const listPricesEndpoint = defineListEndpoint({
  name: 'pricesList',
  method: 'GET',
  route: 'api/prices',
  tag: 'insights',
  role: 'Reader',
  summary: 'Plan prices',
  description: "Prices per plan (every portal). A license's own price shows on the license.",
  params: noParams,
  query: priceListQuery,
  body: undefined,
  list: { file: 'prices', item: planPriceSchema },
  responses: { 200: { description: 'The plan prices.', schema: planPriceListSchema }, 400: bad() },
});

export const putPlanPriceEndpoint = defineEndpoint({
  name: 'pricesPut',
  method: 'PUT',
  route: 'api/prices/{skuId}',
  tag: 'insights',
  role: 'Admin',
  summary: "Set a plan's price (every portal)",
  description: 'Kept in the ledger, never sent to Microsoft.',
  params: skuParams,
  query: emptyQuery,
  body: priceBodySchema,
  responses: { 200: { description: 'The price as stored.', schema: planPriceSchema }, 400: bad() },
});

export const deletePlanPriceEndpoint = defineEndpoint({
  name: 'pricesDelete',
  method: 'DELETE',
  route: 'api/prices/{skuId}',
  tag: 'insights',
  role: 'Admin',
  summary: "Remove a plan's price",
  params: skuParams,
  query: emptyQuery,
  body: undefined,
  responses: { 204: { description: 'Removed.' }, 400: bad(), 404: notFound('A price of this plan') },
});

export const putLicensePriceEndpoint = defineEndpoint({
  name: 'licensesPricePut',
  method: 'PUT',
  route: 'api/licenses/{id}/price',
  tag: 'insights',
  role: 'Admin',
  summary: "Set one license's own price (overrides its plan's)",
  params: priceLicenseParams,
  query: emptyQuery,
  body: priceBodySchema,
  responses: {
    200: { description: 'The price as stored.', schema: licensePriceSchema },
    400: bad(),
    404: notFound('The license'),
  },
});

export const deleteLicensePriceEndpoint = defineEndpoint({
  name: 'licensesPriceDelete',
  method: 'DELETE',
  route: 'api/licenses/{id}/price',
  tag: 'insights',
  role: 'Admin',
  summary: "Remove a license's own price (its plan's applies again)",
  params: priceLicenseParams,
  query: emptyQuery,
  body: undefined,
  responses: { 204: { description: 'Removed.' }, 400: bad(), 404: notFound('The license or its own price') },
});

/**
 * Not a plain list ({ items, totals }): CSV export hook left for the exports helper; `?format=csv` of the items
 * would need a source of WasteItem pages plus where the totals go.
 */
export const wasteEndpoint = defineEndpoint({
  name: 'insightsWaste',
  method: 'GET',
  route: 'api/insights/waste',
  tag: 'insights',
  role: 'Reader',
  summary: 'Seats paid for and not used',
  description:
    'Per license: unassigned seats and the disabled, inactive and guest holders (sync-owned consumers), with the money where a price is set.',
  params: noParams,
  query: wasteQuery,
  body: undefined,
  responses: {
    200: { description: 'The waste, most reclaimable first.', schema: wasteReportSchema },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const insightEndpoints: readonly Endpoint[] = [
  licenseHistoryEndpoint,
  licensedUsersReportEndpoint,
  listPricesEndpoint,
  putPlanPriceEndpoint,
  deletePlanPriceEndpoint,
  putLicensePriceEndpoint,
  deleteLicensePriceEndpoint,
  wasteEndpoint,
] as readonly Endpoint[];
