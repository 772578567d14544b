import { z } from 'zod';

/**
 * Operator settings of secretless tenants (PRODUCT.md, "Secretless tenants"): the multi-tenant app, the
 * user-assigned managed identity its federated credential trusts, and the public address consent returns to.
 */

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID');

const publicUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), { message: 'must be an http(s):// address' });

export const federationEnv = {
  LICENSE_SYNC_MULTITENANT_CLIENT_ID: guid.optional(),
  LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID: guid.optional(),
  /** Optional: the identity's object (principal) id, named in errors as the subject to put in. */
  LICENSE_SYNC_FEDERATION_IDENTITY_OBJECT_ID: guid.optional(),
  LICENSE_SYNC_PUBLIC_URL: publicUrl.optional(),
  WEBSITE_HOSTNAME: z.string().min(1).optional(),
  /** The App Service managed-identity endpoint (set by the platform; the local demo points it at the simulator). */
  IDENTITY_ENDPOINT: z.string().url().optional(),
  IDENTITY_HEADER: z.string().min(1).optional(),
};

export interface FederationSettings {
  /** Client id of the operator's multi-tenant app: the default client id of federated portals. */
  multitenantClientId?: string;
  /** Client id of the user-assigned managed identity the app's federated credential trusts. */
  identityClientId?: string;
  identityObjectId?: string;
  /** Base of the consent redirect, without a trailing slash; never taken from a request. */
  publicUrl: string;
  /** In Azure (WEBSITE_INSTANCE_ID; IDENTITY_ENDPOINT alone does not make it one): the demo never plays the identity. */
  runningInAzure: boolean;
  /** Whether the platform's managed-identity endpoint is there (IDENTITY_ENDPOINT and IDENTITY_HEADER). */
  identityEndpointAvailable: boolean;
  /**
   * Sign-ins repeated while Entra may still be propagating a new federated credential or service principal
   * (it takes up to minutes), and the wait before the first repeat (it grows linearly). Tests shorten it.
   */
  propagationRetries: number;
  propagationDelayMs: number;
}

export function federationSettings(
  e: z.infer<z.ZodObject<typeof federationEnv>>,
  host: { runningInAzure: boolean; port: number },
): FederationSettings {
  const { runningInAzure } = host;
  const publicUrl =
    e.LICENSE_SYNC_PUBLIC_URL ??
    (runningInAzure && e.WEBSITE_HOSTNAME ? `https://${e.WEBSITE_HOSTNAME}` : `http://127.0.0.1:${host.port}`);
  return {
    multitenantClientId: e.LICENSE_SYNC_MULTITENANT_CLIENT_ID,
    identityClientId: e.LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID,
    identityObjectId: e.LICENSE_SYNC_FEDERATION_IDENTITY_OBJECT_ID,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    runningInAzure,
    identityEndpointAvailable: e.IDENTITY_ENDPOINT !== undefined && e.IDENTITY_HEADER !== undefined,
    propagationRetries: 3,
    propagationDelayMs: 5_000,
  };
}
