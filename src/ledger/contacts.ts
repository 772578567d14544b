import type { TransactionAction } from '@azure/data-tables';
import type { AddressLookup, ContactGateway } from '../domain/ledger';
import { ConflictError } from '../domain/ledger';
import { normalizeAddress, type ContactRecord } from '../domain/records';
import { mapConcurrent } from '../util/async';
import { AddressIndex, LOOKUP_CONCURRENCY, SCAN_THRESHOLD, WHOLE_INDEX_MAX, type Claim } from './addresses';
import type { CountingTable, LedgerStats } from './countingTable';
import { contactCodec, contactEntity } from './entities';
import { contactKeys } from './keys';
import { concurrentChange, getOrUndefined, isStatus, WRITE_CONCURRENCY } from './tables';
import { transactionChunks } from './tableWriter';

export interface ContactTables {
  contacts: CountingTable;
  contactAddresses: CountingTable;
}

/** How often a read-modify-write retries after losing an ETag race before it gives up (transient). */
const MAX_ETAG_RETRIES = 10;
/** Rounds of creating the plan's contacts when a simultaneous writer made both sides give way. */
const MAX_CONTACT_ATTEMPTS = 5;

/** Every address of a contact, lower-cased, primary first, without duplicates. */
function addressesOf(contact: Pick<ContactRecord, 'email' | 'aliases'>): string[] {
  return [...new Set([contact.email, ...contact.aliases].map(normalizeAddress))].filter((a) => a.length > 0);
}

/** A planned contact merged into another planned contact that was itself merged: follow to the end. */
export function resolveMerged(mergedInto: Map<string, string>, contactId: string): string {
  let end = contactId;
  for (let hops = 0; mergedInto.has(end) && hops <= mergedInto.size; hops += 1) end = mergedInto.get(end) as string;
  return end;
}

/**
 * Contacts (shared by all portals) and the address index that makes an address belong to one contact. The
 * contact is written before its addresses and removed after them: the index never names a missing contact.
 */
export class TableContactGateway implements ContactGateway {
  private readonly index: AddressIndex;

  constructor(
    private readonly tables: ContactTables,
    private readonly now: () => number,
  ) {
    this.index = new AddressIndex(tables.contactAddresses, async (id) => (await this.get(id)) !== undefined);
  }

  /** The same gateway, counting into one operation's stats. */
  withStats(stats: LedgerStats): TableContactGateway {
    const { contacts, contactAddresses } = this.tables;
    return new TableContactGateway(
      { contacts: contacts.withStats(stats), contactAddresses: contactAddresses.withStats(stats) },
      this.now,
    );
  }

  async get(contactId: string): Promise<ContactRecord | undefined> {
    const keys = contactKeys(contactId);
    const row = await getOrUndefined(this.tables.contacts, keys.partitionKey, keys.rowKey);
    return row && contactCodec.fromEntity(row);
  }

  async findByAddress(address: string): Promise<ContactRecord | undefined> {
    const contactId = await this.index.lookup(address);
    return contactId === undefined ? undefined : this.get(contactId);
  }

  findIdsByAddress(addresses: Iterable<string>): Promise<Map<string, string>> {
    return this.index.lookupMany(addresses);
  }

  loadAddressIndex(maxEntries?: number): Promise<Map<string, string> | undefined> {
    return this.index.loadAll(maxEntries);
  }

  addressLookup({ mayScan }: { mayScan: boolean }, wholeIndexMax = WHOLE_INDEX_MAX): AddressLookup {
    let whole: Map<string, string> | undefined;
    let tried = false;
    return async (addresses) => {
      // What the run creates after the scan, the reconciliation remembers itself. An index too large to hold
      // is looked up batch by batch (see AddressIndex.lookupMany).
      if (!tried && mayScan && addresses.size > SCAN_THRESHOLD) {
        tried = true;
        whole = await this.loadAddressIndex(wholeIndexMax);
      }
      if (whole) return whole;
      return addresses.size > 0 ? this.findIdsByAddress(addresses) : new Map<string, string>();
    };
  }

  async create(contact: ContactRecord): Promise<ContactRecord> {
    const addresses = addressesOf(contact);
    const taken = await this.findIdsByAddress(addresses);
    const first = [...taken.keys()][0];
    if (first !== undefined) throw new ConflictError(`The address ${first} already belongs to another contact.`);
    try {
      await this.tables.contacts.createEntity(contactEntity(contact));
    } catch (error) {
      if (isStatus(error, 409)) throw new ConflictError(`A contact with id ${contact.id} already exists.`);
      throw error;
    }
    const claims = addresses.map((address) => ({ address, contactId: contact.id }));
    const holders = await this.index.claim(claims);
    const lost = addresses.find((address) => holders.get(address) !== contact.id);
    if (lost !== undefined) {
      await this.index.release(claims);
      await this.delete(contact.id);
      throw new ConflictError(`The address ${lost} already belongs to another contact.`);
    }
    return contact;
  }

  /**
   * Creates a plan's new contacts and claims their addresses. Where another writer (another portal's sync, a
   * person) claimed one of the addresses since the plan was made, the new contact is dropped again and its
   * links go to the contact holding that address. Returns planned contact id -> the contact that replaces it.
   *
   * Two writers creating the same person at once may each take one of the addresses and both give way; a
   * writer whose chosen contact turned out to be gone after it gave way tries again (after a random pause), so
   * one of the two contacts survives.
   */
  async createPlanned(contacts: ContactRecord[]): Promise<Map<string, string>> {
    const mergedInto = new Map<string, string>();
    let pending = contacts;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      const merged = await this.tryCreatePlanned(pending);
      for (const [planned, target] of merged) mergedInto.set(planned, target);
      const survivors = new Set(contacts.map((c) => c.id).filter((id) => !mergedInto.has(id)));
      const targets = [...new Set(merged.values())].filter((id) => !mergedInto.has(id) && !survivors.has(id));
      const gone = new Set<string>();
      await mapConcurrent(targets, LOOKUP_CONCURRENCY, async (id) => {
        if (!(await this.get(id))) gone.add(id);
      });
      pending = contacts.filter((c) => merged.has(c.id) && gone.has(resolveMerged(mergedInto, c.id)));
      if (pending.length === 0 || attempt >= MAX_CONTACT_ATTEMPTS) break;
      for (const contact of pending) mergedInto.delete(contact.id);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
    }
    for (const planned of mergedInto.keys()) mergedInto.set(planned, resolveMerged(mergedInto, planned));
    return mergedInto;
  }

  /** Claims the new addresses (skipping those another contact holds) and adds them to the contact's aliases. */
  async addAliases(contactId: string, addresses: string[]): Promise<void> {
    const wanted = [...new Set(addresses.map(normalizeAddress))].filter((a) => a.length > 0);
    if (wanted.length === 0) return;
    if (!(await this.get(contactId))) return;
    const holders = await this.index.claim(wanted.map((address) => ({ address, contactId })));
    const mine = wanted.filter((address) => holders.get(address) === contactId);
    if (mine.length === 0) return;
    const keys = contactKeys(contactId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.contacts, keys.partitionKey, keys.rowKey);
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
        return;
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw concurrentChange(`Contact ${contactId}`);
  }

  private async tryCreatePlanned(contacts: ContactRecord[]): Promise<Map<string, string>> {
    const mergedInto = new Map<string, string>();
    const creates = contacts.map((contact): TransactionAction => ['create', contactEntity(contact)]);
    await mapConcurrent(transactionChunks(creates), WRITE_CONCURRENCY, async (chunk) => {
      if (chunk.length > 1) {
        try {
          await this.tables.contacts.submitTransaction(chunk);
          return;
        } catch (error) {
          // One of them exists already (an earlier attempt of this same plan): one at a time below.
          if (!isStatus(error, 409, 400)) throw error;
        }
      }
      for (const [, entity] of chunk) {
        try {
          await this.tables.contacts.createEntity(entity);
        } catch (error) {
          if (!isStatus(error, 409)) throw error;
        }
      }
    });
    const claims: Claim[] = contacts.flatMap((contact) =>
      addressesOf(contact).map((address) => ({ address, contactId: contact.id })),
    );
    const holders = await this.index.claim(claims);
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
    await this.index.release(release);
    await mapConcurrent([...mergedInto.keys()], LOOKUP_CONCURRENCY, (contactId) => this.delete(contactId));
    return mergedInto;
  }

  private async delete(contactId: string): Promise<void> {
    try {
      const keys = contactKeys(contactId);
      await this.tables.contacts.deleteEntity(keys.partitionKey, keys.rowKey);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }
}
