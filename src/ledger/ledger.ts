import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import {
  licenseIdOf,
  normalizeAddress,
  parseLicenseId,
  type ConsumerRecord,
  type ContactRecord,
  type LicenseRecord,
} from '../domain/records';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import type { ChangePlan } from '../reconcile/plan';
import { assignmentDigest, fingerprintDigest } from '../reconcile/reconcile';
import { AddressIndex, LOOKUP_CONCURRENCY, type Claim } from './addresses';
import { consumerCodec, contactCodec, licenseCodec, userLinkBucketCodec } from './entities';
import {
  consumerRowKey,
  consumerRowKeyRange,
  contactKeys,
  encodeKey,
  odataString,
  rowKeyRanges,
  userLinkBucket,
} from './keys';
import {
  asStorageError,
  concurrentChange,
  forEachPage,
  getOrUndefined,
  groupBy,
  isStatus,
  mapConcurrent,
  MAX_BATCH,
  queryAll,
  queryPages,
  READ_CONCURRENCY,
  ScopedStats,
  submitInBatches,
  WRITE_CONCURRENCY,
  type LedgerStats,
} from './tables';
import {
  ConflictError,
  consumerKey,
  NotFoundError,
  type ApplyCarry,
  type ApplyResult,
  type ConsumerState,
  type LedgerRepository,
  type PortalLedgerState,
  type UserLinkState,
} from './types';

export interface LedgerTables {
  licenses: TableClient;
  consumers: TableClient;
  contacts: TableClient;
  contactAddresses: TableClient;
  userLinks: TableClient;
}

/** How often a read-modify-write retries after losing an ETag race before it gives up (transient). */
const MAX_ETAG_RETRIES = 10;

/** Rounds of creating the plan's contacts when a simultaneous writer made both sides give way. */
const MAX_CONTACT_ATTEMPTS = 5;

/** A planned contact merged into another planned contact that was itself merged: follow to the end. */
function resolve(mergedInto: Map<string, string>, contactId: string): string {
  let end = contactId;
  for (let hops = 0; mergedInto.has(end) && hops <= mergedInto.size; hops += 1) end = mergedInto.get(end) as string;
  return end;
}

/** Every address of a contact, lower-cased, primary first, without duplicates. */
export function addressesOf(contact: Pick<ContactRecord, 'email' | 'aliases'>): string[] {
  return [...new Set([contact.email, ...contact.aliases].map(normalizeAddress))].filter((a) => a.length > 0);
}

function partitionFilter(partitionKey: string): string {
  return `PartitionKey eq ${odataString(partitionKey)}`;
}

function rangeFilter(filter: string, range: { from?: string; to?: string }): string {
  return `${filter}${range.from === undefined ? '' : ` and RowKey ge ${odataString(range.from)}`}${range.to === undefined ? '' : ` and RowKey lt ${odataString(range.to)}`}`;
}

function licenseEntity(license: LicenseRecord): TableEntity<Record<string, unknown>> {
  return licenseCodec.toEntity(license, encodeKey(license.portalId), encodeKey(license.skuId));
}

function consumerEntity(consumer: ConsumerRecord): TableEntity<Record<string, unknown>> {
  return consumerCodec.toEntity(
    consumer,
    encodeKey(consumer.portalId),
    consumerRowKey(consumer.skuId, consumer.contactId),
  );
}

/**
 * The sync's user links of a portal live in 4,096 rows (userLinkBucket: a hash of the objectId picks the row), each a
 * JSON map objectId -> [contactId, comma-separated skuIds]: a full read loads a few thousand rows instead of one
 * per user, and a delta run point-reads the buckets of the users it names.
 */
const userLinkBucketSchema = z.record(z.string(), z.tuple([z.string().min(1), z.string()]));

function userLinkBucketEntity(
  partitionKey: string,
  bucket: string,
  links: Iterable<[string, UserLinkState]>,
): TableEntity<Record<string, unknown>> {
  const content: Record<string, [string, string]> = {};
  for (const [objectId, link] of links) content[objectId] = [link.contactId, link.skuIds.join(',')];
  return userLinkBucketCodec.toEntity({ links: content }, partitionKey, bucket);
}

function addUserLinksFromEntity(row: Record<string, unknown>, into: Map<string, UserLinkState>): void {
  const parsed = userLinkBucketSchema.safeParse(userLinkBucketCodec.fromEntity(row).links);
  if (!parsed.success) {
    throw new AppError('internal_error', {
      detail: `a stored user link bucket (${String(row.partitionKey)}/${String(row.rowKey)}) is not valid`,
    });
  }
  for (const [objectId, [contactId, skuIds]] of Object.entries(parsed.data)) {
    into.set(objectId, { contactId, skuIds: skuIds ? skuIds.split(',') : [] });
  }
}

/** One copy of each of a portal's few skuIds for its many consumers. */
type Interned = Map<string, string>;

function intern(strings: Interned, value: string): string {
  const known = strings.get(value);
  if (known !== undefined) return known;
  strings.set(value, value);
  return value;
}

/** A stored consumer as the sync keeps it in memory (the whole record is checked against its schema first). */
function consumerStateFromEntity(
  row: Record<string, unknown> & { etag?: string },
  portalId: string,
  skuIds: Interned = new Map(),
): [string, ConsumerState] {
  const consumer = consumerCodec.fromEntity(row);
  const sync = consumer.owner.kind === 'sync' && consumer.owner.portalId === portalId;
  const state: ConsumerState = {
    skuId: intern(skuIds, consumer.skuId),
    contactId: consumer.contactId,
    sync,
    etag: row.etag,
  };
  if (sync && consumer.assignment) {
    state.objectId = consumer.assignment.objectId;
    state.digest = assignmentDigest(consumer.assignment);
    if (consumer.userFingerprint !== undefined) state.fingerprintDigest = fingerprintDigest(consumer.userFingerprint);
  }
  return [consumerKey(consumer.skuId, consumer.contactId), state];
}

function contactEntity(contact: ContactRecord): TableEntity<Record<string, unknown>> {
  const keys = contactKeys(contact.id);
  return contactCodec.toEntity(contact, keys.partitionKey, keys.rowKey);
}

/**
 * Splits writes into rounds in which no entity (by `key`) appears twice, keeping their order: the writes of one
 * round may go in parallel, and an entity named again (e.g. a link removed and made anew) waits for the next.
 */
function roundsByEntity<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const seen = new Map<string, number>();
  const rounds: T[][] = [];
  for (const item of items) {
    const k = key(item);
    const round = seen.get(k) ?? 0;
    seen.set(k, round + 1);
    (rounds[round] ??= []).push(item);
  }
  return rounds;
}

/** Rounds (see roundsByEntity) of transaction chunks, each of at most 100 actions of one partition. */
function transactionRounds(actions: TransactionAction[]): TransactionAction[][][] {
  const rounds = roundsByEntity(actions, (action) => `${action[1].partitionKey}\u0000${action[1].rowKey}`);
  return rounds.map((round) => {
    const chunks: TransactionAction[][] = [];
    for (const group of groupBy(round, (action) => action[1].partitionKey).values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) chunks.push(group.slice(i, i + MAX_BATCH));
    }
    return chunks;
  });
}

/** Chunks of at most 100 actions of one partition, never two actions on the same entity in one chunk. */
function transactionChunks(actions: TransactionAction[]): TransactionAction[][] {
  return transactionRounds(actions).flat();
}

/** A write of one partition whose entity is made only when its transaction goes out. */
interface LazyAction {
  rowKey: string;
  make: () => TransactionAction;
}

/**
 * Licenses, consumers and contacts. A portal's licenses and consumers live in partitions named after the
 * portal, so its whole state is two partition queries and its writes batch 100 to a transaction.
 */
export class TableLedgerRepository implements LedgerRepository {
  private readonly index: AddressIndex;

  constructor(
    private readonly tables: LedgerTables,
    private readonly stats: LedgerStats,
    private readonly now: () => number = Date.now,
  ) {
    this.index = new AddressIndex(
      tables.contactAddresses,
      async (contactId) => (await this.getContact(contactId)) !== undefined,
    );
  }

  async loadPortalState(portalId: string): Promise<PortalLedgerState> {
    const filter = partitionFilter(encodeKey(portalId));
    const [{ licenses, licenseEtags }, userLinks] = await Promise.all([
      this.loadLicenses(portalId),
      this.loadUserLinks(portalId),
    ]);
    // The consumer partition is read in RowKey ranges split at each license's prefix, several at once: the
    // ranges together cover every key exactly once, and a large portal's state no longer waits on one long
    // chain of 1,000-entity pages. Each page is turned into compact state as it comes.
    const ranges = rowKeyRanges(licenses.map((license) => consumerRowKeyRange(license.skuId).from)).map((range) =>
      rangeFilter(filter, range),
    );
    const consumers = new Map<string, ConsumerState>();
    const skuIds: Interned = new Map();
    await mapConcurrent(ranges, READ_CONCURRENCY, (range) =>
      forEachPage(this.tables.consumers, range, this.stats, (rows) => {
        for (const row of rows) {
          const [key, state] = consumerStateFromEntity(row, portalId, skuIds);
          consumers.set(key, state);
        }
      }),
    );
    return { licenses, licenseEtags, consumers, userLinks, scope: 'full' };
  }

  async loadUsersState(portalId: string, objectIds: Iterable<string>): Promise<PortalLedgerState> {
    const partitionKey = encodeKey(portalId);
    const ids = [...new Set(objectIds)];
    const buckets = [...new Set(ids.map(userLinkBucket))];
    const [{ licenses, licenseEtags }, rows] = await Promise.all([
      this.loadLicenses(portalId),
      mapConcurrent(buckets, LOOKUP_CONCURRENCY, (bucket) =>
        getOrUndefined(this.tables.userLinks, partitionKey, bucket, this.stats),
      ),
    ]);
    // Every link of the buckets read (the state must hold whole buckets, which are rewritten whole).
    const userLinks = new Map<string, UserLinkState>();
    for (const row of rows) if (row) addUserLinksFromEntity(row, userLinks);
    const keys = ids.flatMap((objectId) => {
      const link = userLinks.get(objectId);
      return link ? link.skuIds.map((skuId) => consumerRowKey(skuId, link.contactId)) : [];
    });
    const consumerRows = await mapConcurrent([...new Set(keys)], LOOKUP_CONCURRENCY, (rowKey) =>
      getOrUndefined(this.tables.consumers, partitionKey, rowKey, this.stats),
    );
    const consumers = new Map<string, ConsumerState>();
    for (const row of consumerRows) {
      if (!row) continue;
      const [key, state] = consumerStateFromEntity(row, portalId);
      consumers.set(key, state);
    }
    return { licenses, licenseEtags, consumers, userLinks, scope: 'partial' };
  }

  async loadAddressIndex(): Promise<Map<string, string>> {
    return this.index.loadAll(this.stats);
  }

  private async loadLicenses(portalId: string): Promise<Pick<PortalLedgerState, 'licenses' | 'licenseEtags'>> {
    const rows = await queryAll(this.tables.licenses, partitionFilter(encodeKey(portalId)), this.stats);
    const licenseEtags = new Map<string, string>();
    const licenses = rows.map((row) => {
      const license = licenseCodec.fromEntity(row);
      licenseEtags.set(license.skuId, row.etag);
      return license;
    });
    return { licenses, licenseEtags };
  }

  private async loadUserLinks(portalId: string): Promise<Map<string, UserLinkState>> {
    const links = new Map<string, UserLinkState>();
    await forEachPage(this.tables.userLinks, partitionFilter(encodeKey(portalId)), this.stats, (rows) => {
      for (const row of rows) addUserLinksFromEntity(row, links);
    });
    return links;
  }

  async findContactIdsByAddress(addresses: Iterable<string>): Promise<Map<string, string>> {
    return this.index.lookupMany(addresses, this.stats);
  }

  async getContact(contactId: string): Promise<ContactRecord | undefined> {
    const keys = contactKeys(contactId);
    const row = await getOrUndefined(this.tables.contacts, keys.partitionKey, keys.rowKey, this.stats);
    return row && contactCodec.fromEntity(row);
  }

  async findContactByAddress(address: string): Promise<ContactRecord | undefined> {
    const contactId = await this.index.lookup(address, this.stats);
    return contactId === undefined ? undefined : this.getContact(contactId);
  }

  async createContact(contact: ContactRecord): Promise<ContactRecord> {
    const addresses = addressesOf(contact);
    const taken = await this.findContactIdsByAddress(addresses);
    const first = [...taken.keys()][0];
    if (first !== undefined) throw new ConflictError(`The address ${first} already belongs to another contact.`);
    // The contact first, then its addresses: the index never names a contact that does not exist.
    try {
      await this.tables.contacts.createEntity(contactEntity(contact));
      this.stats.entitiesWritten += 1;
    } catch (error) {
      if (isStatus(error, 409)) throw new ConflictError(`A contact with id ${contact.id} already exists.`);
      throw error;
    }
    const claims = addresses.map((address) => ({ address, contactId: contact.id }));
    const holders = await this.index.claim(claims, this.stats);
    const lost = addresses.find((address) => holders.get(address) !== contact.id);
    if (lost !== undefined) {
      await this.index.release(claims, this.stats);
      await this.deleteContact(contact.id, this.stats);
      throw new ConflictError(`The address ${lost} already belongs to another contact.`);
    }
    return contact;
  }

  async listLicenses(portalId?: string): Promise<LicenseRecord[]> {
    const filter = portalId === undefined ? undefined : partitionFilter(encodeKey(portalId));
    const rows = await queryAll(this.tables.licenses, filter, this.stats);
    return rows.map((row) => licenseCodec.fromEntity(row));
  }

  async getLicense(licenseId: string): Promise<LicenseRecord | undefined> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return undefined;
    const row = await getOrUndefined(
      this.tables.licenses,
      encodeKey(parts.portalId),
      encodeKey(parts.skuId),
      this.stats,
    );
    return row && licenseCodec.fromEntity(row);
  }

  async listConsumers(licenseId: string): Promise<ConsumerRecord[]> {
    const all: ConsumerRecord[] = [];
    for await (const page of this.consumerPages(licenseId)) all.push(...page);
    return all;
  }

  async *consumerPages(licenseId: string): AsyncGenerator<ConsumerRecord[]> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return;
    const range = consumerRowKeyRange(parts.skuId);
    const filter = `${partitionFilter(encodeKey(parts.portalId))} and RowKey ge ${odataString(range.from)} and RowKey lt ${odataString(range.to)}`;
    for await (const rows of queryPages(this.tables.consumers, filter, this.stats)) {
      yield rows.map((row) => consumerCodec.fromEntity(row)).filter((consumer) => consumer.skuId === parts.skuId);
    }
  }

  async getConsumer(licenseId: string, contactId: string): Promise<ConsumerRecord | undefined> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return undefined;
    const row = await getOrUndefined(
      this.tables.consumers,
      encodeKey(parts.portalId),
      consumerRowKey(parts.skuId, contactId),
      this.stats,
    );
    return row && consumerCodec.fromEntity(row);
  }

  async addManualConsumer(licenseId: string, contactId: string, now: string): Promise<ConsumerRecord> {
    const license = await this.getLicense(licenseId);
    if (!license) throw new NotFoundError(`License ${licenseId} does not exist.`);
    if (!(await this.getContact(contactId))) throw new NotFoundError(`Contact ${contactId} does not exist.`);
    const consumer: ConsumerRecord = {
      licenseId: license.id,
      portalId: license.portalId,
      skuId: license.skuId,
      contactId,
      owner: { kind: 'manual' },
      createdAt: now,
      updatedAt: now,
    };
    try {
      // One row per (license, contact), whoever owns it: the key itself forbids a second link.
      await this.tables.consumers.createEntity(consumerEntity(consumer));
      this.stats.entitiesWritten += 1;
    } catch (error) {
      if (isStatus(error, 409))
        throw new ConflictError(`Contact ${contactId} is already linked to license ${licenseId}.`);
      throw error;
    }
    await this.adjustAssigned(license, +1, now);
    return consumer;
  }

  async removeManualConsumer(licenseId: string, contactId: string): Promise<void> {
    const parts = parseLicenseId(licenseId);
    if (!parts) throw new NotFoundError(`License ${licenseId} does not exist.`);
    const partitionKey = encodeKey(parts.portalId);
    const rowKey = consumerRowKey(parts.skuId, contactId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.consumers, partitionKey, rowKey, this.stats);
      if (!row) throw new NotFoundError(`Contact ${contactId} is not linked to license ${licenseId}.`);
      const consumer = consumerCodec.fromEntity(row);
      if (consumer.owner.kind !== 'manual') {
        throw new ConflictError(
          `The link of contact ${contactId} to license ${licenseId} belongs to the sync of its portal access; it goes when the user loses the license.`,
        );
      }
      try {
        await this.tables.consumers.deleteEntity(partitionKey, rowKey, { etag: row.etag });
        this.stats.entitiesWritten += 1;
      } catch (error) {
        if (isStatus(error, 404, 412)) continue;
        throw error;
      }
      const license = await this.getLicense(licenseId);
      if (license) await this.adjustAssigned(license, -1, new Date(this.now()).toISOString());
      return;
    }
    throw concurrentChange(`The link of contact ${contactId} to license ${licenseId}`);
  }

  async applyPlan(
    plan: ChangePlan,
    state: PortalLedgerState,
    carry: ApplyCarry = { mergedInto: new Map() },
  ): Promise<ApplyResult> {
    const stats = new ScopedStats(this.stats);
    let contactsMerged = 0;
    const partitionKey = encodeKey(plan.portalId);
    try {
      // Licenses first, so a consumer never names a license that is not there yet.
      await this.submitLazy(
        this.tables.licenses,
        [
          ...plan.licenses.create.map((license): LazyAction => ({
            rowKey: encodeKey(license.skuId),
            make: () => ['create', licenseEntity(license)],
          })),
          ...plan.licenses.update.map((license): LazyAction => ({
            rowKey: encodeKey(license.skuId),
            make: () => [
              'update',
              licenseEntity(license),
              'Replace',
              { etag: state.licenseEtags.get(license.skuId) ?? '*' },
            ],
          })),
        ],
        'A license',
        stats,
      );

      const merged = await this.createContacts(plan.contacts.create, stats);
      contactsMerged = merged.size;
      for (const [planned, target] of merged) carry.mergedInto.set(planned, target);
      const contactOf = (contactId: string): string => resolve(carry.mergedInto, contactId);
      await mapConcurrent(plan.contacts.addAliases, LOOKUP_CONCURRENCY, (change) =>
        this.addAliases(contactOf(change.contactId), change.addresses, stats),
      );

      const removed = new Set(plan.consumers.remove.map((c) => consumerKey(c.skuId, c.contactId)));
      const adds = new Map<string, ConsumerRecord>();
      for (const planned of plan.consumers.add) {
        const contactId = contactOf(planned.contactId);
        const key = consumerKey(planned.skuId, contactId);
        // A merged contact may already hold this license (by hand or through another user): leave that link.
        if ((state.consumers.has(key) && !removed.has(key)) || adds.has(key)) continue;
        adds.set(key, contactId === planned.contactId ? planned : { ...planned, contactId });
      }
      // Entities are made as their transaction goes out, not all at once: a first sync adds 150,000 of them.
      const consumerKeyOf = (skuId: string, contactId: string) => consumerRowKey(skuId, contactId);
      const actions: LazyAction[] = [
        ...plan.consumers.remove.map((consumer): LazyAction => {
          const rowKey = consumerKeyOf(consumer.skuId, consumer.contactId);
          return { rowKey, make: () => ['delete', { partitionKey, rowKey }] };
        }),
        ...plan.consumers.update.map((change): LazyAction => {
          const rowKey = consumerKeyOf(change.skuId, change.contactId);
          return {
            rowKey,
            make: () => [
              'update',
              {
                partitionKey,
                rowKey,
                assignment: JSON.stringify(change.assignment),
                userFingerprint: change.userFingerprint,
                updatedAt: change.updatedAt,
              },
              'Merge',
              { etag: state.consumers.get(consumerKey(change.skuId, change.contactId))?.etag ?? '*' },
            ],
          };
        }),
        ...[...adds.values()].map((consumer): LazyAction => ({
          rowKey: consumerKeyOf(consumer.skuId, consumer.contactId),
          make: () => ['create', consumerEntity(consumer)],
        })),
      ];
      await this.submitLazy(this.tables.consumers, actions, 'A consumer', stats, true);
      // The sync's user links last: they describe the consumers written above. A bucket is rewritten whole.
      await this.submitLazy(this.tables.userLinks, this.userLinkWrites(plan, state, contactOf), 'A user link', stats);
    } catch (error) {
      throw asStorageError(error);
    }
    return { contactsMerged, entitiesWritten: stats.entitiesWritten, transactions: stats.transactions };
  }

  async purgePortal(portalId: string): Promise<void> {
    const partitionKey = encodeKey(portalId);
    await Promise.all(
      [this.tables.licenses, this.tables.consumers, this.tables.userLinks].map(async (table) => {
        const rows = await queryAll(table, partitionFilter(partitionKey), this.stats, ['RowKey']);
        await submitInBatches(
          table,
          rows.map((row): TransactionAction => ['delete', { partitionKey, rowKey: row.rowKey as string }]),
          this.stats,
        );
      }),
    );
  }

  /**
   * Creates the plan's new contacts and claims their addresses. Where another writer (another portal's sync, a
   * person) claimed one of the addresses since the plan was made, the new contact is dropped again and its
   * links go to the contact holding that address. Returns planned contact id -> the contact that replaces it.
   *
   * Two writers creating the same person at once may each take one of the addresses and both give way; a
   * writer whose chosen contact turned out to be gone after it gave way tries again (after a random pause), so
   * one of the two contacts survives.
   */
  private async createContacts(contacts: ContactRecord[], stats: LedgerStats): Promise<Map<string, string>> {
    const mergedInto = new Map<string, string>();
    let pending = contacts;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      const merged = await this.tryCreateContacts(pending, stats);
      for (const [planned, target] of merged) mergedInto.set(planned, target);
      const survivors = new Set(contacts.map((c) => c.id).filter((id) => !mergedInto.has(id)));
      const targets = [...new Set(merged.values())].filter((id) => !mergedInto.has(id) && !survivors.has(id));
      const gone = new Set<string>();
      await mapConcurrent(targets, LOOKUP_CONCURRENCY, async (id) => {
        if (!(await this.getContact(id))) gone.add(id);
      });
      pending = contacts.filter((c) => merged.has(c.id) && gone.has(resolve(mergedInto, c.id)));
      if (pending.length === 0 || attempt >= MAX_CONTACT_ATTEMPTS) break;
      for (const contact of pending) mergedInto.delete(contact.id);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
    }
    for (const planned of mergedInto.keys()) mergedInto.set(planned, resolve(mergedInto, planned));
    return mergedInto;
  }

  private async tryCreateContacts(contacts: ContactRecord[], stats: LedgerStats): Promise<Map<string, string>> {
    const mergedInto = new Map<string, string>();
    // The contact first, then its addresses: the index never names a contact that does not exist.
    const creates = contacts.map((contact): TransactionAction => ['create', contactEntity(contact)]);
    await mapConcurrent(transactionChunks(creates), WRITE_CONCURRENCY, async (chunk) => {
      if (chunk.length > 1) {
        try {
          await this.tables.contacts.submitTransaction(chunk);
          stats.transactions += 1;
          stats.entitiesWritten += chunk.length;
          return;
        } catch (error) {
          // One of them exists already (an earlier attempt of this same plan): one at a time below.
          if (!isStatus(error, 409, 400)) throw error;
        }
      }
      for (const [, entity] of chunk) {
        try {
          await this.tables.contacts.createEntity(entity);
          stats.entitiesWritten += 1;
        } catch (error) {
          if (!isStatus(error, 409)) throw error;
        }
      }
    });
    const claims: Claim[] = contacts.flatMap((contact) =>
      addressesOf(contact).map((address) => ({ address, contactId: contact.id })),
    );
    const holders = await this.index.claim(claims, stats);
    const release: Claim[] = [];
    for (const contact of contacts) {
      const addresses = addressesOf(contact);
      const other = addresses
        .map((address) => holders.get(address))
        .find((holder) => holder !== undefined && holder !== contact.id);
      if (other === undefined) continue;
      mergedInto.set(contact.id, other);
      for (const address of addresses)
        if (holders.get(address) === contact.id) release.push({ address, contactId: contact.id });
    }
    if (mergedInto.size === 0) return mergedInto;
    // Addresses before the contact, so the index never names a missing contact.
    await this.index.release(release, stats);
    await mapConcurrent([...mergedInto.keys()], LOOKUP_CONCURRENCY, (contactId) =>
      this.deleteContact(contactId, stats),
    );
    return mergedInto;
  }

  /** Claims the new addresses (skipping those another contact holds) and adds them to the contact's aliases. */
  private async addAliases(contactId: string, addresses: string[], stats: LedgerStats): Promise<void> {
    const wanted = [...new Set(addresses.map(normalizeAddress))].filter((a) => a.length > 0);
    if (wanted.length === 0) return;
    if (!(await this.getContact(contactId))) return;
    const holders = await this.index.claim(
      wanted.map((address) => ({ address, contactId })),
      stats,
    );
    const mine = wanted.filter((address) => holders.get(address) === contactId);
    if (mine.length === 0) return;
    const keys = contactKeys(contactId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.contacts, keys.partitionKey, keys.rowKey, stats);
      if (!row) return;
      const contact = contactCodec.fromEntity(row);
      const known = new Set(addressesOf(contact));
      const added = mine.filter((address) => !known.has(address));
      if (added.length === 0) return;
      const updated: ContactRecord = {
        ...contact,
        aliases: [...contact.aliases, ...added],
        updatedAt: new Date(this.now()).toISOString(),
      };
      try {
        await this.tables.contacts.updateEntity(contactEntity(updated), 'Replace', { etag: row.etag });
        stats.entitiesWritten += 1;
        return;
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw concurrentChange(`Contact ${contactId}`);
  }

  private async deleteContact(contactId: string, stats: LedgerStats): Promise<void> {
    try {
      const keys = contactKeys(contactId);
      await this.tables.contacts.deleteEntity(keys.partitionKey, keys.rowKey);
      stats.entitiesWritten += 1;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /** Adds `delta` to a license's `assigned` with a guarded read-modify-write, retrying when it loses a race. */
  private async adjustAssigned(license: LicenseRecord, delta: number, now: string): Promise<void> {
    const partitionKey = encodeKey(license.portalId);
    const rowKey = encodeKey(license.skuId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.licenses, partitionKey, rowKey, this.stats);
      if (!row) return;
      const current = licenseCodec.fromEntity(row);
      try {
        await this.tables.licenses.updateEntity(
          { partitionKey, rowKey, assigned: Math.max(0, current.assigned + delta), updatedAt: now },
          'Merge',
          { etag: row.etag },
        );
        this.stats.entitiesWritten += 1;
        return;
      } catch (error) {
        if (isStatus(error, 404)) return;
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw concurrentChange(`License ${licenseIdOf(license.portalId, license.skuId)}`);
  }

  /** One transaction; when an entity was created or deleted meanwhile, its actions one by one. */
  private async submitChunk(
    table: TableClient,
    chunk: TransactionAction[],
    what: string,
    stats: LedgerStats,
    createsMayExist: boolean,
  ): Promise<void> {
    try {
      await table.submitTransaction(chunk);
      stats.transactions += 1;
      stats.entitiesWritten += chunk.length;
      return;
    } catch (error) {
      if (isStatus(error, 412)) throw concurrentChange(what, error);
      if (!isStatus(error, 404, 409)) throw error;
    }
    for (const action of chunk) await this.submitOne(table, action, what, stats, createsMayExist);
  }

  /** The bucket rows to rewrite (or delete, once empty) for the plan's user link changes. */
  private userLinkWrites(plan: ChangePlan, state: PortalLedgerState, contactOf: (id: string) => string): LazyAction[] {
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
    return [...touched].map(([bucket, links]): LazyAction => ({
      rowKey: bucket,
      make: () =>
        links.size === 0
          ? ['delete', { partitionKey, rowKey: bucket }]
          : ['upsert', userLinkBucketEntity(partitionKey, bucket, links), 'Replace'],
    }));
  }

  /**
   * Writes actions of ONE partition in transactions of up to 100, the entities made chunk by chunk as they go
   * out. A transaction is all or nothing; when one fails because an entity was created or deleted meanwhile, its
   * actions are redone one by one: a link someone made meanwhile stays theirs, a row already gone stays gone. An
   * ETag mismatch means someone changed what the plan was made from: a transient error, so the run starts over
   * from a fresh read.
   */
  private async submitLazy(
    table: TableClient,
    actions: LazyAction[],
    what: string,
    stats: LedgerStats,
    createsMayExist = false,
  ): Promise<void> {
    for (const round of roundsByEntity(actions, (action) => action.rowKey)) {
      const starts: number[] = [];
      for (let i = 0; i < round.length; i += MAX_BATCH) starts.push(i);
      await mapConcurrent(starts, WRITE_CONCURRENCY, (start) =>
        this.submitChunk(
          table,
          round.slice(start, start + MAX_BATCH).map((action) => action.make()),
          what,
          stats,
          createsMayExist,
        ),
      );
    }
  }

  private async submitOne(
    table: TableClient,
    action: TransactionAction,
    what: string,
    stats: LedgerStats,
    createsMayExist: boolean,
  ): Promise<void> {
    const [kind, entity] = action;
    try {
      if (kind === 'create') await table.createEntity(entity);
      else if (kind === 'delete') await table.deleteEntity(entity.partitionKey, entity.rowKey);
      else if (kind === 'update') await table.updateEntity(entity, action[2] ?? 'Merge', action[3]);
      else await table.upsertEntity(entity, action[2] ?? 'Merge');
      stats.entitiesWritten += 1;
    } catch (error) {
      if (kind === 'create' && createsMayExist && isStatus(error, 409)) return;
      if (kind === 'delete' && isStatus(error, 404)) return;
      // A link the plan updates was unlinked meanwhile: gone is what the next run finds too.
      if (kind === 'update' && action[2] === 'Merge' && isStatus(error, 404)) return;
      if (isStatus(error, 404, 409, 412)) throw concurrentChange(what, error);
      throw error;
    }
  }
}
