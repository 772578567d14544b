import type { TableEntity } from '@azure/data-tables';
import {
  consumerKey,
  type ApplyCarry,
  type ApplyResult,
  type Fence,
  type PortalLedgerState,
  type UserLinkState,
} from '../domain/ledger';
import type { ChangePlan } from '../domain/plan';
import type { ConsumerRecord, ContactRecord } from '../domain/records';
import { mapConcurrent } from '../util/async';
import { LOOKUP_CONCURRENCY } from './addresses';
import { resolveMerged, type TableContactGateway } from './contacts';
import type { CountingTable } from './countingTable';
import { consumerEntity, licenseEntity, userLinkBucketCodec } from './entities';
import { consumerRowKey, encodeKey, userLinkBucket } from './keys';
import { asStorageError, ScopedStats } from './tables';
import { writeInTransactions, type LazyAction } from './tableWriter';

export interface PlanTables {
  licenses: CountingTable;
  consumers: CountingTable;
  userLinks: CountingTable;
}

function userLinkBucketEntity(
  partitionKey: string,
  bucket: string,
  links: Iterable<[string, UserLinkState]>,
): TableEntity<Record<string, unknown>> {
  const content: Record<string, [string, string]> = {};
  for (const [objectId, link] of links) content[objectId] = [link.contactId, link.skuIds.join(',')];
  return userLinkBucketCodec.toEntity({ links: content }, partitionKey, bucket);
}

/**
 * The bucket rows to rewrite for the plan's user link changes, each guarded: a bucket that was read is replaced
 * only with the ETag it was read with (an emptied one is kept empty, so the guard holds), a new one is created
 * only if nobody made it meanwhile. Another writer (a duplicate delivery, a run that took over) fails the write.
 */
function userLinkWrites(plan: ChangePlan, state: PortalLedgerState, contactOf: (id: string) => string): LazyAction[] {
  const partitionKey = encodeKey(plan.portalId);
  const touched = new Map<string, Map<string, UserLinkState>>();
  for (const objectId of [...plan.userLinks.remove, ...plan.userLinks.put.map((link) => link.objectId)])
    touched.set(userLinkBucket(objectId), new Map());
  if (touched.size === 0) return [];
  for (const [objectId, link] of state.userLinks) touched.get(userLinkBucket(objectId))?.set(objectId, link);
  for (const objectId of plan.userLinks.remove) touched.get(userLinkBucket(objectId))?.delete(objectId);
  for (const link of plan.userLinks.put) {
    touched
      .get(userLinkBucket(link.objectId))
      ?.set(link.objectId, { contactId: contactOf(link.contactId), skuIds: link.skuIds });
  }
  return [...touched]
    .filter(([bucket, links]) => links.size > 0 || state.userLinkEtags.has(bucket))
    .map(([bucket, links]): LazyAction => {
      const etag = state.userLinkEtags.get(bucket);
      return {
        rowKey: bucket,
        make: () => {
          const entity = userLinkBucketEntity(partitionKey, bucket, links);
          return etag === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag }];
        },
      };
    });
}

/**
 * The contact's primary address and name for each new link (copied onto the consumer, see ConsumerRecord): from
 * the contacts this part creates, else read (a link to a contact that already existed).
 */
async function contactCopies(
  contacts: TableContactGateway,
  created: readonly ContactRecord[],
  contactIds: Iterable<string>,
): Promise<Map<string, Pick<ConsumerRecord, 'contactEmail' | 'contactName'>>> {
  const copies = new Map<string, Pick<ConsumerRecord, 'contactEmail' | 'contactName'>>();
  for (const contact of created)
    copies.set(contact.id, { contactEmail: contact.email, contactName: contact.displayName });
  const missing = [...new Set(contactIds)].filter((id) => !copies.has(id));
  const read = await mapConcurrent(missing, LOOKUP_CONCURRENCY, (id) => contacts.get(id));
  read.forEach((contact) => {
    if (contact) copies.set(contact.id, { contactEmail: contact.email, contactName: contact.displayName });
  });
  return copies;
}

/** The new links of a plan, each to the contact that finally stands for its planned one. */
function consumerAdds(
  plan: ChangePlan,
  state: PortalLedgerState,
  contactOf: (id: string) => string,
): Map<string, ConsumerRecord> {
  const removed = new Set(plan.consumers.remove.map((c) => consumerKey(c.skuId, c.contactId)));
  const adds = new Map<string, ConsumerRecord>();
  for (const planned of plan.consumers.add) {
    const contactId = contactOf(planned.contactId);
    const key = consumerKey(planned.skuId, contactId);
    // A merged contact may already hold this license (by hand or through another user): leave that link.
    if ((state.consumers.has(key) && !removed.has(key)) || adds.has(key)) continue;
    adds.set(key, contactId === planned.contactId ? planned : { ...planned, contactId });
  }
  return adds;
}

/** The consumer writes of a plan: removals, updates (ETag-guarded) and adds, each entity made as it goes out. */
function consumerWrites(
  plan: ChangePlan,
  state: PortalLedgerState,
  adds: Map<string, ConsumerRecord>,
  copies: Map<string, Pick<ConsumerRecord, 'contactEmail' | 'contactName'>>,
): LazyAction[] {
  const partitionKey = encodeKey(plan.portalId);
  // Entities are made as their transaction goes out, not all at once: a first sync adds 150,000 of them.
  return [
    ...plan.consumers.remove.map((consumer): LazyAction => {
      const rowKey = consumerRowKey(consumer.skuId, consumer.contactId);
      return { rowKey, make: () => ['delete', { partitionKey, rowKey }] };
    }),
    ...plan.consumers.update.map((change): LazyAction => {
      const rowKey = consumerRowKey(change.skuId, change.contactId);
      const etag = state.consumers.get(consumerKey(change.skuId, change.contactId))?.etag ?? '*';
      const fields = {
        partitionKey,
        rowKey,
        assignment: JSON.stringify(change.assignment),
        userFingerprint: change.userFingerprint,
        updatedAt: change.updatedAt,
      };
      return { rowKey, make: () => ['update', fields, 'Merge', { etag }] };
    }),
    ...[...adds.values()].map((consumer): LazyAction => ({
      rowKey: consumerRowKey(consumer.skuId, consumer.contactId),
      make: () => ['create', consumerEntity({ ...consumer, ...copies.get(consumer.contactId) })],
    })),
  ];
}

/**
 * Applies a reconciliation plan of one portal, or one part of it (a run that applies in parts passes the same
 * `carry` to each part): licenses, then contacts, then consumers, then the sync's user links, so nothing written
 * names something not written yet.
 */
export async function applyPlan(
  allTables: PlanTables,
  allContacts: TableContactGateway,
  plan: ChangePlan,
  state: PortalLedgerState,
  carry: ApplyCarry = { mergedInto: new Map() },
  fence?: Fence,
): Promise<ApplyResult> {
  const stats = new ScopedStats(allTables.licenses.stats);
  const tables: PlanTables = {
    licenses: allTables.licenses.withStats(stats),
    consumers: allTables.consumers.withStats(stats),
    userLinks: allTables.userLinks.withStats(stats),
  };
  const contacts = allContacts.withStats(stats);
  let contactsMerged = 0;
  try {
    const licenses = [
      ...plan.licenses.create.map((license): LazyAction => ({
        rowKey: encodeKey(license.skuId),
        make: () => ['create', licenseEntity(license)],
      })),
      ...plan.licenses.update.map((license): LazyAction => {
        const etag = state.licenseEtags.get(license.skuId) ?? '*';
        return {
          rowKey: encodeKey(license.skuId),
          make: () => ['update', licenseEntity(license), 'Replace', { etag }],
        };
      }),
    ];
    // A lease that was lost is asked of storage once, before the first write; a part with nothing to write (an
    // unchanged tenant's) asks nothing.
    if (writesAnything(plan)) await fence?.confirm();
    await writeInTransactions(tables.licenses, licenses, 'A license');

    fence?.assert();
    const merged = await contacts.createPlanned(plan.contacts.create);
    contactsMerged = merged.size;
    for (const [planned, target] of merged) carry.mergedInto.set(planned, target);
    const contactOf = (contactId: string): string => resolveMerged(carry.mergedInto, contactId);
    await mapConcurrent(plan.contacts.addAliases, LOOKUP_CONCURRENCY, (change) =>
      contacts.addAliases(contactOf(change.contactId), change.addresses),
    );

    const adds = consumerAdds(plan, state, contactOf);
    const copies = await contactCopies(
      contacts,
      plan.contacts.create,
      [...adds.values()].map((consumer) => consumer.contactId),
    );
    fence?.assert();
    await writeInTransactions(tables.consumers, consumerWrites(plan, state, adds, copies), 'A consumer', true);
    // The sync's user links last: they describe the consumers written above. A bucket is rewritten whole.
    fence?.assert();
    await writeInTransactions(tables.userLinks, userLinkWrites(plan, state, contactOf), 'A user link');
  } catch (error) {
    throw asStorageError(error);
  }
  return { contactsMerged, entitiesWritten: stats.entitiesWritten, transactions: stats.transactions };
}

function writesAnything(plan: ChangePlan): boolean {
  const { licenses, contacts, consumers, userLinks } = plan;
  return (
    licenses.create.length +
      licenses.update.length +
      contacts.create.length +
      contacts.addAliases.length +
      consumers.add.length +
      consumers.update.length +
      consumers.remove.length +
      userLinks.put.length +
      userLinks.remove.length >
    0
  );
}
