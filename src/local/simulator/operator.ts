import { randomUUID } from 'node:crypto';
import type { SimFederatedCredential, SimMultiTenantApp } from './managedIdentity';
import type { Simulator } from './server';

/**
 * The operator's side of secretless tenants, set up as docs/deploy.md describes: a user-assigned managed identity
 * of the home tenant and a multi-tenant app whose federated credential trusts it (issuer = the home tenant,
 * subject = the identity's object id, audience api://AzureADTokenExchange). For tests and the local demo.
 */
export interface SimOperator {
  homeTenantId: string;
  identity: { clientId: string; objectId: string };
  multiTenantClientId: string;
  /** The federated credential as the docs have it made. */
  credential(): SimFederatedCredential;
  /** Replaces the app's federated credentials and redirect URIs (those not given stay). */
  setApp(change: Partial<Pick<SimMultiTenantApp, 'federatedCredentials' | 'redirectUris'>>): void;
  /** What the app's settings need: LICENSE_SYNC_* and the managed-identity endpoint. */
  env(): Record<string, string>;
}

export function addOperator(
  simulator: Simulator,
  ids: { homeTenantId?: string; identityClientId?: string; objectId?: string; multiTenantClientId?: string } = {},
): SimOperator {
  const homeTenantId = ids.homeTenantId ?? randomUUID();
  const identity = { clientId: ids.identityClientId ?? randomUUID(), objectId: ids.objectId ?? randomUUID() };
  simulator.addManagedIdentity({ ...identity, tenantId: homeTenantId });
  const multiTenantClientId = ids.multiTenantClientId ?? randomUUID();
  const credential = (): SimFederatedCredential => ({
    issuer: simulator.identityIssuer(homeTenantId),
    subject: identity.objectId,
    audiences: ['api://AzureADTokenExchange'],
  });
  simulator.addMultiTenantApp({ clientId: multiTenantClientId, federatedCredentials: [credential()] });
  return {
    homeTenantId,
    identity,
    multiTenantClientId,
    credential,
    setApp: (change) => {
      const current = simulator.multiTenantApp(multiTenantClientId)!;
      simulator.addMultiTenantApp({ ...current, ...change });
    },
    env: () => ({
      LICENSE_SYNC_MULTITENANT_CLIENT_ID: multiTenantClientId,
      LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID: identity.clientId,
      IDENTITY_ENDPOINT: simulator.identityEndpoint,
      IDENTITY_HEADER: simulator.identityHeader,
    }),
  };
}
