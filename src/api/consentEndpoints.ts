import { z } from 'zod';
import { defineEndpoint } from './endpoint';
import type { PageRoute } from './http';
import { consentStartSchema, emptyQuery, errorResponseSchema, portalConnectSchema } from './schemas';

/**
 * "Connect a tenant": POST /api/portals/connect answers the admin-consent URL; GET /api/consent/callback is
 * where Microsoft sends the browser back. The callback is anonymous at the function level (the browser comes
 * from Microsoft without a key) and protected by the single-use state; it answers pages, not JSON.
 */

export const connectPortalEndpoint = defineEndpoint({
  name: 'portalsConnect',
  method: 'POST',
  route: 'api/portals/connect',
  role: 'Admin',
  tag: 'portals',
  summary: 'Connect a tenant (secretless): start the admin consent',
  description:
    "Answers Microsoft's admin-consent URL for the operator's multi-tenant app. When the tenant's admin accepts, the callback creates a federated portal access, verifies it and queues its first run.",
  params: z.strictObject({}),
  query: emptyQuery,
  body: portalConnectSchema,
  responses: {
    200: { description: 'Open consentUrl in the browser before expiresAt.', schema: consentStartSchema },
    400: { description: 'The request is invalid: the failing fields are listed.', schema: errorResponseSchema },
    409: {
      description: 'The name is taken, or no multi-tenant app is configured (multitenant_app_missing).',
      schema: errorResponseSchema,
    },
  },
});

/**
 * Not an API route (no role, not in the OpenAPI document): the page Microsoft sends the browser back to. Its
 * query (state, admin_consent, tenant, scope, error, error_description) is read by the use case; 302 to the new
 * portal access on the page, or a readable HTML page (400) for a refusal or a missing, unknown, expired or
 * replayed state.
 */
export const consentCallbackPage: PageRoute = {
  name: 'consentCallback',
  method: 'GET',
  route: 'api/consent/callback',
};
