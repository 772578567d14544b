import { encodeKey } from './keys';
import { deleteIfOwned, getOrUndefined, isStatus } from './tables';
import type { CountingTable } from './countingTable';
import type { LeaseRepository } from '../domain/ledger';

const LEASE = 'lease';

const heldKey = (rowKey: string, holder: string): string => `${rowKey}\u0000${holder}`;

interface LeaseEntity {
  holder: string;
  /** ISO time (a millisecond count would not fit the Int32 the service infers for a plain number). */
  expiresAt: string;
}

/**
 * One row per portal, guarded by its ETag: of two instances that both see the lease free, only the first
 * create (or the first update with the ETag both read) succeeds.
 */
export class TableLeaseRepository implements LeaseRepository {
  /** The ETag of each lease (and holder) this instance last wrote, taken or renewed: its release needs no read. */
  private readonly held = new Map<string, string | undefined>();

  constructor(
    private readonly table: CountingTable,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const entity = { partitionKey: LEASE, rowKey, holder, expiresAt: new Date(this.now() + ttlMs).toISOString() };
    // Mostly the lease is free (no row): the create alone takes it, one call.
    try {
      this.held.set(heldKey(rowKey, holder), (await this.table.createEntity<LeaseEntity>(entity)).etag);
      return true;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current) return false; // released between the create and the read: another run is about to take it
    // The same holder taking it again (a retried attempt of the same run) simply extends it.
    if (current.holder !== holder && Date.parse(current.expiresAt) > this.now()) return false;
    return this.replace(entity, current.etag);
  }

  async renew(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current || current.holder !== holder) return false;
    return this.replace(
      { partitionKey: LEASE, rowKey, holder, expiresAt: new Date(this.now() + ttlMs).toISOString() },
      current.etag,
    );
  }

  async release(portalId: string, holder: string): Promise<void> {
    const rowKey = encodeKey(portalId);
    const etag = this.held.get(heldKey(rowKey, holder));
    this.held.delete(heldKey(rowKey, holder));
    if (etag !== undefined) {
      // The version this instance wrote: unchanged, it is still ours. Gone (404), or taken over after it expired
      // (412): either way it is no longer ours to release.
      try {
        await this.table.deleteEntity(LEASE, rowKey, { etag });
      } catch (error) {
        if (!isStatus(error, 404, 412)) throw error;
      }
      return;
    }
    await deleteIfOwned<LeaseEntity>(this.table, LEASE, rowKey, (lease) => lease.holder === holder);
  }

  async holder(portalId: string): Promise<string | undefined> {
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, encodeKey(portalId));
    return current && Date.parse(current.expiresAt) > this.now() ? current.holder : undefined;
  }

  private async replace(
    entity: LeaseEntity & { partitionKey: string; rowKey: string },
    etag: string,
  ): Promise<boolean> {
    try {
      this.held.set(heldKey(entity.rowKey, entity.holder), await this.table.updateEntity(entity, 'Replace', { etag }));
      return true;
    } catch (error) {
      if (isStatus(error, 404, 412)) return false;
      throw error;
    }
  }
}
