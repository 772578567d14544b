import { appServices } from '../src/app/compose';
import { defineApiRoute } from '../src/api/http';
import {
  deleteTermController,
  getRenewalSettingsController,
  listRenewalsController,
  putRenewalSettingsController,
  putTermController,
} from '../src/api/renewalControllers';
import {
  deleteTermEndpoint,
  getRenewalSettingsEndpoint,
  listRenewalsEndpoint,
  putRenewalSettingsEndpoint,
  putTermEndpoint,
} from '../src/api/renewalEndpoints';

/** Right-size before renewal: the recommendations, the terms per subscription and the buffer settings. */
export const insightsRenewals = defineApiRoute(listRenewalsEndpoint, listRenewalsController, appServices);
export const subscriptionsTermPut = defineApiRoute(putTermEndpoint, putTermController, appServices);
export const subscriptionsTermDelete = defineApiRoute(deleteTermEndpoint, deleteTermController, appServices);
export const insightsRenewalsSettingsGet = defineApiRoute(
  getRenewalSettingsEndpoint,
  getRenewalSettingsController,
  appServices,
);
export const insightsRenewalsSettingsPut = defineApiRoute(
  putRenewalSettingsEndpoint,
  putRenewalSettingsController,
  appServices,
);
