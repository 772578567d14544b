import { encodeKey } from './keys';
import { deleteIfOwned, getOrUndefined, isStatus } from './tables';
import type { CountingTable } from './countingTable';
import type { LeaseRepository } from '../domain/ledger';

const LEASE = 'lease';

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
  constructor(
    private readonly table: CountingTable,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const entity = { partitionKey: LEASE, rowKey, holder, expiresAt: this.expiry(ttlMs) };
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current) {
      try {
        await this.table.createEntity<LeaseEntity>(entity);
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    }
    if (this.live(current)) return false;
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
    await deleteIfOwned<LeaseEntity>(this.table, LEASE, encodeKey(portalId), (lease) => lease.holder === holder);
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
      await this.table.updateEntity(entity, 'Replace', { etag });
      return true;
    } catch (error) {
      if (isStatus(error, 404, 412)) return false;
      throw error;
    }
  }
}
