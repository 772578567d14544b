import { AppError, toAppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import type { TenantPlan } from '../domain/tenant';
import { openTenant } from './tenantRead';

/** Signs in and reads the plans now: proves the credentials and consent work. */
export async function verifyPortal(services: Services, portalId: string): Promise<{ plans: TenantPlan[] }> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  if (portal.deletingAt) throw new AppError('portal_deleting');
  try {
    const reader = await openTenant(services, portal);
    return { plans: await reader.readPlans() };
  } catch (caught) {
    throw toAppError(caught);
  }
}
