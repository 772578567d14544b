import { recordChange } from '../domain/audit';
import type { Services } from '../domain/ports';
import { DEFAULT_INACTIVE_DAYS, type PortalRecord } from '../domain/records';
import { changePortal, createPortal, deletePortal, getPortal, listPortals } from '../portals/portals';
import { queueRun } from '../runs/enqueue';
import { previewSync } from '../sync/preview';
import { verifyPortal } from '../sync/verify';
import type { Controller } from './http';
import {
  findContactsEndpoint,
  listConsumersEndpoint,
  listLicensesEndpoint,
  listPortalsEndpoint,
  listRunsEndpoint,
  type changePortalEndpoint,
  type createContactEndpoint,
  type createPortalEndpoint,
  type deletePortalEndpoint,
  type getLicenseEndpoint,
  type getPortalEndpoint,
  type getRunEndpoint,
  type linkConsumerEndpoint,
  type openApiEndpoint,
  type syncPortalEndpoint,
  type unlinkConsumerEndpoint,
  type verifyPortalEndpoint,
} from './endpoints';
import { getPricedLicense, listPricedLicenses } from './insights';
import * as ledger from './ledger';
import { listController, pagedListController, type PageCursor } from './lists';
import { openApiDocument } from './openapi';
import { DEFAULT_PAGE_SIZE, type PageRequest } from '../domain/paging';
import { RUN_PAGE_SIZE, type PortalChange, type PortalCreate, type PortalView } from './schemas';

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

export const listPortalsController = pagedListController(listPortalsEndpoint, async (_input, services, cursor) => {
  const page = await listPortals(services, pageOf(cursor, DEFAULT_PAGE_SIZE));
  return { ...page, items: page.items.map(portalView) };
});

/** The page a list's query asks for; without `limit`, the list's own page size. */
function pageOf(cursor: PageCursor, defaultLimit: number): PageRequest {
  return {
    limit: cursor.limit ?? defaultLimit,
    ...(cursor.continuationToken !== undefined ? { continuationToken: cursor.continuationToken } : {}),
  };
}

/** What the audit trail says of portal fields: values of the plain ones, only the kind of a credential. */
function portalFields(fields: PortalChange | PortalCreate): string {
  const plain = (['name', 'tenantId', 'clientId', 'cloud', 'active', 'autoSync'] as const)
    .filter((key) => fields[key] !== undefined)
    .map((key) => `${key}=${JSON.stringify(fields[key])}`);
  return [...plain, ...(fields.auth ? [`credential=${fields.auth.kind} (new)`] : [])].join(', ');
}

const portalTarget = (id: string) => `portals/${id}`;

export const createPortalController: Controller<typeof createPortalEndpoint> = async (
  { body, principal },
  services,
) => {
  const portal = await createPortal(services, body);
  await recordChange(services, principal, {
    action: 'portal.create',
    target: portalTarget(portal.id),
    summary: `Created portal access: ${portalFields(body)}`,
  });
  return { status: 201, body: portalView(portal) };
};

export const getPortalController: Controller<typeof getPortalEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: portalView(await getPortal(services, params.id)),
});

export const changePortalController: Controller<typeof changePortalEndpoint> = async (
  { params, body, principal },
  services,
) => {
  const portal = await changePortal(services, params.id, body);
  await recordChange(services, principal, {
    action: 'portal.change',
    target: portalTarget(portal.id),
    summary: `Changed portal access "${portal.name}": ${portalFields(body)}`,
  });
  return { status: 200, body: portalView(portal) };
};

export const deletePortalController: Controller<typeof deletePortalEndpoint> = async (
  { params, query, principal },
  services,
) => {
  const purge = query.purge === 'true';
  const { name } = await getPortal(services, params.id);
  const outcome = await deletePortal(services, params.id, { purge });
  await recordChange(services, principal, {
    action: purge ? 'portal.purge' : 'portal.delete',
    target: portalTarget(params.id),
    summary: `Deleted portal access "${name}" and its credential${purge ? ', with its licenses, consumers and runs' : ''}${outcome === 'deleting' ? ' (the purge finishes once its running sync stopped)' : ''}`,
  });
  return { status: outcome === 'deleted' ? 204 : 202 };
};

export const verifyPortalController: Controller<typeof verifyPortalEndpoint> = async ({ params }, services) => {
  const { plans } = await verifyPortal(services, params.id);
  return { status: 200, body: { portalId: params.id, ok: true, plans } };
};

export const syncPortalController: Controller<typeof syncPortalEndpoint> = async (
  { params, query, principal },
  services: Services,
) => {
  if (query.dryRun === 'true') {
    const preview = await previewSync(services, params.id);
    await recordChange(services, principal, {
      action: 'run.preview',
      target: portalTarget(params.id),
      summary: `Dry run: ${preview.summary.headline}`,
    });
    return { status: 200, body: preview };
  }
  const run = await queueRun(services, params.id, 'manual');
  await recordChange(services, principal, {
    action: 'run.start',
    target: `${portalTarget(params.id)}/runs/${run.id}`,
    summary: 'Started a sync by hand (queued)',
  });
  return { status: 202, body: { runId: run.id } };
};

export const listRunsController = pagedListController(listRunsEndpoint, ({ params }, services, cursor) =>
  ledger.listRuns(services, params.id, pageOf(cursor, RUN_PAGE_SIZE)),
);

export const getRunController: Controller<typeof getRunEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: await ledger.getRun(services, params.id, params.runId),
});

export const listLicensesController = pagedListController(listLicensesEndpoint, ({ query }, services, cursor) =>
  listPricedLicenses(services, query.portalId, pageOf(cursor, DEFAULT_PAGE_SIZE)),
);

export const getLicenseController: Controller<typeof getLicenseEndpoint> = async ({ params }, services) => ({
  status: 200,
  body: await getPricedLicense(services, params.id),
});

/** Page by page from storage (a CSV export reads them all, a page of 1,000 at a time). */
export const listConsumersController = pagedListController(listConsumersEndpoint, ({ params }, services, cursor) =>
  ledger.listConsumers(services, params.id, pageOf(cursor, DEFAULT_PAGE_SIZE)),
);

const consumerTarget = (licenseId: string, contactId: string) => `licenses/${licenseId}/consumers/${contactId}`;

export const linkConsumerController: Controller<typeof linkConsumerEndpoint> = async (
  { params, body, principal },
  services,
) => {
  const consumer = await ledger.linkConsumer(services, params.id, body.contactId);
  await recordChange(services, principal, {
    action: 'consumer.link',
    target: consumerTarget(params.id, body.contactId),
    summary: 'Linked a contact to a license by hand',
  });
  return { status: 201, body: consumer };
};

export const unlinkConsumerController: Controller<typeof unlinkConsumerEndpoint> = async (
  { params, principal },
  services,
) => {
  await ledger.unlinkConsumer(services, params.id, params.contactId);
  await recordChange(services, principal, {
    action: 'consumer.unlink',
    target: consumerTarget(params.id, params.contactId),
    summary: 'Unlinked a hand-made consumer',
  });
  return { status: 204 };
};

export const findContactsController = listController(findContactsEndpoint, async function* ({ query }, services) {
  yield await ledger.findContacts(services, query.email);
});

export const createContactController: Controller<typeof createContactEndpoint> = async (
  { body, principal },
  services,
) => {
  const contact = await ledger.createContact(services, body);
  await recordChange(services, principal, {
    action: 'contact.create',
    target: `contacts/${contact.id}`,
    summary: `Created contact ${JSON.stringify(body.displayName)} <${body.email}>${body.aliases?.length ? ` with ${body.aliases.length} alias(es)` : ''}`,
  });
  return { status: 201, body: contact };
};

export const openApiController: Controller<typeof openApiEndpoint> = () =>
  Promise.resolve({
    status: 200,
    body: openApiDocument(),
  });
