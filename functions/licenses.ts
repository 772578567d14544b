import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import {
  getLicenseController,
  linkConsumerController,
  listConsumersController,
  listLicensesController,
  unlinkConsumerController,
} from '../src/api/controllers';
import {
  getLicenseEndpoint,
  linkConsumerEndpoint,
  listConsumersEndpoint,
  listLicensesEndpoint,
  unlinkConsumerEndpoint,
} from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Licenses with their counts, and their consumers (link and unlink by hand). */
export const licensesList = defineApiRoute(listLicensesEndpoint, listLicensesController, appServices);
export const licensesGet = defineApiRoute(getLicenseEndpoint, getLicenseController, appServices);
export const consumersList = defineApiRoute(listConsumersEndpoint, listConsumersController, appServices);
export const consumersLink = defineApiRoute(linkConsumerEndpoint, linkConsumerController, appServices);
export const consumersUnlink = defineApiRoute(unlinkConsumerEndpoint, unlinkConsumerController, appServices);
