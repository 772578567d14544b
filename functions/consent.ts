import '../src/telemetry/worker';
import { consentCallbackHandler, connectPortalController } from '../src/api/consent';
import { connectPortalEndpoint, consentCallbackPage } from '../src/api/consentEndpoints';
import { defineApiRoute, definePageRoute } from '../src/api/http';
import { appServices } from '../src/app/compose';

/** Connect a tenant: start the admin consent (Admin), and Microsoft's redirect back (a page, guarded by its state). */
export const portalsConnect = defineApiRoute(connectPortalEndpoint, connectPortalController, appServices);
export const consentCallback = definePageRoute(consentCallbackPage, consentCallbackHandler, appServices);
