import type { Services } from '../domain/ports';
import { DEFAULT_INACTIVE_DAYS, type PortalRecord } from '../domain/records';
import { changePortal, createPortal, deletePortal, getPortal, listPortals } from '../portals/portals';
import { queueRun } from '../runs/enqueue';
import { previewSync } from '../sync/preview';
import { verifyPortal } from '../sync/verify';
import type { Controller } from './http';
import type {
  changePortalEndpoint,
  createContactEndpoint,
  createPortalEndpoint,
  deletePortalEndpoint,
  findContactsEndpoint,
  getLicenseEndpoint,
  getPortalEndpoint,
  getRunEndpoint,
  linkConsumerEndpoint,
  listConsumersEndpoint,
  listLicensesEndpoint,
  listPortalsEndpoint,
  listRunsEndpoint,
  openApiEndpoint,
  syncPortalEndpoint,
  unlinkConsumerEndpoint,
  verifyPortalEndpoint,
} from './endpoints';
import { getPricedLicense, listPricedLicenses } from './insights';
import * as ledger from './ledger';
import { openApiDocument } from './openapi';
import type { PortalView } from './schemas';

/**
 * Controllers: one per route, each calling one use case and saying which status its outcome gets. Errors
 * (AppError, ConflictError, NotFoundError, bad input) are mapped in src/api/http.ts.
 */

/** What a response shows of a portal: the schema strips internal fields; the legacy kind is labelled. */
export function portalView(portal: PortalRecord): PortalView {
  return {
    ...portal,
    activity: portal.activity ?? false,
    inactiveDays: portal.inactiveDays ?? DEFAULT_INACTIVE_DAYS,
    ...(portal.authKind === 'password' ? { legacy: true as const } : {}),
  };
}

export const listPortalsController: Controller<typeof listPortalsEndpoint> = async (_input, services) => ({
  status: 200,
  body: { items: (await listPortals(services)).map(portalView) },
});

export const createPortalController: Controller<typeof createPortalEndpoint> = async ({ body }, services) => ({
  status: 201,
  body: portalView(await createPortal(services, body)),
});

export const getPortalController: Controller<typeof getPortalEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: portalView(await getPortal(services, params.id)),
});

export const changePortalController: Controller<typeof changePortalEndpoint> = async ({ params, body }, services) => ({
  status: 200,
  body: portalView(await changePortal(services, params.id, body)),
});

export const deletePortalController: Controller<typeof deletePortalEndpoint> = async ({ params, query }, services) => {
  await deletePortal(services, params.id, { purge: query.purge === 'true' });
  return { status: 204 };
};

export const verifyPortalController: Controller<typeof verifyPortalEndpoint> = async ({ params }, services) => {
  const { plans } = await verifyPortal(services, params.id);
  return { status: 200, body: { portalId: params.id, ok: true, plans } };
};

export const syncPortalController: Controller<typeof syncPortalEndpoint> = async (
  { params, query },
  services: Services,
) => {
  if (query.dryRun === 'true') return { status: 200, body: await previewSync(services, params.id) };
  const run = await queueRun(services, params.id, 'manual');
  return { status: 202, body: { runId: run.id } };
};

export const listRunsController: Controller<typeof listRunsEndpoint> = async ({ params, query }, services) => ({
  status: 200,
  body: { items: await ledger.listRuns(services, params.id, query.limit ? Number(query.limit) : 50) },
});

export const getRunController: Controller<typeof getRunEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: await ledger.getRun(services, params.id, params.runId),
});

export const listLicensesController: Controller<typeof listLicensesEndpoint> = async ({ query }, services) => ({
  status: 200,
  body: { items: await listPricedLicenses(services, query.portalId) },
});

export const getLicenseController: Controller<typeof getLicenseEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: await getPricedLicense(services, params.id),
});

export const listConsumersController: Controller<typeof listConsumersEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: { items: await ledger.listConsumers(services, params.id) },
});

export const linkConsumerController: Controller<typeof linkConsumerEndpoint> = async ({ params, body }, services) => ({
  status: 201,
  body: await ledger.linkConsumer(services, params.id, body.contactId),
});

export const unlinkConsumerController: Controller<typeof unlinkConsumerEndpoint> = async ({ params }, services) => {
  await ledger.unlinkConsumer(services, params.id, params.contactId);
  return { status: 204 };
};

export const findContactsController: Controller<typeof findContactsEndpoint> = async ({ query }, services) => ({
  status: 200,
  body: { items: await ledger.findContacts(services, query.email) },
});

export const createContactController: Controller<typeof createContactEndpoint> = async ({ body }, services) => ({
  status: 201,
  body: await ledger.createContact(services, body),
});

export const openApiController: Controller<typeof openApiEndpoint> = () =>
  Promise.resolve({
    status: 200,
    body: openApiDocument(),
  });
