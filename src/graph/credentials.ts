import {
  ClientCertificateCredential,
  ClientSecretCredential,
  UsernamePasswordCredential,
  type TokenCredential,
} from '@azure/identity';
import type { PortalCredential } from '../domain/secrets';
import { isMicrosoftAuthorityHost, type CloudEndpoints } from '../domain/clouds';
import { createFederatedCredential, type FederatedSignInOptions } from './federated';

export interface CredentialOptions {
  /**
   * Retries of the sign-in HTTP calls themselves (network errors, 5xx). Few and short: a sign-in that keeps
   * failing fails the run, which the queue retries later.
   */
  maxRetries?: number;
  retryDelayMs?: number;
  /** For the federated kind: the operator's federation settings and the portal's cloud. */
  federated?: FederatedSignInOptions;
}

/** The @azure/identity credential for one portal's stored secret, pinned to the cloud's authority host. */
export function createCredential(
  tenantId: string,
  clientId: string,
  secret: PortalCredential,
  endpoints: CloudEndpoints,
  options: CredentialOptions = {},
): TokenCredential {
  const common = {
    authorityHost: endpoints.authorityHost,
    // Only Microsoft's own hosts may be asked for instance discovery; anything else would send it to
    // login.microsoftonline.com about a host that is not Microsoft's.
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(endpoints.authorityHost),
    retryOptions: {
      maxRetries: options.maxRetries ?? 2,
      retryDelayInMs: options.retryDelayMs ?? 500,
      maxRetryDelayInMs: 5_000,
    },
  };
  switch (secret.kind) {
    case 'clientSecret':
      return new ClientSecretCredential(tenantId, clientId, secret.clientSecret, common);
    case 'certificate':
      return new ClientCertificateCredential(tenantId, clientId, { certificate: secret.certificate }, common);
    case 'password':
      // Legacy: Microsoft deprecates the password grant and it cannot pass MFA (mapped to mfa_required).
      return new UsernamePasswordCredential(tenantId, clientId, secret.username, secret.password, common);
    case 'federated':
      if (!options.federated) throw new Error('A federated sign-in needs the federation settings.');
      return createFederatedCredential(tenantId, clientId, common, options.federated);
  }
}

/**
 * Why MSAL could not resolve the tenant's endpoints. MSAL swallows the OpenID-configuration answer, so ask once
 * more: Entra answers an unknown tenant with AADSTS90002; no answer at all means the host is unreachable.
 */
export async function probeTenant(
  authorityHost: string,
  tenantId: string,
  timeoutMs = 5_000,
): Promise<'tenant_not_found' | 'unreachable' | 'unknown'> {
  const url = `${authorityHost}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status === 400 && /AADSTS90002|invalid_tenant/.test(text)) return 'tenant_not_found';
    return 'unknown';
  } catch {
    return 'unreachable';
  }
}
