import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import {
  licenseIdOf, normalizeAddress, parseLicenseId,
  type ConsumerRecord, type ContactRecord, type LicenseRecord,
} from '../domain/records';
import type { ChangePlan } from '../reconcile/plan';
import { AddressIndex, LOOKUP_CONCURRENCY, type Claim } from './addresses';
import { consumerCodec, contactCodec, licenseCodec } from './entities';
import { consumerRowKey, consumerRowKeyRange, contactKeys, decodeKey, encodeKey, odataString } from './keys';
import {
  asStorageError, concurrentChange, getOrUndefined, groupBy, isStatus, mapConcurrent, MAX_BATCH, queryAll,
  READ_CONCURRENCY, ScopedStats, WRITE_CONCURRENCY, type LedgerStats,
} from './tables';
import {
  ConflictError, NotFoundError,
  type ApplyResult, type LedgerRepository, type PortalLedgerState,
} from './types';

export interface LedgerTables {
  licenses: TableClient;
  consumers: TableClient;
  contacts: TableClient;
  contactAddresses: TableClient;
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

export function consumerEtagKey(licenseId: string, contactId: string): string {
  return `${licenseId}|${contactId}`;
}

/** Every address of a contact, lower-cased, primary first, without duplicates. */
export function addressesOf(contact: Pick<ContactRecord, 'email' | 'aliases'>): string[] {
  return [...new Set([contact.email, ...contact.aliases].map(normalizeAddress))].filter((a) => a.length > 0);
}

function partitionFilter(partitionKey: string): string {
  return `PartitionKey eq ${odataString(partitionKey)}`;
}

function licenseEntity(license: LicenseRecord): TableEntity<Record<string, unknown>> {
  return licenseCodec.toEntity(license, encodeKey(license.portalId), encodeKey(license.skuId));
}

function consumerEntity(consumer: ConsumerRecord): TableEntity<Record<string, unknown>> {
  return consumerCodec.toEntity(consumer, encodeKey(consumer.portalId), consumerRowKey(consumer.skuId, consumer.contactId));
}

function contactEntity(contact: ContactRecord): TableEntity<Record<string, unknown>> {
  const keys = contactKeys(contact.id);
  return contactCodec.toEntity(contact, keys.partitionKey, keys.rowKey);
}

/**
 * Rounds of transaction chunks: each chunk holds at most 100 actions of one partition, and no entity appears
 * twice in a round, so the chunks of one round may go in parallel; an entity named again (e.g. a link removed
 * and made anew) waits for the next round, which keeps the order of its actions.
 */
function transactionRounds(actions: TransactionAction[]): TransactionAction[][][] {
  const seen = new Map<string, number>();
  const rounds: TransactionAction[][] = [];
  for (const action of actions) {
    const key = `${action[1].partitionKey}\u0000${action[1].rowKey}`;
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(action);
  }
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
    this.index = new AddressIndex(tables.contactAddresses, async (contactId) => (await this.getContact(contactId)) !== undefined);
  }

  async loadPortalState(portalId: string): Promise<PortalLedgerState> {
    const filter = partitionFilter(encodeKey(portalId));
    const licenseRows = await queryAll(this.tables.licenses, filter, this.stats);
    // The consumer partition is read in RowKey ranges split at each license's prefix, several at once: the
    // ranges together cover every key exactly once, and a large portal's state no longer waits on one long
    // chain of 1,000-entity pages.
    const prefixes = [...new Set(licenseRows.map((row) => consumerRowKeyRange(decodeKey(row.rowKey as string)).from))].sort();
    const bounds = [undefined, ...prefixes, undefined];
    const ranges: string[] = [];
    for (let i = 0; i + 1 < bounds.length; i += 1) {
      const from = bounds[i];
      const to = bounds[i + 1];
      ranges.push(`${filter}${from === undefined ? '' : ` and RowKey ge ${odataString(from)}`}${to === undefined ? '' : ` and RowKey lt ${odataString(to)}`}`);
    }
    const consumerRows = (await mapConcurrent(ranges, READ_CONCURRENCY, (range) => queryAll(this.tables.consumers, range, this.stats))).flat();
    const etags = new Map<string, string>();
    const licenses = licenseRows.map((row) => {
      const license = licenseCodec.fromEntity(row);
      etags.set(license.id, row.etag);
      return license;
    });
    const consumers = consumerRows.map((row) => {
      const consumer = consumerCodec.fromEntity(row);
      etags.set(consumerEtagKey(consumer.licenseId, consumer.contactId), row.etag);
      return consumer;
    });
    return { licenses, consumers, etags };
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
    const row = await getOrUndefined(this.tables.licenses, encodeKey(parts.portalId), encodeKey(parts.skuId), this.stats);
    return row && licenseCodec.fromEntity(row);
  }

  async listConsumers(licenseId: string): Promise<ConsumerRecord[]> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return [];
    const range = consumerRowKeyRange(parts.skuId);
    const filter = `${partitionFilter(encodeKey(parts.portalId))} and RowKey ge ${odataString(range.from)} and RowKey lt ${odataString(range.to)}`;
    const rows = await queryAll(this.tables.consumers, filter, this.stats);
    return rows.map((row) => consumerCodec.fromEntity(row)).filter((consumer) => consumer.skuId === parts.skuId);
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
      if (isStatus(error, 409)) throw new ConflictError(`Contact ${contactId} is already linked to license ${licenseId}.`);
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
        throw new ConflictError(`The link of contact ${contactId} to license ${licenseId} belongs to the sync of its portal access; it goes when the user loses the license.`);
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

  async applyPlan(plan: ChangePlan, state: PortalLedgerState): Promise<ApplyResult> {
    const stats = new ScopedStats(this.stats);
    let contactsMerged = 0;
    try {
      // Licenses first, so a consumer never names a license that is not there yet.
      await this.submit(this.tables.licenses, [
        ...plan.licenses.create.map((license): TransactionAction => ['create', licenseEntity(license)]),
        ...plan.licenses.update.map((license): TransactionAction => [
          'update', licenseEntity(license), 'Replace', { etag: state.etags.get(license.id) ?? '*' },
        ]),
      ], 'A license', stats);

      const mergedInto = await this.createContacts(plan.contacts.create, stats);
      contactsMerged = mergedInto.size;
      await mapConcurrent(plan.contacts.addAliases, LOOKUP_CONCURRENCY, (change) => this.addAliases(change.contactId, change.addresses, stats));

      const removed = new Set(plan.consumers.remove.map((c) => consumerEtagKey(c.licenseId, c.contactId)));
      const existing = new Set(state.consumers.map((c) => consumerEtagKey(c.licenseId, c.contactId)).filter((k) => !removed.has(k)));
      const adds = new Map<string, ConsumerRecord>();
      for (const planned of plan.consumers.add) {
        const contactId = mergedInto.get(planned.contactId) ?? planned.contactId;
        const key = consumerEtagKey(planned.licenseId, contactId);
        // A merged contact may already hold this license (by hand or through another user): leave that link.
        if (existing.has(key) || adds.has(key)) continue;
        adds.set(key, contactId === planned.contactId ? planned : { ...planned, contactId });
      }
      await this.submit(this.tables.consumers, [
        ...plan.consumers.remove.map((consumer): TransactionAction => ['delete', consumerEntity(consumer)]),
        ...plan.consumers.update.map((consumer): TransactionAction => [
          'update', consumerEntity(consumer), 'Replace',
          { etag: state.etags.get(consumerEtagKey(consumer.licenseId, consumer.contactId)) ?? '*' },
        ]),
        ...[...adds.values()].map((consumer): TransactionAction => ['create', consumerEntity(consumer)]),
      ], 'A consumer', stats, true);
    } catch (error) {
      throw asStorageError(error);
    }
    return { contactsMerged, entitiesWritten: stats.entitiesWritten, transactions: stats.transactions };
  }

  async purgePortal(portalId: string): Promise<void> {
    const partitionKey = encodeKey(portalId);
    await Promise.all([this.tables.licenses, this.tables.consumers].map(async (table) => {
      const rows = await queryAll(table, partitionFilter(partitionKey), this.stats, ['RowKey']);
      const actions = rows.map((row): TransactionAction => ['delete', { partitionKey, rowKey: row.rowKey as string }]);
      for (const chunk of transactionChunks(actions)) {
        await table.submitTransaction(chunk);
        this.stats.transactions += 1;
        this.stats.entitiesWritten += chunk.length;
      }
    }));
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
    const claims: Claim[] = contacts.flatMap((contact) => addressesOf(contact).map((address) => ({ address, contactId: contact.id })));
    const holders = await this.index.claim(claims, stats);
    const release: Claim[] = [];
    for (const contact of contacts) {
      const addresses = addressesOf(contact);
      const other = addresses.map((address) => holders.get(address)).find((holder) => holder !== undefined && holder !== contact.id);
      if (other === undefined) continue;
      mergedInto.set(contact.id, other);
      for (const address of addresses) if (holders.get(address) === contact.id) release.push({ address, contactId: contact.id });
    }
    if (mergedInto.size === 0) return mergedInto;
    // Addresses before the contact, so the index never names a missing contact.
    await this.index.release(release, stats);
    await mapConcurrent([...mergedInto.keys()], LOOKUP_CONCURRENCY, (contactId) => this.deleteContact(contactId, stats));
    return mergedInto;
  }

  /** Claims the new addresses (skipping those another contact holds) and adds them to the contact's aliases. */
  private async addAliases(contactId: string, addresses: string[], stats: LedgerStats): Promise<void> {
    const wanted = [...new Set(addresses.map(normalizeAddress))].filter((a) => a.length > 0);
    if (wanted.length === 0) return;
    if (!(await this.getContact(contactId))) return;
    const holders = await this.index.claim(wanted.map((address) => ({ address, contactId })), stats);
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

  /**
   * Writes actions in transactions. A transaction is all or nothing; when one fails because an entity was
   * created or deleted meanwhile, its actions are redone one by one: a link someone made meanwhile stays
   * theirs, a row already gone stays gone. An ETag mismatch means someone changed what the plan was made
   * from: a transient error, so the run starts over from a fresh read.
   */
  private async submit(
    table: TableClient, actions: TransactionAction[], what: string, stats: LedgerStats, createsMayExist = false,
  ): Promise<void> {
    for (const round of transactionRounds(actions)) {
      await mapConcurrent(round, WRITE_CONCURRENCY, async (chunk) => {
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
      });
    }
  }

  private async submitOne(
    table: TableClient, action: TransactionAction, what: string, stats: LedgerStats, createsMayExist: boolean,
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
      if (isStatus(error, 404, 409, 412)) throw concurrentChange(what, error);
      throw error;
    }
  }
}
