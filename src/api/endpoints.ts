import { alertEndpoints } from './alertEndpoints';
import { listAuditEndpoint, meEndpoint } from './access';
import { connectPortalEndpoint } from './consentEndpoints';
import { defineEndpoint, type Endpoint } from './endpoint';
import { insightEndpoints } from './insightsEndpoints';
import { renewalEndpoints } from './renewalEndpoints';
import {
  createContactEndpoint,
  findContactsEndpoint,
  getLicenseEndpoint,
  linkConsumerEndpoint,
  listConsumersEndpoint,
  listLicensesEndpoint,
  unlinkConsumerEndpoint,
} from './ledgerEndpoints';
import {
  changePortalEndpoint,
  createPortalEndpoint,
  deletePortalEndpoint,
  getPortalEndpoint,
  getRunEndpoint,
  listPortalsEndpoint,
  listRunsEndpoint,
  syncPortalEndpoint,
  verifyPortalEndpoint,
} from './portalEndpoints';
import { emptyQuery, noParams, openApiDocumentSchema } from './schemas';

/**
 * Every route of the HTTP API (PRODUCT.md, "HTTP API"), declared by group in their own modules
 * (portalEndpoints.ts, ledgerEndpoints.ts, alertEndpoints.ts, insightsEndpoints.ts, ...). functions/*.ts register
 * one function per entry.
 */

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
