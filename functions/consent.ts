// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
import { consentCallbackHandler, connectPortalController } from '../src/api/consent';
import { connectPortalEndpoint, consentCallbackEndpoint } from '../src/api/consentEndpoints';
import { defineApiRoute } from '../src/api/http';
import { defineHttp } from '../src/host/registry';

/** Connect a tenant: start the admin consent (API, function key), and Microsoft's redirect back (anonymous). */
export const portalsConnect = defineApiRoute(connectPortalEndpoint, connectPortalController);
export const consentCallback = defineHttp({
  name: consentCallbackEndpoint.name,
  route: consentCallbackEndpoint.route,
  methods: [consentCallbackEndpoint.method],
  // The browser comes back from Microsoft without a key: the single-use state protects this route.
  authLevel: 'anonymous',
  handler: consentCallbackHandler,
});
