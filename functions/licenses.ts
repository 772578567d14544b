import '../src/telemetry/worker';
// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
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
export const licensesList = defineApiRoute(listLicensesEndpoint, listLicensesController);
export const licensesGet = defineApiRoute(getLicenseEndpoint, getLicenseController);
export const consumersList = defineApiRoute(listConsumersEndpoint, listConsumersController);
export const consumersLink = defineApiRoute(linkConsumerEndpoint, linkConsumerController);
export const consumersUnlink = defineApiRoute(unlinkConsumerEndpoint, unlinkConsumerController);
