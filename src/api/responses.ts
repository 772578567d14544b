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
