import { randomUUID } from 'node:crypto';
import type { Services } from '../domain/ports';
import { AppError } from '../domain/errors';
import {
  normalizeAddress,
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

export async function listLicenses(services: Services, portalId?: string): Promise<LicenseRecord[]> {
  const licenses = await services.ledger.licenses.list(portalId);
  return licenses.sort(
    (a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id),
  );
}

export async function getLicense(services: Services, licenseId: string): Promise<LicenseRecord> {
  const license = await services.ledger.licenses.get(licenseId);
  if (!license) throw new NotFoundError(`License ${licenseId} does not exist.`);
  return license;
}

export interface ConsumerListItem extends ConsumerRecord {
  contact: { id: string; email: string; displayName: string } | null;
  lastSeen?: string;
}

const CONTACT_READ_CONCURRENCY = 16;

/**
 * A license's consumers with their contacts (point reads) and, for sync-owned ones, when the sync last saw them:
 * a page of storage at a time. NotFoundError before the first page when the license does not exist.
 */
export async function* consumerPages(services: Services, licenseId: string): AsyncGenerator<ConsumerListItem[]> {
  const license = await getLicense(services, licenseId);
  const portal = await services.ledger.portals.get(license.portalId);
  for await (const consumers of services.ledger.licenses.consumerPages(licenseId)) {
    const contacts = await mapConcurrent(consumers, CONTACT_READ_CONCURRENCY, (consumer) =>
      services.ledger.contacts.get(consumer.contactId),
    );
    yield consumers.map((consumer, i) => {
      const contact = contacts[i];
      return {
        ...consumer,
        contact: contact ? { id: contact.id, email: contact.email, displayName: contact.displayName } : null,
        ...(consumer.owner.kind === 'sync' && portal?.lastSuccessAt ? { lastSeen: portal.lastSuccessAt } : {}),
      };
    });
  }
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
 * Run history, newest first. A deleted portal's runs stay (unless purged) and stay readable; an id that never
 * had a portal nor runs is 404.
 */
export async function listRuns(services: Services, portalId: string, limit: number): Promise<RunRecord[]> {
  const runs = await services.ledger.runs.list(portalId, limit);
  if (runs.length === 0 && !(await services.ledger.portals.get(portalId))) {
    throw new AppError('portal_not_found');
  }
  return runs;
}

export async function getRun(services: Services, portalId: string, runId: string): Promise<RunRecord> {
  const run = await services.ledger.runs.get(portalId, runId);
  if (!run) throw new NotFoundError(`Run ${runId} of portal access ${portalId} does not exist.`);
  return run;
}
