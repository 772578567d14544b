import type { KeyObject } from 'node:crypto';

/** The simulated federation's state and records (a module of its own: the shared SimState holds it). */

export interface SimManagedIdentity {
  /** Client id, as LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID names it. */
  clientId: string;
  /** Object (principal) id: the `sub` and `oid` of its tokens, the subject of a federated credential. */
  objectId: string;
  /** The operator's (home) tenant: the token's issuer is `<simulator>/<tenantId>/v2.0`. */
  tenantId: string;
}

export interface SimFederatedCredential {
  issuer: string;
  subject: string;
  audiences: string[];
  /** Before this time (ms) Entra does not know it yet: propagation after it was created. */
  activeAt?: number;
}

export interface SimMultiTenantAppInput {
  clientId: string;
  displayName?: string;
  /** Redirect URIs the admin-consent page may send the browser back to. */
  redirectUris?: string[];
  federatedCredentials?: SimFederatedCredential[];
  /** Application permissions its service principal gets in a tenant that consents. */
  permissions?: string[];
}

export type SimMultiTenantApp = Required<SimMultiTenantAppInput>;

/** What the admin-consent page answers next: the tenant the admin consents for, or a refusal. */
export type SimConsentAnswer = { tenantId: string } | { error: string; errorDescription: string };

export interface FederationState {
  identityHeader: string;
  identities: Map<string, SimManagedIdentity>;
  apps: Map<string, SimMultiTenantApp>;
  consentAnswers: SimConsentAnswer[];
  /** Answer when none is queued (the local demo's tenant); none: the page refuses. */
  defaultConsent?: SimConsentAnswer;
  signingKey: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
}
