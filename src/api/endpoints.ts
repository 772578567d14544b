import { z } from 'zod';
import { alertEndpoints } from './alertEndpoints';
import { listAuditEndpoint, meEndpoint } from './access';
import { connectPortalEndpoint } from './consentEndpoints';
import { defineEndpoint, type Endpoint, type ResponseSpec } from './endpoint';
import { bad, notFound } from './responses';
import { insightEndpoints } from './insightsEndpoints';
import { renewalEndpoints } from './renewalEndpoints';
import { defineListEndpoint } from './lists';
import {
  consumerLinkSchema,
  consumerListItemSchema,
  consumerListQuery,
  consumerListSchema,
  consumerParams,
  consumerSchema,
  contactCreateSchema,
  contactFindQuery,
  contactListSchema,
  contactSchema,
  deleteQuery,
  emptyQuery,
  errorResponseSchema,
  licenseListQuery,
  licenseListSchema,
  licenseParams,
  licenseSchema,
  openApiDocumentSchema,
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

/** Every route of the HTTP API (PRODUCT.md, "HTTP API"). functions/*.ts register one function per entry. */

const noParams = z.strictObject({});

const conflict = (what: string): ResponseSpec => ({ description: what, schema: errorResponseSchema });
const signInFailed: ResponseSpec = {
  description:
    'Signing in to the tenant or reading Microsoft Graph failed: the code says why (e.g. invalid_client_secret, mfa_required, consent_missing).',
  schema: errorResponseSchema,
};
const upstream: ResponseSpec = {
  description: 'Microsoft Graph or the sign-in service could not be reached, or throttled.',
  schema: errorResponseSchema,
};

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

export const listLicensesEndpoint = defineListEndpoint({
  name: 'licensesList',
  method: 'GET',
  route: 'api/licenses',
  role: 'Reader',
  tag: 'licenses',
  summary: 'Licenses with their counts',
  description: 'By name, a page at a time (`limit`, `continuationToken`).',
  params: noParams,
  query: licenseListQuery,
  body: undefined,
  list: { file: 'licenses', item: licenseSchema },
  responses: { 200: { description: 'The licenses, by name.', schema: licenseListSchema }, 400: bad() },
});

export const getLicenseEndpoint = defineEndpoint({
  name: 'licensesGet',
  method: 'GET',
  route: 'api/licenses/{id}',
  role: 'Reader',
  tag: 'licenses',
  summary: 'One license',
  params: licenseParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The license.', schema: licenseSchema }, 400: bad(), 404: notFound('The license') },
});

export const listConsumersEndpoint = defineListEndpoint({
  name: 'consumersList',
  method: 'GET',
  route: 'api/licenses/{id}/consumers',
  role: 'Reader',
  tag: 'licenses',
  summary: 'Consumers of a license',
  description:
    "A page at a time (`limit`, default 100, at most 1,000; follow `continuationToken` until it is absent), each with its contact's primary address and name.",
  params: licenseParams,
  query: consumerListQuery,
  body: undefined,
  list: { file: 'consumers', item: consumerListItemSchema },
  responses: {
    200: { description: 'The consumers, sync-owned and hand-made.', schema: consumerListSchema },
    400: bad(),
    404: notFound('The license'),
  },
});

export const linkConsumerEndpoint = defineEndpoint({
  name: 'consumersLink',
  method: 'POST',
  route: 'api/licenses/{id}/consumers',
  role: 'Admin',
  tag: 'licenses',
  summary: 'Link a contact to a license by hand',
  params: licenseParams,
  query: emptyQuery,
  body: consumerLinkSchema,
  responses: {
    201: { description: 'Linked.', schema: consumerSchema },
    400: bad(),
    404: notFound('The license or the contact'),
    409: conflict('The contact is already linked to the license.'),
  },
});

export const unlinkConsumerEndpoint = defineEndpoint({
  name: 'consumersUnlink',
  method: 'DELETE',
  route: 'api/licenses/{id}/consumers/{contactId}',
  role: 'Admin',
  tag: 'licenses',
  summary: 'Unlink a hand-made consumer',
  params: consumerParams,
  query: emptyQuery,
  body: undefined,
  responses: {
    204: { description: 'Unlinked.' },
    400: bad(),
    404: notFound('The license or the link'),
    409: conflict('The link belongs to the sync of the portal access; it goes when the user loses the license.'),
  },
});

export const findContactsEndpoint = defineListEndpoint({
  name: 'contactsFind',
  method: 'GET',
  route: 'api/contacts',
  role: 'Reader',
  tag: 'contacts',
  summary: 'Find the contact holding an address',
  description: 'Primary address or alias, case-insensitive. The list is empty when no contact holds it.',
  params: noParams,
  query: contactFindQuery,
  body: undefined,
  list: { file: 'contacts', item: contactSchema },
  responses: {
    200: { description: 'The contact holding the address, if any.', schema: contactListSchema },
    400: bad(),
  },
});

export const createContactEndpoint = defineEndpoint({
  name: 'contactsCreate',
  method: 'POST',
  route: 'api/contacts',
  role: 'Admin',
  tag: 'contacts',
  summary: 'Create a contact by hand',
  params: noParams,
  query: emptyQuery,
  body: contactCreateSchema,
  responses: {
    201: { description: 'Created.', schema: contactSchema },
    400: bad(),
    409: conflict('One of the addresses already belongs to another contact.'),
  },
});

export const openApiEndpoint = defineEndpoint({
  name: 'openapi',
  method: 'GET',
  route: 'api/openapi.json',
  role: 'Reader',
  tag: 'meta',
  summary: 'This OpenAPI 3 document',
  params: noParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The OpenAPI document.', schema: openApiDocumentSchema } },
});

export const endpoints: readonly Endpoint[] = [
  listPortalsEndpoint,
  createPortalEndpoint,
  getPortalEndpoint,
  changePortalEndpoint,
  deletePortalEndpoint,
  verifyPortalEndpoint,
  connectPortalEndpoint,
  syncPortalEndpoint,
  listRunsEndpoint,
  getRunEndpoint,
  listLicensesEndpoint,
  getLicenseEndpoint,
  listConsumersEndpoint,
  linkConsumerEndpoint,
  unlinkConsumerEndpoint,
  findContactsEndpoint,
  createContactEndpoint,
  ...alertEndpoints,
  ...insightEndpoints,
  ...renewalEndpoints,
  openApiEndpoint,
  meEndpoint,
  listAuditEndpoint,
] as readonly Endpoint[];
