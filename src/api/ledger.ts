import { randomUUID } from 'node:crypto';
import type { Services } from '../domain/ports';
import { AppError } from '../domain/errors';
import { byNameThenId, decodeCursor, encodeCursor, pageOfSorted, type Page, type PageRequest } from '../domain/paging';
import {
  normalizeAddress,
  parseLicenseId,
  type ConsumerRecord,
  type ContactRecord,
  type LicenseRecord,
  type RunRecord,
} from '../domain/records';
import { mapConcurrent } from '../util/async';
import { NotFoundError } from '../domain/ledger';

/**
 * The ledger's read and hand-edit use cases of the HTTP API: licenses, consumers, contacts and run history.
 * The ledger repository enforces the rules (unique addresses, hand-made links only); these add the existence
 * checks and the order a person expects.
 */

/**
 * A page of the licenses, by name. A portal's licenses are one partition (one per plan, a few dozen); the list of
 * every portal's is read whole (one query per 1,000) and sorted, and answered a page at a time.
 */
export async function listLicenses(
  services: Services,
  portalId: string | undefined,
  request: PageRequest,
): Promise<Page<LicenseRecord>> {
  const licenses = await services.ledger.licenses.list(portalId);
  const key = (license: LicenseRecord): [string, string] => [license.name, license.id];
  return pageOfSorted(
    licenses.sort((a, b) => byNameThenId(key(a), key(b))),
    request,
    key,
    byNameThenId,
  );
}

export async function getLicense(services: Services, licenseId: string): Promise<LicenseRecord> {
  const license = await services.ledger.licenses.get(licenseId);
  if (!license) throw new NotFoundError(`License ${licenseId} does not exist.`);
  return license;
}

export interface ConsumerListItem extends Omit<ConsumerRecord, 'contactEmail' | 'contactName'> {
  contact: { id: string; email: string; displayName: string } | null;
  lastSeen?: string;
}

const CONTACT_READ_CONCURRENCY = 16;

/**
 * A page of a license's consumers, with their contacts' address and name as copied onto each link and, for
 * sync-owned ones, when the sync last saw them. Storage calls: the page's query, plus the portal (for lastSeen)
 * or, for an empty first page, the license (404) - two, whatever the size of the plan. Only links written before
 * the copies existed read their contact.
 */
export async function listConsumers(
  services: Services,
  licenseId: string,
  request: PageRequest,
): Promise<Page<ConsumerListItem>> {
  const parts = parseLicenseId(licenseId);
  if (!parts) throw new NotFoundError(`License ${licenseId} does not exist.`);
  const cursor = request.continuationToken === undefined ? undefined : decodeCursor(request.continuationToken);
  const page = await services.ledger.licenses.consumerPage(licenseId, request.limit, cursor);
  if (page.items.length === 0 && !cursor) await getLicense(services, licenseId);
  const synced = page.items.some((consumer) => consumer.owner.kind === 'sync');
  const portal = synced ? await services.ledger.portals.get(parts.portalId) : undefined;
  const legacy = page.items.filter((consumer) => consumer.contactEmail === undefined);
  const read = await mapConcurrent(legacy, CONTACT_READ_CONCURRENCY, (consumer) =>
    services.ledger.contacts.get(consumer.contactId),
  );
  const contacts = new Map(read.flatMap((contact) => (contact ? [[contact.id, contact] as const] : [])));
  const items = page.items.map(({ contactEmail, contactName, ...consumer }): ConsumerListItem => {
    const contact = contacts.get(consumer.contactId);
    return {
      ...consumer,
      contact:
        contactEmail !== undefined
          ? { id: consumer.contactId, email: contactEmail, displayName: contactName ?? '' }
          : contact
            ? { id: contact.id, email: contact.email, displayName: contact.displayName }
            : null,
      ...(consumer.owner.kind === 'sync' && portal?.lastSuccessAt ? { lastSeen: portal.lastSuccessAt } : {}),
      // Activity shows only while it is on and after a pass (stale facts of a portal that turned it off do not).
      ...(portal?.activity && portal.activityReadAt ? {} : { lastSignInAt: undefined, inactive: undefined }),
    };
  });
  return { items, ...(page.cursor ? { continuationToken: encodeCursor(page.cursor) } : {}) };
}

export function linkConsumer(services: Services, licenseId: string, contactId: string): Promise<ConsumerRecord> {
  return services.ledger.licenses.addManualConsumer(licenseId, contactId, services.now().toISOString());
}

export function unlinkConsumer(services: Services, licenseId: string, contactId: string): Promise<void> {
  return services.ledger.licenses.removeManualConsumer(licenseId, contactId);
}

export async function findContacts(services: Services, email: string): Promise<ContactRecord[]> {
  const contact = await services.ledger.contacts.findByAddress(email);
  return contact ? [contact] : [];
}

export interface NewContact {
  email: string;
  displayName: string;
  aliases?: string[];
}

/** A contact made by hand; ConflictError when one of its addresses belongs to another contact. */
export function createContact(services: Services, input: NewContact): Promise<ContactRecord> {
  const primary = normalizeAddress(input.email);
  const seen = new Set([primary]);
  const aliases: string[] = [];
  for (const alias of input.aliases ?? []) {
    const key = normalizeAddress(alias);
    if (seen.has(key)) continue;
    seen.add(key);
    aliases.push(alias.trim());
  }
  const now = services.now().toISOString();
  return services.ledger.contacts.create({
    id: randomUUID(),
    email: input.email.trim(),
    aliases,
    displayName: input.displayName,
    origin: { kind: 'manual' },
    createdAt: now,
    updatedAt: now,
  });
}

/**
 * A page of the run history, newest first. A deleted portal's runs stay (unless purged) and stay readable; an id
 * that never had a portal nor runs is 404.
 */
export async function listRuns(services: Services, portalId: string, request: PageRequest): Promise<Page<RunRecord>> {
  const cursor = request.continuationToken === undefined ? undefined : decodeCursor(request.continuationToken);
  const page = await services.ledger.runs.page(portalId, request.limit, cursor);
  if (page.items.length === 0 && !cursor && !(await services.ledger.portals.get(portalId))) {
    throw new AppError('portal_not_found');
  }
  return { items: page.items, ...(page.cursor ? { continuationToken: encodeCursor(page.cursor) } : {}) };
}

export async function getRun(services: Services, portalId: string, runId: string): Promise<RunRecord> {
  const run = await services.ledger.runs.get(portalId, runId);
  if (!run) throw new NotFoundError(`Run ${runId} of portal access ${portalId} does not exist.`);
  return run;
}
