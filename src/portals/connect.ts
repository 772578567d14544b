import { recordChange, type AuditPrincipal } from '../domain/audit';
import { endpointsFor, graphScope } from '../domain/clouds';
import { AppError, isAppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import type { Cloud, PortalRecord } from '../domain/records';
import { queueRun } from '../runs/enqueue';
import { verifyPortal } from '../sync/verify';
import { assertNameFree, checkCloud, createPortal, deletePortal } from './portals';

/**
 * "Connect a tenant" (PRODUCT.md, "Secretless tenants"): the admin of a tenant consents to the operator's
 * multi-tenant app on Microsoft's page, which sends the browser back to the callback; the callback makes a
 * federated portal access for the consenting tenant, verifies it and queues its first run.
 */

export const CALLBACK_PATH = '/api/consent/callback';

/** Microsoft's answer, refused: nothing is created. `reason` is Microsoft's own words (error_description). */
export class ConsentRefusedError extends Error {
  constructor(
    readonly error: string,
    readonly reason: string,
  ) {
    super(`The consent was not given (${error}).`);
    this.name = 'ConsentRefusedError';
  }
}

export interface ConnectRequest {
  name: string;
  cloud: Cloud;
}

/**
 * The admin-consent URL for a new portal access named `name` in `cloud`, and until when it may be used. The state
 * remembers who asked, so the audit trail names them when the callback creates the portal access.
 */
export async function startConnect(
  services: Services,
  request: ConnectRequest,
  startedBy: AuditPrincipal,
): Promise<{ consentUrl: string; expiresAt: string }> {
  checkCloud(services, request.cloud);
  const clientId = services.settings.federation.multitenantClientId;
  if (!clientId) throw new AppError('multitenant_app_missing');
  await assertNameFree(services, request.name);
  const endpoints = endpointsFor(request.cloud, services.settings);
  const { state, expiresAt } = await services.consentStates.create(
    { name: request.name, cloud: request.cloud, startedBy },
    services.now(),
  );
  const url = new URL(`${endpoints.authorityHost}/organizations/v2.0/adminconsent`);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('scope', graphScope(endpoints));
  url.searchParams.set('redirect_uri', `${services.settings.federation.publicUrl}${CALLBACK_PATH}`);
  url.searchParams.set('state', state);
  services.logger.info('tenant connection started', { cloud: request.cloud, expiresAt });
  return { consentUrl: url.toString(), expiresAt };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The callback: checks and uses the state, then Microsoft's answer (an `error` wins over admin_consent=True),
 * creates the portal access, verifies it and queues its first run. A tenant in which the app cannot sign in
 * because it was never consented there (a forged `tenant`) leaves nothing behind.
 */
export async function completeConnect(services: Services, query: URLSearchParams): Promise<PortalRecord> {
  const pending = await services.consentStates.take(query.get('state'), services.now());
  const error = query.get('error');
  if (error) throw new ConsentRefusedError(error, query.get('error_description') ?? '');
  if (query.get('admin_consent')?.toLowerCase() !== 'true') {
    throw new ConsentRefusedError('no_consent', 'Microsoft did not report an admin consent.');
  }
  const tenantId = query.get('tenant') ?? '';
  if (!GUID.test(tenantId)) {
    throw new ConsentRefusedError('invalid_tenant', 'Microsoft did not name the consenting tenant.');
  }
  const portal = await createPortal(services, {
    name: pending.name,
    tenantId: tenantId.toLowerCase(),
    cloud: pending.cloud,
    active: true,
    autoSync: true,
    auth: { kind: 'federated' },
  });
  // Entra may still be replicating the new service principal: a refusal is asked again a few times.
  const { propagationRetries, propagationDelayMs } = services.settings.federation;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await verifyPortal(services, portal.id);
      break;
    } catch (caught) {
      const notConsented = isAppError(caught) && caught.code === 'app_not_consented';
      if (notConsented && attempt < propagationRetries) {
        await new Promise((resolve) => setTimeout(resolve, propagationDelayMs * (attempt + 1)));
        continue;
      }
      if (notConsented) {
        await deletePortal(services, portal.id, { purge: true });
        throw new ConsentRefusedError(
          'not_consented',
          `The app has no consent in tenant ${tenantId}: the sign-in there was refused (${caught.code}).`,
        );
      }
      // Consent was given; what failed (e.g. the operator's federated credential) shows on the portal's first run.
      services.logger.warn('a connected tenant could not be verified yet', {
        portalId: portal.id,
        errorCode: isAppError(caught) ? caught.code : 'internal_error',
      });
      break;
    }
  }
  await recordChange(services, pending.startedBy, {
    action: 'portal.create',
    target: `portals/${portal.id}`,
    summary: `Connected a tenant by admin consent: name=${JSON.stringify(portal.name)}, tenantId=${JSON.stringify(portal.tenantId)}, cloud=${JSON.stringify(portal.cloud)}, credential=federated (new)`,
  });
  const run = await queueRun(services, portal.id, 'manual');
  await recordChange(services, pending.startedBy, {
    action: 'run.start',
    target: `portals/${portal.id}/runs/${run.id}`,
    summary: 'Started the first sync of a connected tenant (queued)',
  });
  services.logger.info('tenant connected', { portalId: portal.id, cloud: portal.cloud });
  return portal;
}
