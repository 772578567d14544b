import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import {
  changePortalController,
  createPortalController,
  deletePortalController,
  getPortalController,
  listPortalsController,
  verifyPortalController,
} from '../src/api/controllers';
import {
  changePortalEndpoint,
  createPortalEndpoint,
  deletePortalEndpoint,
  getPortalEndpoint,
  listPortalsEndpoint,
  verifyPortalEndpoint,
} from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Portal accesses: list, create, read, change, delete, verify (routes and schemas in src/api/endpoints.ts). */
export const portalsList = defineApiRoute(listPortalsEndpoint, listPortalsController, appServices);
export const portalsCreate = defineApiRoute(createPortalEndpoint, createPortalController, appServices);
export const portalsGet = defineApiRoute(getPortalEndpoint, getPortalController, appServices);
export const portalsChange = defineApiRoute(changePortalEndpoint, changePortalController, appServices);
export const portalsDelete = defineApiRoute(deletePortalEndpoint, deletePortalController, appServices);
export const portalsVerify = defineApiRoute(verifyPortalEndpoint, verifyPortalController, appServices);
