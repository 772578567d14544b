import { z } from 'zod';
import { decodeCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/paging';

/**
 * The building blocks of the API's shapes (src/api/schemas.ts): ids, the error body, path and query parameters,
 * and what every list shares (`?format`, paging).
 */

/** Bodies larger than this are refused (413) before they are parsed; a certificate PEM is a few KB. */
export const MAX_BODY_BYTES = 64 * 1024;

// ---- ids and small values -------------------------------------------------------------------------------

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const idSchema = z.string().regex(ID, 'must be 1-64 letters, digits, - or _');
/** `${portalId}.${skuId}` */
export const licenseIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be <portalId>.<skuId>');

export const emailSchema = z.email('must be an e-mail address').max(320);

// ---- errors -----------------------------------------------------------------------------------------------

export const fieldErrorSchema = z
  .object({
    in: z.enum(['path', 'query', 'body']),
    /** Dotted path of the failing field, e.g. `auth.clientSecret`; empty for the whole body. */
    path: z.string(),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof fieldErrorSchema>;

export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      fields: z.array(fieldErrorSchema).optional(),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every error: a stable code, a message a person can act on, and the failing fields of a 400.',
  });
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

export const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument', description: 'This document.' });

// ---- lists ------------------------------------------------------------------------------------------------

/** The `continuationToken` of a page: absent on the last page. */
export const nextToken = z
  .string()
  .optional()
  .meta({ description: 'Where the next page starts: pass it as `?continuationToken=`. Absent on the last page.' });

// ---- path and query parameters ----------------------------------------------------------------------------

const booleanQuery = z.enum(['true', 'false']).optional();

export const noParams = z.strictObject({});
export const portalParams = z.strictObject({ id: idSchema });
export const runParams = z.strictObject({ id: idSchema, runId: idSchema });
export const licenseParams = z.strictObject({ id: licenseIdSchema });
export const consumerParams = z.strictObject({ id: licenseIdSchema, contactId: idSchema });

export const deleteQuery = z.strictObject({
  purge: booleanQuery.meta({ description: "`true` also deletes the portal's licenses, consumers and run history." }),
});
export const syncQuery = z.strictObject({
  dryRun: booleanQuery.meta({ description: '`true`: compute and return the plan of changes now, write nothing.' }),
});
export const FORMATS = ['json', 'csv'] as const;

export const formatQuery = z.enum(FORMATS).optional().meta({
  description:
    '`csv`: the whole list as a CSV file (RFC 4180, UTF-8 with a BOM, an attachment named `<list>-<YYYY-MM-DD>.csv`), streamed; nested fields are dotted columns. `json` (default): JSON.',
});

/** The 200 response of a list with `?format=csv` (OpenAPI). */
export const csvFileSchema = z.string().meta({
  id: 'CsvFile',
  description:
    'With `?format=csv`: RFC 4180, UTF-8 with a BOM, a header row of dotted field names; arrays of values are joined with "; " in one cell, arrays of objects are JSON; text cells starting with =, +, -, @, tab or CR are prefixed with \'.',
});

/** The query of a list: its own filters, and `format`. */
export function listQuery<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject({ ...shape, format: formatQuery });
}

/** `?limit=` and `?continuationToken=` of every paged list. */
function pageQuery(defaultLimit: number) {
  const range = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
  return {
    limit: z
      .string()
      .regex(/^\d{1,4}$/, range)
      .refine((value) => Number(value) >= 1 && Number(value) <= MAX_PAGE_SIZE, range)
      .optional()
      .meta({ description: `At most this many items (1-${MAX_PAGE_SIZE}, default ${defaultLimit}).` }),
    continuationToken: z
      .string()
      .refine((value) => decodeCursor(value) !== undefined, 'is not a continuation token of this list')
      .optional()
      .meta({ description: 'The `continuationToken` of the previous page: the next page.' }),
  };
}

/** Run history pages are shorter by default: the page shows the latest runs. */
export const RUN_PAGE_SIZE = 50;
export const runListQuery = listQuery(pageQuery(RUN_PAGE_SIZE));
export const licenseListQuery = listQuery({ portalId: idSchema.optional(), ...pageQuery(DEFAULT_PAGE_SIZE) });
export const contactFindQuery = listQuery({ email: emailSchema });
export const consumerListQuery = listQuery(pageQuery(DEFAULT_PAGE_SIZE));
export const portalListQuery = listQuery(pageQuery(DEFAULT_PAGE_SIZE));
export const emptyQuery = z.strictObject({});
