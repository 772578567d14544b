import type { Services } from '../domain/ports';
import type { Settings } from '../config/settings';
import type { PortalRecord } from '../domain/records';
import { createPortal } from '../portals/portals';
import { CALLBACK_PATH } from '../portals/connect';
import { addOperator, type SimOperator } from './simulator/operator';
import type { Simulator } from './simulator/server';
import type { SimTenant } from './simulator/tenant';

/**
 * The secretless part of the local demo: the simulator plays the function app's managed identity (its
 * IDENTITY_ENDPOINT, set for this process only) and the operator's multi-tenant app, whose federated credential
 * trusts it. "Fabrikam (simulated)" has consented already and gets a federated portal; "Northwind (simulated)"
 * is what "Connect a tenant" connects, its consent page accepting for it. Off when the operator configured a
 * real identity or multi-tenant app, and never in Azure.
 */

export const SECRETLESS_PORTAL_NAME = 'Demo - Fabrikam (simulated, secretless)';
// Fixed ids of the simulated operator: not secrets, they only open the simulator.
const DEMO_IDS = {
  homeTenantId: '5e1a0000-0000-4000-8000-0000000f0e00',
  identityClientId: '5e1a0000-0000-4000-8000-0000000f0e01',
  objectId: '5e1a0000-0000-4000-8000-0000000f0e02',
  multiTenantClientId: '5e1a0000-0000-4000-8000-0000000f0e03',
};

export interface SecretlessDemo {
  operator: SimOperator;
  fabrikam: SimTenant;
}

export function prepareSecretlessDemo(simulator: Simulator, settings: Settings): SecretlessDemo | undefined {
  const federation = settings.federation;
  if (
    federation.runningInAzure ||
    federation.identityEndpointAvailable ||
    federation.multitenantClientId ||
    federation.identityClientId
  )
    return undefined;
  const operator = addOperator(simulator, DEMO_IDS);
  // @azure/identity reads the managed-identity endpoint from the environment: this process only.
  process.env.IDENTITY_ENDPOINT = simulator.identityEndpoint;
  process.env.IDENTITY_HEADER = simulator.identityHeader;
  federation.identityEndpointAvailable = true;
  federation.identityClientId = operator.identity.clientId;
  federation.multitenantClientId = operator.multiTenantClientId;
  const plans = [
    { skuPartNumber: 'SPB', subscriptions: [{ units: 8 }] },
    { skuPartNumber: 'POWER_BI_PRO', subscriptions: [{ units: 3 }] },
  ];
  const people = (domain: string, names: string[]) =>
    names.map((name, i) => ({
      displayName: name,
      userPrincipalName: `${name.split(' ')[0]!.toLowerCase()}@${domain}`,
      licenses: i % 3 === 0 ? [{ sku: 'SPB' }, { sku: 'POWER_BI_PRO' }] : [{ sku: 'SPB' }],
    }));
  const fabrikam = simulator.addTenant({
    displayName: 'Fabrikam (simulated)',
    domains: ['fabrikam-simulated.onmicrosoft.com'],
    apps: [{ clientId: operator.multiTenantClientId, displayName: 'License sync (multi-tenant, simulated)' }],
    plans,
    users: people('fabrikam-simulated.onmicrosoft.com', [
      'Nestor Wilke',
      'Lidia Holloway',
      'Pradeep Gupta',
      'Lynne Robbins',
    ]),
  });
  const northwind = simulator.addTenant({
    displayName: 'Northwind (simulated)',
    domains: ['northwind-simulated.onmicrosoft.com'],
    plans,
    users: people('northwind-simulated.onmicrosoft.com', ['Nancy Davolio', 'Andrew Fuller', 'Janet Leverling']),
  });
  simulator.answerConsent({ tenantId: northwind.tenantId }, { fallback: true });
  return { operator, fabrikam };
}

/** Once the host listens: the consent may come back to it. */
export function allowConsentRedirect(demo: SecretlessDemo, settings: Settings): void {
  demo.operator.setApp({ redirectUris: [`${settings.federation.publicUrl}${CALLBACK_PATH}`] });
}

export function createSecretlessDemoPortal(services: Services, demo: SecretlessDemo): Promise<PortalRecord> {
  return createPortal(services, {
    name: SECRETLESS_PORTAL_NAME,
    tenantId: demo.fabrikam.tenantId,
    cloud: 'simulated',
    active: true,
    autoSync: true,
    auth: { kind: 'federated' },
  });
}
