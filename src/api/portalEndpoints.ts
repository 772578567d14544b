import { defineEndpoint } from './endpoint';
import { defineListEndpoint } from './lists';
import { bad, conflict, notFound, signInFailed, upstream } from './responses';
import {
  deleteQuery,
  emptyQuery,
  errorResponseSchema,
  noParams,
  portalChangeSchema,
  portalCreateSchema,
  portalListQuery,
  portalListSchema,
  portalParams,
  portalSchema,
  runListQuery,
  runListSchema,
  runParams,
  runSchema,
  syncPreviewSchema,
  syncQuery,
  syncQueuedSchema,
  verifyResultSchema,
} from './schemas';

/** The routes of the portal accesses and their runs (PRODUCT.md, "HTTP API"). */

export const listPortalsEndpoint = defineListEndpoint({
  name: 'portalsList',
  method: 'GET',
  route: 'api/portals',
  role: 'Reader',
  tag: 'portals',
  summary: 'List the portal accesses',
  description: 'By name, a page at a time (`limit`, `continuationToken`).',
  params: noParams,
  query: portalListQuery,
  body: undefined,
  list: { file: 'portals', item: portalSchema },
  responses: { 200: { description: 'The portal accesses, by name.', schema: portalListSchema }, 400: bad() },
});

export const createPortalEndpoint = defineEndpoint({
  name: 'portalsCreate',
  method: 'POST',
  route: 'api/portals',
  role: 'Admin',
  tag: 'portals',
  summary: 'Create a portal access',
  description: 'Stores the credentials in the secret store (Key Vault in Azure) and the portal access in the ledger.',
  params: noParams,
  query: emptyQuery,
  body: portalCreateSchema,
  responses: {
    201: { description: 'Created.', schema: portalSchema },
    400: bad(),
    409: conflict('A portal access with this name (case-insensitive) already exists.'),
  },
});

export const getPortalEndpoint = defineEndpoint({
  name: 'portalsGet',
  method: 'GET',
  route: 'api/portals/{id}',
  role: 'Reader',
  tag: 'portals',
  summary: 'Read a portal access',
  params: portalParams,
  query: emptyQuery,
  body: undefined,
  responses: {
    200: { description: 'The portal access.', schema: portalSchema },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const changePortalEndpoint = defineEndpoint({
  name: 'portalsChange',
  method: 'PATCH',
  route: 'api/portals/{id}',
  role: 'Admin',
  tag: 'portals',
  summary: 'Change a portal access',
  description: 'Name, tenant, client, cloud, flags or credentials. Its run history and ledger data stay.',
  params: portalParams,
  query: emptyQuery,
  body: portalChangeSchema,
  responses: {
    200: { description: 'The changed portal access.', schema: portalSchema },
    400: bad(),
    404: notFound('The portal access'),
    409: conflict('Another portal access has this name, or the portal access is being deleted (portal_deleting).'),
  },
});

export const deletePortalEndpoint = defineEndpoint({
  name: 'portalsDelete',
  method: 'DELETE',
  route: 'api/portals/{id}',
  role: 'Admin',
  tag: 'portals',
  summary: 'Delete a portal access',
  description:
    'Also deletes its secret. Its licenses, consumers and runs stay unless `?purge=true`: then the portal access is marked deleting (`deletingAt`; no run starts, a running one stops before its next write), its ledger data is purged and the record goes last. When a run still held it, the answer is 202 and a queued job finishes the purge once that run stopped; repeating the delete continues the purge too.',
  params: portalParams,
  query: deleteQuery,
  body: undefined,
  responses: {
    202: { description: 'Being deleted: a run held the portal access; the purge finishes in the background.' },
    204: { description: 'Deleted.' },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const verifyPortalEndpoint = defineEndpoint({
  name: 'portalsVerify',
  method: 'POST',
  route: 'api/portals/{id}/verify',
  role: 'Admin',
  tag: 'portals',
  summary: 'Sign in and read the plans now',
  params: portalParams,
  query: emptyQuery,
  body: undefined,
  responses: {
    200: { description: 'The credentials work; the plans read.', schema: verifyResultSchema },
    400: bad(),
    404: notFound('The portal access'),
    409: conflict(
      'The portal access has no stored credentials (secret_missing) or is being deleted (portal_deleting).',
    ),
    422: signInFailed,
    502: upstream,
    503: upstream,
  },
});

export const syncPortalEndpoint = defineEndpoint({
  name: 'portalsSync',
  method: 'POST',
  route: 'api/portals/{id}/sync',
  role: 'Admin',
  tag: 'runs',
  summary: 'Sync now, or preview the changes (dry run)',
  description:
    'Queues a run (202 with its id). With `?dryRun=true`, reads the tenant now and returns the plan of changes without writing any (200).',
  params: portalParams,
  query: syncQuery,
  body: undefined,
  responses: {
    200: { description: 'Dry run: the plan of changes.', schema: syncPreviewSchema },
    202: { description: 'The run is queued.', schema: syncQueuedSchema },
    400: bad(),
    404: notFound('The portal access'),
    409: conflict(
      'The portal access is deactivated (portal_inactive), has no stored credentials (secret_missing) or is being deleted (portal_deleting).',
    ),
    422: signInFailed,
    502: upstream,
    503: {
      description: 'Storage, Microsoft Graph or the sign-in service is unavailable; try again.',
      schema: errorResponseSchema,
    },
  },
});

export const listRunsEndpoint = defineListEndpoint({
  name: 'runsList',
  method: 'GET',
  route: 'api/portals/{id}/runs',
  role: 'Reader',
  tag: 'runs',
  summary: 'Run history of a portal access, newest first',
  description: 'A page at a time (`limit`, default 50, at most 1,000; `continuationToken`).',
  params: portalParams,
  query: runListQuery,
  body: undefined,
  list: { file: 'runs', item: runSchema },
  responses: {
    200: { description: 'The runs, newest first.', schema: runListSchema },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const getRunEndpoint = defineEndpoint({
  name: 'runsGet',
  method: 'GET',
  route: 'api/portals/{id}/runs/{runId}',
  role: 'Reader',
  tag: 'runs',
  summary: 'One run',
  params: runParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The run.', schema: runSchema }, 400: bad(), 404: notFound('The run') },
});
