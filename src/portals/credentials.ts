import { X509Certificate } from 'node:crypto';
import type { Settings } from '../config/settings';
import { AppError } from '../domain/errors';
import type { PortalCredential, PortalSecret } from '../domain/secrets';
import { InvalidInputError } from './errors';

/**
 * What a portal's `auth` holds beyond the secret itself: the client secret's expiry as the admin entered it,
 * and the federated kind, which has no secret at all (nothing goes to Key Vault or the local store for it).
 */
export type PortalAuthInput =
  | Exclude<PortalCredential, { kind: 'clientSecret' }>
  | (Extract<PortalSecret, { kind: 'clientSecret' }> & { expiresAt?: string });

/** The secret to store for `auth`, without what is not secret; undefined for the federated kind. */
export function storedSecret(auth: PortalAuthInput): PortalSecret | undefined {
  switch (auth.kind) {
    case 'federated':
      return undefined;
    case 'clientSecret':
      return { kind: 'clientSecret', clientSecret: auth.clientSecret };
    default:
      return auth;
  }
}

/** When the credential stops working, where known: a certificate's notAfter, a client secret's entered expiry. */
export function credentialExpiresAt(auth: PortalAuthInput): string | undefined {
  if (auth.kind === 'clientSecret') return auth.expiresAt && new Date(auth.expiresAt).toISOString();
  if (auth.kind !== 'certificate') return undefined;
  const notAfter = Date.parse(new X509Certificate(auth.certificate).validTo);
  return Number.isFinite(notAfter) ? new Date(notAfter).toISOString() : undefined;
}

/** The client id: as given; for the federated kind, by default the operator's multi-tenant app. */
export function resolveClientId(settings: Settings, clientId: string | undefined, auth: PortalAuthInput): string {
  if (clientId) return clientId;
  if (auth.kind !== 'federated') throw new InvalidInputError([{ path: 'clientId', message: 'is required' }]);
  const multitenant = settings.federation.multitenantClientId;
  if (!multitenant) throw new AppError('multitenant_app_missing');
  return multitenant;
}
