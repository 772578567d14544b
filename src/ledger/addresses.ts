import { mapConcurrent } from '../util/async';
import type { TransactionAction } from '@azure/data-tables';
import type { CountingTable } from './countingTable';
import { normalizeAddress } from '../domain/records';
import { addressKeys, decodeKey } from './keys';
import {
  concurrentChange,
  deleteIfOwned,
  forEachPage,
  getOrUndefined,
  groupBy,
  isStatus,
  MAX_BATCH,
  PAGE_SIZE,
  partitionFilter,
  READ_CONCURRENCY,
} from './tables';

interface AddressEntity {
  contactId: string;
}

/** Point reads in flight at once. */
export const LOOKUP_CONCURRENCY = 32;
/** Above this many addresses one scan of the index is cheaper than point reads. */
export const SCAN_THRESHOLD = 5_000;
/**
 * A run keeps the whole index in memory (one read serving all its lookups) only up to this many addresses (some
 * 40 MB); a larger index is looked up batch by batch instead.
 */
export const WHOLE_INDEX_MAX = 200_000;

export interface Claim {
  /** Lower-cased. */
  address: string;
  contactId: string;
}

/**
 * The contact address index: one row per lower-cased address (primary or alias) naming the contact that holds
 * it. Creating a row is what claims an address, so two writers can never give one address to two contacts.
 * Invariant kept by the writers: a row is written only after its contact exists, and removed before it goes.
 */
export class AddressIndex {
  constructor(
    private readonly table: CountingTable,
    private readonly contactExists: (contactId: string) => Promise<boolean>,
  ) {}

  async lookup(address: string): Promise<string | undefined> {
    const keys = addressKeys(address);
    const row = await getOrUndefined<AddressEntity>(this.table, keys.partitionKey, keys.rowKey);
    return row?.contactId;
  }

  /**
   * Which contact holds each address. Up to `scanThreshold` addresses: point reads. Above: one query per index
   * partition that holds any of them, keeping only the rows asked for (memory follows the addresses asked for,
   * never the size of the index).
   */
  async lookupMany(addresses: Iterable<string>, scanThreshold = SCAN_THRESHOLD): Promise<Map<string, string>> {
    const wanted = [...new Set([...addresses].map(normalizeAddress))].filter((address) => address.length > 0);
    const found = new Map<string, string>();
    if (wanted.length === 0) return found;
    if (wanted.length > scanThreshold) {
      const want = new Set(wanted);
      const partitions = [...new Set(wanted.map((address) => addressKeys(address).partitionKey))];
      await mapConcurrent(partitions, READ_CONCURRENCY, (partitionKey) =>
        forEachPage<AddressEntity>(
          this.table,
          partitionFilter(partitionKey),
          (rows) => {
            for (const row of rows) {
              const address = decodeKey(row.rowKey as string);
              if (want.has(address)) found.set(address, row.contactId);
            }
          },
          ['RowKey', 'contactId'],
        ),
      );
      return found;
    }
    const holders = await mapConcurrent(wanted, LOOKUP_CONCURRENCY, (address) => this.lookup(address));
    wanted.forEach((address, i) => {
      const holder = holders[i];
      if (holder) found.set(address, holder);
    });
    return found;
  }

  /**
   * Every row of the index (address -> contactId) when it holds at most `maxEntries`; undefined, having read no
   * further, when it holds more: the caller never holds more than that, however large the index grows.
   */
  async loadAll(maxEntries = WHOLE_INDEX_MAX): Promise<Map<string, string> | undefined> {
    const found = new Map<string, string>();
    for await (const rows of this.table.pages<AddressEntity>({ select: ['RowKey', 'contactId'] }, PAGE_SIZE)) {
      for (const row of rows) found.set(decodeKey(row.rowKey as string), row.contactId);
      if (found.size > maxEntries) return undefined;
    }
    return found;
  }

  /**
   * Claims each address for its contact: in transactions per partition, falling back to one create at a time
   * where a transaction meets an address that is already held. Returns who holds each address afterwards (the
   * claiming contact, or the one that held it before). An address claimed twice in `claims` goes to the first.
   */
  async claim(claims: Iterable<Claim>): Promise<Map<string, string>> {
    const holders = new Map<string, string>();
    const unique: Claim[] = [];
    for (const claim of claims) {
      const address = normalizeAddress(claim.address);
      if (address.length === 0 || holders.has(address)) continue;
      holders.set(address, claim.contactId);
      unique.push({ address, contactId: claim.contactId });
    }
    const chunks: Claim[][] = [];
    for (const group of groupBy(unique, (claim) => addressKeys(claim.address).partitionKey).values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) chunks.push(group.slice(i, i + MAX_BATCH));
    }
    await mapConcurrent(chunks, LOOKUP_CONCURRENCY, async (chunk) => {
      if (chunk.length > 1) {
        const actions: TransactionAction[] = chunk.map((claim) => ['create', this.entity(claim)]);
        try {
          await this.table.submitTransaction(actions);
          return;
        } catch (error) {
          // Some address of the batch is held already (nothing of the batch was written): one at a time.
          if (!isStatus(error, 409, 400)) throw error;
        }
      }
      for (const claim of chunk) holders.set(claim.address, await this.claimOne(claim));
    });
    return holders;
  }

  /** Removes the rows of these addresses that still name this contact. */
  async release(claims: Iterable<Claim>): Promise<void> {
    await mapConcurrent([...claims], LOOKUP_CONCURRENCY, (claim) => {
      const keys = addressKeys(claim.address);
      return deleteIfOwned<AddressEntity>(
        this.table,
        keys.partitionKey,
        keys.rowKey,
        (row) => row.contactId === claim.contactId,
      );
    });
  }

  private entity(claim: Claim) {
    const keys = addressKeys(claim.address);
    return { partitionKey: keys.partitionKey, rowKey: keys.rowKey, contactId: claim.contactId };
  }

  private async claimOne(claim: Claim): Promise<string> {
    const entity = this.entity(claim);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await this.table.createEntity(entity);
        return claim.contactId;
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      const row = await getOrUndefined<AddressEntity>(this.table, entity.partitionKey, entity.rowKey);
      if (!row) continue;
      if (row.contactId === claim.contactId || (await this.contactExists(row.contactId))) return row.contactId;
      // The row names a contact that is gone (removed by hand from storage, or a crash): the address is free.
      try {
        await this.table.updateEntity(entity, 'Replace', { etag: row.etag });
        return claim.contactId;
      } catch (error) {
        if (!isStatus(error, 404, 412)) throw error;
      }
    }
    throw concurrentChange(`The address index entry of ${claim.address}`);
  }
}
