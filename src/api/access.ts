import { z } from 'zod';
import { AUTH_MODES } from '../config/settings';
import { InvalidContinuationTokenError } from '../domain/audit';
import { defineEndpoint } from './endpoint';
import { ApiError, type Controller } from './http';
import { defineListEndpoint, pagedListController } from './lists';
import { errorResponseSchema, listQuery } from './schemas';

/** Who is signed in (`GET /api/me`) and who changed what (`GET /api/audit`). */

const noParams = z.strictObject({});
const bad = { description: 'The request is invalid: the failing fields are listed.', schema: errorResponseSchema };

export const meSchema = z
  .object({
    name: z.string(),
    objectId: z.string().optional(),
    roles: z.array(z.string()),
    authMode: z.enum(AUTH_MODES),
  })
  .meta({
    id: 'Me',
    description:
      'The caller: the name claim (or "function key" / "local"), the Entra object id, the app roles, and LICENSE_SYNC_AUTH.',
  });

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const when = (edge: 'from' | 'to') =>
  z
    .string()
    .refine(
      (value) =>
        (DATE.test(value) || z.iso.datetime({ offset: true }).safeParse(value).success) && !isNaN(Date.parse(value)),
      'must be an ISO date (2026-01-31) or date-time (2026-01-31T12:00:00Z)',
    )
    .optional()
    .meta({
      description:
        edge === 'from'
          ? 'Entries at or after this instant (a date: from its start, UTC).'
          : 'Entries before this instant (a date: up to its end, UTC).',
    });

export const auditQuery = listQuery({
  from: when('from'),
  to: when('to'),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a number from 1 to 1000')
    .refine((value) => Number(value) >= 1 && Number(value) <= 1000, 'must be a number from 1 to 1000')
    .optional()
    .meta({ description: 'At most this many entries (1-1000, default 100); a CSV export is every entry.' }),
  continuationToken: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "The previous response's continuationToken: the next page." }),
});

export const auditEntrySchema = z
  .object({
    at: z.string(),
    principal: z.object({ name: z.string(), objectId: z.string().optional() }),
    action: z.string().meta({ description: 'e.g. portal.create, portal.change, portal.delete, run.start' }),
    target: z.string().meta({ description: 'What was changed, e.g. portals/<id>.' }),
    summary: z.string(),
  })
  .meta({ id: 'AuditEntry', description: 'One change: when, by whom, what. Never holds a secret.' });

export const auditPageSchema = z
  .object({ items: z.array(auditEntrySchema), continuationToken: z.string().optional() })
  .meta({ id: 'AuditPage', description: 'Newest first; continuationToken is absent on the last page.' });

export const meEndpoint = defineEndpoint({
  name: 'me',
  method: 'GET',
  route: 'api/me',
  role: 'SignedIn',
  tag: 'access',
  summary: 'Who is signed in, with which roles',
  description: 'Any signed-in principal, with or without an app role; the page hides what the roles do not allow.',
  params: noParams,
  query: z.strictObject({}),
  body: undefined,
  responses: { 200: { description: 'The caller.', schema: meSchema }, 400: bad },
});

export const listAuditEndpoint = defineListEndpoint({
  name: 'auditList',
  method: 'GET',
  route: 'api/audit',
  role: 'Reader',
  tag: 'access',
  summary: 'The audit trail, newest first',
  description: 'Every change and every run started by hand: when, by whom, what. Paged.',
  params: noParams,
  query: auditQuery,
  body: undefined,
  list: { file: 'audit', item: auditEntrySchema },
  responses: { 200: { description: 'One page of entries.', schema: auditPageSchema }, 400: bad },
});

export const meController: Controller<typeof meEndpoint> = ({ principal }, services) =>
  Promise.resolve({ status: 200, body: { ...principal, authMode: services.settings.auth } });

function instant(value: string | undefined, edge: 'from' | 'to'): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  // A date as `to` includes its whole day.
  return edge === 'to' && value.length === 10 ? new Date(date.getTime() + 86_400_000) : date;
}

/** JSON: the page asked for; `?format=csv`: every entry between `from` and `to`, newest first. */
export const listAuditController = pagedListController(listAuditEndpoint, async ({ query }, services, cursor) => {
  const from = instant(query.from, 'from');
  const to = instant(query.to, 'to');
  if (from && to && from >= to) {
    throw new ApiError(400, 'bad_request', 'The request is invalid: see the failing fields.', [
      { in: 'query', path: 'to', message: 'must be after from' },
    ]);
  }
  try {
    return await services.audit.list({
      from,
      to,
      limit: cursor.limit ?? 100,
      continuationToken: cursor.continuationToken,
    });
  } catch (error) {
    if (!(error instanceof InvalidContinuationTokenError)) throw error;
    throw new ApiError(400, 'bad_request', error.message, [
      { in: 'query', path: 'continuationToken', message: 'is not a token this API gave out' },
    ]);
  }
});
