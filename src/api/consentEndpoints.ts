import { z } from 'zod';
import { defineEndpoint } from './endpoint';
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

export const consentCallbackQuery = z
  .object({
    state: z.string().optional(),
    admin_consent: z.string().optional(),
    tenant: z.string().optional(),
    scope: z.string().optional(),
    error: z.string().optional(),
    error_description: z.string().optional(),
  })
  .meta({ id: 'ConsentCallbackQuery' });

/** Not in the OpenAPI document: a page for the browser, not an API route. */
export const consentCallbackEndpoint = defineEndpoint({
  name: 'consentCallback',
  method: 'GET',
  route: 'api/consent/callback',
  tag: 'portals',
  summary: "Microsoft's admin-consent redirect (for the browser)",
  description:
    'Anonymous, protected by the single-use state. 302 to the new portal access on the page; a readable HTML page (400) for a refusal or a missing, unknown, expired or replayed state.',
  params: z.strictObject({}),
  query: consentCallbackQuery,
  body: undefined,
  responses: {
    302: { description: 'The portal access was created: redirect to `/#/portals/<id>`.' },
    400: { description: 'An HTML page saying why nothing was created.' },
  },
});
