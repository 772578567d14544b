import type { ResponseSpec } from './endpoint';
import { errorResponseSchema } from './schemas';

/** The error responses routes declare, worded once. */
export const bad = (what = 'The request is invalid: the failing fields are listed.'): ResponseSpec => ({
  description: what,
  schema: errorResponseSchema,
});
export const notFound = (what: string): ResponseSpec => ({
  description: `${what} does not exist.`,
  schema: errorResponseSchema,
});

export const conflict = (what: string): ResponseSpec => ({ description: what, schema: errorResponseSchema });
export const signInFailed: ResponseSpec = {
  description:
    'Signing in to the tenant or reading Microsoft Graph failed: the code says why (e.g. invalid_client_secret, mfa_required, consent_missing).',
  schema: errorResponseSchema,
};
export const upstream: ResponseSpec = {
  description: 'Microsoft Graph or the sign-in service could not be reached, or throttled.',
  schema: errorResponseSchema,
};
