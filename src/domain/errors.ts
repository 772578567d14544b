/**
 * Errors that reach a run record, an HTTP response or a log line. Each carries a stable code and a message a
 * person can act on. Never put a secret, a token or a raw request body into one.
 */
export const ERROR_CODES = {
  // sign-in (Entra ID)
  invalid_client_secret:
    'The client secret is wrong or has expired (AADSTS7000215). Create a new client secret for the app registration and save it on the portal access.',
  invalid_certificate:
    'The certificate was not accepted (AADSTS700027). Upload the certificate (public key) to the app registration and save the matching PEM with its private key on the portal access.',
  tenant_not_found:
    'The tenant was not found (AADSTS90002). Check the tenant ID or verified domain, and the cloud, of the portal access.',
  app_not_in_tenant:
    'The application was not found in the tenant (AADSTS700016). Check the client ID and make sure an administrator of that tenant has consented to the app.',
  mfa_required:
    'The legacy e-mail + password login cannot work because the account requires multi-factor authentication (AADSTS50076/AADSTS50079). Register an application with a client secret or certificate (application permissions Organization.Read.All and User.Read.All) and switch the portal access to it.',
  invalid_user_credentials:
    'The user name or password is wrong (AADSTS50126). Check them, or better, switch the portal access to an app registration with a certificate.',
  app_not_consented:
    'The multi-tenant app has not been consented in this tenant (AADSTS700016/AADSTS65001). An administrator of the tenant must connect it again ("Connect a tenant") and accept the consent page.',
  federated_credential_missing:
    "No federated credential of the multi-tenant app matches this app's managed identity (AADSTS70021). Add one to the app registration: issuer https://login.microsoftonline.com/<home tenant>/v2.0, subject = the managed identity's object id, audience api://AzureADTokenExchange (see docs/deploy.md). The sign-in was retried a few times: a credential created in the last minutes may still be propagating in Entra ID; then try again in a few minutes.",
  federated_subject_mismatch:
    "The multi-tenant app's federated credential names another subject than this app's managed identity (AADSTS700213). Set its subject to the managed identity's object id (case-sensitive). The sign-in was retried a few times: a change made in the last minutes may still be propagating in Entra ID.",
  managed_identity_unavailable:
    "The function app's managed identity is not available: assign the user-assigned identity to the function app and set LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID to its client id (see docs/deploy.md).",
  multitenant_app_missing:
    'No multi-tenant app is configured: set LICENSE_SYNC_MULTITENANT_CLIENT_ID to the client id of the app registration that federated portals sign in with (see docs/deploy.md).',
  sign_in_failed:
    'Signing in to the tenant failed. Check the tenant ID, client ID and credentials of the portal access.',
  // Microsoft Graph
  consent_missing:
    'Microsoft Graph denied access (403 Authorization_RequestDenied). Grant the application permissions Organization.Read.All and User.Read.All to the app registration and give admin consent in the tenant.',
  graph_unreachable:
    'Microsoft Graph or the sign-in service could not be reached. Check the network and the cloud of the portal access; the next run tries again.',
  throttled:
    'Microsoft Graph kept throttling the requests after all retries. The next run tries again; if it persists, spread the schedule.',
  graph_error: 'Microsoft Graph answered with an unexpected error.',
  activity_permission_missing:
    "Microsoft Graph denied the users' sign-in activity (403 Authorization_RequestDenied). Grant the application permission AuditLog.Read.All to the app registration and give admin consent; the sync goes on without activity meanwhile.",
  activity_premium_missing:
    'Microsoft Graph reports sign-in activity only in tenants with Microsoft Entra ID P1 or P2 (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant). License Entra ID P1 in the tenant, or turn activity off for this portal access; the sync goes on without activity meanwhile.',
  // notifications
  channel_url_refused: 'The notification URL was refused: it must be an https address on the public internet.',
  // ours
  secret_missing: 'The portal access has no stored credentials. Set its client secret, certificate or password.',
  portal_not_found: 'The portal access does not exist (any more).',
  portal_inactive: 'The portal access is deactivated; activate it to sync.',
  run_in_progress: 'A run of this portal access is already in progress.',
  portal_deleting:
    'The portal access is being deleted. Repeat the delete (DELETE with ?purge=true) to finish it if it does not go by itself.',
  lease_lost:
    'The run no longer held its portal access (its lease could not be renewed, or another run or a delete took it over), so it stopped before writing more. The run is retried.',
  storage_error: 'The ledger storage could not be reached. The run is retried.',
  internal_error: 'An unexpected error occurred.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppErrorOptions {
  /** A transient error is worth retrying (throttling, network, storage); a permanent one fails the run once. */
  transient?: boolean;
  /** Extra detail that is safe to show (never a secret), e.g. Graph's own error message. */
  detail?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly detail?: string;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.detail ? `${ERROR_CODES[code]} (${options.detail})` : ERROR_CODES[code], { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.transient = options.transient ?? false;
    this.detail = options.detail;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * Maps anything thrown during a use case to an AppError: an AppError as it is (the Graph and ledger adapters turn
 * their failures into these), a storage SDK error (RestError) into a transient storage_error, anything else (a bug)
 * into a transient internal_error. A stable code, a message a person can act on, no secret.
 */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const status = (error as { statusCode?: number })?.statusCode;
  const name = (error as { name?: string })?.name;
  if (name === 'RestError' || typeof status === 'number') {
    return new AppError('storage_error', {
      transient: true,
      detail: status ? `storage answered ${status}` : undefined,
      cause: error,
    });
  }
  return new AppError('internal_error', { transient: true, cause: error });
}
