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
  /** Set by revoke: the holder must stop and release. */
  revoked?: boolean;
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
    const entity = { partitionKey: LEASE, rowKey, holder, expiresAt: this.expiry(ttlMs) };
    // Mostly the lease is free (no row): the create alone takes it, one call.
    try {
      this.held.set(heldKey(rowKey, holder), (await this.table.createEntity<LeaseEntity>(entity)).etag);
      return true;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    // Gone between the create and the read: released, and another run is about to take it.
    if (!current || this.live(current)) return false;
    return this.replace(entity, current.etag);
  }

  async renew(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current || current.holder !== holder || current.revoked) return false;
    return this.replace({ partitionKey: LEASE, rowKey, holder, expiresAt: this.expiry(ttlMs) }, current.etag);
  }

  async release(portalId: string, holder: string): Promise<void> {
    // Gone, or taken over after it expired: either way it is no longer ours to release.
    const rowKey = encodeKey(portalId);
    const etag = this.held.get(heldKey(rowKey, holder));
    this.held.delete(heldKey(rowKey, holder));
    if (etag !== undefined) {
      // The version this instance wrote: unchanged, it is still ours. Gone (404): nothing to release. Changed
      // (412): a renewal that was in flight, or another holder after it expired: the row decides, below.
      try {
        await this.table.deleteEntity(LEASE, rowKey, { etag });
        return;
      } catch (error) {
        if (isStatus(error, 404)) return;
        if (!isStatus(error, 412)) throw error;
      }
    }
    await deleteIfOwned<LeaseEntity>(this.table, LEASE, rowKey, (lease) => lease.holder === holder);
  }

  async holder(portalId: string): Promise<string | undefined> {
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, encodeKey(portalId));
    return current && this.live(current) ? current.holder : undefined;
  }

  async holds(portalId: string, holder: string): Promise<boolean> {
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, encodeKey(portalId));
    return !!current && current.holder === holder && !current.revoked && this.live(current);
  }

  async revoke(portalId: string): Promise<string | undefined> {
    const rowKey = encodeKey(portalId);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
      if (!current || !this.live(current)) return undefined;
      if (current.revoked) return current.holder;
      const revoked = { partitionKey: LEASE, rowKey, holder: current.holder, expiresAt: current.expiresAt };
      if (await this.replace({ ...revoked, revoked: true }, current.etag)) return current.holder;
    }
    return this.holder(portalId);
  }

  private live(lease: LeaseEntity): boolean {
    return Date.parse(lease.expiresAt) > this.now();
  }

  private expiry(ttlMs: number): string {
    return new Date(this.now() + ttlMs).toISOString();
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
