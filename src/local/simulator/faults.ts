/** Failures a test (or a demo) can script on a simulated tenant. */

/** The sign-in errors the simulated Entra ID can answer with, by AADSTS number. */
export const SIGN_IN_ERRORS = {
  7000215: {
    status: 401,
    error: 'invalid_client',
    text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.",
  },
  700027: {
    status: 401,
    error: 'invalid_client',
    text: "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}'.]",
  },
  700024: { status: 400, error: 'invalid_client', text: 'Client assertion is not within its valid time range.' },
  90002: {
    status: 400,
    error: 'invalid_request',
    text: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
  },
  700016: {
    status: 400,
    error: 'unauthorized_client',
    text: "Application with identifier '{clientId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  50076: {
    status: 400,
    error: 'interaction_required',
    text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
  },
  50079: {
    status: 400,
    error: 'interaction_required',
    text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
  },
  50126: {
    status: 400,
    error: 'invalid_grant',
    text: 'Error validating credentials due to invalid username or password.',
  },
  50034: {
    status: 400,
    error: 'invalid_grant',
    text: 'The user account {EUII Hidden} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory.',
  },
  70003: {
    status: 400,
    error: 'unsupported_grant_type',
    text: "The app requested an unsupported grant type '{grantType}'.",
  },
  7000218: {
    status: 401,
    error: 'invalid_client',
    text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  70008: {
    status: 400,
    error: 'invalid_grant',
    text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  65001: {
    status: 400,
    error: 'invalid_grant',
    text: "The user or administrator has not consented to use the application with ID '{clientId}'. Send an interactive authorization request for this user and resource.",
  },
  50027: { status: 400, error: 'invalid_request', text: 'JWT token is invalid or malformed.' },
  70021: {
    status: 400,
    error: 'invalid_request',
    text: "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'.",
  },
  700212: {
    status: 400,
    error: 'invalid_request',
    text: "No matching federated identity record found for presented assertion audience '{audience}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
  },
  700213: {
    status: 400,
    error: 'invalid_request',
    text: "No matching federated identity record found for presented assertion subject '{subject}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
  },
} as const;

export type SignInErrorCode = keyof typeof SIGN_IN_ERRORS;

export type SimFault =
  /** 429 (or 503) with an optional Retry-After: seconds ("2"), fractional seconds ("0.01") or an HTTP date. */
  | { kind: 'throttle'; retryAfter?: string | number; status?: 429 | 503 }
  /** A server error such as 503 or 504, optionally with Retry-After. */
  | { kind: 'unavailable'; status?: 500 | 502 | 503 | 504; retryAfter?: string | number }
  /** The connection is destroyed after the headers and part of the body were written. */
  | { kind: 'reset'; afterBytes?: number }
  /** 403 Authorization_RequestDenied (the app lacks admin consent). */
  | { kind: 'forbidden' }
  /** Any other Graph error. */
  | { kind: 'graphError'; status: number; code: string; message: string }
  /** The token endpoint answers with this sign-in error. */
  | { kind: 'signIn'; code: SignInErrorCode };

export type SimResource =
  'openid' | 'token' | 'userrealm' | 'subscribedSkus' | 'subscriptions' | 'users' | 'usersDelta' | 'sendMail' | 'other';

/** What a fault rule can match on. */
export interface SimRequestInfo {
  tenantId: string;
  resource: SimResource;
  method: string;
  path: string;
  query: URLSearchParams;
  /** For /users and /users/delta: 1 for the first page, 2 for the one after the first nextLink... */
  page?: number;
}

export interface SimFaultWhen {
  /** Defaults to `token` for sign-in faults, else `graph` (any Graph request). */
  resource?: SimResource | 'graph';
  /** Only this page of /users or /users/delta (1-based). */
  page?: number;
  /** How many matching requests fail; default 1. `Infinity` for all. */
  times?: number;
  match?: (request: SimRequestInfo) => boolean;
}

export interface SimFaultRule {
  fault: SimFault;
  when: SimFaultWhen;
  remaining: number;
}
