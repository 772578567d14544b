import '../src/telemetry/worker';
// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
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
export const portalsList = defineApiRoute(listPortalsEndpoint, listPortalsController);
export const portalsCreate = defineApiRoute(createPortalEndpoint, createPortalController);
export const portalsGet = defineApiRoute(getPortalEndpoint, getPortalController);
export const portalsChange = defineApiRoute(changePortalEndpoint, changePortalController);
export const portalsDelete = defineApiRoute(deletePortalEndpoint, deletePortalController);
export const portalsVerify = defineApiRoute(verifyPortalEndpoint, verifyPortalController);
